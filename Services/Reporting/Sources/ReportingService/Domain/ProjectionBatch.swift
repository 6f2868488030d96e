import Foundation
import SamenplanDomain
import SamenplanEventing

/// What a batch of events changes in reporting's read models, merged per row, so that one
/// set-based statement per table writes the whole batch (PostgreSQL refuses to update one
/// row twice in a statement, and one statement per event would cap the projection at the
/// database's round trips).
///
/// Every merge here is the same rule the SQL applies against the stored row
/// (`ProjectionWriter`), and each is order-free and idempotent: a case's events arrive on
/// several topics in any order, and a replay of the topics brings them all again.
struct ProjectionBatch: Sendable {
    var cases: [UUID: CaseFacts] = [:]
    var phaseEntries: [PhaseEntry] = []
    var referrals: [ReferralFact] = []
    var evaluations: [EvaluationFact] = []
    var placements: [PlacementFact] = []
    var nuisanceReports: [NuisanceFact] = []
    var goals: [GoalFact] = []
    var volunteers: [String: VolunteerFact] = [:]
    var helpRequests: [UUID: HelpRequestFact] = [:]
    var assignments: [UUID: AssignmentFact] = [:]
    var managers: [String: ManagerFact] = [:]
    var followUps: [FollowUpKey: FollowUpFact] = [:]
    var hours: [HoursFact] = []
    var talents: [TalentFact] = []

    /// The event types projected; the others of the suite are ignored.
    static let projectedTypes: Set<EventType> = [
        .caseOpened, .caseAssigned, .caseQueued, .casePhaseChanged, .referralAccepted, .handoverAccepted,
        .evaluationRecorded, .placementRecorded, .nuisanceRecorded, .goalChanged, .volunteerRegistered,
        .volunteerStatusChanged, .helpRequestRaised, .volunteerAssignmentStarted, .volunteerAssignmentEnded,
        .managerRegistered, .followUpDue, .followUpRecorded, .volunteerHoursLogged, .planVersionApproved,
    ]

    var isEmpty: Bool {
        cases.isEmpty && phaseEntries.isEmpty && referrals.isEmpty && evaluations.isEmpty && placements.isEmpty
            && nuisanceReports.isEmpty && goals.isEmpty && volunteers.isEmpty && helpRequests.isEmpty && assignments.isEmpty
            && managers.isEmpty && followUps.isEmpty && hours.isEmpty && talents.isEmpty
    }

    /// Adds one event's facts. Throws `PermanentEventFailure` when its data breaks its
    /// schema, including a day that is no calendar day.
    mutating func add(_ event: CloudEvent) throws {
        switch EventType(rawValue: event.type) {
        case .caseOpened:
            let opened = try event.payload(as: CaseOpened.self)
            merge(
                opened.caseId,
                CaseFacts(
                    area: opened.area, framework: opened.framework.rawValue, openedAt: opened.openedAt,
                    reReferral: opened.reReferral))
        case .caseAssigned:
            let assigned = try event.payload(as: CaseAssigned.self)
            merge(
                assigned.caseId,
                CaseFacts(
                    area: assigned.area, managerId: assigned.managerId, managerAssignedAt: assigned.assignedAt,
                    assignedAt: assigned.assignedAt, waitedSeconds: assigned.waitedSeconds))
        case .caseQueued:
            let queued = try event.payload(as: CaseQueued.self)
            merge(queued.caseId, CaseFacts(area: queued.area, queuedAt: queued.queuedAt))
        case .casePhaseChanged:
            let changed = try event.payload(as: CasePhaseChanged.self)
            phaseEntries.append(PhaseEntry(caseId: changed.caseId, phase: changed.phase.rawValue, enteredAt: changed.changedAt))
            merge(
                changed.caseId,
                CaseFacts(
                    area: changed.area, phase: changed.phase.rawValue, phaseChangedAt: changed.changedAt,
                    closedAt: changed.phase == .closed ? changed.changedAt : nil))
        case .handoverAccepted:
            let step = try event.payload(as: CaseEndingStep.self)
            merge(step.caseId, CaseFacts(area: step.area, handoverAcceptedAt: step.at))
        case .referralAccepted:
            let accepted = try event.payload(as: ReferralAccepted.self)
            referrals.append(
                ReferralFact(
                    eventSource: accepted.eventSource, eventId: accepted.eventId, caseId: accepted.caseId,
                    joined: accepted.joinedExistingCase, acceptedAt: event.time ?? Date()))
        case .evaluationRecorded:
            let recorded = try event.payload(as: EvaluationRecorded.self)
            evaluations.append(
                EvaluationFact(
                    eventSource: event.source, eventId: event.id, caseId: recorded.caseId,
                    heldOn: try Self.day(recorded.heldOn, of: event, field: "heldOn")))
        case .placementRecorded:
            let placement = try event.payload(as: PlacementRecorded.self)
            placements.append(
                PlacementFact(
                    caseId: placement.caseId, memberRef: placement.memberRef, change: placement.change.rawValue,
                    onDay: try Self.day(placement.on, of: event, field: "on")))
        case .nuisanceRecorded:
            let report = try event.payload(as: NuisanceRecorded.self)
            nuisanceReports.append(
                NuisanceFact(
                    reportId: report.reportId, caseId: report.caseId, area: report.area,
                    reportedOn: try Self.day(report.reportedOn, of: event, field: "reportedOn")))
        case .goalChanged:
            let goal = try event.payload(as: GoalChanged.self)
            goals.append(
                GoalFact(caseId: goal.caseId, version: goal.version, goalId: goal.goalId, change: goal.change, at: event.time ?? Date()))
        case .volunteerRegistered, .volunteerStatusChanged:
            let volunteer = try event.payload(as: VolunteerChanged.self)
            let fact = VolunteerFact(
                volunteerId: volunteer.volunteerId, status: volunteer.status, areas: volunteer.areas.map { $0.lowercased() },
                statusAt: volunteer.at, statusSequence: volunteer.sequence)
            // The registry's latest status counts, whatever order or `at` the events carry
            // (VolunteerChanged: the sequence decides, `at` only without one).
            if let known = volunteers[fact.volunteerId], !fact.supersedes(known) { break }
            volunteers[fact.volunteerId] = fact
        case .helpRequestRaised:
            let raised = try event.payload(as: HelpRequestRaised.self)
            mergeHelpRequest(
                HelpRequestFact(helpRequestId: raised.helpRequestId, caseId: raised.caseId, area: raised.area, raisedAt: event.time ?? Date()))
        case .volunteerAssignmentStarted, .volunteerAssignmentEnded:
            let change = try event.payload(as: VolunteerAssignmentChanged.self)
            let started = event.type == EventType.volunteerAssignmentStarted.rawValue
            let fact = AssignmentFact(
                assignmentId: change.assignmentId, helpRequestId: change.helpRequestId, startedAt: started ? change.at : nil,
                endedAt: started ? nil : change.at, endReason: started ? nil : change.reason)
            assignments[fact.assignmentId] = assignments[fact.assignmentId].map { $0.merged(with: fact) } ?? fact
            if started {
                // The first volunteer who started ends the wait for a match.
                mergeHelpRequest(HelpRequestFact(helpRequestId: change.helpRequestId, caseId: change.caseId, matchedAt: change.at))
            }
        case .managerRegistered:
            let registered = try event.payload(as: ManagerRegistered.self)
            // Before teams were published, a manager's first area named the team.
            let fact = ManagerFact(
                managerId: registered.managerId, team: (registered.team ?? registered.areas.first ?? "unknown").lowercased(),
                registeredAt: registered.at)
            if let known = managers[fact.managerId], known.registeredAt > fact.registeredAt { break }
            managers[fact.managerId] = fact
        case .followUpDue:
            let due = try event.payload(as: FollowUpDue.self)
            // The timer fires on the day the follow-up is due.
            let day = CalendarDate(event.time ?? Date(), in: CalendarDate.netherlands).description
            mergeFollowUp(FollowUpFact(caseId: due.caseId, months: due.months, dueOn: day, dueOnIsRecorded: false))
        case .followUpRecorded:
            let held = try event.payload(as: FollowUpRecorded.self)
            mergeFollowUp(
                FollowUpFact(
                    caseId: held.caseId, months: held.months, dueOn: try Self.day(held.dueOn, of: event, field: "dueOn"),
                    dueOnIsRecorded: true, heldOn: try Self.day(held.heldOn, of: event, field: "heldOn")))
        case .volunteerHoursLogged:
            let logged = try event.payload(as: VolunteerHoursLogged.self)
            guard logged.hours.isFinite, logged.hours >= 0 else {
                throw PermanentEventFailure(reason: "schema", detail: "\(event.type): hours must be a number of 0 or more")
            }
            hours.append(
                HoursFact(
                    hoursId: logged.hoursId, caseId: logged.caseId, area: logged.area.lowercased(),
                    workedOn: try Self.day(logged.workedOn, of: event, field: "workedOn"), hours: logged.hours))
        case .planVersionApproved:
            let approved = try event.payload(as: PlanVersionChanged.self)
            // Versions approved before talents were published count no move.
            talents.append(
                TalentFact(
                    caseId: approved.caseId, version: approved.version, movedOn: approved.talentsMovedOn ?? 0,
                    approvedAt: approved.at))
        default:
            break
        }
    }

    private mutating func mergeFollowUp(_ fact: FollowUpFact) {
        let key = FollowUpKey(caseId: fact.caseId, months: fact.months)
        followUps[key] = followUps[key].map { $0.merged(with: fact) } ?? fact
    }

    private mutating func merge(_ caseId: UUID, _ facts: CaseFacts) {
        cases[caseId] = cases[caseId].map { $0.merged(with: facts) } ?? facts
    }

    private mutating func mergeHelpRequest(_ fact: HelpRequestFact) {
        helpRequests[fact.helpRequestId] = helpRequests[fact.helpRequestId].map { $0.merged(with: fact) } ?? fact
    }

    /// A `yyyy-MM-dd` day of an event's data; anything else breaks the event's schema.
    static func day(_ text: String, of event: CloudEvent, field: String) throws -> String {
        guard let day = CalendarDate(text) else {
            throw PermanentEventFailure(reason: "schema", detail: "\(event.type): \(field) is not a calendar day")
        }
        return day.description
    }
}

/// What the events of a batch say about one case; nil is "this batch does not say".
struct CaseFacts: Sendable, Equatable, Encodable {
    var area: String?
    /// Set by `case.opened` only: its area is the case's area of record.
    var framework: String?
    var openedAt: Date?
    var reReferral: Bool?
    /// The latest assignment decides the manager.
    var managerId: String?
    var managerAssignedAt: Date?
    /// The first assignment ends the wait in the queue.
    var assignedAt: Date?
    var waitedSeconds: Int?
    var queuedAt: Date?
    /// The latest phase change decides the phase.
    var phase: String?
    var phaseChangedAt: Date?
    var closedAt: Date?
    var handoverAcceptedAt: Date?

    /// `self` and `other` together, by the rules above; the same whichever came first.
    func merged(with other: CaseFacts) -> CaseFacts {
        var merged = self
        if other.framework != nil {
            merged.area = other.area
            merged.framework = other.framework
            merged.openedAt = other.openedAt
            merged.reReferral = other.reReferral
        } else if merged.area == nil {
            merged.area = other.area
        }
        if let at = other.managerAssignedAt, managerAssignedAt.map({ $0 <= at }) ?? true {
            merged.managerId = other.managerId
            merged.managerAssignedAt = at
        }
        if let at = other.assignedAt, assignedAt.map({ at < $0 }) ?? true {
            merged.assignedAt = at
            merged.waitedSeconds = other.waitedSeconds
        }
        merged.queuedAt = [queuedAt, other.queuedAt].compactMap { $0 }.min()
        if let at = other.phaseChangedAt, phaseChangedAt.map({ $0 < at }) ?? true {
            merged.phase = other.phase
            merged.phaseChangedAt = at
        }
        merged.closedAt = [closedAt, other.closedAt].compactMap { $0 }.max()
        merged.handoverAcceptedAt = other.handoverAcceptedAt ?? handoverAcceptedAt
        return merged
    }
}

struct PhaseEntry: Sendable, Equatable, Encodable {
    var caseId: UUID
    var phase: String
    var enteredAt: Date
}

struct ReferralFact: Sendable, Equatable, Encodable {
    var eventSource: String
    var eventId: String
    var caseId: UUID
    var joined: Bool
    var acceptedAt: Date
}

struct EvaluationFact: Sendable, Equatable, Encodable {
    var eventSource: String
    var eventId: String
    var caseId: UUID
    var heldOn: String
}

struct PlacementFact: Sendable, Equatable, Encodable {
    var caseId: UUID
    var memberRef: String
    var change: String
    var onDay: String
}

struct NuisanceFact: Sendable, Equatable, Encodable {
    var reportId: String
    var caseId: UUID?
    var area: String
    var reportedOn: String
}

struct GoalFact: Sendable, Equatable, Encodable {
    var caseId: UUID
    var version: Int
    var goalId: String
    var change: String
    var at: Date
}

struct VolunteerFact: Sendable, Equatable, Encodable {
    var volunteerId: String
    var status: String
    var areas: [String]
    var statusAt: Date
    var statusSequence: Int?

    /// The same order as `VolunteerChanged.supersedes`, and as the projection's SQL.
    func supersedes(_ other: VolunteerFact) -> Bool {
        VolunteerChanged.rank(sequence: statusSequence, at: statusAt) > VolunteerChanged.rank(sequence: other.statusSequence, at: other.statusAt)
    }
}

struct HelpRequestFact: Sendable, Equatable, Encodable {
    var helpRequestId: UUID
    var caseId: UUID
    var area: String?
    var raisedAt: Date?
    /// When the first volunteer started.
    var matchedAt: Date?

    func merged(with other: HelpRequestFact) -> HelpRequestFact {
        var merged = self
        merged.area = other.area ?? area
        merged.raisedAt = other.raisedAt ?? raisedAt
        merged.matchedAt = [matchedAt, other.matchedAt].compactMap { $0 }.min()
        return merged
    }
}

struct AssignmentFact: Sendable, Equatable, Encodable {
    var assignmentId: UUID
    var helpRequestId: UUID
    var startedAt: Date?
    var endedAt: Date?
    var endReason: String?

    /// What is known first stays: a start or an end happens once.
    func merged(with other: AssignmentFact) -> AssignmentFact {
        var merged = self
        merged.startedAt = startedAt ?? other.startedAt
        merged.endedAt = endedAt ?? other.endedAt
        merged.endReason = endReason ?? other.endReason
        return merged
    }
}

struct ManagerFact: Sendable, Equatable, Encodable {
    var managerId: String
    var team: String
    var registeredAt: Date
}

struct FollowUpKey: Hashable, Sendable {
    var caseId: UUID
    var months: Int
}

struct FollowUpFact: Sendable, Equatable, Encodable {
    var caseId: UUID
    var months: Int
    var dueOn: String?
    /// True when `dueOn` comes from planning's record of the follow-up, which wins over the
    /// timer's day.
    var dueOnIsRecorded: Bool
    var heldOn: String?

    func merged(with other: FollowUpFact) -> FollowUpFact {
        var merged = self
        if other.dueOnIsRecorded || !dueOnIsRecorded && dueOn == nil {
            merged.dueOn = other.dueOn
            merged.dueOnIsRecorded = other.dueOnIsRecorded
        }
        merged.heldOn = other.heldOn ?? heldOn
        return merged
    }
}

struct HoursFact: Sendable, Equatable, Encodable {
    var hoursId: UUID
    var caseId: UUID
    var area: String
    var workedOn: String
    var hours: Double
}

struct TalentFact: Sendable, Equatable, Encodable {
    var caseId: UUID
    var version: Int
    var movedOn: Int
    var approvedAt: Date
}
