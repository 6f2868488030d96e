import Foundation
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// The intake service: where families enter Samenplan.
public enum Intake {
    public static func definition() throws -> ServiceDefinition {
        ServiceDefinition(
            name: "intake",
            defaultPort: 8081,
            migrations: try Migration.load(from: Bundle.module.resourceURL!.appendingPathComponent("Migrations")),
            consumer: { environment in
                let (desk, signals) = try desks(environment)
                return .init(
                    topics: [Topic.referrals, Topic.signals, Topic.planning],
                    handler: IntakeEventHandler(desk: desk, signals: signals),
                    // Referrals are handled set-based: a few statements per batch, whatever its size.
                    batchSize: 500)
            },
            timers: { _ in CourtOrderTimerHandler() },
            routes: { group, environment in
                // The configuration was checked when the consumer was built.
                guard let (desk, signals) = try? desks(environment) else { return }
                IntakeRoutes.add(to: group, environment: environment, desk: desk, signals: signals)
            })
    }

    static func desks(_ environment: ServiceEnvironment) throws -> (ReferralDesk, SignalDesk) {
        let months = try environment.configuration.integer("INTAKE_COURT_ORDER_NOTICE_MONTHS", default: 3, range: 0...24)
        let areas = try Areas(configuration: environment.configuration.string("INTAKE_AREAS"))
        return (
            ReferralDesk(clock: environment.clock, courtOrderNoticeMonths: months, areas: areas),
            SignalDesk(clock: environment.clock)
        )
    }
}
