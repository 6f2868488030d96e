import Foundation
import Logging
import PostgresNIO
import SamenplanDomain

/// Scheduling side of the durable timers (`timers` table of each schema). Writes happen in
/// the caller's transaction, with the state change that makes the timer necessary.
public enum Timers {
    /// Schedules the `kind` timer of `subject` (for example a case id) at `dueAt`. A timer of
    /// the same kind and subject that exists is moved, and armed again if it had fired.
    public static func schedule(
        kind: String, subject: String, dueAt: Date, payload: JSON = .object([:]),
        on connection: PostgresConnection, logger: Logger
    ) async throws {
        let text = String(decoding: try JSONCoding.encoder.encode(payload), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO timers (kind, subject, due_at, payload) VALUES (\(kind), \(subject), \(dueAt), \(text))
            ON CONFLICT (kind, subject) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload, fired_at = NULL
            """, logger: logger)
    }

    /// Removes the timer if it has not fired yet.
    public static func cancel(kind: String, subject: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "DELETE FROM timers WHERE kind = \(kind) AND subject = \(subject) AND fired_at IS NULL", logger: logger)
    }
}

/// A timer whose time has come.
public struct DueTimer: Sendable {
    public var kind: String
    public var subject: String
    public var dueAt: Date
    public var payload: JSON

    public init(kind: String, subject: String, dueAt: Date, payload: JSON) {
        self.kind = kind
        self.subject = subject
        self.dueAt = dueAt
        self.payload = payload
    }
}

/// A timer to schedule with ``Timers/schedule(_:on:logger:)``.
public struct TimerEntry: Sendable {
    public var kind: String
    public var subject: String
    public var dueAt: Date

    public init(kind: String, subject: String, dueAt: Date) {
        self.kind = kind
        self.subject = subject
        self.dueAt = dueAt
    }
}

extension Timers {
    /// Schedules several timers in one statement, each as `schedule(kind:subject:dueAt:)`
    /// would. For the same kind and subject twice, the later entry wins.
    public static func schedule(_ entries: [TimerEntry], on connection: PostgresConnection, logger: Logger) async throws {
        var latest: [String: Int] = [:]
        for (index, entry) in entries.enumerated() { latest[entry.kind + "\u{0}" + entry.subject] = index }
        let chosen = latest.values.sorted().map { entries[$0] }
        guard !chosen.isEmpty else { return }
        struct Row: Encodable {
            var kind, subject: String
            var dueAt: Double
        }
        let rows = try BulkRows.json(
            chosen.map { Row(kind: $0.kind, subject: $0.subject, dueAt: $0.dueAt.timeIntervalSince1970) })
        try await connection.query(
            """
            INSERT INTO timers (kind, subject, due_at)
            SELECT "kind", "subject", to_timestamp("dueAt")
            FROM jsonb_to_recordset(\(rows)::jsonb) AS r("kind" text, "subject" text, "dueAt" float8)
            ON CONFLICT (kind, subject) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload, fired_at = NULL
            """, logger: logger)
    }
}
