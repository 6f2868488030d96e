import Foundation
import Hummingbird
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// Planning's HTTP API (docs/openapi/planning.yaml).
enum CaseRoutes {
    static func add(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment) {
        let database = environment.database

        group.get("cases/:id") { _, context -> Response in
            let caller = try context.require(.familyManager, .teamLead, .admin)
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
                throw Problem.badRequest("The case id must be a UUID.")
            }
            // The refusal is audited too, so the transaction commits either way and the 404 is
            // thrown after it.
            let found = try await database.transaction { connection -> Response? in
                let rows = try await connection.query(
                    """
                    SELECT area, framework, urgency, manager_id, phase, opened_at, phase_changed_at
                    FROM cases WHERE id = \(id)
                    """, logger: context.logger
                ).collect()
                guard let row = rows.first else { return nil }
                let (area, framework, urgency, managerId, phase, openedAt, phaseChangedAt) =
                    try row.decode((String, String, String, String?, String, Date, Date).self)

                // A family is shown only to whom may see it: its own manager, the team lead of
                // its area, an admin. Others get the same 404 as for a case that does not
                // exist, so case ids reveal nothing; the refusal is audited.
                let allowed = caller.maySeeCase(managedBy: managerId, inArea: area)
                try await AuditLog.record(
                    AuditEntry(caller, "read", "case", id, caseId: id, allowed: allowed), on: connection, logger: context.logger)
                guard allowed else { return nil }

                var history: [JSON] = []
                let phases = try await connection.query(
                    "SELECT phase, changed_at FROM phase_history WHERE case_id = \(id) ORDER BY changed_at",
                    logger: context.logger)
                for try await (phase, at) in phases.decode((String, Date).self) {
                    history.append(.object(["phase": .string(phase), "at": .string(Timestamp.format(at))]))
                }
                var body: [String: JSON] = [
                    "id": .string(id.uuidString.lowercased()), "area": .string(area), "framework": .string(framework),
                    "urgency": .string(urgency), "phase": .string(phase), "openedAt": .string(Timestamp.format(openedAt)),
                    "phaseChangedAt": .string(Timestamp.format(phaseChangedAt)), "phaseHistory": .array(history),
                ]
                body["managerId"] = managerId.map(JSON.string) ?? .null
                return try .json(.object(body))
            }
            guard let found else { throw Problem.notFound("No case \(id).") }
            return found
        }
    }
}
