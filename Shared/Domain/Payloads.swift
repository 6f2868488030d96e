import Foundation

// The `data` of the events the suite publishes. Events carry ids, codes and dates only:
// never names, contact details or free text (DESIGN.md, Events).

/// `nl.samenplan.referral.rejected.v1`: every problem of a referral, so the integrator can
/// correct and resend it.
public struct ReferralRejected: Codable, Sendable, Hashable {
    public struct Problem: Codable, Sendable, Hashable {
        /// A stable code naming the broken rule, for example `child-required`.
        public var rule: String
        /// JSON pointer into `data`, for example `/members/0/birthDate`.
        public var pointer: String
        /// What is wrong, in words (never repeating the personal data itself).
        public var detail: String

        public init(rule: String, pointer: String, detail: String) {
            self.rule = rule
            self.pointer = pointer
            self.detail = detail
        }
    }

    /// The rejected event's `source` and `id`, so the integrator can match the answer.
    public var eventSource: String
    public var eventId: String
    public var referralId: String?
    public var problems: [Problem]

    public init(eventSource: String, eventId: String, referralId: String?, problems: [Problem]) {
        self.eventSource = eventSource
        self.eventId = eventId
        self.referralId = referralId
        self.problems = problems
    }
}

/// `nl.samenplan.referral.accepted.v1`: the referral is stored and belongs to a case.
public struct ReferralAccepted: Codable, Sendable, Hashable {
    public var eventSource: String
    public var eventId: String
    public var referralId: String
    public var caseId: UUID
    /// True when the referral joined a family's open case instead of opening one.
    public var joinedExistingCase: Bool

    public init(eventSource: String, eventId: String, referralId: String, caseId: UUID, joinedExistingCase: Bool) {
        self.eventSource = eventSource
        self.eventId = eventId
        self.referralId = referralId
        self.caseId = caseId
        self.joinedExistingCase = joinedExistingCase
    }
}

/// `nl.samenplan.case.opened.v1`: intake opened a case for a family.
public struct CaseOpened: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var familyId: UUID
    public var referralId: String
    public var framework: Framework
    public var urgency: Urgency
    public var area: String
    public var courtOrderEndsOn: String?
    public var childCount: Int
    public var openedAt: Date

    public init(
        caseId: UUID, familyId: UUID, referralId: String, framework: Framework, urgency: Urgency, area: String,
        courtOrderEndsOn: String?, childCount: Int, openedAt: Date
    ) {
        self.caseId = caseId
        self.familyId = familyId
        self.referralId = referralId
        self.framework = framework
        self.urgency = urgency
        self.area = area
        self.courtOrderEndsOn = courtOrderEndsOn
        self.childCount = childCount
        self.openedAt = openedAt
    }
}

/// `nl.samenplan.case.assigned.v1`: the case has its one family manager.
public struct CaseAssigned: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var managerId: String
    public var area: String
    public var assignedAt: Date

    public init(caseId: UUID, managerId: String, area: String, assignedAt: Date) {
        self.caseId = caseId
        self.managerId = managerId
        self.area = area
        self.assignedAt = assignedAt
    }
}

/// `nl.samenplan.case.phase-changed.v1`: planning moved a case into a phase.
public struct CasePhaseChanged: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var phase: Phase
    public var previousPhase: Phase?
    public var area: String
    public var managerId: String?
    public var changedAt: Date

    public init(caseId: UUID, phase: Phase, previousPhase: Phase?, area: String, managerId: String?, changedAt: Date) {
        self.caseId = caseId
        self.phase = phase
        self.previousPhase = previousPhase
        self.area = area
        self.managerId = managerId
        self.changedAt = changedAt
    }
}

/// `nl.samenplan.notification.delivered.v1` / `.failed.v1`: the outcome of one message.
public struct NotificationOutcome: Codable, Sendable, Hashable {
    public var deliveryId: UUID
    public var recipientId: String
    public var channel: String
    public var eventType: String
    public var attempts: Int
    public var at: Date

    public init(deliveryId: UUID, recipientId: String, channel: String, eventType: String, attempts: Int, at: Date) {
        self.deliveryId = deliveryId
        self.recipientId = recipientId
        self.channel = channel
        self.eventType = eventType
        self.attempts = attempts
        self.at = at
    }
}
