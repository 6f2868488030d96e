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
    typealias Assignment = CaseloadBook.Assignment

    /// Work on one area's queue is serialised, so two transactions cannot hand out the same
    /// place or skip a case. Taken after the referral's own locks (child keys), never before.
    static func lockArea(_ area: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtextextended(\("area:" + area), 0))", logger: logger)
    }

    /// Locks `areas` (in byte order of their names, like `placeFreed` walks them) and their
    /// managers (in id order), then reads their free places and queues into a book that
    /// decides assignments in memory. The locks hold until the transaction ends, so what
    /// the book decides is still true when it is written.
    static func load(areas: [String], on connection: PostgresConnection, logger: Logger) async throws -> CaseloadBook {
        let areas = Array(Set(areas)).sorted()
        _ = try await connection.query(
            """
            SELECT pg_advisory_xact_lock(hashtextextended('area:' || a, 0))
            FROM (SELECT a FROM unnest(\(areas)::text[]) AS a ORDER BY a COLLATE "C") AS areas
            """, logger: logger
        ).collect()
        // The rows first, then their counts: a count in the locking statement could predate
        // a transaction that committed while this one waited for the lock.
        _ = try await connection.query(
            "SELECT id FROM managers WHERE areas && \(areas)::text[] ORDER BY id FOR UPDATE", logger: logger
        ).collect()
        var freePlaces: [String: Int] = [:]
        var areasOfManager: [String: [String]] = [:]
        for try await (id, managerAreas, free) in try await connection.query(
            """
            SELECT m.id, m.areas, m.max_caseload - (SELECT count(*) FROM cases c WHERE c.manager_id = m.id AND c.status = 'open')
            FROM managers m WHERE m.areas && \(areas)::text[]
            """, logger: logger
        ).decode((String, [String], Int64).self) {
            freePlaces[id] = Int(free)
            areasOfManager[id] = managerAreas.filter(areas.contains)
        }
        var queueLengths: [String: Int] = [:]
        for try await (area, count) in try await connection.query(
            """
            SELECT area, count(*) FROM cases WHERE area = ANY(\(areas)::text[]) AND status = 'open' AND manager_id IS NULL
            GROUP BY area
            """, logger: logger
        ).decode((String, Int64).self) {
            queueLengths[area] = Int(count)
        }
        var book = CaseloadBook(freePlaces: freePlaces, areasOfManager: areasOfManager, queueLengths: queueLengths)
        // Only a queue that someone has room for can move: read those in full.
        let movable = areas.filter { book.hasRoom(in: $0) && book.queueLength(of: $0) > 0 }
        guard !movable.isEmpty else { return book }
        var waiting: [String: [CaseloadBook.WaitingCase]] = [:]
        for try await (id, area, urgency, queuedAt, preferred) in try await connection.query(
            """
            SELECT id, area, urgency, queued_at, preferred_manager_id FROM cases
            WHERE area = ANY(\(movable)::text[]) AND status = 'open' AND manager_id IS NULL
            """, logger: logger
        ).decode((UUID, String, String, Date, String?).self) {
            waiting[area, default: []].append(
                .init(caseId: id, urgent: urgency == Urgency.urgent.rawValue, queuedAt: queuedAt, preferredManagerId: preferred))
        }
        book = CaseloadBook(
            freePlaces: freePlaces, areasOfManager: areasOfManager, queueLengths: queueLengths, waiting: waiting)
        return book
    }

    /// Writes assignments decided by a book: the case's manager (unless the case is inserted
    /// with it, `alreadyOnCase`) and the assignment history.
    static func record(
        _ assignments: [Assignment], alreadyOnCase: Set<UUID> = [], at date: Date, by actor: String = "intake",
        on connection: PostgresConnection, logger: Logger
    ) async throws {
        guard !assignments.isEmpty else { return }
        let waiting = assignments.filter { !alreadyOnCase.contains($0.caseId) }
        if !waiting.isEmpty {
            try await connection.query(
                """
                UPDATE cases SET manager_id = a.manager_id
                FROM unnest(\(waiting.map(\.caseId))::uuid[], \(waiting.map(\.managerId))::text[]) AS a(case_id, manager_id)
                WHERE cases.id = a.case_id
                """, logger: logger)
        }
        try await connection.query(
            """
            INSERT INTO assignments (case_id, manager_id, assigned_at, assigned_by)
            SELECT case_id, manager_id, \(date), \(actor)
            FROM unnest(\(assignments.map(\.caseId))::uuid[], \(assignments.map(\.managerId))::text[]) WITH ORDINALITY
                AS a(case_id, manager_id, n)
            ORDER BY n
            """, logger: logger)
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
