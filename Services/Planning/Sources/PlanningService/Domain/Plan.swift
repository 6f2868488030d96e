import Foundation
import SamenplanDomain

/// The family plan (plan van aanpak): what everyone works from. Every change the family
/// manager proposes is a new version; it takes effect when the team lead approves it.
///
/// The plan holds the family's own words (situation, concerns, strengths, goals): it stays in
/// planning's tables and never goes into an event. Events carry the case id, the version
/// and counts only.
public struct PlanContent: Codable, Sendable, Equatable {
    /// Where a talent stands on Inspireren → Leren → Werken (ILW).
    public enum TalentStage: String, Codable, Sendable, CaseIterable, Comparable {
        case inspire, learn, work

        public static func < (lhs: TalentStage, rhs: TalentStage) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// The ILW age bands (DESIGN.md, domain table): 4–12 gain experience, 12–18 take
    /// responsibility, 18+ are responsible in a learning or work place.
    public enum AgeBand: String, Codable, Sendable, CaseIterable {
        case fourToTwelve = "4-12"
        case twelveToEighteen = "12-18"
        case adult = "18+"

        /// The furthest stage a member of this band is expected to reach.
        public var furthestStage: TalentStage {
            switch self {
            case .fourToTwelve: .inspire
            case .twelveToEighteen: .learn
            case .adult: .work
            }
        }
    }

    public struct Talent: Codable, Sendable, Equatable {
        /// The member, by intake's reference (names stay in intake).
        public var memberRef: String
        public var talent: String
        public var stage: TalentStage
        public var ageBand: AgeBand

        public init(memberRef: String, talent: String, stage: TalentStage, ageBand: AgeBand) {
            self.memberRef = memberRef
            self.talent = talent
            self.stage = stage
            self.ageBand = ageBand
        }
    }

    /// Who is responsible for a goal.
    public struct Responsible: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable, CaseIterable {
            case member, network, organisation, volunteer
        }

        public var kind: Kind
        /// A member reference for `member`; a name or description otherwise.
        public var who: String

        public init(kind: Kind, who: String) {
            self.kind = kind
            self.who = who
        }
    }

    public struct Goal: Codable, Sendable, Equatable {
        /// Stable across versions, so a goal can be followed from version to version.
        public var id: String
        public var what: String
        public var responsible: Responsible
        /// `yyyy-MM-dd`.
        public var dueOn: String
        public var reached: Bool?

        public init(id: String, what: String, responsible: Responsible, dueOn: String, reached: Bool? = nil) {
            self.id = id
            self.what = what
            self.responsible = responsible
            self.dueOn = dueOn
            self.reached = reached
        }
    }

    public var currentSituation: String
    public var concerns: [String]
    public var strengths: [String]
    public var talents: [Talent]
    public var goals: [Goal]
    public var safetyAgreements: [String]

    public init(
        currentSituation: String, concerns: [String] = [], strengths: [String] = [], talents: [Talent] = [],
        goals: [Goal] = [], safetyAgreements: [String] = []
    ) {
        self.currentSituation = currentSituation
        self.concerns = concerns
        self.strengths = strengths
        self.talents = talents
        self.goals = goals
        self.safetyAgreements = safetyAgreements
    }

    /// One broken rule of a plan, at its JSON pointer.
    public struct Problem: Sendable, Equatable {
        public var rule: String
        public var pointer: String
        public var detail: String
    }

    /// The most items any list of a plan may hold.
    public static let maxItems = 50

    /// Every rule the plan breaks (empty: it may be proposed). Shape and types were checked
    /// by decoding; these are the method's rules on the values.
    public func problems() -> [Problem] {
        var problems: [Problem] = []
        func text(_ value: String, at pointer: String, limit: Int = 4000) {
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty {
                problems.append(Problem(rule: "required", pointer: pointer, detail: "must not be empty"))
            } else if value.count > limit {
                problems.append(Problem(rule: "too-long", pointer: pointer, detail: "at most \(limit) characters"))
            }
        }
        // Lists are bounded (issue 18, finding 10): a plan is read by people, and 400,000
        // concerns would be stored, published and shown for years.
        for (pointer, count) in [
            ("/concerns", concerns.count), ("/strengths", strengths.count), ("/safetyAgreements", safetyAgreements.count),
            ("/talents", talents.count), ("/goals", goals.count),
        ] where count > Self.maxItems {
            problems.append(Problem(rule: "max-items", pointer: pointer, detail: "at most \(Self.maxItems) items"))
        }
        guard problems.isEmpty else { return problems }
        text(currentSituation, at: "/currentSituation", limit: 20000)
        for (index, concern) in concerns.enumerated() { text(concern, at: "/concerns/\(index)") }
        for (index, strength) in strengths.enumerated() { text(strength, at: "/strengths/\(index)") }
        for (index, agreement) in safetyAgreements.enumerated() { text(agreement, at: "/safetyAgreements/\(index)") }
        for (index, talent) in talents.enumerated() {
            text(talent.memberRef, at: "/talents/\(index)/memberRef", limit: 100)
            text(talent.talent, at: "/talents/\(index)/talent", limit: 200)
            if talent.stage > talent.ageBand.furthestStage {
                problems.append(
                    Problem(
                        rule: "stage-beyond-age-band", pointer: "/talents/\(index)/stage",
                        detail: "age band \(talent.ageBand.rawValue) reaches \(talent.ageBand.furthestStage.rawValue) at most"))
            }
        }
        var goalIds: Set<String> = []
        for (index, goal) in goals.enumerated() {
            text(goal.id, at: "/goals/\(index)/id", limit: 100)
            if !goalIds.insert(goal.id).inserted {
                problems.append(Problem(rule: "duplicate", pointer: "/goals/\(index)/id", detail: "goal ids are unique"))
            }
            text(goal.what, at: "/goals/\(index)/what")
            text(goal.responsible.who, at: "/goals/\(index)/responsible/who", limit: 200)
            if CalendarDate(goal.dueOn) == nil {
                problems.append(
                    Problem(rule: "date", pointer: "/goals/\(index)/dueOn", detail: "a date as yyyy-MM-dd"))
            }
        }
        return problems
    }
}

/// How a goal changed between the plan in effect and a newly approved version.
public struct GoalChange: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case added, changed, reached, removed
    }

    public var goalId: String
    public var kind: Kind

    public init(goalId: String, kind: Kind) {
        self.goalId = goalId
        self.kind = kind
    }
}

extension PlanContent {
    /// The goal changes this plan makes to `previous` (the plan in effect; nil for the
    /// first), in the order of this plan's goals, then the removed ones. A goal that is
    /// reached now and was not before is `reached`, even if its text changed too.
    public func goalChanges(from previous: PlanContent?) -> [GoalChange] {
        let before = Dictionary((previous?.goals ?? []).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var changes: [GoalChange] = goals.compactMap { goal in
            guard let old = before[goal.id] else { return GoalChange(goalId: goal.id, kind: .added) }
            if goal.reached == true && old.reached != true { return GoalChange(goalId: goal.id, kind: .reached) }
            return goal == old ? nil : GoalChange(goalId: goal.id, kind: .changed)
        }
        let now = Set(goals.map(\.id))
        changes += (previous?.goals ?? []).filter { !now.contains($0.id) }.map { GoalChange(goalId: $0.id, kind: .removed) }
        return changes
    }
}

extension PlanContent {
    /// How many of this plan's talents stand at a further ILW stage (inspire → learn → work)
    /// than in `previous`, the version approved before it (nil when this is the first, which
    /// therefore moves none on). A talent is a member and a talent: the member by reference,
    /// the talent's name trimmed and without regard to case, so retyping "Voetbal" as
    /// "voetbal" does not lose it. A talent `previous` does not have is new, not moved on; one
    /// that went back a stage is not counted either. A talent listed twice in a version counts
    /// once, at its furthest stage.
    public func talentsMovedOn(since previous: PlanContent?) -> Int {
        guard let previous else { return 0 }
        let before = previous.furthestStages
        return furthestStages.filter { key, stage in before[key].map { stage > $0 } ?? false }.count
    }

    private struct TalentKey: Hashable {
        var memberRef: String
        var talent: String

        init(_ talent: Talent) {
            memberRef = talent.memberRef.trimmingCharacters(in: .whitespacesAndNewlines)
            self.talent = talent.talent.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        }
    }

    private var furthestStages: [TalentKey: TalentStage] {
        Dictionary(talents.map { (TalentKey($0), $0.stage) }, uniquingKeysWith: { max($0, $1) })
    }
}
