import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage

/// Follow-ups after a case closed (default 6 and 12 months, as the continuation plan agreed):
/// durable timers that fire `follow-up.due` once each, also long after the case closed.
enum FollowUps {
    static let kind = "follow-up"
    static let defaultMonths = [6, 12]

    static func schedule(caseId: UUID, closedAt: Date, on connection: PostgresConnection, logger: Logger) async throws {
        let months = try await agreedMonths(caseId: caseId, on: connection, logger: logger)
        try await Timers.schedule(
            months.map { month in
                TimerEntry(
                    kind: kind, subject: "\(caseId.uuidString.lowercased())/\(month)",
                    dueAt: FollowUpCalendar.dueAt(closedAt: closedAt, months: month),
                    payload: ["months": .number(Double(month)), "closedAt": .string(Timestamp.format(closedAt))])
            }, on: connection, logger: logger)
    }

    /// The follow-ups the case's continuation plan agreed (the defaults without one).
    static func agreedMonths(caseId: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.query(
            "SELECT follow_up_months FROM continuation_plans WHERE case_id = \(caseId)", logger: logger
        ).collect().first?.decode([Int].self) ?? defaultMonths
    }
}

struct FollowUpTimerHandler: TimerHandler {
    var kinds: Set<String> { [FollowUps.kind] }

    func fire(_ timer: DueTimer, in context: EventContext) async throws {
        guard let caseId = timer.subject.split(separator: "/").first.flatMap({ UUID(uuidString: String($0)) }),
            let months = timer.payload["months"]?.numberValue.map(Int.init),
            let closedAt = timer.payload["closedAt"]?.stringValue.flatMap(Timestamp.parse)
        else { return }
        let rows = try await context.connection.query(
            "SELECT area, manager_id FROM cases WHERE id = \(caseId)", logger: context.logger
        ).collect()
        guard let (area, managerId) = try rows.first?.decode((String, String?).self) else { return }
        try await context.emit(
            .followUpDue,
            payload: FollowUpDue(caseId: caseId, area: area, managerId: managerId, months: months, closedAt: closedAt),
            on: Topic.planning, key: caseId.uuidString.lowercased(), traceparent: nil)
    }
}

/// The safe ending over HTTP (issue 4, items 1 and 3): the continuation plan and the team
/// lead's decision on it, the manager's safety assessment, and the handover that the area's
/// neighbourhood team accepts (the case closes) or declines (it stays in `secure`).
enum CaseEndingRoutes {
    struct ContinuationPlan: Codable, Sendable {
        var whatKeepsTheHomeSafe: String?
        var warningSigns: String?
        var whatToDo: String?
        var whoToCall: String?
        var followUpMonths: [Int]?

        /// The parts that are filled in.
        var parts: Set<ContinuationPart> {
            let filled: [(ContinuationPart, String?)] = [
                (.whatKeepsTheHomeSafe, whatKeepsTheHomeSafe), (.warningSigns, warningSigns), (.whatToDo, whatToDo),
                (.whoToCall, whoToCall),
            ]
            return Set(filled.compactMap { part, text in
                text?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == false ? part : nil
            })
        }
    }

    struct Assessment: Decodable, Sendable {
        var childrenSafe: Bool
        var explanation: String
    }

    struct HandoverAnswer: Decodable, Sendable {
        var accept: Bool
        var reason: String?
    }

    static func add(
        to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, evaluationClock: EvaluationClock
    ) {
        let database = environment.database
        let source = environment.source
        let clock = environment.clock

        /// Emits a step of the ending.
        @Sendable func emit(
            _ type: EventType, _ found: PlanningCase, by caller: Identity, at now: Date, childrenSafe: Bool? = nil,
            on connection: PostgresConnection, logger: Logger
        ) async throws {
            try await EventContext(connection: connection, logger: logger, source: source).emit(
                type,
                payload: CaseEndingStep(
                    caseId: found.id, area: found.area, managerId: found.managerId, by: caller.subject, at: now,
                    childrenSafe: childrenSafe),
                on: Topic.planning, key: found.id.uuidString.lowercased(), traceparent: nil)
        }

        group.put("cases/:id/continuation-plan") { request, context -> Response in
            let caller = try context.require(.familyManager, .admin)
            let id = try PlanRoutes.caseID(context)
            let plan = try await request.decode(as: ContinuationPlan.self, context: context)
            var problems: [Problem.Item] = []
            for (name, text) in [
                ("whatKeepsTheHomeSafe", plan.whatKeepsTheHomeSafe), ("warningSigns", plan.warningSigns),
                ("whatToDo", plan.whatToDo), ("whoToCall", plan.whoToCall),
            ] where (text?.count ?? 0) > 20000 {
                problems.append(.init(rule: "too-long", pointer: "/\(name)", detail: "at most 20000 characters"))
            }
            let months = plan.followUpMonths ?? FollowUps.defaultMonths
            if months.isEmpty || months.contains(where: { !(1...60).contains($0) }) || Set(months).count != months.count {
                problems.append(
                    .init(rule: "months", pointer: "/followUpMonths", detail: "distinct whole months, 1–60, at least one"))
            }
            guard problems.isEmpty else {
                throw Problem.badRequest("The continuation plan breaks \(problems.count) rule(s).", problems: problems)
            }
            let now = clock.now()
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, purpose: .manage, action: "propose", resourceType: "continuation-plan", lock: true,
                database: database, logger: logger
            ) { found, connection in
                try found.require(.secure, for: "The continuation plan is written")
                let content = String(decoding: try JSONCoding.encoder.encode(plan), as: UTF8.self)
                // A changed continuation plan needs the team lead's approval again.
                try await connection.query(
                    """
                    INSERT INTO continuation_plans (case_id, content, follow_up_months, status, author, updated_at)
                    VALUES (\(id), \(content)::jsonb, \(months), 'proposed', \(caller.subject), \(now))
                    ON CONFLICT (case_id) DO UPDATE SET content = excluded.content, follow_up_months = excluded.follow_up_months,
                        status = 'proposed', author = excluded.author, updated_at = excluded.updated_at,
                        decided_by = NULL, decided_at = NULL, decision_comment = NULL
                    """, logger: logger)
                try await emit(.continuationPlanProposed, found, by: caller, at: now, on: connection, logger: logger)
                return try Response.json(
                    try continuationJSON(plan, months: months, status: "proposed", comment: nil), status: .created)
            }
        }

        group.get("cases/:id/continuation-plan") { _, context -> Response in
            let caller = try context.require(.familyManager, .teamLead, .admin)
            let id = try PlanRoutes.caseID(context)
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, action: "read", resourceType: "continuation-plan", database: database, logger: logger
            ) { _, connection in
                let rows = try await connection.query(
                    "SELECT content::text, follow_up_months, status, decision_comment FROM continuation_plans WHERE case_id = \(id)",
                    logger: logger
                ).collect()
                guard let (content, months, status, comment) = try rows.first?.decode((String, [Int], String, String?).self)
                else { throw Problem.notFound("The case has no continuation plan yet.") }
                let plan = try JSONCoding.decoder.decode(ContinuationPlan.self, from: Data(content.utf8))
                return try Response.json(try continuationJSON(plan, months: months, status: status, comment: comment))
            }
        }

        group.post("cases/:id/continuation-plan/decision") { request, context -> Response in
            let caller = try context.require(.teamLead, .admin)
            let id = try PlanRoutes.caseID(context)
            let decision = try await request.decode(as: PlanRoutes.Decision.self, context: context)
            let comment = try decision.checkedComment()
            let now = clock.now()
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, purpose: .decide, action: "decide", resourceType: "continuation-plan", lock: true,
                database: database, logger: logger
            ) { found, connection in
                let status = decision.decision == .approve ? "approved" : "sent-back"
                let updated = try await connection.query(
                    """
                    UPDATE continuation_plans SET status = \(status), decided_by = \(caller.subject), decided_at = \(now),
                                                  decision_comment = \(comment)
                    WHERE case_id = \(id) AND status = 'proposed' RETURNING 1
                    """, logger: logger
                ).collect()
                guard !updated.isEmpty else {
                    throw Problem.conflict("There is no proposed continuation plan to decide on.")
                }
                try await emit(
                    decision.decision == .approve ? .continuationPlanApproved : .continuationPlanSentBack, found,
                    by: caller, at: now, on: connection, logger: logger)
                return try Response.json(.object(["status": .string(status), "comment": comment.map(JSON.string) ?? .null]))
            }
        }

        group.post("cases/:id/safety-assessments") { request, context -> Response in
            let caller = try context.require(.familyManager, .admin)
            let id = try PlanRoutes.caseID(context)
            let assessment = try await request.decode(as: Assessment.self, context: context)
            let explanation = assessment.explanation.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...20000).contains(explanation.count) else {
                throw Problem.badRequest(
                    "A safety assessment says why.",
                    problems: [.init(rule: "length", pointer: "/explanation", detail: "1–20000 characters")])
            }
            let now = clock.now()
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, purpose: .manage, action: "assess", resourceType: "safety-assessment", lock: true,
                database: database, logger: logger
            ) { found, connection in
                try found.require(.secure, for: "The children's safety is assessed for closing")
                try await connection.query(
                    """
                    INSERT INTO safety_assessments (case_id, children_safe, explanation, assessed_by, assessed_at)
                    VALUES (\(id), \(assessment.childrenSafe), \(explanation), \(caller.subject), \(now))
                    """, logger: logger)
                try await emit(
                    .safetyAssessed, found, by: caller, at: now, childrenSafe: assessment.childrenSafe, on: connection,
                    logger: logger)
                return try Response.json(
                    .object(["childrenSafe": .bool(assessment.childrenSafe), "assessedAt": .string(Timestamp.format(now))]),
                    status: .created)
            }
        }

        // The manager offers the handover once everything but the team's acceptance is in place.
        group.post("cases/:id/handover") { _, context -> Response in
            let caller = try context.require(.familyManager, .admin)
            let id = try PlanRoutes.caseID(context)
            let now = clock.now()
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, purpose: .manage, action: "offer", resourceType: "handover", lock: true,
                database: database, logger: logger
            ) { found, connection in
                var facts = try await PlanStore.facts(about: found, on: connection, logger: logger)
                facts.handoverAccepted = true  // what is asked of the team; everything else must be there
                let unmet = CaseLifecycle.unmetConditions(toEnter: .closed, facts: facts)
                guard unmet.isEmpty else {
                    throw Problem(
                        .conflict, type: "phase-conditions-unmet", title: "The handover cannot be offered yet",
                        detail: unmet.map(\.detail).joined(separator: " "),
                        problems: unmet.map { .init(rule: $0.rule, pointer: "", detail: $0.detail) })
                }
                let offered = try await connection.query(
                    """
                    INSERT INTO handovers (case_id, status, offered_by, offered_at) VALUES (\(id), 'offered', \(caller.subject), \(now))
                    ON CONFLICT (case_id) DO UPDATE SET status = 'offered', offered_by = excluded.offered_by,
                        offered_at = excluded.offered_at, answered_by = NULL, answered_at = NULL, decline_reason = NULL
                    WHERE handovers.status = 'declined'
                    RETURNING 1
                    """, logger: logger
                ).collect()
                guard !offered.isEmpty else { throw Problem.conflict("The handover was offered already.") }
                try await emit(.handoverOffered, found, by: caller, at: now, on: connection, logger: logger)
                return try Response.json(.object(["status": "offered", "offeredAt": .string(Timestamp.format(now))]))
            }
        }

        // The area's neighbourhood team answers: accepted, the case closes; declined, it stays.
        group.post("cases/:id/handover/answer") { request, context -> Response in
            let caller = try context.require(.neighbourhoodTeam, .admin)
            let id = try PlanRoutes.caseID(context)
            let answer = try await request.decode(as: HandoverAnswer.self, context: context)
            let reason = answer.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if !answer.accept && !(1...4000).contains(reason.count) {
                throw Problem.badRequest(
                    "Declining a handover needs a reason.",
                    problems: [.init(rule: "length", pointer: "/reason", detail: "1–4000 characters")])
            }
            let now = clock.now()
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, purpose: .answerHandover, action: answer.accept ? "accept" : "decline",
                resourceType: "handover", lock: true, database: database, logger: logger
            ) { found, connection in
                let pending = try await connection.query(
                    "SELECT 1 FROM handovers WHERE case_id = \(id) AND status = 'offered'", logger: logger
                ).collect()
                guard !pending.isEmpty, found.phase == .secure else {
                    throw Problem.conflict("No handover of this case waits for an answer.")
                }
                try await connection.query(
                    """
                    UPDATE handovers SET status = \(answer.accept ? "accepted" : "declined"), answered_by = \(caller.subject),
                                         answered_at = \(now), decline_reason = \(answer.accept ? nil : reason)
                    WHERE case_id = \(id)
                    """, logger: logger)
                try await emit(
                    answer.accept ? .handoverAccepted : .handoverDeclined, found, by: caller, at: now, on: connection,
                    logger: logger)
                if answer.accept {
                    try await PhaseChanges.move(
                        found, to: .closed, at: now, evaluationClock: evaluationClock,
                        in: EventContext(connection: connection, logger: logger, source: source))
                }
                return try Response.json(
                    .object([
                        "status": .string(answer.accept ? "accepted" : "declined"),
                        "phase": .string(answer.accept ? Phase.closed.rawValue : found.phase.rawValue),
                    ]))
            }
        }
    }

    /// `GET /v1/handovers`: what the neighbourhood team of an area takes over. The handovers
    /// offered to their areas, with the continuation plan they work from and the follow-ups
    /// that became theirs; every case listed is an audited read.
    static func addHandoverList(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment) {
        let database = environment.database
        group.get("handovers") { request, context -> Response in
            let caller = try context.require(.neighbourhoodTeam, .admin)
            let page = try Page(request)
            let after = try page.after.map { cursor in
                guard let id = UUID(uuidString: cursor) else { throw Problem.badRequest("after must be a case id.") }
                return id
            }
            let everyArea = caller.role == .admin
            let logger = context.logger
            return try await database.transaction { connection -> Response in
                let rows = try await connection.query(
                    """
                    SELECT h.case_id, c.area, h.status, h.offered_at, h.answered_at, cp.content::text, cp.follow_up_months, cp.status
                    FROM handovers h JOIN cases c ON c.id = h.case_id
                    LEFT JOIN continuation_plans cp ON cp.case_id = h.case_id
                    WHERE (\(everyArea) OR c.area = ANY(\(caller.areas)::text[])) AND (\(after)::uuid IS NULL OR h.case_id > \(after))
                    ORDER BY h.case_id LIMIT \(page.limit)
                    """, logger: logger
                ).collect()
                var items: [JSON] = []
                var audit: [AuditEntry] = []
                var last: UUID?
                for row in rows {
                    let (caseId, area, status, offeredAt, answeredAt, content, months, planStatus) =
                        try row.decode((UUID, String, String, Date, Date?, String?, [Int]?, String?).self)
                    let followUps = try await connection.query(
                        """
                        SELECT split_part(subject, '/', 2)::int, due_at, fired_at IS NOT NULL FROM timers
                        WHERE kind = \(FollowUps.kind) AND subject LIKE \(caseId.uuidString.lowercased() + "/%") ORDER BY due_at
                        """, logger: logger
                    ).collect().map { row -> JSON in
                        let (months, dueAt, due) = try row.decode((Int, Date, Bool).self)
                        return .object([
                            "months": .number(Double(months)), "dueAt": .string(Timestamp.format(dueAt)), "due": .bool(due),
                        ])
                    }
                    var item: [String: JSON] = [
                        "caseId": .string(caseId.uuidString.lowercased()), "area": .string(area), "status": .string(status),
                        "offeredAt": .string(Timestamp.format(offeredAt)),
                        "answeredAt": answeredAt.map { .string(Timestamp.format($0)) } ?? .null,
                        "followUps": .array(followUps),
                    ]
                    if let content {
                        let plan = try JSONCoding.decoder.decode(ContinuationPlan.self, from: Data(content.utf8))
                        item["continuationPlan"] = try continuationJSON(
                            plan, months: months ?? FollowUps.defaultMonths, status: planStatus ?? "proposed", comment: nil)
                    }
                    items.append(.object(item))
                    audit.append(AuditEntry(caller, "read", "handover", caseId, caseId: caseId))
                    last = caseId
                }
                try await AuditLog.record(audit, on: connection, logger: logger)
                return try Response.json(
                    page.body(items: items, last: items.count == page.limit ? last?.uuidString.lowercased() : nil))
            }
        }
    }

    static func continuationJSON(_ plan: ContinuationPlan, months: [Int], status: String, comment: String?) throws -> JSON {
        var body = try JSON(encoding: plan).objectValue ?? [:]
        body["followUpMonths"] = .array(months.map { .number(Double($0)) })
        body["status"] = .string(status)
        body["comment"] = comment.map(JSON.string) ?? .null
        body["missingParts"] = .array(
            ContinuationPart.allCases.filter { !plan.parts.contains($0) }.map { .string($0.rawValue) })
        return .object(body)
    }
}
