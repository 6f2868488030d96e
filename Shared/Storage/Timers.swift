import Foundation
import Logging
import PostgresNIO
import SamenplanDomain

/// Scheduling side of the durable timers (`timers` table of each schema). Writes happen in
/// the caller's transaction, with the state change that makes the timer necessary.
public enum Timers {
    /// Removes the timer if it has not fired yet.
    public static func cancel(kind: String, subject: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "DELETE FROM timers WHERE kind = \(kind) AND subject = \(subject) AND fired_at IS NULL", logger: logger)
    }

    /// Locks the `kinds` timers of `subject` (`FOR UPDATE`) until the transaction ends. The
    /// timer service claims a timer first and its handler then locks the subject's row, so a
    /// transaction that locks the subject's row and then moves its timers must call this
    /// first: one lock order, no deadlock between a change and a timer firing at that moment.
    public static func lock(kinds: [String], subject: String, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        _ = try await connection.query(
            "SELECT id FROM timers WHERE subject = \(subject) AND kind = ANY(\(kinds)) ORDER BY id FOR UPDATE",
            logger: logger
        ).collect()
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

/// A timer to schedule with ``Timers/schedule(_:on:logger:)``: the `kind` timer of
/// `subject` (for example a case id), due at `dueAt`, handed `payload` when it fires.
public struct TimerEntry: Sendable {
    public var kind: String
    public var subject: String
    public var dueAt: Date
    public var payload: JSON

    public init(kind: String, subject: String, dueAt: Date, payload: JSON = .object([:])) {
        self.kind = kind
        self.subject = subject
        self.dueAt = dueAt
        self.payload = payload
    }
}

extension Timers {
    /// Schedules timers in one statement. A timer of the same kind and subject that exists
    /// is moved, and armed again if it had fired. For the same kind and subject twice in
    /// `entries`, the later entry wins.
    public static func schedule(_ entries: [TimerEntry], on connection: PostgresConnection, logger: Logger) async throws {
        var latest: [String: Int] = [:]
        for (index, entry) in entries.enumerated() { latest[entry.kind + "\u{0}" + entry.subject] = index }
        let chosen = latest.values.sorted().map { entries[$0] }
        guard !chosen.isEmpty else { return }
        struct Row: Encodable {
            var kind, subject, payload: String
            var dueAt: Double
        }
        let rows = try BulkRows.json(
            try chosen.map {
                Row(
                    kind: $0.kind, subject: $0.subject,
                    payload: String(decoding: try JSONCoding.encoder.encode($0.payload), as: UTF8.self),
                    dueAt: $0.dueAt.timeIntervalSince1970)
            })
        try await connection.query(
            """
            INSERT INTO timers (kind, subject, due_at, payload)
            SELECT "kind", "subject", to_timestamp("dueAt"), "payload"
            FROM jsonb_to_recordset(\(rows)::jsonb) AS r("kind" text, "subject" text, "dueAt" float8, "payload" text)
            ON CONFLICT (kind, subject) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload, fired_at = NULL
            """, logger: logger)
    }
}
