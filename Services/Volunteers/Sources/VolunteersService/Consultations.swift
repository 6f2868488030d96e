import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage
import VolunteersDomain

/// Case consultations (issue 5, item 4): per area, professionals and the local field meet
/// every 3–6 weeks to discuss families with volunteers, open concerns and help requests
/// still waiting for a match. Each meeting is a durable timer, like planning's clock: when
/// it is due, its agenda goes out (`case-consultation.due`) and the next one is scheduled.
enum Consultations {
    static let timerKind = "case-consultation"

    static func add(
        to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, settings: VolunteerSettings
    ) {
        let database = environment.database
        let clock = environment.clock

        group.put("areas/:area/consultations") { request, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .admin)
            let area = (context.parameters.get("area") ?? "").lowercased()
            struct Rhythm: Decodable { var everyWeeks: Int; var firstOn: String }
            let body = try await request.decode(as: Rhythm.self, context: context)
            var problems: [Problem.Item] = []
            let rhythm = ConsultationRhythm(weeks: body.everyWeeks)
            if rhythm == nil {
                problems.append(.init(rule: "range", pointer: "/everyWeeks", detail: "a whole number of weeks from 3 to 6"))
            }
            let firstOn = CalendarDate(body.firstOn)
            let today = VolunteerCalendar.today(clock)
            if firstOn == nil {
                problems.append(.init(rule: "date", pointer: "/firstOn", detail: "a date, YYYY-MM-DD"))
            } else if let firstOn, firstOn < today {
                problems.append(.init(rule: "not-in-past", pointer: "/firstOn", detail: "today (\(today)) or later"))
            }
            if !(1...100).contains(area.count) {
                problems.append(.init(rule: "length", pointer: "area", detail: "1–100 characters"))
            }
            guard problems.isEmpty, let rhythm, let firstOn else {
                throw Problem.badRequest("The rhythm breaks \(problems.count) rule(s).", problems: problems)
            }
            let now = clock.now()
            let consultationId = try await database.transaction { connection -> UUID in
                try await connection.query(
                    """
                    INSERT INTO consultation_areas (area, every_weeks, set_by, set_at) VALUES (\(area), \(rhythm.weeks), \(caller.subject), \(now))
                    ON CONFLICT (area) DO UPDATE SET every_weeks = excluded.every_weeks, set_by = excluded.set_by, set_at = excluded.set_at
                    """, logger: context.logger)
                // A new rhythm replaces the meetings planned under the old one that have not met.
                for try await planned in try await connection.query(
                    """
                    DELETE FROM consultations WHERE area = \(area) AND minutes IS NULL AND meets_on >= \(today.description)::date
                    RETURNING id
                    """, logger: context.logger
                ).decode(UUID.self) {
                    try await Timers.cancel(
                        kind: timerKind, subject: planned.uuidString.lowercased(), on: connection, logger: context.logger)
                }
                return try await schedule(area: area, on: firstOn, connection: connection, logger: context.logger)
            }
            return try Response.json(
                .object([
                    "area": .string(area), "everyWeeks": .number(Double(rhythm.weeks)),
                    "next": .object(["id": .string(consultationId.uuidString.lowercased()), "meetsOn": .string(firstOn.description)]),
                ]))
        }

        group.get("consultations") { request, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .teamLead, .familyManager, .admin)
            guard let area = request.uri.queryParameters.get("area")?.lowercased() else {
                throw Problem.badRequest("Which area?", problems: [.init(rule: "required", pointer: "area", detail: "an area")])
            }
            guard mayAttend(caller, area: area) else { throw Problem.forbidden("You do not work in \(area).") }
            var items: [JSON] = []
            for try await (id, meetsOn, held) in try await database.client.query(
                "SELECT id, meets_on::text, minutes IS NOT NULL FROM consultations WHERE area = \(area) ORDER BY meets_on",
                logger: context.logger
            ).decode((UUID, String, Bool).self) {
                items.append(.object(["id": .string(id.uuidString.lowercased()), "meetsOn": .string(meetsOn), "minutesRecorded": .bool(held)]))
            }
            return try Response.json(.object(["area": .string(area), "items": .array(items)]))
        }

        group.get("consultations/:id") { _, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .teamLead, .familyManager, .admin)
            let id = try context.uuid()
            return try await database.transaction { connection -> Result<Response, Problem> in
                let notFound = Problem.notFound("No consultation \(id.uuidString.lowercased()).")
                guard
                    let (area, meetsOn, minutes) = try await connection.query(
                        "SELECT area, meets_on::text, minutes FROM consultations WHERE id = \(id)", logger: context.logger
                    ).collect().first?.decode((String, String, String?).self),
                    let date = CalendarDate(meetsOn)
                else { return .failure(notFound) }
                let allowed = mayAttend(caller, area: area)
                try await AuditLog.record(
                    AuditEntry(
                        actor: caller.subject, role: caller.role.rawValue, action: "read", resourceType: "consultation",
                        resourceId: id.uuidString.lowercased(), outcome: allowed ? "allowed" : "denied"),
                    on: connection, logger: context.logger)
                guard allowed else { return .failure(notFound) }
                let agenda = try await agenda(
                    area: area, on: date, unmatchedAfterDays: settings.unmatchedAfterDays, connection: connection,
                    logger: context.logger)
                return .success(
                    try Response.json(
                        .object([
                            "id": .string(id.uuidString.lowercased()), "area": .string(area), "meetsOn": .string(meetsOn),
                            "agenda": try JSON(encoding: agenda), "minutes": minutes.map(JSON.string) ?? .null,
                        ])))
            }.get()
        }

        group.put("consultations/:id/minutes") { request, context -> Response in
            let caller = try context.require(.volunteerCoordinator, .admin)
            let id = try context.uuid()
            struct Minutes: Decodable { var minutes: String }
            let minutes = try await request.decode(as: Minutes.self, context: context).minutes
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...20000).contains(minutes.count) else {
                throw Problem.badRequest(
                    "The minutes break 1 rule(s).", problems: [.init(rule: "length", pointer: "/minutes", detail: "1–20000 characters")])
            }
            let today = VolunteerCalendar.today(clock)
            let now = clock.now()
            return try await database.transaction { connection -> Result<Response, Problem> in
                guard
                    let (area, meetsOn) = try await connection.query(
                        "SELECT area, meets_on::text FROM consultations WHERE id = \(id) FOR UPDATE", logger: context.logger
                    ).collect().first?.decode((String, String).self),
                    let date = CalendarDate(meetsOn)
                else { return .failure(Problem.notFound("No consultation \(id.uuidString.lowercased()).")) }
                try await AuditLog.record(
                    AuditEntry(
                        actor: caller.subject, role: caller.role.rawValue, action: "minutes", resourceType: "consultation",
                        resourceId: id.uuidString.lowercased()),
                    on: connection, logger: context.logger)
                guard !(today < date) else {
                    return .failure(Problem.conflict("The consultation meets on \(meetsOn); minutes are recorded afterwards."))
                }
                try await connection.query(
                    "UPDATE consultations SET minutes = \(minutes), minutes_by = \(caller.subject), minutes_at = \(now) WHERE id = \(id)",
                    logger: context.logger)
                return .success(
                    try Response.json(.object(["id": .string(id.uuidString.lowercased()), "area": .string(area), "meetsOn": .string(meetsOn)])))
            }.get()
        }
    }

    /// Who takes part: the coordinator, an admin, and the team leads and managers of the area.
    static func mayAttend(_ caller: Identity, area: String) -> Bool {
        switch caller.role {
        case .admin, .volunteerCoordinator: true
        case .teamLead, .familyManager: caller.areas.map { $0.lowercased() }.contains(area)
        default: false
        }
    }

    /// Plans the meeting of `area` on `date` and its timer.
    static func schedule(area: String, on date: CalendarDate, connection: PostgresConnection, logger: Logger) async throws
        -> UUID
    {
        let id = UUID.random()
        let stored = try await connection.query(
            """
            INSERT INTO consultations (id, area, meets_on) VALUES (\(id), \(area), \(date.description)::date)
            ON CONFLICT (area, meets_on) DO UPDATE SET area = excluded.area RETURNING id
            """, logger: logger
        ).collect().first?.decode(UUID.self) ?? id
        // One timer per meeting: the meeting's own timer is marked fired after it planned the next.
        try await Timers.schedule(
            [
                TimerEntry(
                    kind: timerKind, subject: stored.uuidString.lowercased(), dueAt: date.start(),
                    payload: .object(["area": .string(area)]))
            ], on: connection, logger: logger)
        return stored
    }

    /// The agenda of `area`'s meeting on `date`, from what this service knows now.
    static func agenda(
        area: String, on date: CalendarDate, unmatchedAfterDays: Int, connection: PostgresConnection, logger: Logger
    ) async throws -> Agenda {
        var assignments: [AgendaAssignment] = []
        for try await (id, caseId, volunteerId, requestId, startedAt) in try await connection.query(
            """
            SELECT a.id, a.case_id, a.volunteer_id, a.help_request_id, a.started_at FROM assignments a
            JOIN help_requests r ON r.id = a.help_request_id WHERE r.area = \(area) AND a.ended_at IS NULL
            """, logger: logger
        ).decode((UUID, UUID, String, UUID, Date).self) {
            assignments.append(
                AgendaAssignment(
                    assignmentId: id.uuidString.lowercased(), caseId: caseId.uuidString.lowercased(), volunteerId: volunteerId,
                    helpRequestId: requestId.uuidString.lowercased(),
                    startedOn: CalendarDate(startedAt, in: CalendarDate.netherlands)))
        }
        var concerns: [AgendaConcern] = []
        for try await (id, assignmentId, caseId, raisedAt) in try await connection.query(
            """
            SELECT c.id, c.assignment_id, a.case_id, c.raised_at FROM concerns c
            JOIN assignments a ON a.id = c.assignment_id JOIN help_requests r ON r.id = a.help_request_id
            WHERE r.area = \(area) AND c.resolved_at IS NULL
            """, logger: logger
        ).decode((UUID, UUID, UUID, Date).self) {
            concerns.append(
                AgendaConcern(
                    concernId: id.uuidString.lowercased(), assignmentId: assignmentId.uuidString.lowercased(),
                    caseId: caseId.uuidString.lowercased(), raisedOn: CalendarDate(raisedAt, in: CalendarDate.netherlands)))
        }
        var requests: [AgendaRequest] = []
        for try await (id, caseId, raisedAt) in try await connection.query(
            "SELECT id, case_id, raised_at FROM help_requests WHERE area = \(area) AND status IN ('open', 'proposed')",
            logger: logger
        ).decode((UUID, UUID, Date).self) {
            requests.append(
                AgendaRequest(
                    helpRequestId: id.uuidString.lowercased(), caseId: caseId.uuidString.lowercased(),
                    raisedOn: CalendarDate(raisedAt, in: CalendarDate.netherlands)))
        }
        return ConsultationAgenda.build(
            area: area, on: date, activeAssignments: assignments, openConcerns: concerns, openRequests: requests,
            unmatchedAfterDays: unmatchedAfterDays)
    }
}

/// Fires a meeting: its agenda goes out as `case-consultation.due` (for the coordinator and
/// the area's professionals, through notifications), and the next meeting is planned.
struct ConsultationTimerHandler: TimerHandler {
    let settings: VolunteerSettings
    var kinds: Set<String> { [Consultations.timerKind] }

    func fire(_ timer: DueTimer, in context: EventContext) async throws {
        guard let consultationId = UUID(uuidString: timer.subject),
            let (area, meetsOn, weeks) = try await context.connection.query(
                """
                SELECT c.area, c.meets_on::text, a.every_weeks FROM consultations c JOIN consultation_areas a ON a.area = c.area
                WHERE c.id = \(consultationId)
                """, logger: context.logger
            ).collect().first?.decode((String, String, Int).self),
            let date = CalendarDate(meetsOn), let rhythm = ConsultationRhythm(weeks: weeks)
        else { return }
        let agenda = try await Consultations.agenda(
            area: area, on: date, unmatchedAfterDays: settings.unmatchedAfterDays, connection: context.connection,
            logger: context.logger)
        let next = rhythm.next(after: date)
        try await context.emit(
            .caseConsultationDue,
            payload: CaseConsultationDue(
                consultationId: consultationId, area: area, meetsOn: date, nextOn: next,
                familiesWithVolunteers: agenda.families.compactMap { UUID(uuidString: $0.caseId) },
                openConcerns: agenda.openConcerns.count,
                unmatchedRequests: agenda.unmatchedRequests.compactMap { UUID(uuidString: $0.helpRequestId) }),
            on: Topic.volunteers, key: area, traceparent: nil)
        _ = try await Consultations.schedule(area: area, on: next, connection: context.connection, logger: context.logger)
    }
}
