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

/// `nl.samenplan.referral.accepted.v1` on `samenplan.answers.v1`: what the integrator that
/// sent a referral learns of it, that it was accepted, and nothing of the case it went to or
/// whether the family was known (issue 18, finding 1). The suite's own `ReferralAccepted` on
/// `samenplan.intake.v1` carries the case.
public struct ReferralAnswer: Codable, Sendable, Hashable {
    public var eventSource: String
    public var eventId: String
    public var referralId: String

    public init(eventSource: String, eventId: String, referralId: String) {
        self.eventSource = eventSource
        self.eventId = eventId
        self.referralId = referralId
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
    /// The family's previous case closed less than 12 months before this one opened.
    public var reReferral: Bool
    public var previousCaseId: UUID?

    public init(
        caseId: UUID, familyId: UUID, referralId: String, framework: Framework, urgency: Urgency, area: String,
        courtOrderEndsOn: String?, childCount: Int, openedAt: Date, reReferral: Bool = false, previousCaseId: UUID? = nil
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
        self.reReferral = reReferral
        self.previousCaseId = previousCaseId
    }

    /// Events written before `reReferral` existed read as first referrals (fields added to
    /// a v1 type are optional for readers).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        caseId = try container.decode(UUID.self, forKey: .caseId)
        familyId = try container.decode(UUID.self, forKey: .familyId)
        referralId = try container.decode(String.self, forKey: .referralId)
        framework = try container.decode(Framework.self, forKey: .framework)
        urgency = try container.decode(Urgency.self, forKey: .urgency)
        area = try container.decode(String.self, forKey: .area)
        courtOrderEndsOn = try container.decodeIfPresent(String.self, forKey: .courtOrderEndsOn)
        childCount = try container.decode(Int.self, forKey: .childCount)
        openedAt = try container.decode(Date.self, forKey: .openedAt)
        reReferral = try container.decodeIfPresent(Bool.self, forKey: .reReferral) ?? false
        previousCaseId = try container.decodeIfPresent(UUID.self, forKey: .previousCaseId)
    }
}

/// `nl.samenplan.case.assigned.v1`: the case has its one family manager.
public struct CaseAssigned: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var managerId: String
    public var area: String
    public var assignedAt: Date
    /// Set when an explicit reassignment moved the family from this manager.
    public var previousManagerId: String?
    /// How long the case waited in the area's queue, in seconds (0 when it did not wait).
    public var waitedSeconds: Int

    public init(
        caseId: UUID, managerId: String, area: String, assignedAt: Date, previousManagerId: String? = nil,
        waitedSeconds: Int = 0
    ) {
        self.caseId = caseId
        self.managerId = managerId
        self.area = area
        self.assignedAt = assignedAt
        self.previousManagerId = previousManagerId
        self.waitedSeconds = waitedSeconds
    }

    /// Events written before `waitedSeconds` existed read as "did not wait".
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        caseId = try container.decode(UUID.self, forKey: .caseId)
        managerId = try container.decode(String.self, forKey: .managerId)
        area = try container.decode(String.self, forKey: .area)
        assignedAt = try container.decode(Date.self, forKey: .assignedAt)
        previousManagerId = try container.decodeIfPresent(String.self, forKey: .previousManagerId)
        waitedSeconds = try container.decodeIfPresent(Int.self, forKey: .waitedSeconds) ?? 0
    }
}

/// `nl.samenplan.case.manager-changed.v1` (planning): a case moved to another family manager
/// (intake's reassignment, as `case.assigned`), or got its first one while it already had
/// help requests. It re-tells the change on planning's topic for the services that read only
/// that one (volunteers), so what they keep about the case follows the family to its manager.
public struct CaseManagerChanged: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var managerId: String
    /// The manager planning had before; nil (absent) when it had none.
    public var previousManagerId: String?
    public var changedAt: Date

    public init(caseId: UUID, managerId: String, previousManagerId: String?, changedAt: Date) {
        self.caseId = caseId
        self.managerId = managerId
        self.previousManagerId = previousManagerId
        self.changedAt = changedAt
    }
}

/// `nl.samenplan.manager.registered.v1` (intake): a family manager was registered or
/// changed (`POST /v1/managers`), so notifications knows them as a recipient. Ids and codes
/// only: the display name stays in intake.
public struct ManagerRegistered: Codable, Sendable, Hashable {
    public var managerId: String
    public var areas: [String]
    public var maxCaseload: Int
    public var at: Date
    /// The manager's team, for figures per team (absent from events before issue 7: then
    /// the first area names it).
    public var team: String?

    public init(managerId: String, areas: [String], maxCaseload: Int, at: Date, team: String? = nil) {
        self.managerId = managerId
        self.areas = areas
        self.maxCaseload = maxCaseload
        self.at = at
        self.team = team
    }
}

/// `nl.samenplan.case.queued.v1`: nobody in the area has room; the case waits and the team
/// lead is told.
public struct CaseQueued: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var area: String
    public var urgency: Urgency
    public var queuedAt: Date
    /// Cases waiting in the area, this one included.
    public var queueLength: Int

    public init(caseId: UUID, area: String, urgency: Urgency, queuedAt: Date, queueLength: Int) {
        self.caseId = caseId
        self.area = area
        self.urgency = urgency
        self.queuedAt = queuedAt
        self.queueLength = queueLength
    }
}

/// `nl.samenplan.court-order.ending.v1`: the court order ends soon; the manager can ask for
/// an extension in time.
public struct CourtOrderEnding: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var framework: Framework
    public var endsOn: String
    public var managerId: String?
    public var area: String

    public init(caseId: UUID, framework: Framework, endsOn: String, managerId: String?, area: String) {
        self.caseId = caseId
        self.framework = framework
        self.endsOn = endsOn
        self.managerId = managerId
        self.area = area
    }
}

/// `nl.samenplan.signal.rejected.v1`: a nuisance or placement event broke its contract.
public struct SignalRejected: Codable, Sendable, Hashable {
    public var eventSource: String
    public var eventId: String
    public var eventType: String
    public var problems: [ReferralRejected.Problem]

    public init(eventSource: String, eventId: String, eventType: String, problems: [ReferralRejected.Problem]) {
        self.eventSource = eventSource
        self.eventId = eventId
        self.eventType = eventType
        self.problems = problems
    }
}

/// `nl.samenplan.nuisance.recorded.v1`: a neighbourhood complaint, linked to a case when
/// the integrator named one.
public struct NuisanceRecorded: Codable, Sendable, Hashable {
    public var reportId: String
    public var area: String
    public var reportedOn: String
    public var category: String
    public var caseId: UUID?

    public init(reportId: String, area: String, reportedOn: String, category: String, caseId: UUID?) {
        self.reportId = reportId
        self.area = area
        self.reportedOn = reportedOn
        self.category = category
        self.caseId = caseId
    }
}

/// `nl.samenplan.placement.recorded.v1`: an out-of-home placement started or ended.
public struct PlacementRecorded: Codable, Sendable, Hashable {
    public enum Change: String, Codable, Sendable { case started, ended }

    public var caseId: UUID
    public var memberRef: String
    public var kind: String
    public var on: String
    public var change: Change
    public var area: String

    public init(caseId: UUID, memberRef: String, kind: String, on: String, change: Change, area: String) {
        self.caseId = caseId
        self.memberRef = memberRef
        self.kind = kind
        self.on = on
        self.change = change
        self.area = area
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

/// `nl.samenplan.plan.version-proposed.v1`, `.version-approved.v1`, `.version-sent-back.v1`:
/// a family plan version and what became of it. Ids, numbers and counts only: the plan's
/// text and the team lead's comment stay in planning.
public struct PlanVersionChanged: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var version: Int
    public var area: String
    /// The family manager, who is told when the team lead decides.
    public var managerId: String?
    public var goals: Int
    public var safetyAgreements: Int
    /// Who proposed the version (`.version-proposed`) or decided on it (the others).
    public var by: String
    public var at: Date
    /// `.version-approved` only: how many talents (member and talent) stand at a further ILW
    /// stage than in the version approved before it. A talent new in this version does not
    /// count; the first approved version has 0. Absent on the other two types, and on
    /// approvals published before the field existed.
    public var talentsMovedOn: Int?

    public init(
        caseId: UUID, version: Int, area: String, managerId: String?, goals: Int, safetyAgreements: Int, by: String,
        at: Date, talentsMovedOn: Int? = nil
    ) {
        self.caseId = caseId
        self.version = version
        self.area = area
        self.managerId = managerId
        self.goals = goals
        self.safetyAgreements = safetyAgreements
        self.by = by
        self.at = at
        self.talentsMovedOn = talentsMovedOn
    }
}

/// `nl.samenplan.goal.changed.v1`: a goal of the family plan was added, changed, reached or
/// removed by a version that took effect (approved). The goal's text stays in planning.
public struct GoalChanged: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var version: Int
    public var goalId: String
    /// `added`, `changed`, `reached` or `removed`.
    public var change: String
    /// Who is responsible: `member`, `network`, `organisation` or `volunteer` (absent when removed).
    public var responsibleKind: String?
    public var dueOn: String?

    public init(caseId: UUID, version: Int, goalId: String, change: String, responsibleKind: String?, dueOn: String?) {
        self.caseId = caseId
        self.version = version
        self.goalId = goalId
        self.change = change
        self.responsibleKind = responsibleKind
        self.dueOn = dueOn
    }
}

/// `nl.samenplan.evaluation.recorded.v1`: the family manager recorded an evaluation held
/// with everyone; the next one is due at `nextDueAt`. The outcome and attendees stay in
/// planning.
public struct EvaluationRecorded: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var area: String
    public var managerId: String?
    public var heldOn: String
    public var attendees: Int
    public var planAdjusted: Bool
    public var nextDueAt: Date?

    public init(
        caseId: UUID, area: String, managerId: String?, heldOn: String, attendees: Int, planAdjusted: Bool,
        nextDueAt: Date?
    ) {
        self.caseId = caseId
        self.area = area
        self.managerId = managerId
        self.heldOn = heldOn
        self.attendees = attendees
        self.planAdjusted = planAdjusted
        self.nextDueAt = nextDueAt
    }
}

/// `nl.samenplan.evaluation.due.v1` (a reminder to the manager) and `.overdue.v1` (an
/// escalation to the team lead): the support phase's evaluation rhythm.
public struct EvaluationReminder: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var area: String
    public var managerId: String?
    /// The last evaluation's day; absent when none was held since the case entered support.
    public var lastHeldOn: String?
    /// The moment the evaluation became due (or overdue).
    public var since: Date

    public init(caseId: UUID, area: String, managerId: String?, lastHeldOn: String?, since: Date) {
        self.caseId = caseId
        self.area = area
        self.managerId = managerId
        self.lastHeldOn = lastHeldOn
        self.since = since
    }
}

/// A step towards a case's safe ending, by whom and when: `continuation-plan.proposed`,
/// `.approved`, `.sent-back`, `safety.assessed` (`childrenSafe`), `handover.offered`,
/// `.accepted`, `.declined`. Texts (the continuation plan, comments, reasons) stay in
/// planning.
public struct CaseEndingStep: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var area: String
    public var managerId: String?
    public var by: String
    public var at: Date
    /// `safety.assessed` only: the family manager's judgement.
    public var childrenSafe: Bool?

    public init(caseId: UUID, area: String, managerId: String?, by: String, at: Date, childrenSafe: Bool? = nil) {
        self.caseId = caseId
        self.area = area
        self.managerId = managerId
        self.by = by
        self.at = at
        self.childrenSafe = childrenSafe
    }
}

/// `nl.samenplan.follow-up.due.v1`: a follow-up agreed in the continuation plan is due,
/// `months` after the case closed; the neighbourhood team (and the former manager) visit.
public struct FollowUpDue: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var area: String
    public var managerId: String?
    public var months: Int
    public var closedAt: Date

    public init(caseId: UUID, area: String, managerId: String?, months: Int, closedAt: Date) {
        self.caseId = caseId
        self.area = area
        self.managerId = managerId
        self.months = months
        self.closedAt = closedAt
    }
}

/// `nl.samenplan.follow-up.recorded.v1`: a follow-up agreed in the continuation plan was
/// held (`POST /v1/cases/{id}/follow-ups`), so reporting can tell whether it was on time.
/// Dates only: how the family was doing stays in planning.
public struct FollowUpRecorded: Codable, Sendable, Hashable {
    public var caseId: UUID
    public var area: String
    public var managerId: String?
    /// The follow-up agreed at this many months after closing.
    public var months: Int
    /// `yyyy-MM-dd`: the day it was due, the closing day plus `months` (Europe/Amsterdam),
    /// the day `follow-up.due` fires.
    public var dueOn: String
    /// `yyyy-MM-dd`: the day it was held.
    public var heldOn: String
    /// When it was recorded.
    public var at: Date

    public init(
        caseId: UUID, area: String, managerId: String?, months: Int, dueOn: String, heldOn: String, at: Date
    ) {
        self.caseId = caseId
        self.area = area
        self.managerId = managerId
        self.months = months
        self.dueOn = dueOn
        self.heldOn = heldOn
        self.at = at
    }
}

/// `nl.samenplan.help-request.raised.v1`: the family wants a volunteer for a need it chose.
/// `need` is the one text that leaves planning: the family chose to share it with the
/// volunteers service, which shows it to the coordinator and the volunteer.
public struct HelpRequestRaised: Codable, Sendable, Hashable {
    public var helpRequestId: UUID
    public var caseId: UUID
    public var area: String
    public var managerId: String?
    /// `practical` (short, practical help) or `long-term` (a long-term contact).
    public var kind: String
    public var goalId: String?
    public var need: String

    public init(
        helpRequestId: UUID, caseId: UUID, area: String, managerId: String?, kind: String, goalId: String?, need: String
    ) {
        self.helpRequestId = helpRequestId
        self.caseId = caseId
        self.area = area
        self.managerId = managerId
        self.kind = kind
        self.goalId = goalId
        self.need = need
    }
}

/// `nl.samenplan.volunteer-assignment.started.v1` / `.ended.v1` (volunteers): a volunteer
/// took on a help request with the family's consent, or stopped (`reason`: `goal-reached`,
/// `family-wish`, `volunteer-stopped`, `concern`).
public struct VolunteerAssignmentChanged: Codable, Sendable, Hashable {
    public var assignmentId: UUID
    public var helpRequestId: UUID
    public var caseId: UUID
    public var volunteerId: String
    public var at: Date
    public var reason: String?

    public init(assignmentId: UUID, helpRequestId: UUID, caseId: UUID, volunteerId: String, at: Date, reason: String? = nil) {
        self.assignmentId = assignmentId
        self.helpRequestId = helpRequestId
        self.caseId = caseId
        self.volunteerId = volunteerId
        self.at = at
        self.reason = reason
    }
}

/// `nl.samenplan.volunteer.registered.v1` / `.status-changed.v1` (volunteers): a volunteer
/// joined the registry or their status changed (`reason` says why when the service changed
/// it itself, for example `certificate-expired`). Ids and codes only: the volunteer's name
/// and contact details stay in the volunteers service.
///
/// `at` is when the status took effect, which can lie before an earlier event's `at` (a
/// volunteer registered today with a certificate that ran out last month is paused as of
/// that day). Which status is current is decided by `sequence`, the registry's count of the
/// volunteer's status records (1 when registered, one more with each change): the current
/// status is the one with the highest sequence, whatever order or `at` the events carry.
/// Events from before `sequence` existed lack it and rank below every event that has it.
public struct VolunteerChanged: Codable, Sendable, Hashable {
    public var volunteerId: String
    public var status: String
    public var areas: [String]
    public var guideId: String?
    public var reason: String?
    public var at: Date
    public var sequence: Int?

    public init(
        volunteerId: String, status: String, areas: [String], guideId: String?, reason: String?, at: Date, sequence: Int? = nil
    ) {
        self.volunteerId = volunteerId
        self.status = status
        self.areas = areas
        self.guideId = guideId
        self.reason = reason
        self.at = at
        self.sequence = sequence
    }

    /// Whether this record of the volunteer's status comes after `other` in the registry.
    public func supersedes(_ other: VolunteerChanged) -> Bool {
        VolunteerChanged.rank(sequence: sequence, at: at) > VolunteerChanged.rank(sequence: other.sequence, at: other.at)
    }

    /// The order of status records: the sequence first (none ranks lowest), then `at` for
    /// events that carry no sequence.
    public static func rank(sequence: Int?, at: Date) -> (Int, Date) { (sequence ?? 0, at) }
}

/// `nl.samenplan.volunteer-certificate.expiring.v1`: the volunteer's certificate of
/// conduct (VOG) runs out on `expiresOn`; the coordinator asks for a new one in time.
public struct VolunteerCertificateExpiring: Codable, Sendable, Hashable {
    public var volunteerId: String
    public var areas: [String]
    public var guideId: String?
    public var issuedOn: CalendarDate
    public var expiresOn: CalendarDate

    public init(volunteerId: String, areas: [String], guideId: String?, issuedOn: CalendarDate, expiresOn: CalendarDate) {
        self.volunteerId = volunteerId
        self.areas = areas
        self.guideId = guideId
        self.issuedOn = issuedOn
        self.expiresOn = expiresOn
    }
}

/// `nl.samenplan.volunteer-match.proposed.v1` / `.refused.v1`: the coordinator proposed a
/// volunteer for a help request; the family refused (the request returns to the shortlist).
/// The family's consent is the assignment's start (`volunteer-assignment.started`).
public struct VolunteerMatchChanged: Codable, Sendable, Hashable {
    public var proposalId: UUID
    public var helpRequestId: UUID
    public var caseId: UUID
    public var managerId: String?
    public var volunteerId: String
    public var at: Date

    public init(proposalId: UUID, helpRequestId: UUID, caseId: UUID, managerId: String?, volunteerId: String, at: Date) {
        self.proposalId = proposalId
        self.helpRequestId = helpRequestId
        self.caseId = caseId
        self.managerId = managerId
        self.volunteerId = volunteerId
        self.at = at
    }
}

/// `nl.samenplan.volunteer-concern.flagged.v1`: a concern about a family a volunteer works
/// with, for its family manager at once. The concern's text stays in the volunteers service.
public struct VolunteerConcernFlagged: Codable, Sendable, Hashable {
    public var concernId: UUID
    public var assignmentId: UUID
    public var caseId: UUID
    public var managerId: String?
    public var volunteerId: String
    public var raisedBy: String
    public var at: Date

    public init(
        concernId: UUID, assignmentId: UUID, caseId: UUID, managerId: String?, volunteerId: String, raisedBy: String,
        at: Date
    ) {
        self.concernId = concernId
        self.assignmentId = assignmentId
        self.caseId = caseId
        self.managerId = managerId
        self.volunteerId = volunteerId
        self.raisedBy = raisedBy
        self.at = at
    }
}

/// `nl.samenplan.volunteer-hours.logged.v1`: a volunteer's hours on an assignment were
/// logged (`POST /v1/assignments/{id}/hours`). One event per logged entry; `hoursId` is the
/// entry's own id, so a consumer that adds them up counts each entry once.
public struct VolunteerHoursLogged: Codable, Sendable, Hashable {
    public var hoursId: UUID
    public var assignmentId: UUID
    public var helpRequestId: UUID
    public var caseId: UUID
    public var volunteerId: String
    /// The help request's area.
    public var area: String
    /// `yyyy-MM-dd`: the day worked.
    public var workedOn: String
    /// In quarter hours, more than 0 and at most 24.
    public var hours: Double
    /// When the entry was logged.
    public var at: Date

    public init(
        hoursId: UUID, assignmentId: UUID, helpRequestId: UUID, caseId: UUID, volunteerId: String, area: String,
        workedOn: String, hours: Double, at: Date
    ) {
        self.hoursId = hoursId
        self.assignmentId = assignmentId
        self.helpRequestId = helpRequestId
        self.caseId = caseId
        self.volunteerId = volunteerId
        self.area = area
        self.workedOn = workedOn
        self.hours = hours
        self.at = at
    }
}

/// `nl.samenplan.case-consultation.due.v1`: an area's case consultation meets today; its
/// agenda, in ids and counts, and the date of the next one.
public struct CaseConsultationDue: Codable, Sendable, Hashable {
    public var consultationId: UUID
    public var area: String
    public var meetsOn: CalendarDate
    public var nextOn: CalendarDate
    public var familiesWithVolunteers: [UUID]
    public var openConcerns: Int
    public var unmatchedRequests: [UUID]

    public init(
        consultationId: UUID, area: String, meetsOn: CalendarDate, nextOn: CalendarDate,
        familiesWithVolunteers: [UUID], openConcerns: Int, unmatchedRequests: [UUID]
    ) {
        self.consultationId = consultationId
        self.area = area
        self.meetsOn = meetsOn
        self.nextOn = nextOn
        self.familiesWithVolunteers = familiesWithVolunteers
        self.openConcerns = openConcerns
        self.unmatchedRequests = unmatchedRequests
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
