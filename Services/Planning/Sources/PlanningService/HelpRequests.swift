import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanServer

/// Help requests (issue 4, item 4): a need the family chose to work on, and whether it wants
/// a volunteer for it. Requests that want one go to the volunteers service
/// (`help-request.raised`); its answers (assignment started, ended) update them here, and a
/// started assignment shows in the plan as the goal's volunteer.
enum HelpRequests {
    struct Request: Decodable, Sendable {
        enum Volunteer: String, Decodable, Sendable {
            case none, practical
            case longTerm = "long-term"
        }

        var need: String
        var goalId: String?
        var volunteer: Volunteer
    }

    /// The volunteers service's answer. An answer about a help request planning does not
    /// have can never be applied: it is dead-lettered.
    static func answer(_ change: VolunteerAssignmentChanged, started: Bool, in context: EventContext) async throws {
        let updated =
            if started {
                try await context.connection.query(
                    """
                    UPDATE help_requests SET status = 'matched', volunteer_id = \(change.volunteerId), matched_at = \(change.at)
                    WHERE id = \(change.helpRequestId) AND case_id = \(change.caseId) RETURNING 1
                    """, logger: context.logger
                ).collect()
            } else {
                try await context.connection.query(
                    """
                    UPDATE help_requests SET status = 'ended', ended_at = \(change.at), end_reason = \(change.reason)
                    WHERE id = \(change.helpRequestId) AND case_id = \(change.caseId) RETURNING 1
                    """, logger: context.logger
                ).collect()
            }
        guard !updated.isEmpty else {
            throw PermanentEventFailure(
                reason: "unknown-help-request",
                detail: "no help request \(change.helpRequestId) of case \(change.caseId)")
        }
    }

    /// The volunteers service proposed a volunteer (the family is asked), or the family
    /// refused them (the request is open again). Like an answer, a proposal about a help
    /// request planning does not have is dead-lettered.
    static func proposal(_ change: VolunteerMatchChanged, proposed: Bool, in context: EventContext) async throws {
        let exists = try await context.connection.query(
            "SELECT 1 FROM help_requests WHERE id = \(change.helpRequestId) AND case_id = \(change.caseId)",
            logger: context.logger
        ).collect()
        guard !exists.isEmpty else {
            throw PermanentEventFailure(
                reason: "unknown-help-request",
                detail: "no help request \(change.helpRequestId) of case \(change.caseId)")
        }
        // Only a request still waiting for its volunteer moves: a late copy of an older step
        // never undoes a match.
        if proposed {
            try await context.connection.query(
                """
                UPDATE help_requests SET status = 'proposed', volunteer_id = \(change.volunteerId)
                WHERE id = \(change.helpRequestId) AND status IN ('open', 'proposed')
                """, logger: context.logger)
        } else {
            try await context.connection.query(
                """
                UPDATE help_requests SET status = 'open', volunteer_id = NULL
                WHERE id = \(change.helpRequestId) AND status = 'proposed' AND volunteer_id = \(change.volunteerId)
                """, logger: context.logger)
        }
    }

    /// The goals with a volunteer at work on them now, for the plan.
    static func goalVolunteers(of caseId: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [JSON] {
        var items: [JSON] = []
        let rows = try await connection.query(
            """
            SELECT goal_id, volunteer_id, id FROM help_requests
            WHERE case_id = \(caseId) AND status = 'matched' AND goal_id IS NOT NULL ORDER BY matched_at, id
            """, logger: logger)
        for try await (goalId, volunteerId, id) in rows.decode((String, String, UUID).self) {
            items.append(
                .object([
                    "goalId": .string(goalId), "volunteerId": .string(volunteerId),
                    "helpRequestId": .string(id.uuidString.lowercased()),
                ]))
        }
        return items
    }

    static func add(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment) {
        let database = environment.database
        let source = environment.source
        let clock = environment.clock

        group.post("cases/:id/help-requests") { request, context -> Response in
            let caller = try context.require(.familyManager, .admin)
            let id = try PlanRoutes.caseID(context)
            let body = try await request.decode(as: Request.self, context: context)
            let need = body.need.trimmingCharacters(in: .whitespacesAndNewlines)
            let goalId = body.goalId?.trimmingCharacters(in: .whitespacesAndNewlines)
            var problems: [Problem.Item] = []
            if !(1...2000).contains(need.count) {
                problems.append(.init(rule: "length", pointer: "/need", detail: "1–2000 characters"))
            }
            if let goalId, !(1...100).contains(goalId.count) {
                problems.append(.init(rule: "length", pointer: "/goalId", detail: "1–100 characters"))
            }
            guard problems.isEmpty else {
                throw Problem.badRequest("The help request breaks \(problems.count) rule(s).", problems: problems)
            }
            let now = clock.now()
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, purpose: .manage, action: "raise", resourceType: "help-request", lock: true,
                database: database, logger: logger
            ) { found, connection in
                guard found.phase != .closed else { throw Problem.conflict("The case is closed.") }
                if let goalId {
                    let goals = try await PlanStore.latestApproved(of: id, on: connection, logger: logger)?.content.goals ?? []
                    guard goals.contains(where: { $0.id == goalId }) else {
                        throw Problem.badRequest(
                            "The goal is not in the plan in effect.",
                            problems: [.init(rule: "unknown-goal", pointer: "/goalId", detail: "a goal of the approved plan")])
                    }
                }
                let requestId = UUID.random()
                let status = body.volunteer == .none ? "no-volunteer" : "open"
                try await connection.query(
                    """
                    INSERT INTO help_requests (id, case_id, need, goal_id, volunteer_kind, status, created_by, created_at)
                    VALUES (\(requestId), \(id), \(need), \(goalId), \(body.volunteer.rawValue), \(status), \(caller.subject), \(now))
                    """, logger: logger)
                if body.volunteer != .none {
                    try await EventContext(connection: connection, logger: logger, source: source).emit(
                        .helpRequestRaised,
                        payload: HelpRequestRaised(
                            helpRequestId: requestId, caseId: id, area: found.area, managerId: found.managerId,
                            kind: body.volunteer.rawValue, goalId: goalId, need: need),
                        on: Topic.planning, key: id.uuidString.lowercased(), traceparent: nil)
                }
                return try Response.json(
                    .object([
                        "id": .string(requestId.uuidString.lowercased()), "need": .string(need),
                        "goalId": goalId.map(JSON.string) ?? .null, "volunteer": .string(body.volunteer.rawValue),
                        "status": .string(status),
                    ]), status: .created)
            }
        }

        group.get("cases/:id/help-requests") { _, context -> Response in
            let caller = try context.require(.familyManager, .teamLead, .admin)
            let id = try PlanRoutes.caseID(context)
            let logger = context.logger
            return try await CaseAccess.withCase(
                id, for: caller, action: "read", resourceType: "help-request", database: database, logger: logger
            ) { _, connection in
                var items: [JSON] = []
                let rows = try await connection.query(
                    """
                    SELECT id, need, goal_id, volunteer_kind, status, volunteer_id, end_reason
                    FROM help_requests WHERE case_id = \(id) ORDER BY created_at, id
                    """, logger: logger)
                for try await (requestId, need, goalId, kind, status, volunteerId, endReason) in rows.decode(
                    (UUID, String, String?, String, String, String?, String?).self)
                {
                    items.append(
                        .object([
                            "id": .string(requestId.uuidString.lowercased()), "need": .string(need),
                            "goalId": goalId.map(JSON.string) ?? .null, "volunteer": .string(kind),
                            "status": .string(status), "volunteerId": volunteerId.map(JSON.string) ?? .null,
                            "endReason": endReason.map(JSON.string) ?? .null,
                        ]))
                }
                return try Response.json(.object(["items": .array(items)]))
            }
        }
    }
}
