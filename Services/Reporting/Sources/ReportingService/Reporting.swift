import Foundation
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// The reporting service: read models of everything, and the figures built from them.
public enum Reporting {
    /// Every topic of the suite whose events the read models are built from.
    public static let topics = [Topic.intake, Topic.planning, Topic.volunteers, Topic.notifications]

    public static func definition() throws -> ServiceDefinition {
        ServiceDefinition(
            name: "reporting",
            defaultPort: 8085,
            migrations: try Migration.load(from: Bundle.module.resourceURL!.appendingPathComponent("Migrations")),
            consumer: { _ in
                .init(
                    topics: topics, handler: ProjectionHandler(),
                    // Projections are written set-based (ProjectionWriter): large batches pay off.
                    batchSize: 2000)
            },
            routes: { group, environment in
                // Checked when the service starts (backgroundServices below): a bad value stops it.
                let below = (try? environment.configuration.integer("REPORTING_SUPPRESS_BELOW", default: 5, range: 1...100)) ?? 5
                ReportRoutes.add(to: group, environment: environment, suppressBelow: below)
            },
            publicRoutes: { router, environment in
                let below = (try? environment.configuration.integer("REPORTING_SUPPRESS_BELOW", default: 5, range: 1...100)) ?? 5
                DashboardRoute.add(to: router, environment: environment, suppressBelow: below)
            },
            backgroundServices: { environment in
                _ = try environment.configuration.integer("REPORTING_SUPPRESS_BELOW", default: 5, range: 1...100)
                return []
            })
    }
}
