import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage

/// The support phase's clock (issue 4, item 5): while a case is in `support`, two durable
/// timers stand for its next evaluation, a reminder when it is due and an escalation when it
/// is overdue. Entering support sets them; recording an evaluation moves them on; leaving
/// support removes them. Timers are rows claimed with `SKIP LOCKED`: each fires once, across
/// restarts and replicas.
enum EvaluationTimers {
    static let due = "evaluation-due"
    static let overdue = "evaluation-overdue"

    /// Sets both timers, counted from `since` (the start of support, or the day of the last
    /// evaluation).
    static func schedule(
        caseId: UUID, since: Date, clock: EvaluationClock, on connection: PostgresConnection, logger: Logger
    ) async throws -> Date {
        let (dueAt, overdueAt) = clock.moments(since: since)
        let subject = caseId.uuidString.lowercased()
        try await Timers.schedule(
            [TimerEntry(kind: due, subject: subject, dueAt: dueAt), TimerEntry(kind: overdue, subject: subject, dueAt: overdueAt)],
            on: connection, logger: logger)
        return dueAt
    }

    static func cancel(caseId: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        for kind in [due, overdue] {
            try await Timers.cancel(kind: kind, subject: caseId.uuidString.lowercased(), on: connection, logger: logger)
        }
    }
}

/// Fires the evaluation timers: `evaluation.due` for the manager, `evaluation.overdue` for
/// the team lead. A case that left support meanwhile gets neither.
struct EvaluationTimerHandler: TimerHandler {
    var kinds: Set<String> { [EvaluationTimers.due, EvaluationTimers.overdue] }

    func fire(_ timer: DueTimer, in context: EventContext) async throws {
        guard let caseId = UUID(uuidString: timer.subject) else { return }
        let rows = try await context.connection.query(
            """
            SELECT c.area, c.manager_id, (SELECT max(held_on)::text FROM evaluations e WHERE e.case_id = c.id)
            FROM cases c WHERE c.id = \(caseId) AND c.phase = 'support'
            """, logger: context.logger
        ).collect()
        guard let row = rows.first else { return }
        let (area, managerId, lastHeldOn) = try row.decode((String, String?, String?).self)
        try await context.emit(
            timer.kind == EvaluationTimers.due ? .evaluationDue : .evaluationOverdue,
            payload: EvaluationReminder(
                caseId: caseId, area: area, managerId: managerId, lastHeldOn: lastHeldOn, since: timer.dueAt),
            on: Topic.planning, key: timer.subject, traceparent: nil)
    }
}

/// `POST` and `GET /v1/cases/{id}/evaluations`.
enum EvaluationRoutes {
    struct Evaluation: Decodable, Sendable {
        var heldOn: String
        var attendees: [String]
        var outcome: String
        var planAdjusted: Bool
    }

    static func add(
        to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, clock evaluationClock: EvaluationClock
    ) {
        let database = environment.database
        let source = environment.source
        let clock = environment.clock

        group.post("cases/:id/evaluations") { request, context -> Response in
            let caller = try context.require(.familyManager, .admin)
            let id = try PlanRoutes.caseID(context)
            let evaluation = try await request.decode(as: Evaluation.self, context: context)
            let now = clock.now()
            let outcome = evaluation.outcome.trimmingCharacters(in: .whitespacesAndNewlines)
            let attendees = evaluation.attendees.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            var problems: [Problem.Item] = []
            let heldOn = CalendarDate(evaluation.heldOn)
            if heldOn == nil {
                problems.append(.init(rule: "date", pointer: "/heldOn", detail: "a date as yyyy-MM-dd"))
            } else if let heldOn, heldOn > CalendarDate(now, in: EvaluationClock.timeZone) {
                problems.append(.init(rule: "not-in-future", pointer: "/heldOn", detail: "an evaluation that was held"))
            }
            if attendees.isEmpty || attendees.contains(where: \.isEmpty) {
                problems.append(.init(rule: "required", pointer: "/attendees", detail: "who took part, none empty"))
            }
            if !(1...20000).contains(outcome.count) {
                problems.append(.init(rule: "length", pointer: "/outcome", detail: "1–20000 characters"))
            }
            guard problems.isEmpty, let heldOn else {
                throw Problem.badRequest("The evaluation breaks \(problems.count) rule(s).", problems: problems)
            }
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, purpose: .manage, action: "record", resourceType: "evaluation", lock: true,
                database: database, logger: logger
            ) { found, connection in
                try found.require(.support, for: "Evaluations are held")
                let attendeesJSON = String(decoding: try JSONCoding.encoder.encode(attendees), as: UTF8.self)
                try await connection.query(
                    """
                    INSERT INTO evaluations (case_id, held_on, attendees, outcome, plan_adjusted, phase, recorded_by, recorded_at)
                    VALUES (\(id), \(heldOn.description)::date, \(attendeesJSON)::jsonb, \(outcome), \(evaluation.planAdjusted),
                            \(found.phase.rawValue), \(caller.subject), \(now))
                    """, logger: logger)
                // The next one is counted from the latest evaluation held (one recorded late
                // for an earlier day does not move the clock back).
                let latest = try await connection.query(
                    "SELECT max(held_on)::text FROM evaluations WHERE case_id = \(id)", logger: logger
                ).collect().first?.decode(String.self)
                let since = EvaluationClock.start(of: latest.flatMap(CalendarDate.init) ?? heldOn)
                let nextDueAt = try await EvaluationTimers.schedule(
                    caseId: id, since: since, clock: evaluationClock, on: connection, logger: logger)
                try await EventContext(connection: connection, logger: logger, source: source).emit(
                    .evaluationRecorded,
                    payload: EvaluationRecorded(
                        caseId: id, area: found.area, managerId: found.managerId, heldOn: heldOn.description,
                        attendees: attendees.count, planAdjusted: evaluation.planAdjusted, nextDueAt: nextDueAt),
                    on: Topic.planning, key: id.uuidString.lowercased(), traceparent: nil)
                return try Response.json(
                    .object([
                        "caseId": .string(id.uuidString.lowercased()), "heldOn": .string(heldOn.description),
                        "attendees": .array(attendees.map(JSON.string)), "outcome": .string(outcome),
                        "planAdjusted": .bool(evaluation.planAdjusted), "nextDueAt": .string(Timestamp.format(nextDueAt)),
                    ]), status: .created)
            }
        }

        group.get("cases/:id/evaluations") { _, context -> Response in
            let caller = try context.require(.familyManager, .teamLead, .admin)
            let id = try PlanRoutes.caseID(context)
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, action: "read", resourceType: "evaluation", database: database, logger: logger
            ) { _, connection in
                var items: [JSON] = []
                let rows = try await connection.query(
                    """
                    SELECT held_on::text, attendees::text, outcome, plan_adjusted, phase, recorded_by
                    FROM evaluations WHERE case_id = \(id) ORDER BY held_on, id
                    """, logger: logger)
                for try await (heldOn, attendees, outcome, adjusted, phase, by) in rows.decode(
                    (String, String, String, Bool, String, String).self)
                {
                    items.append(
                        .object([
                            "heldOn": .string(heldOn),
                            "attendees": try JSONCoding.decoder.decode(JSON.self, from: Data(attendees.utf8)),
                            "outcome": .string(outcome), "planAdjusted": .bool(adjusted), "phase": .string(phase),
                            "recordedBy": .string(by),
                        ]))
                }
                return try Response.json(.object(["items": .array(items)]))
            }
        }
    }
}
