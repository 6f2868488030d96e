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

    /// The lock order every change of a case's manager or status keeps: the areas involved
    /// (advisory locks, in byte order of their names), then their managers' rows (in id
    /// order). Work on an area's queue is serialised by it, so two transactions cannot hand
    /// out the same place or skip a case; and the counts the triggers of
    /// `0005_caseload_counts.sql` keep (`managers.open_cases`, `area_queues`) are only updated
    /// by a transaction that holds them already, so no two transactions wait for each other's
    /// rows in opposite orders. Taken after a referral's own locks (child keys), never before.
    ///
    /// Returns the free places of the locked managers (maximum caseload minus open cases) and
    /// the areas they work in. Read by the locking statement itself: a row locked `FOR UPDATE`
    /// is read as committed by whoever held it before.
    @discardableResult
    static func lock(
        areas: [String], alsoManagers extraManagers: [String] = [], on connection: PostgresConnection, logger: Logger
    ) async throws -> [(id: String, areas: [String], freePlaces: Int)] {
        let areas = Array(Set(areas)).sorted()
        _ = try await connection.query(
            """
            SELECT pg_advisory_xact_lock(hashtextextended('area:' || a, 0))
            FROM (SELECT a FROM unnest(\(areas)::text[]) AS a ORDER BY a COLLATE "C") AS areas
            """, logger: logger
        ).collect()
        var managers: [(id: String, areas: [String], freePlaces: Int)] = []
        for try await (id, managerAreas, free) in try await connection.query(
            """
            SELECT id, areas, max_caseload - open_cases FROM managers
            WHERE areas && \(areas)::text[] OR id = ANY(\(extraManagers)::text[])
            ORDER BY id FOR UPDATE
            """, logger: logger
        ).decode((String, [String], Int).self) {
            managers.append((id, managerAreas, free))
        }
        return managers
    }

    /// Locks `areas` and their managers (``lock(areas:alsoManagers:on:logger:)``), then reads
    /// their free places and queues into a book that decides assignments in memory. The locks
    /// hold until the transaction ends, so what the book decides is still true when it is
    /// written.
    static func load(areas: [String], on connection: PostgresConnection, logger: Logger) async throws -> CaseloadBook {
        let areas = Array(Set(areas)).sorted()
        var freePlaces: [String: Int] = [:]
        var areasOfManager: [String: [String]] = [:]
        for manager in try await lock(areas: areas, on: connection, logger: logger) {
            freePlaces[manager.id] = manager.freePlaces
            areasOfManager[manager.id] = manager.areas.filter(areas.contains)
        }
        // Every change of an area's queue holds the area's lock, which this transaction
        // holds now: the counts are exact.
        var queueLengths: [String: Int] = [:]
        for try await (area, waiting) in try await connection.query(
            "SELECT area, waiting FROM area_queues WHERE area = ANY(\(areas)::text[])", logger: logger
        ).decode((String, Int).self) {
            queueLengths[area] = waiting
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

    /// The areas a manager works in (whose queues a freed place of theirs may serve).
    static func areas(ofManager managerId: String, on connection: PostgresConnection, logger: Logger) async throws
        -> [String]
    {
        let rows = try await connection.query("SELECT areas FROM managers WHERE id = \(managerId)", logger: logger).collect()
        return try rows.first?.decode([String].self).sorted() ?? []
    }

    /// An open case's area and manager, read without a lock. A case's area never changes; its
    /// manager changes only under the locks of ``lock(caseIn:managedBy:alsoManagers:on:logger:)``,
    /// so read it again once those are held.
    static func openCase(_ caseId: UUID, on connection: PostgresConnection, logger: Logger) async throws
        -> (area: String, managerId: String?)?
    {
        let rows = try await connection.query(
            "SELECT area, manager_id FROM cases WHERE id = \(caseId) AND status = 'open'", logger: logger
        ).collect()
        return try rows.first?.decode((String, String?).self)
    }

    /// Locks what a change of a case in `area` managed by `managerId` touches: the area, the
    /// manager's areas (whose queues a place they free serves), the manager, and
    /// `extraManagers`; in the order of ``lock(areas:alsoManagers:on:logger:)``.
    @discardableResult
    static func lock(
        caseIn area: String, managedBy managerId: String?, alsoManagers extraManagers: [String] = [],
        on connection: PostgresConnection, logger: Logger
    ) async throws -> [(id: String, areas: [String], freePlaces: Int)] {
        var areas = [area]
        var managers = extraManagers
        if let managerId {
            areas += try await self.areas(ofManager: managerId, on: connection, logger: logger)
            managers.append(managerId)
        }
        return try await lock(areas: areas, alsoManagers: managers, on: connection, logger: logger)
    }

    /// Marks a case closed (planning closed it). Returns its manager, whose place is free now.
    ///
    /// The close changes its manager's count of open cases (or its area's queue), and the
    /// caller then serves that manager's areas: so those areas and the manager are locked
    /// first, in the order of ``lock(areas:alsoManagers:on:logger:)``.
    static func close(caseId: UUID, at date: Date, on connection: PostgresConnection, logger: Logger) async throws
        -> String?
    {
        guard let open = try await openCase(caseId, on: connection, logger: logger) else { return nil }
        try await lock(caseIn: open.area, managedBy: open.managerId, on: connection, logger: logger)
        // Should a reassignment have moved the case between the read above and the locks, the
        // update below locks the new manager's row out of order: at worst a deadlock, which
        // PostgreSQL breaks and the consumer retries.
        let rows = try await connection.query(
            """
            UPDATE cases SET status = 'closed', closed_at = \(date)
            WHERE id = \(caseId) AND status = 'open' RETURNING manager_id
            """, logger: logger
        ).collect()
        return try rows.first?.decode(String?.self) ?? nil
    }
}
