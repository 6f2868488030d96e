import Foundation
import Hummingbird
import SamenplanDomain
import SamenplanServer

/// Reporting's HTTP API (docs/openapi/reporting.yaml): aggregates only, never a family.
enum ReportRoutes {
    static func add(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment) {
        let database = environment.database

        /// Open cases by area and phase, and per family manager. A team lead sees their own
        /// areas; analysts and admins see all.
        group.get("reports/caseload") { _, context -> Response in
            let caller = try context.require(.analyst, .teamLead, .admin)
            let areaFilter: [String]? = caller.role == .teamLead ? caller.areas : nil
            var byAreaAndPhase: [JSON] = []
            // A case whose phase event has not arrived yet is in `connect`: every case starts there.
            let phases = try await database.client.query(
                """
                SELECT area, COALESCE(phase, 'connect') AS phase, count(*)::bigint
                FROM case_projection
                WHERE area IS NOT NULL AND COALESCE(phase, 'connect') <> 'closed'
                  AND (\(areaFilter)::text[] IS NULL OR area = ANY(\(areaFilter)::text[]))
                GROUP BY 1, 2 ORDER BY 1, 2
                """, logger: context.logger)
            for try await (area, phase, count) in phases.decode((String, String, Int64).self) {
                byAreaAndPhase.append(
                    .object(["area": .string(area), "phase": .string(phase), "openCases": .number(Double(count))]))
            }
            var byManager: [JSON] = []
            let managers = try await database.client.query(
                """
                SELECT manager_id, count(*)::bigint FROM case_projection
                WHERE manager_id IS NOT NULL AND COALESCE(phase, 'connect') <> 'closed'
                  AND (\(areaFilter)::text[] IS NULL OR area = ANY(\(areaFilter)::text[]))
                GROUP BY 1 ORDER BY 1
                """, logger: context.logger)
            for try await (manager, count) in managers.decode((String, Int64).self) {
                byManager.append(.object(["managerId": .string(manager), "openCases": .number(Double(count))]))
            }
            let body = JSON.object(["byAreaAndPhase": .array(byAreaAndPhase), "byManager": .array(byManager)])
            return try .json(body)
        }
    }
}
