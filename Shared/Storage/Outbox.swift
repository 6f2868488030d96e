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
        try await enqueue([OutboxEntry(event: event, topic: topic, key: key)], on: connection, logger: logger)
    }
}

/// The reading side of the idempotent inbox.
public enum Inbox {
    /// Records that the event `source`+`id` is being handled. Returns false when it was handled
    /// before: the caller then does nothing. Must run in the transaction of the effect.
    public static func claim(
        source: String, id: String, type: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        try await claim([InboxKey(source: source, id: id, type: type)], on: connection, logger: logger)[0]
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
        try await record([entry], on: connection, logger: logger)
    }
}

/// One event to add to the outbox, already in its published form.
public struct OutboxEntry: Sendable {
    public var eventId: String
    public var topic: String
    public var key: String?
    /// The structured CloudEvent, exactly as it will be published.
    public var event: String
    public var traceparent: String?

    public init(event: CloudEvent, topic: String, key: String?) throws {
        self.eventId = event.id
        self.topic = topic
        self.key = key
        self.event = String(decoding: try event.structuredBytes(), as: UTF8.self)
        self.traceparent = event.traceparent
    }

    /// An event of a typed payload, encoded once.
    public init(_ event: StructuredEvent<some Encodable>, topic: String, key: String?) throws {
        self.eventId = event.id
        self.topic = topic
        self.key = key
        self.event = String(decoding: try event.bytes(), as: UTF8.self)
        self.traceparent = event.traceparent
    }
}

extension Outbox {
    /// Adds several events in one statement, in their order (the relay publishes by `seq`).
    /// For work done in batches, where a statement per event would cost a round trip each.
    /// The columns travel as arrays (binary, no escaping); an empty string stands for a
    /// missing key or trace context.
    public static func enqueue(_ entries: [OutboxEntry], on connection: PostgresConnection, logger: Logger) async throws {
        guard !entries.isEmpty else { return }
        _ = try await connection.execute(EnqueueEvents(entries: entries), logger: logger)
    }

    /// Prepared once per connection: every change of every service ends here.
    struct EnqueueEvents: PostgresPreparedStatement {
        static let sql = """
            INSERT INTO outbox (event_id, topic, kafka_key, event, traceparent)
            SELECT id, topic, NULLIF(key, ''), event, NULLIF(traceparent, '')
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                WITH ORDINALITY AS e(id, topic, key, event, traceparent, n)
            ORDER BY n
            """
        typealias Row = Void
        var entries: [OutboxEntry]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 5)
            bindings.append(entries.map(\.eventId))
            bindings.append(entries.map(\.topic))
            bindings.append(entries.map { $0.key ?? "" })
            bindings.append(entries.map(\.event))
            bindings.append(entries.map { $0.traceparent ?? "" })
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws {}
    }
}

/// An event to record in the inbox: its CloudEvent `source`, `id` and `type`.
public struct InboxKey: Sendable, Hashable {
    public var source: String
    public var id: String
    public var type: String

    public init(source: String, id: String, type: String) {
        self.source = source
        self.id = id
        self.type = type
    }
}

extension Inbox {
    /// Records several events at once. Returns, per event, whether it is new: false for one
    /// handled before, and for a second copy of the same event within `events`.
    public static func claim(_ events: [InboxKey], on connection: PostgresConnection, logger: Logger) async throws
        -> [Bool]
    {
        guard !events.isEmpty else { return [] }
        var claimed: Set<[String]> = []
        for try await (source, id) in try await connection.query(
            """
            INSERT INTO inbox (source, event_id, event_type)
            SELECT * FROM unnest(\(events.map(\.source))::text[], \(events.map(\.id))::text[], \(events.map(\.type))::text[])
            ON CONFLICT DO NOTHING RETURNING source, event_id
            """, logger: logger
        ).decode((String, String).self) {
            claimed.insert([source, id])
        }
        // The first copy of each new event is the one to handle.
        return events.map { claimed.remove([$0.source, $0.id]) != nil }
    }
}

extension AuditLog {
    /// Records several lines in one statement. The columns travel as arrays (binary, no
    /// JSON to write or parse: a single line is on the hot path of every read of family data).
    public static func record(_ entries: [AuditEntry], on connection: PostgresConnection, logger: Logger) async throws {
        guard !entries.isEmpty else { return }
        _ = try await connection.execute(RecordAuditLines(entries: entries), logger: logger)
    }

    /// Prepared once per connection: the server parses and plans it once, not on every read.
    struct RecordAuditLines: PostgresPreparedStatement {
        static let sql = """
            INSERT INTO audit_log (actor, role, action, resource_type, resource_id, case_id, outcome)
            SELECT actor, role, action, resource_type, resource_id, NULLIF(case_id, '')::uuid, outcome
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
                AS e(actor, role, action, resource_type, resource_id, case_id, outcome)
            """
        typealias Row = Void
        var entries: [AuditEntry]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 7)
            bindings.append(entries.map(\.actor))
            bindings.append(entries.map(\.role))
            bindings.append(entries.map(\.action))
            bindings.append(entries.map(\.resourceType))
            bindings.append(entries.map(\.resourceId))
            bindings.append(entries.map { $0.caseId?.uuidString ?? "" })
            bindings.append(entries.map(\.outcome))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws {}
    }
}
