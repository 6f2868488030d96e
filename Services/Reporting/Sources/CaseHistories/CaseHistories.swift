import Foundation
import SamenplanDomain

/// Synthetic but realistic event histories of families, generated from a seed: the same seed
/// gives the same events, byte for byte. Reporting's tests compare the figures of a small
/// history with a hand-written table, and its benchmark projects a large one (issue 7).
///
/// Each family walks the method: a referral, maybe a wait in the queue, a family manager
/// (sometimes a second one), connect → support (evaluations every 6–10 weeks) → secure →
/// closed with a handover to the neighbourhood team, as far as `now` allows. Around it:
/// out-of-home placements, nuisance reports before and after, goals reached, approved plan
/// versions with talents moved on, the follow-up half a year after closure, and volunteers
/// who answer the family's help requests and log their hours.
public struct CaseHistories: Sendable {
    /// One event and the topic it is published on.
    public struct Published: Sendable {
        public var topic: String
        public var event: CloudEvent
    }

    public var seed: UInt64
    public var families: Int
    /// The moment the history ends: nothing happens after it.
    public var now: Date
    /// The first day a family can be referred.
    public var start: Date
    public var areas: [String]

    public init(
        seed: UInt64, families: Int, now: Date, start: Date, areas: [String] = ["borsele", "goes", "kapelle"]
    ) {
        self.seed = seed
        self.families = families
        self.now = now
        self.start = start
        self.areas = areas
    }

    /// Every event of the history, in the order things happened.
    public func events() throws -> [Published] {
        var random = SplitMix64(seed: seed)
        var history = History(now: now, seed: seed)
        // The managers: three per area; the first area's form one team, the others' another.
        for (index, area) in areas.enumerated() {
            for number in 1...3 {
                try history.add(
                    Topic.intake, .managerRegistered,
                    ManagerRegistered(
                        managerId: "fm-\(area)-\(number)", areas: [area], maxCaseload: 25, at: start,
                        team: index == 0 ? "team-west" : "team-oost"),
                    at: start, source: "/samenplan/intake")
            }
        }
        for area in areas {
            for number in 1...3 {
                try history.volunteer("v-\(area)-\(number)", area: area, random: &random, from: start)
            }
        }
        for family in 0..<families {
            try history.family(family, areas: areas, random: &random, from: start)
        }
        return history.events.sorted { ($0.at, $0.order) < ($1.at, $1.order) }.map { Published(topic: $0.topic, event: $0.event) }
    }
}

/// The events of a history while it is generated.
struct History {
    struct Entry {
        var at: Date
        var order: Int
        var topic: String
        var event: CloudEvent
    }

    let now: Date
    let seed: UInt64
    var events: [Entry] = []
    /// Deterministic event ids and case ids: "<seed>-<n>".
    var counter = 0

    init(now: Date, seed: UInt64) {
        self.now = now
        self.seed = seed
    }

    static let day: TimeInterval = 86_400

    mutating func nextID() -> String {
        counter += 1
        return "\(seed)-\(counter)"
    }

    /// A UUID that depends only on the seed and the counter.
    mutating func nextUUID() -> UUID {
        counter += 1
        let text = String(format: "%08x-0000-4000-8000-%012llx", UInt32(truncatingIfNeeded: seed), UInt64(counter))
        return UUID(uuidString: text)!
    }

    /// Adds an event that happened at `at`, if that is not after `now`.
    @discardableResult
    mutating func add(_ topic: String, _ type: EventType, _ payload: some Encodable, at: Date, source: String) throws -> Bool {
        guard at <= now else { return false }
        let event = CloudEvent(id: nextID(), source: source, type: type.rawValue, time: at, data: try JSON(encoding: payload))
        events.append(Entry(at: at, order: events.count, topic: topic, event: event))
        return true
    }

    static func day(_ date: Date) -> String { CalendarDate(date, in: CalendarDate.netherlands).description }

    mutating func volunteer(_ id: String, area: String, random: inout SplitMix64, from start: Date) throws {
        let registered = start.addingTimeInterval(Double(random.next(upTo: 60)) * Self.day)
        try add(
            Topic.volunteers, .volunteerRegistered,
            VolunteerChanged(volunteerId: id, status: "active", areas: [area], guideId: nil, reason: nil, at: registered),
            at: registered, source: "/samenplan/volunteers")
        if random.chance(percent: 25) {
            let stopped = registered.addingTimeInterval(Double(100 + random.next(upTo: 200)) * Self.day)
            try add(
                Topic.volunteers, .volunteerStatusChanged,
                VolunteerChanged(volunteerId: id, status: "stopped", areas: [area], guideId: nil, reason: "moved", at: stopped),
                at: stopped, source: "/samenplan/volunteers")
        }
    }

    mutating func family(_ number: Int, areas: [String], random: inout SplitMix64, from start: Date) throws {
        let area = areas[random.next(upTo: areas.count)]
        let caseId = nextUUID()
        let span = max(1, Int(now.timeIntervalSince(start) / Self.day))
        let opened = start.addingTimeInterval(Double(random.next(upTo: span)) * Self.day + 9 * 3600)
        let framework = Framework.allCases[random.next(upTo: 3)]
        let (intake, planning, volunteers) = ("/samenplan/intake", "/samenplan/planning", "/samenplan/volunteers")

        // Referral and case.
        let referral = "ref-\(seed)-\(number)"
        try add(
            Topic.intake, .referralAccepted,
            ReferralAccepted(eventSource: "/referral-desk", eventId: referral, referralId: referral, caseId: caseId, joinedExistingCase: false),
            at: opened, source: intake)
        try add(
            Topic.intake, .caseOpened,
            CaseOpened(
                caseId: caseId, familyId: nextUUID(), referralId: referral, framework: framework, urgency: .normal, area: area,
                courtOrderEndsOn: nil, childCount: 1 + random.next(upTo: 3), openedAt: opened,
                reReferral: random.chance(percent: 15)),
            at: opened, source: intake)
        if random.chance(percent: 20) {
            // A second referral of the same family joins the open case.
            let joined = opened.addingTimeInterval(Double(1 + random.next(upTo: 30)) * Self.day)
            try add(
                Topic.intake, .referralAccepted,
                ReferralAccepted(
                    eventSource: "/police", eventId: "\(referral)-2", referralId: "\(referral)-2", caseId: caseId, joinedExistingCase: true),
                at: joined, source: intake)
        }

        // A manager at once, or after a wait in the queue.
        var assigned = opened
        var waited = 0
        if random.chance(percent: 30) {
            try add(
                Topic.intake, .caseQueued, CaseQueued(caseId: caseId, area: area, urgency: .normal, queuedAt: opened, queueLength: 1),
                at: opened, source: intake)
            waited = (1 + random.next(upTo: 20)) * 86_400
            assigned = opened.addingTimeInterval(Double(waited))
        }
        var manager = "fm-\(area)-\(1 + random.next(upTo: 2))"
        try add(
            Topic.intake, .caseAssigned,
            CaseAssigned(caseId: caseId, managerId: manager, area: area, assignedAt: assigned, waitedSeconds: waited),
            at: assigned, source: intake)
        if random.chance(percent: 10) {
            let reassigned = assigned.addingTimeInterval(Double(5 + random.next(upTo: 40)) * Self.day)
            let previous = manager
            manager = "fm-\(area)-3"
            try add(
                Topic.intake, .caseAssigned,
                CaseAssigned(caseId: caseId, managerId: manager, area: area, assignedAt: reassigned, previousManagerId: previous),
                at: reassigned, source: intake)
        }

        // The three phases, as far as now.
        func phase(_ phase: Phase, from previous: Phase?, at: Date) throws -> Bool {
            try add(
                Topic.planning, .casePhaseChanged,
                CasePhaseChanged(caseId: caseId, phase: phase, previousPhase: previous, area: area, managerId: manager, changedAt: at),
                at: at, source: planning)
        }
        _ = try phase(.connect, from: nil, at: assigned)
        let support = assigned.addingTimeInterval(Double(14 + random.next(upTo: 50)) * Self.day)
        var supportEnded: Date? = nil
        if try phase(.support, from: .connect, at: support) {
            // The first plan version is approved as support starts; later ones with an evaluation.
            var version = 1
            try add(
                Topic.planning, .planVersionApproved,
                PlanVersionChanged(
                    caseId: caseId, version: version, area: area, managerId: manager, goals: 3, safetyAgreements: 1, by: manager,
                    at: support, talentsMovedOn: 0),
                at: support, source: planning)
            var evaluated = support
            let secure = support.addingTimeInterval(Double(60 + random.next(upTo: 180)) * Self.day)
            while true {
                evaluated = evaluated.addingTimeInterval(Double(42 + random.next(upTo: 30)) * Self.day)
                guard evaluated < secure else { break }
                try add(
                    Topic.planning, .evaluationRecorded,
                    EvaluationRecorded(
                        caseId: caseId, area: area, managerId: manager, heldOn: Self.day(evaluated), attendees: 3, planAdjusted: false,
                        nextDueAt: nil),
                    at: evaluated, source: planning)
                if random.chance(percent: 50) {
                    version += 1
                    try add(
                        Topic.planning, .planVersionApproved,
                        PlanVersionChanged(
                            caseId: caseId, version: version, area: area, managerId: manager, goals: 3, safetyAgreements: 1,
                            by: manager, at: evaluated.addingTimeInterval(3600), talentsMovedOn: random.next(upTo: 3)),
                        at: evaluated.addingTimeInterval(3600), source: planning)
                }
            }
            if try phase(.secure, from: .support, at: secure) {
                supportEnded = secure
                let closed = secure.addingTimeInterval(Double(20 + random.next(upTo: 50)) * Self.day)
                if random.chance(percent: 80) {
                    try add(
                        Topic.planning, .handoverAccepted,
                        CaseEndingStep(caseId: caseId, area: area, managerId: manager, by: "wijkteam-\(area)", at: closed.addingTimeInterval(-86_400)),
                        at: closed.addingTimeInterval(-86_400), source: planning)
                }
                if try phase(.closed, from: .secure, at: closed) {
                    try followUp(caseId: caseId, area: area, manager: manager, closed: closed, random: &random)
                }
            }
        }

        // Goals reached during support.
        for goal in 0..<random.next(upTo: 3) {
            let reached = support.addingTimeInterval(Double(30 + random.next(upTo: 120)) * Self.day)
            if let ended = supportEnded, reached > ended { continue }
            try add(
                Topic.planning, .goalChanged,
                GoalChanged(caseId: caseId, version: 2 + goal, goalId: "g\(goal + 1)", change: "reached", responsibleKind: "member", dueOn: nil),
                at: reached, source: planning)
        }

        // Placements and nuisance reports, in the half year before and after the case opened.
        if random.chance(percent: 20) {
            let on = opened.addingTimeInterval(Double(random.next(upTo: 360) - 180) * Self.day)
            try add(
                Topic.intake, .placementRecorded,
                PlacementRecorded(caseId: caseId, memberRef: "child-1", kind: "foster-care", on: Self.day(on), change: .started, area: area),
                at: max(on, opened), source: intake)
        }
        for report in 0..<random.next(upTo: 4) {
            let on = opened.addingTimeInterval(Double(random.next(upTo: 400) - 200) * Self.day)
            try add(
                Topic.intake, .nuisanceRecorded,
                NuisanceRecorded(reportId: "n-\(seed)-\(number)-\(report)", area: area, reportedOn: Self.day(on), category: "noise", caseId: caseId),
                at: max(on, opened), source: intake)
        }

        // A help request, and a volunteer who starts and later ends.
        if random.chance(percent: 40) {
            let request = nextUUID()
            let raised = support.addingTimeInterval(Double(random.next(upTo: 20)) * Self.day)
            guard
                try add(
                    Topic.planning, .helpRequestRaised,
                    HelpRequestRaised(
                        helpRequestId: request, caseId: caseId, area: area, managerId: manager, kind: "practical", goalId: nil,
                        need: "help with the household"),
                    at: raised, source: planning)
            else { return }
            guard random.chance(percent: 75) else { return }
            let assignment = nextUUID()
            let volunteer = "v-\(area)-\(1 + random.next(upTo: 3))"
            let started = raised.addingTimeInterval(Double(1 + random.next(upTo: 20)) * Self.day)
            try add(
                Topic.volunteers, .volunteerAssignmentStarted,
                VolunteerAssignmentChanged(assignmentId: assignment, helpRequestId: request, caseId: caseId, volunteerId: volunteer, at: started),
                at: started, source: volunteers)
            let ended = started.addingTimeInterval(Double(30 + random.next(upTo: 120)) * Self.day)
            // The volunteer logs hours now and then while the assignment runs.
            for entry in 0..<(1 + random.next(upTo: 3)) {
                let worked = started.addingTimeInterval(Double(7 * (entry + 1)) * Self.day)
                guard worked < ended else { break }
                try add(
                    Topic.volunteers, .volunteerHoursLogged,
                    VolunteerHoursLogged(
                        hoursId: nextUUID(), assignmentId: assignment, helpRequestId: request, caseId: caseId, volunteerId: volunteer,
                        area: area, workedOn: Self.day(worked), hours: Double(1 + random.next(upTo: 8)) / 2, at: worked),
                    at: worked, source: volunteers)
            }
            let reasons = ["goal-reached", "family-wish", "volunteer-stopped", "concern"]
            try add(
                Topic.volunteers, .volunteerAssignmentEnded,
                VolunteerAssignmentChanged(
                    assignmentId: assignment, helpRequestId: request, caseId: caseId, volunteerId: volunteer, at: ended,
                    reason: reasons[random.next(upTo: reasons.count)]),
                at: ended, source: volunteers)
        }
    }
}

extension History {
    /// The follow-up half a year after closure: due then (counted as planning counts it,
    /// `FollowUpCalendar`), and (mostly) held some days later.
    mutating func followUp(caseId: UUID, area: String, manager: String, closed: Date, random: inout SplitMix64) throws {
        let due = Calendar.netherlands.date(byAdding: .month, value: 6, to: closed)!
        guard
            try add(
                Topic.planning, .followUpDue, FollowUpDue(caseId: caseId, area: area, managerId: manager, months: 6, closedAt: closed),
                at: due, source: "/samenplan/planning")
        else { return }
        guard random.chance(percent: 70) else { return }
        let held = due.addingTimeInterval(Double(random.next(upTo: 45)) * Self.day)
        try add(
            Topic.planning, .followUpRecorded,
            FollowUpRecorded(
                caseId: caseId, area: area, managerId: manager, months: 6, dueOn: Self.day(due), heldOn: Self.day(held), at: held),
            at: held, source: "/samenplan/planning")
    }
}
