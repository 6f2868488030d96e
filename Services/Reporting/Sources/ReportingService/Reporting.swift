import Foundation
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// The reporting service: read models of everything, and the figures built from them.
public enum Reporting {
    public static func definition() throws -> ServiceDefinition {
        ServiceDefinition(
            name: "reporting",
            defaultPort: 8085,
            migrations: try Migration.load(from: Bundle.module.resourceURL!.appendingPathComponent("Migrations")),
            consumer: { _ in
                .init(
                    topics: [Topic.intake, Topic.planning, Topic.volunteers, Topic.notifications],
                    handler: ProjectionHandler())
            },
            routes: { group, environment in ReportRoutes.add(to: group, environment: environment) })
    }
}
