import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage

/// `POST /v1/cases/{id}/follow-ups`: a follow-up agreed in the continuation plan was held
/// (`follow-up.due` only says it is due). Reporting measures follow-ups held on time from
/// `follow-up.recorded`, which carries the day it was due and the day it was held.
///
/// Recording is idempotent per agreed month: the same follow-up sent again (same day, same
/// judgement) answers `200` with what is stored and publishes nothing, so a client may retry
/// after a lost answer; a different one for a month already recorded is a `409`, because a
/// follow-up was held once and a silent overwrite would change the record reporting counted.
enum FollowUpRoutes {
    struct HeldFollowUp: Decodable, Sendable {
        /// The follow-up agreed at this many months after closing.
        var months: Int
        /// `yyyy-MM-dd`.
        var heldOn: String
        /// Whether the children were still safe at home.
        var childrenSafe: Bool
    }

    static func add(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment) {
        let database = environment.database
        let source = environment.source
        let clock = environment.clock

        group.post("cases/:id/follow-ups") { request, context -> Response in
            let caller = try context.require(.familyManager, .teamLead, .admin)
            let id = try PlanRoutes.caseID(context)
            let held = try await request.decode(as: HeldFollowUp.self, context: context)
            let now = clock.now()
            let today = CalendarDate(now, in: CalendarDate.netherlands)
            // What can be checked without the case is checked before it is read.
            let heldOn = CalendarDate(held.heldOn)
            var problems: [Problem.Item] = []
            if heldOn == nil {
                problems.append(.init(rule: "date", pointer: "/heldOn", detail: "a date as yyyy-MM-dd"))
            } else if let heldOn, heldOn > today {
                problems.append(
                    .init(rule: "not-in-future", pointer: "/heldOn", detail: "a follow-up that was held: \(today) or earlier"))
            }
            guard problems.isEmpty, let heldOn else {
                throw Problem.badRequest("The follow-up breaks \(problems.count) rule(s).", problems: problems)
            }
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, purpose: .recordFollowUp, action: "record", resourceType: "follow-up", lock: true,
                database: database, logger: logger
            ) { found, connection in
                try found.require(.closed, for: "Follow-ups are held")
                // The case closed when it last entered `closed`; its follow-ups count from then.
                let closedAt = found.phaseChangedAt
                let closedOn = CalendarDate(closedAt, in: CalendarDate.netherlands)
                let agreed = try await FollowUps.agreedMonths(caseId: id, on: connection, logger: logger)
                var problems: [Problem.Item] = []
                if !agreed.contains(held.months) {
                    problems.append(
                        .init(
                            rule: "not-agreed", pointer: "/months",
                            detail: "one of the follow-ups agreed in the continuation plan: "
                                + agreed.sorted().map(String.init).joined(separator: ", ")))
                }
                if heldOn < closedOn {
                    problems.append(
                        .init(rule: "before-closure", pointer: "/heldOn", detail: "the case closed on \(closedOn)"))
                }
                guard problems.isEmpty else {
                    throw Problem.badRequest("The follow-up breaks \(problems.count) rule(s).", problems: problems)
                }

                // The case row is locked, so of two recordings of one month the second sees the
                // first. The closure is matched in SQL: a timestamp read into a Date and bound
                // again may come back a microsecond off.
                let stored = try await connection.query(
                    """
                    SELECT f.due_on::text, f.held_on::text, f.children_safe, f.recorded_by, f.recorded_at
                    FROM follow_ups f JOIN cases c ON c.id = f.case_id AND f.closed_at = c.phase_changed_at
                    WHERE f.case_id = \(id) AND f.months = \(held.months)
                    """, logger: logger
                ).collect().first?.decode((String, String, Bool, String, Date).self)
                if let (dueOn, storedHeldOn, safe, by, at) = stored {
                    guard storedHeldOn == heldOn.description, safe == held.childrenSafe else {
                        throw Problem.conflict(
                            "The follow-up at \(held.months) months was recorded already (held on \(storedHeldOn)).")
                    }
                    return try Response.json(
                        body(id, months: held.months, dueOn: dueOn, heldOn: storedHeldOn, childrenSafe: safe, by: by, at: at))
                }

                let dueOn = FollowUpCalendar.dueOn(closedAt: closedAt, months: held.months).description
                try await connection.query(
                    """
                    INSERT INTO follow_ups (case_id, closed_at, months, due_on, held_on, children_safe, recorded_by, recorded_at)
                    SELECT id, phase_changed_at, \(held.months), \(dueOn)::date, \(heldOn.description)::date,
                           \(held.childrenSafe), \(caller.subject), \(now)
                    FROM cases WHERE id = \(id)
                    """, logger: logger)
                try await EventContext(connection: connection, logger: logger, source: source).emit(
                    .followUpRecorded,
                    payload: FollowUpRecorded(
                        caseId: id, area: found.area, managerId: found.managerId, months: held.months, dueOn: dueOn,
                        heldOn: heldOn.description, at: now),
                    on: Topic.planning, key: id.uuidString.lowercased(), traceparent: nil)
                return try Response.json(
                    body(
                        id, months: held.months, dueOn: dueOn, heldOn: heldOn.description, childrenSafe: held.childrenSafe,
                        by: caller.subject, at: now),
                    status: .created)
            }
        }
    }

    static func body(
        _ caseId: UUID, months: Int, dueOn: String, heldOn: String, childrenSafe: Bool, by: String, at: Date
    ) -> JSON {
        .object([
            "caseId": .string(caseId.uuidString.lowercased()), "months": .number(Double(months)),
            "dueOn": .string(dueOn), "heldOn": .string(heldOn), "childrenSafe": .bool(childrenSafe),
            "recordedBy": .string(by), "recordedAt": .string(Timestamp.format(at)),
        ])
    }
}
