import Foundation
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage
import VolunteersDomain

/// The volunteers service (issue 5): the volunteer centre's registry, the matching of
/// volunteers to the help requests planning raises, assignments with check-ins, hours and
/// concerns, and the case consultations per area.
public enum Volunteers {
    public static func definition() throws -> ServiceDefinition {
        ServiceDefinition(
            name: "volunteers",
            defaultPort: 8083,
            migrations: try Migration.load(from: Bundle.module.resourceURL!.appendingPathComponent("Migrations")),
            consumer: { _ in .init(topics: [Topic.planning], handler: HelpRequestIntake()) },
            timers: { environment in
                let settings = try VolunteerSettings(environment.configuration)
                return TimerHandlers([
                    CertificateTimerHandler(policy: settings.certificates),
                    ConsultationTimerHandler(settings: settings),
                ])
            },
            routes: { group, environment in
                // The configuration was checked when the timers were built.
                guard let settings = try? VolunteerSettings(environment.configuration) else { return }
                Registry.add(to: group, environment: environment, settings: settings)
                Matching.add(to: group, environment: environment, settings: settings)
                let directory = FamilyDirectory(
                    intakeURL: environment.configuration.string("VOLUNTEERS_INTAKE_URL") ?? "http://127.0.0.1:8081",
                    tokens: environment.tokens)
                AssignmentRoutes.add(to: group, environment: environment, directory: directory)
                Consultations.add(to: group, environment: environment, settings: settings)
            })
    }
}

/// The volunteer centre's rules as configured (docs/manual.md, configuration table).
struct VolunteerSettings: Sendable {
    var certificates: CertificatePolicy
    /// Days a help request may wait for a volunteer before the consultation's agenda names it.
    var unmatchedAfterDays: Int

    init(_ configuration: ServiceConfiguration) throws {
        let maxAge = try configuration.integer("VOLUNTEERS_CERTIFICATE_MAX_AGE_MONTHS", default: 36, range: 1...120)
        let atStart = try configuration.integer("VOLUNTEERS_CERTIFICATE_START_MONTHS", default: 3, range: 1...120)
        let warning = try configuration.integer("VOLUNTEERS_CERTIFICATE_WARNING_DAYS", default: 60, range: 1...365)
        guard atStart <= maxAge else {
            throw ConfigurationError(
                variable: "VOLUNTEERS_CERTIFICATE_START_MONTHS",
                problem: "must not be more than VOLUNTEERS_CERTIFICATE_MAX_AGE_MONTHS (\(maxAge)), got \(atStart)")
        }
        certificates = CertificatePolicy(maxAgeMonths: maxAge, maxAgeAtStartMonths: atStart, warningDays: warning)
        unmatchedAfterDays = try configuration.integer("VOLUNTEERS_UNMATCHED_DAYS", default: 14, range: 1...365)
    }
}

/// The volunteers service's consumer: planning's help requests that want a volunteer, and
/// the family manager of their case.
struct HelpRequestIntake: EventHandler {
    var handledTypes: Set<EventType> { [.helpRequestRaised, .caseManagerChanged] }

    func handle(_ event: CloudEvent, in context: EventContext) async throws {
        switch EventType(rawValue: event.type) {
        case .helpRequestRaised: try await raise(try event.payload(as: HelpRequestRaised.self), event: event, in: context)
        case .caseManagerChanged: try await changeManager(try event.payload(as: CaseManagerChanged.self), in: context)
        default: break
        }
    }

    private func raise(_ raised: HelpRequestRaised, event: CloudEvent, in context: EventContext) async throws {
        guard let kind = HelpKind(rawValue: raised.kind) else {
            throw PermanentEventFailure(
                reason: "unknown-help-kind", detail: "help request \(raised.helpRequestId) asks for '\(raised.kind)'")
        }
        // The inbox drops a redelivered event; the key guards against the same request
        // raised under another event id.
        try await context.connection.query(
            """
            INSERT INTO help_requests (id, case_id, area, manager_id, kind, goal_id, need, status, raised_at)
            VALUES (\(raised.helpRequestId), \(raised.caseId), \(raised.area), \(raised.managerId), \(kind.rawValue),
                    \(raised.goalId), \(raised.need), 'open', \(event.time ?? Date()))
            ON CONFLICT (id) DO NOTHING
            """, logger: context.logger)
    }

    /// The family moved to another manager: every help request of the case follows, and with
    /// it what the manager sees (the requests, their assignments, check-in notes, consent).
    /// `help_requests.manager_id` is the only copy of a case's manager here: assignments,
    /// proposals and concerns read it through their help request. One case's events come in
    /// order on one partition of planning's topic, so every request raised before the change
    /// is stored by now, and one raised after it names the new manager already.
    private func changeManager(_ changed: CaseManagerChanged, in context: EventContext) async throws {
        try await context.connection.query(
            "UPDATE help_requests SET manager_id = \(changed.managerId) WHERE case_id = \(changed.caseId)",
            logger: context.logger)
    }
}
