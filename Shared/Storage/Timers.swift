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
