import Foundation
import Logging
import PostgresNIO
import SamenplanDomain

/// The family managers' caseload and each area's queue.
///
/// A case goes to the manager of its area with the most free places (ties: the lowest id, so
/// assignment is deterministic). When nobody has room it waits in the area's queue; the queue
/// is served urgent cases first, then in the order they arrived, as soon as a place frees up
/// (a case closed, a manager registered or given more room). One family keeps one manager:
/// moving it is an explicit, audited reassignment.
enum Caseload {
    struct Assignment: Sendable, Equatable {
        var caseId: UUID
        var managerId: String
        var area: String
        var waitedSeconds: Int
    }

    /// Work on one area's queue is serialised, so two transactions cannot hand out the same
    /// place or skip a case. Taken after the referral's own locks (child keys), never before.
    static func lockArea(_ area: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtextextended(\("area:" + area), 0))", logger: logger)
    }

    /// Assigns waiting cases of `area` while a manager there has room. A case's preferred
    /// manager (a re-referred family's previous one) is tried first.
    static func serveQueue(
        area: String, now: Date, by actor: String = "intake", on connection: PostgresConnection, logger: Logger
    ) async throws -> [Assignment] {
        try await lockArea(area, on: connection, logger: logger)
        var assignments: [Assignment] = []
        while let (caseId, queuedAt, preferred) = try await nextWaiting(area: area, on: connection, logger: logger) {
            var managerId: String?
            if let preferredManager = preferred,
                try await hasRoom(preferredManager, area: area, on: connection, logger: logger)
            {
                managerId = preferredManager
            } else {
                managerId = try await managerWithMostRoom(area: area, on: connection, logger: logger)
            }
            guard let managerId else { break }
            try await connection.query(
                "UPDATE cases SET manager_id = \(managerId) WHERE id = \(caseId)", logger: logger)
            try await connection.query(
                """
                INSERT INTO assignments (case_id, manager_id, assigned_at, assigned_by)
                VALUES (\(caseId), \(managerId), \(now), \(actor))
                """, logger: logger)
            assignments.append(
                Assignment(
                    caseId: caseId, managerId: managerId, area: area,
                    waitedSeconds: max(0, Int(now.timeIntervalSince(queuedAt)))))
        }
        return assignments
    }

    /// The case first in line: urgent before normal, then the longest waiting.
    private static func nextWaiting(area: String, on connection: PostgresConnection, logger: Logger) async throws
        -> (UUID, Date, String?)?
    {
        let rows = try await connection.query(
            """
            SELECT id, queued_at, preferred_manager_id FROM cases
            WHERE area = \(area) AND status = 'open' AND manager_id IS NULL
            ORDER BY (urgency = 'urgent') DESC, queued_at, id LIMIT 1
            """, logger: logger
        ).collect()
        return try rows.first?.decode((UUID, Date, String?).self)
    }

    /// Locks the area's managers (in id order, so concurrent transactions cannot deadlock)
    /// and returns the one with the most free places, if anyone has a place.
    private static func managerWithMostRoom(area: String, on connection: PostgresConnection, logger: Logger)
        async throws -> String?
    {
        let rows = try await connection.query(
            """
            WITH area_managers AS (
                SELECT id, max_caseload FROM managers WHERE \(area) = ANY(areas) ORDER BY id FOR UPDATE
            )
            SELECT m.id FROM area_managers m LEFT JOIN cases c ON c.manager_id = m.id AND c.status = 'open'
            GROUP BY m.id, m.max_caseload
            HAVING m.max_caseload - count(c.id) > 0
            ORDER BY m.max_caseload - count(c.id) DESC, m.id
            LIMIT 1
            """, logger: logger
        ).collect()
        return try rows.first?.decode(String.self)
    }

    static func hasRoom(_ managerId: String, area: String, on connection: PostgresConnection, logger: Logger) async throws
        -> Bool
    {
        let rows = try await connection.query(
            """
            SELECT m.max_caseload - (SELECT count(*) FROM cases WHERE manager_id = m.id AND status = 'open')
            FROM managers m WHERE m.id = \(managerId) AND \(area) = ANY(m.areas) FOR UPDATE
            """, logger: logger
        ).collect()
        return try (rows.first?.decode(Int64.self) ?? 0) > 0
    }

    static func queueLength(area: String, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.query(
            "SELECT count(*) FROM cases WHERE area = \(area) AND status = 'open' AND manager_id IS NULL", logger: logger
        ).collect()
        return Int(try rows.first?.decode(Int64.self) ?? 0)
    }

    /// The areas a manager works in (whose queues a freed place of theirs may serve).
    static func areas(ofManager managerId: String, on connection: PostgresConnection, logger: Logger) async throws
        -> [String]
    {
        let rows = try await connection.query("SELECT areas FROM managers WHERE id = \(managerId)", logger: logger).collect()
        return try rows.first?.decode([String].self).sorted() ?? []
    }

    /// Marks a case closed (planning closed it). Returns its manager, whose place is free now.
    static func close(caseId: UUID, at date: Date, on connection: PostgresConnection, logger: Logger) async throws
        -> String?
    {
        let rows = try await connection.query(
            """
            UPDATE cases SET status = 'closed', closed_at = \(date)
            WHERE id = \(caseId) AND status = 'open' RETURNING manager_id
            """, logger: logger
        ).collect()
        return try rows.first?.decode(String?.self) ?? nil
    }
}
