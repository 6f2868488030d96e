/// The suite's Kafka topics (DESIGN.md, Services). Every one is created by the dev broker
/// and by the compose file's one-shot setup.
public enum Topic {
    public static let referrals = "samenplan.referrals.v1"
    public static let signals = "samenplan.signals.v1"
    public static let intake = "samenplan.intake.v1"
    public static let planning = "samenplan.planning.v1"
    public static let volunteers = "samenplan.volunteers.v1"
    public static let notifications = "samenplan.notifications.v1"
    /// The integrators' own topic: intake's answer to each referral and signal they sent
    /// (accepted or rejected), ids and codes only, never a case id or whether the family was
    /// known already. The suite's topics are internal; integrators read only this one.
    public static let answers = "samenplan.answers.v1"

    /// Where a service puts what it can never process: `samenplan.<service>.dlq`.
    public static func deadLetter(service: String) -> String { "samenplan.\(service).dlq" }

    public static let serviceNames = ["intake", "planning", "volunteers", "notifications", "reporting"]

    /// Every topic of the suite, dead-letter topics included.
    public static let all: [String] =
        [referrals, signals, intake, planning, volunteers, notifications, answers]
        + serviceNames.map { deadLetter(service: $0) }
}

/// `nl.samenplan.<thing>.<happened>.v<N>`. A breaking change is a new `vN`.
public struct EventType: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    // Inbound, published by integrators.
    public static let referralSubmitted: EventType = "nl.samenplan.referral.submitted.v1"
    public static let nuisanceReported: EventType = "nl.samenplan.nuisance.reported.v1"
    public static let placementStarted: EventType = "nl.samenplan.placement.started.v1"
    public static let placementEnded: EventType = "nl.samenplan.placement.ended.v1"

    // Intake, on samenplan.intake.v1.
    public static let referralRejected: EventType = "nl.samenplan.referral.rejected.v1"
    public static let referralAccepted: EventType = "nl.samenplan.referral.accepted.v1"
    public static let caseOpened: EventType = "nl.samenplan.case.opened.v1"
    public static let caseAssigned: EventType = "nl.samenplan.case.assigned.v1"
    public static let caseQueued: EventType = "nl.samenplan.case.queued.v1"
    public static let managerRegistered: EventType = "nl.samenplan.manager.registered.v1"
    public static let courtOrderEnding: EventType = "nl.samenplan.court-order.ending.v1"
    public static let signalRejected: EventType = "nl.samenplan.signal.rejected.v1"
    public static let nuisanceRecorded: EventType = "nl.samenplan.nuisance.recorded.v1"
    public static let placementRecorded: EventType = "nl.samenplan.placement.recorded.v1"

    // Planning, on samenplan.planning.v1.
    public static let casePhaseChanged: EventType = "nl.samenplan.case.phase-changed.v1"
    public static let caseManagerChanged: EventType = "nl.samenplan.case.manager-changed.v1"
    public static let planVersionProposed: EventType = "nl.samenplan.plan.version-proposed.v1"
    public static let planVersionApproved: EventType = "nl.samenplan.plan.version-approved.v1"
    public static let planVersionSentBack: EventType = "nl.samenplan.plan.version-sent-back.v1"
    public static let goalChanged: EventType = "nl.samenplan.goal.changed.v1"
    public static let evaluationRecorded: EventType = "nl.samenplan.evaluation.recorded.v1"
    public static let evaluationDue: EventType = "nl.samenplan.evaluation.due.v1"
    public static let evaluationOverdue: EventType = "nl.samenplan.evaluation.overdue.v1"
    public static let continuationPlanProposed: EventType = "nl.samenplan.continuation-plan.proposed.v1"
    public static let continuationPlanApproved: EventType = "nl.samenplan.continuation-plan.approved.v1"
    public static let continuationPlanSentBack: EventType = "nl.samenplan.continuation-plan.sent-back.v1"
    public static let safetyAssessed: EventType = "nl.samenplan.safety.assessed.v1"
    public static let handoverOffered: EventType = "nl.samenplan.handover.offered.v1"
    public static let handoverAccepted: EventType = "nl.samenplan.handover.accepted.v1"
    public static let handoverDeclined: EventType = "nl.samenplan.handover.declined.v1"
    public static let followUpDue: EventType = "nl.samenplan.follow-up.due.v1"
    public static let followUpRecorded: EventType = "nl.samenplan.follow-up.recorded.v1"
    public static let helpRequestRaised: EventType = "nl.samenplan.help-request.raised.v1"

    // Volunteers, on samenplan.volunteers.v1.
    public static let volunteerAssignmentStarted: EventType = "nl.samenplan.volunteer-assignment.started.v1"
    public static let volunteerAssignmentEnded: EventType = "nl.samenplan.volunteer-assignment.ended.v1"
    public static let volunteerRegistered: EventType = "nl.samenplan.volunteer.registered.v1"
    public static let volunteerStatusChanged: EventType = "nl.samenplan.volunteer.status-changed.v1"
    public static let volunteerCertificateExpiring: EventType = "nl.samenplan.volunteer-certificate.expiring.v1"
    public static let volunteerMatchProposed: EventType = "nl.samenplan.volunteer-match.proposed.v1"
    public static let volunteerMatchRefused: EventType = "nl.samenplan.volunteer-match.refused.v1"
    public static let volunteerConcernFlagged: EventType = "nl.samenplan.volunteer-concern.flagged.v1"
    public static let caseConsultationDue: EventType = "nl.samenplan.case-consultation.due.v1"
    public static let volunteerHoursLogged: EventType = "nl.samenplan.volunteer-hours.logged.v1"

    // Notifications, on samenplan.notifications.v1.
    public static let notificationDelivered: EventType = "nl.samenplan.notification.delivered.v1"
    public static let notificationFailed: EventType = "nl.samenplan.notification.failed.v1"

    /// Every type of the suite. A consumer skips the ones it has nothing to do with; a type
    /// outside this list is unknown and goes to the dead-letter topic.
    public static let catalogue: Set<EventType> = [
        .referralSubmitted, .nuisanceReported, .placementStarted, .placementEnded,
        .referralRejected, .referralAccepted, .caseOpened, .caseAssigned, .caseQueued, .managerRegistered, .courtOrderEnding,
        .signalRejected, .nuisanceRecorded, .placementRecorded,
        .casePhaseChanged, .caseManagerChanged,
        .planVersionProposed, .planVersionApproved, .planVersionSentBack, .goalChanged,
        .evaluationRecorded, .evaluationDue, .evaluationOverdue,
        .continuationPlanProposed, .continuationPlanApproved, .continuationPlanSentBack, .safetyAssessed,
        .handoverOffered, .handoverAccepted, .handoverDeclined, .followUpDue, .followUpRecorded, .helpRequestRaised,
        .volunteerAssignmentStarted, .volunteerAssignmentEnded, .volunteerRegistered, .volunteerStatusChanged,
        .volunteerCertificateExpiring, .volunteerMatchProposed, .volunteerMatchRefused, .volunteerConcernFlagged,
        .caseConsultationDue, .volunteerHoursLogged,
        .notificationDelivered, .notificationFailed,
    ]
}

/// The `source` attribute of the events each service publishes.
public enum EventSource {
    public static func service(_ name: String) -> String { "/samenplan/\(name)" }
}
