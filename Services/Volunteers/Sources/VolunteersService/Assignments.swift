import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage
import VolunteersDomain

/// An assignment as the routes need it: who works with which family on what.
struct AssignmentRecord: Sendable {
    var id: UUID
    var helpRequestId: UUID
    var caseId: UUID
    var volunteerId: String
    var startedAt: Date
    var endedAt: Date?
    var endReason: String?
    /// The family's manager, who guides the volunteer in this family.
    var managerId: String?
    var area: String
    var kind: String
    var need: String

    private static let select = """
        SELECT a.id, a.help_request_id, a.case_id, a.volunteer_id, a.started_at, a.ended_at, a.end_reason,
               r.manager_id, r.area, r.kind, r.need
        FROM assignments a JOIN help_requests r ON r.id = a.help_request_id
        """

    private init(row: PostgresRow) throws {
        (id, helpRequestId, caseId, volunteerId, startedAt, endedAt, endReason, managerId, area, kind, need) = try row.decode(
            (UUID, UUID, UUID, String, Date, Date?, String?, String?, String, String, String).self)
    }

    static func find(_ id: UUID, lock: Bool = false, on connection: PostgresConnection, logger: Logger) async throws
        -> AssignmentRecord?
    {
        try await connection.query(
            "\(unescaped: select) WHERE a.id = \(id) \(unescaped: lock ? "FOR UPDATE OF a" : "")", logger: logger
        ).collect().first.map(AssignmentRecord.init(row:))
    }

    /// The assignments `caller` may see: a volunteer their own, a family manager those in
    /// their families, the coordinator and an admin all.
    static func list(for caller: Identity, activeOnly: Bool, on connection: PostgresConnection, logger: Logger)
        async throws -> [AssignmentRecord]
    {
        let volunteer = caller.role == .volunteer ? caller.subject : nil
        let manager = caller.role == .familyManager ? caller.subject : nil
        return try await connection.query(
            """
            \(unescaped: select)
            WHERE (\(volunteer)::text IS NULL OR a.volunteer_id = \(volunteer)::text)
              AND (\(manager)::text IS NULL OR r.manager_id = \(manager)::text)
              AND (NOT \(activeOnly) OR a.ended_at IS NULL)
            ORDER BY a.started_at, a.id LIMIT 500
            """, logger: logger
        ).collect().map(AssignmentRecord.init(row:))
    }

    /// What the caller may do with the assignment.
    enum Purpose {
        /// See it: the volunteer, the family's manager, the coordinator, an admin.
        case read
        /// Check-ins: the family's manager who guides the volunteer, an admin.
        case guide
        /// Hours: the volunteer, the coordinator, an admin.
        case logHours
        /// A concern: the volunteer, the family's manager, an admin.
        case flagConcern
        /// End it: the coordinator, the family's manager, an admin.
        case end
    }

    func allows(_ caller: Identity, _ purpose: Purpose) -> Bool {
        let isVolunteer = caller.role == .volunteer && caller.subject == volunteerId
        let isManager = caller.role == .familyManager && caller.subject == managerId
        let isCoordinator = caller.role == .volunteerCoordinator
        if caller.role == .admin { return true }
        return switch purpose {
        case .read: isVolunteer || isManager || isCoordinator
        case .guide: isManager
        case .logHours: isVolunteer || isCoordinator
        case .flagConcern: isVolunteer || isManager
        case .end: isCoordinator || isManager
        }
    }

    func audit(_ caller: Identity, _ action: String, allowed: Bool) -> AuditEntry {
        AuditEntry(
            actor: caller.subject, role: caller.role.rawValue, action: action, resourceType: "assignment",
            resourceId: id.uuidString.lowercased(), caseId: caseId, outcome: allowed ? "allowed" : "denied")
    }

    /// The assignment as everyone who may see it sees it: the help request, never case contents.
    func json() -> JSON {
        .object([
            "id": .string(id.uuidString.lowercased()), "helpRequestId": .string(helpRequestId.uuidString.lowercased()),
            "caseId": .string(caseId.uuidString.lowercased()), "volunteerId": .string(volunteerId),
            "managerId": managerId.map(JSON.string) ?? .null, "area": .string(area),
            "helpRequest": .object(["kind": .string(kind), "need": .string(need)]),
            "startedAt": .string(Timestamp.format(startedAt)),
            "endedAt": endedAt.map { .string(Timestamp.format($0)) } ?? .null,
            "endReason": endReason.map(JSON.string) ?? .null,
        ])
    }
}

/// Assignments (issue 5, item 3): check-ins by the guiding family manager, hours, concerns
/// and the end with a reason.
enum AssignmentRoutes {
    static let endReasons = ["goal-reached", "family-wish", "volunteer-stopped", "concern"]

    static func add(
        to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, directory: FamilyDirectory
    ) {
        let database = environment.database
        let source = environment.source
        let clock = environment.clock

        /// Runs `body` on the assignment when the caller may do `purpose` with it; 404 for
        /// one they may not see (ids reveal nothing), 403 for one they see but may not change.
        /// The attempt is audited either way.
        @Sendable func withAssignment(
            _ context: SamenplanRequestContext, _ caller: Identity, _ purpose: AssignmentRecord.Purpose, action: String,
            _ body: @Sendable (AssignmentRecord, PostgresConnection) async throws -> Response
        ) async throws -> Response {
            let id = try context.uuid()
            return try await database.transaction { connection -> Result<Response, Problem> in
                let notFound = Problem.notFound("No assignment \(id.uuidString.lowercased()).")
                guard let found = try await AssignmentRecord.find(id, lock: purpose != .read, on: connection, logger: context.logger)
                else { return .failure(notFound) }
                let allowed = found.allows(caller, purpose)
                try await AuditLog.record(found.audit(caller, action, allowed: allowed), on: connection, logger: context.logger)
                guard allowed else {
                    return .failure(found.allows(caller, .read) ? Problem.forbidden("You may not \(action) on this assignment.") : notFound)
                }
                do {
                    return .success(try await body(found, connection))
                } catch let problem as Problem {
                    return .failure(problem)
                }
            }.get()
        }

        group.get("assignments") { request, context -> Response in
            let caller = try context.require(.volunteer, .volunteerCoordinator, .familyManager, .admin)
            let activeOnly = request.uri.queryParameters.get("active") == "true"
            return try await database.transaction { connection in
                let found = try await AssignmentRecord.list(for: caller, activeOnly: activeOnly, on: connection, logger: context.logger)
                try await AuditLog.record(found.map { $0.audit(caller, "list", allowed: true) }, on: connection, logger: context.logger)
                return try Response.json(.object(["items": .array(found.map { $0.json() })]))
            }
        }

        group.get("assignments/:id") { _, context -> Response in
            let caller = try context.require(.volunteer, .volunteerCoordinator, .familyManager, .admin)
            return try await withAssignment(context, caller, .read, action: "read") { found, connection in
                var body = found.json()
                if case .object(var fields) = body {
                    let hours = try await connection.query(
                        "SELECT COALESCE(sum(hours), 0)::float8 FROM hours WHERE assignment_id = \(found.id)", logger: context.logger
                    ).collect().first?.decode(Double.self) ?? 0
                    fields["hoursLogged"] = .number(hours)
                    // Check-in notes are the guiding manager's: the volunteer and the coordinator
                    // see that check-ins were held, not what was written.
                    let withNotes = caller.role == .admin || (caller.role == .familyManager && caller.subject == found.managerId)
                    fields["checkIns"] = .array(try await checkIns(of: found.id, withNotes: withNotes, on: connection, logger: context.logger))
                    // The volunteer sees the family's first names, asked of intake (which owns them),
                    // while the assignment runs; once it has ended, nothing of the family (issue 18,
                    // finding 5): the names are not asked for and the need is left out.
                    let ended = found.endedAt != nil
                    if ended && caller.role == .volunteer {
                        if case .object(var request) = fields["helpRequest"] {
                            request["need"] = nil
                            fields["helpRequest"] = .object(request)
                        }
                        fields["familyFirstNames"] = .null
                    } else if caller.role == .volunteer || caller.role == .admin {
                        fields["familyFirstNames"] =
                            await directory.firstNames(of: found.caseId, logger: context.logger).map { .array($0.map(JSON.string)) } ?? .null
                    }
                    body = .object(fields)
                }
                return try Response.json(body)
            }
        }

        group.post("assignments/:id/check-ins") { request, context -> Response in
            let caller = try context.require(.familyManager, .admin)
            struct CheckIn: Decodable { var heldOn: String; var notes: String; var concern: Bool }
            let checkIn = try await request.decode(as: CheckIn.self, context: context)
            var problems: [Problem.Item] = []
            let heldOn = CalendarDate(checkIn.heldOn)
            let today = VolunteerCalendar.today(clock)
            if heldOn == nil {
                problems.append(.init(rule: "date", pointer: "/heldOn", detail: "a date, YYYY-MM-DD"))
            } else if let heldOn, today < heldOn {
                problems.append(.init(rule: "not-in-future", pointer: "/heldOn", detail: "today (\(today)) or earlier"))
            }
            let notes = checkIn.notes.trimmingCharacters(in: .whitespacesAndNewlines)
            if !(1...5000).contains(notes.count) {
                problems.append(.init(rule: "length", pointer: "/notes", detail: "1–5000 characters"))
            }
            guard problems.isEmpty, let heldOn else {
                throw Problem.badRequest("The check-in breaks \(problems.count) rule(s).", problems: problems)
            }
            let now = clock.now()
            return try await withAssignment(context, caller, .guide, action: "check-in") { found, connection in
                let checkInId = UUID.random()
                try await connection.query(
                    """
                    INSERT INTO check_ins (id, assignment_id, held_on, notes, concern, recorded_by, recorded_at)
                    VALUES (\(checkInId), \(found.id), \(heldOn.description)::date, \(notes), \(checkIn.concern), \(caller.subject), \(now))
                    """, logger: context.logger)
                if checkIn.concern {
                    try await flagConcern(found, note: notes, by: caller, at: now, source: source, on: connection, logger: context.logger)
                }
                return try Response.json(
                    .object([
                        "id": .string(checkInId.uuidString.lowercased()), "heldOn": .string(heldOn.description),
                        "concern": .bool(checkIn.concern),
                    ]), status: .created)
            }
        }

        group.post("assignments/:id/hours") { request, context -> Response in
            let caller = try context.require(.volunteer, .volunteerCoordinator, .admin)
            struct Hours: Decodable { var workedOn: String; var hours: Double }
            let logged = try await request.decode(as: Hours.self, context: context)
            var problems: [Problem.Item] = []
            let workedOn = CalendarDate(logged.workedOn)
            let today = VolunteerCalendar.today(clock)
            if workedOn == nil {
                problems.append(.init(rule: "date", pointer: "/workedOn", detail: "a date, YYYY-MM-DD"))
            } else if let workedOn, today < workedOn {
                problems.append(.init(rule: "not-in-future", pointer: "/workedOn", detail: "today (\(today)) or earlier"))
            }
            // Quarter hours, so totals add up exactly.
            if !(logged.hours > 0 && logged.hours <= 24 && (logged.hours * 4).rounded() == logged.hours * 4) {
                problems.append(.init(rule: "range", pointer: "/hours", detail: "more than 0 and at most 24, in quarter hours"))
            }
            guard problems.isEmpty, let workedOn else {
                throw Problem.badRequest("The hours break \(problems.count) rule(s).", problems: problems)
            }
            let now = clock.now()
            return try await withAssignment(context, caller, .logHours, action: "log-hours") { found, connection in
                if let endedAt = found.endedAt, workedOn.start() > endedAt {
                    throw Problem.conflict("The assignment ended on \(Timestamp.format(endedAt)); hours after that are not logged.")
                }
                // Hours belong to the assignment: not from before the day it started (issue 18,
                // finding 10; 1900-01-01 was accepted).
                let startedOn = CalendarDate(found.startedAt, in: CalendarDate.netherlands)
                if workedOn < startedOn {
                    throw Problem.badRequest(
                        "The hours break 1 rule(s).",
                        problems: [.init(rule: "before-start", pointer: "/workedOn", detail: "the day the assignment started (\(startedOn)) or later")])
                }
                let hoursId = UUID.random()
                try await connection.query(
                    """
                    INSERT INTO hours (id, assignment_id, worked_on, hours, logged_by, logged_at)
                    VALUES (\(hoursId), \(found.id), \(workedOn.description)::date, \(logged.hours)::numeric, \(caller.subject), \(now))
                    """, logger: context.logger)
                // Reporting adds the hours up; the entry's id lets it count a redelivered one once.
                try await EventContext(connection: connection, logger: context.logger, source: source).emit(
                    .volunteerHoursLogged,
                    payload: VolunteerHoursLogged(
                        hoursId: hoursId, assignmentId: found.id, helpRequestId: found.helpRequestId, caseId: found.caseId,
                        volunteerId: found.volunteerId, area: found.area, workedOn: workedOn.description, hours: logged.hours,
                        at: now),
                    on: Topic.volunteers, key: found.caseId.uuidString.lowercased(), traceparent: nil)
                return try Response.json(
                    .object([
                        "id": .string(hoursId.uuidString.lowercased()), "workedOn": .string(workedOn.description),
                        "hours": .number(logged.hours),
                    ]), status: .created)
            }
        }

        group.post("assignments/:id/concerns") { request, context -> Response in
            let caller = try context.require(.volunteer, .familyManager, .admin)
            struct Concern: Decodable { var note: String }
            let concern = try await request.decode(as: Concern.self, context: context)
            let note = concern.note.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...5000).contains(note.count) else {
                throw Problem.badRequest(
                    "The concern breaks 1 rule(s).", problems: [.init(rule: "length", pointer: "/note", detail: "1–5000 characters")])
            }
            let now = clock.now()
            return try await withAssignment(context, caller, .flagConcern, action: "flag-concern") { found, connection in
                let concernId = try await flagConcern(
                    found, note: note, by: caller, at: now, source: source, on: connection, logger: context.logger)
                return try Response.json(.object(["id": .string(concernId.uuidString.lowercased())]), status: .created)
            }
        }

        group.post("concerns/:id/resolve") { _, context -> Response in
            let caller = try context.require(.familyManager, .admin)
            let concernId = try context.uuid()
            let now = clock.now()
            return try await database.transaction { connection -> Result<Response, Problem> in
                let notFound = Problem.notFound("No concern \(concernId.uuidString.lowercased()).")
                guard
                    let (assignmentId, resolvedAt) = try await connection.query(
                        "SELECT assignment_id, resolved_at FROM concerns WHERE id = \(concernId) FOR UPDATE", logger: context.logger
                    ).collect().first?.decode((UUID, Date?).self),
                    let found = try await AssignmentRecord.find(assignmentId, on: connection, logger: context.logger)
                else { return .failure(notFound) }
                let allowed = found.allows(caller, .guide)
                try await AuditLog.record(found.audit(caller, "resolve-concern", allowed: allowed), on: connection, logger: context.logger)
                guard allowed else { return .failure(notFound) }
                guard resolvedAt == nil else { return .failure(Problem.conflict("The concern is resolved already.")) }
                try await connection.query(
                    "UPDATE concerns SET resolved_by = \(caller.subject), resolved_at = \(now) WHERE id = \(concernId)",
                    logger: context.logger)
                return .success(try Response.json(.object(["id": .string(concernId.uuidString.lowercased()), "resolved": .bool(true)])))
            }.get()
        }

        group.post("assignments/:id/end") { request, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .familyManager, .admin)
            struct End: Decodable { var reason: String }
            let end = try await request.decode(as: End.self, context: context)
            guard endReasons.contains(end.reason) else {
                throw Problem.badRequest(
                    "The end breaks 1 rule(s).",
                    problems: [.init(rule: "enum", pointer: "/reason", detail: endReasons.joined(separator: ", "))])
            }
            let now = clock.now()
            return try await withAssignment(context, caller, .end, action: "end") { found, connection in
                guard found.endedAt == nil else { throw Problem.conflict("The assignment ended already.") }
                try await connection.query(
                    """
                    UPDATE assignments SET ended_at = \(now), end_reason = \(end.reason), ended_by = \(caller.subject)
                    WHERE id = \(found.id)
                    """, logger: context.logger)
                try await connection.query(
                    "UPDATE help_requests SET status = 'ended' WHERE id = \(found.helpRequestId)", logger: context.logger)
                try await EventContext(connection: connection, logger: context.logger, source: source).emit(
                    .volunteerAssignmentEnded,
                    payload: VolunteerAssignmentChanged(
                        assignmentId: found.id, helpRequestId: found.helpRequestId, caseId: found.caseId,
                        volunteerId: found.volunteerId, at: now, reason: end.reason),
                    on: Topic.volunteers, key: found.caseId.uuidString.lowercased(), traceparent: nil)
                var ended = found
                ended.endedAt = now
                ended.endReason = end.reason
                return try Response.json(ended.json())
            }
        }
    }

    /// Records a concern and tells the family's manager at once (through notifications,
    /// which follows `volunteer-concern.flagged`). The note stays here.
    @discardableResult
    static func flagConcern(
        _ found: AssignmentRecord, note: String, by caller: Identity, at now: Date, source: String,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> UUID {
        let concernId = UUID.random()
        try await connection.query(
            """
            INSERT INTO concerns (id, assignment_id, raised_by, note, raised_at)
            VALUES (\(concernId), \(found.id), \(caller.subject), \(note), \(now))
            """, logger: logger)
        try await EventContext(connection: connection, logger: logger, source: source).emit(
            .volunteerConcernFlagged,
            payload: VolunteerConcernFlagged(
                concernId: concernId, assignmentId: found.id, caseId: found.caseId, managerId: found.managerId,
                volunteerId: found.volunteerId, raisedBy: caller.subject, at: now),
            on: Topic.volunteers, key: found.caseId.uuidString.lowercased(), traceparent: nil)
        return concernId
    }

    static func checkIns(of assignmentId: UUID, withNotes: Bool, on connection: PostgresConnection, logger: Logger)
        async throws -> [JSON]
    {
        var items: [JSON] = []
        for try await (id, heldOn, notes, concern, by) in try await connection.query(
            """
            SELECT id, held_on::text, notes, concern, recorded_by FROM check_ins
            WHERE assignment_id = \(assignmentId) ORDER BY held_on, recorded_at
            """, logger: logger
        ).decode((UUID, String, String, Bool, String).self) {
            var item: [String: JSON] = [
                "id": .string(id.uuidString.lowercased()), "heldOn": .string(heldOn), "concern": .bool(concern),
                "recordedBy": .string(by),
            ]
            if withNotes { item["notes"] = .string(notes) }
            items.append(.object(item))
        }
        return items
    }
}
