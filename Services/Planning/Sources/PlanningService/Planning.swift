import Foundation
import SamenplanDomain
import SamenplanEventing
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
            timers: { environment in
                _ = try evaluationClock(environment)
                return TimerHandlers([EvaluationTimerHandler(), FollowUpTimerHandler()])
            },
            routes: { group, environment in
                // The configuration was checked when the timers were built.
                guard let clock = try? evaluationClock(environment) else { return }
                CaseRoutes.add(to: group, environment: environment, evaluationClock: clock)
            })
    }

    /// The support phase's rhythm: `PLANNING_EVALUATION_DUE_WEEKS` (default 6) and
    /// `PLANNING_EVALUATION_OVERDUE_WEEKS` (default 8, later than the first).
    static func evaluationClock(_ environment: ServiceEnvironment) throws -> EvaluationClock {
        let configuration = environment.configuration
        let due = try configuration.integer("PLANNING_EVALUATION_DUE_WEEKS", default: 6, range: 1...52)
        let overdue = try configuration.integer("PLANNING_EVALUATION_OVERDUE_WEEKS", default: 8, range: 1...52)
        guard overdue > due else {
            throw ConfigurationError(
                variable: "PLANNING_EVALUATION_OVERDUE_WEEKS",
                problem: "must be more than PLANNING_EVALUATION_DUE_WEEKS (\(due)), got \(overdue)")
        }
        return EvaluationClock(dueAfterWeeks: due, overdueAfterWeeks: overdue)
    }
}
