import Foundation
import Hummingbird
import PostgresNIO
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// Planning's HTTP API (docs/openapi/planning.yaml).
enum CaseRoutes {
    static func add(
        to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, evaluationClock: EvaluationClock
    ) {
        let database = environment.database

        group.get("cases/:id") { _, context -> Response in
            let caller = try context.require(.familyManager, .teamLead, .admin)
            let id = try PlanRoutes.caseID(context)
            return try await CaseAccess.withCase(
                id, for: caller, action: "read", database: database, logger: context.logger
            ) { found, connection in
                var history: [JSON] = []
                for try await (phase, at) in try await connection.execute(
                    PhaseHistory(id: found.id), logger: context.logger)
                {
                    history.append(.object(["phase": .string(phase), "at": .string(Timestamp.format(at))]))
                }
                var body: [String: JSON] = [
                    "id": .string(found.id.uuidString.lowercased()), "area": .string(found.area),
                    "framework": .string(found.framework), "urgency": .string(found.urgency),
                    "phase": .string(found.phase.rawValue), "openedAt": .string(Timestamp.format(found.openedAt)),
                    "phaseChangedAt": .string(Timestamp.format(found.phaseChangedAt)), "phaseHistory": .array(history),
                ]
                body["managerId"] = found.managerId.map(JSON.string) ?? .null
                return try Response.json(.object(body))
            }
        }

        PlanRoutes.add(to: group, environment: environment, evaluationClock: evaluationClock)
        EvaluationRoutes.add(to: group, environment: environment, clock: evaluationClock)
        CaseEndingRoutes.add(to: group, environment: environment, evaluationClock: evaluationClock)
        FollowUpRoutes.add(to: group, environment: environment)
        HelpRequests.add(to: group, environment: environment)
        CaseEndingRoutes.addHandoverList(to: group, environment: environment)
    }
}

/// A case's phases in order; prepared, as it is read with every case.
struct PhaseHistory: PreparedByID {
    static let sql = "SELECT phase, changed_at FROM phase_history WHERE case_id = $1 ORDER BY changed_at"
    var id: UUID
    func decodeRow(_ row: PostgresRow) throws -> (String, Date) { try row.decode((String, Date).self) }
}
