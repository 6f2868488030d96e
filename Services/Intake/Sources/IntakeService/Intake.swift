import Foundation
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// The intake service: where families enter Samenplan.
public enum Intake {
    public static func definition(desk: ReferralDesk = ReferralDesk()) throws -> ServiceDefinition {
        ServiceDefinition(
            name: "intake",
            defaultPort: 8081,
            migrations: try Migration.load(from: Bundle.module.resourceURL!.appendingPathComponent("Migrations")),
            consumer: { _ in
                .init(topics: [Topic.referrals, Topic.signals], handler: IntakeEventHandler(desk: desk))
            },
            routes: { group, environment in
                IntakeRoutes.add(to: group, environment: environment, desk: desk)
            })
    }
}
