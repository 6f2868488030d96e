import Foundation
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// The planning service: the three-phase case and its plan.
public enum Planning {
    public static func definition() throws -> ServiceDefinition {
        ServiceDefinition(
            name: "planning",
            defaultPort: 8082,
            migrations: try Migration.load(from: Bundle.module.resourceURL!.appendingPathComponent("Migrations")),
            consumer: { _ in .init(topics: [Topic.intake, Topic.volunteers], handler: PlanningEventHandler()) },
            routes: { group, environment in CaseRoutes.add(to: group, environment: environment) })
    }
}
