import Foundation
import Logging
import PostgresNIO
import SamenplanDomain

/// The writing side of the transactional outbox: events are rows written in the same
/// transaction as the state change that caused them. `OutboxRelay` publishes them.
public enum Outbox {
    /// Adds `event` to the outbox of the connection's schema, to be published on `topic`
    /// with `key` (the case id, so one family's events stay in order on one partition).
    public static func enqueue(
        _ event: CloudEvent, topic: String, key: String?, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let text = String(decoding: try event.structuredBytes(), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO outbox (event_id, topic, kafka_key, event, traceparent)
            VALUES (\(event.id), \(topic), \(key), \(text), \(event.traceparent))
            """,
            logger: logger)
    }
}

/// The reading side of the idempotent inbox.
public enum Inbox {
    /// Records that the event `source`+`id` is being handled. Returns false when it was handled
    /// before: the caller then does nothing. Must run in the transaction of the effect.
    public static func claim(
        source: String, id: String, type: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        let rows = try await connection.query(
            """
            INSERT INTO inbox (source, event_id, event_type) VALUES (\(source), \(id), \(type))
            ON CONFLICT DO NOTHING RETURNING 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }
}

/// One line of the audit log: who read or changed which family data.
public struct AuditEntry: Sendable {
    public var actor: String
    public var role: String
    public var action: String
    public var resourceType: String
    public var resourceId: String
    public var caseId: UUID?
    public var outcome: String

    public init(
        actor: String, role: String, action: String, resourceType: String, resourceId: String,
        caseId: UUID? = nil, outcome: String = "allowed"
    ) {
        self.actor = actor
        self.role = role
        self.action = action
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.caseId = caseId
        self.outcome = outcome
    }
}

public enum AuditLog {
    public static func record(_ entry: AuditEntry, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO audit_log (actor, role, action, resource_type, resource_id, case_id, outcome)
            VALUES (\(entry.actor), \(entry.role), \(entry.action), \(entry.resourceType), \(entry.resourceId),
                    \(entry.caseId), \(entry.outcome))
            """, logger: logger)
    }
}
