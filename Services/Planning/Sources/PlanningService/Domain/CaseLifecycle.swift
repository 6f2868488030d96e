import SamenplanDomain

/// The three phases every case passes through (connect → support → secure → closed, and
/// reopened by a re-referral) as a state machine whose guards are the method's rules
/// (issue 4; the seeds: *zo kort als mogelijk, zo lang als nodig*). Pure: planning gathers
/// the facts about a case (``CaseFacts``) and asks whether a phase change may happen; a
/// refusal names every unmet condition, so a family manager sees at once what is missing.
public enum CaseLifecycle {
    /// One condition a phase change needs and the case does not meet.
    public struct UnmetCondition: Sendable, Hashable, CustomStringConvertible {
        /// Stable code for clients (`plan-without-goals`).
        public var rule: String
        /// What is missing, in words a family manager understands.
        public var detail: String

        public init(_ rule: String, _ detail: String) {
            self.rule = rule
            self.detail = detail
        }

        public var description: String { "\(rule): \(detail)" }
    }

    /// The phases a case may move to from `phase`: the next one, and a closed case back to
    /// `connect` when the family is referred again. A phase is never skipped.
    public static func next(after phase: Phase) -> Phase? {
        switch phase {
        case .connect: .support
        case .support: .secure
        case .secure: .closed
        case .closed: .connect
        }
    }

    /// Every condition that stops the case moving from its phase to `target`; empty when it
    /// may move.
    public static func unmetConditions(toEnter target: Phase, facts: CaseFacts) -> [UnmetCondition] {
        guard target != facts.phase else {
            return [UnmetCondition("already-in-phase", "The case is in phase \(target.rawValue) already.")]
        }
        guard next(after: facts.phase) == target else {
            let allowed = next(after: facts.phase).map { "only to \($0.rawValue)" } ?? "nowhere"
            let skips = target.order > facts.phase.order && facts.phase != .closed
            return [
                UnmetCondition(
                    skips ? "phase-skipped" : "transition-not-allowed",
                    "A case in phase \(facts.phase.rawValue) moves \(allowed); every phase is passed through, however short.")
            ]
        }
        switch target {
        case .support: return supportConditions(facts)
        case .secure: return secureConditions(facts)
        case .closed: return closingConditions(facts)
        case .connect: return facts.reReferred ? [] : [UnmetCondition("not-re-referred", "Only a new referral of the family reopens a closed case.")]
        }
    }

    /// To enter `support`: an approved plan with at least one goal and the safety agreements.
    private static func supportConditions(_ facts: CaseFacts) -> [UnmetCondition] {
        guard let plan = facts.approvedPlan else {
            return [UnmetCondition("plan-not-approved", "The family plan has no version approved by the team lead yet.")]
        }
        var unmet: [UnmetCondition] = []
        if plan.goals == 0 { unmet.append(UnmetCondition("plan-without-goals", "The approved plan has no goal.")) }
        if plan.safetyAgreements == 0 {
            unmet.append(UnmetCondition("plan-without-safety-agreements", "The approved plan has no safety agreements."))
        }
        return unmet
    }

    /// To enter `secure`: at least one evaluation held with everyone during `support`.
    private static func secureConditions(_ facts: CaseFacts) -> [UnmetCondition] {
        facts.evaluationsInSupport > 0
            ? [] : [UnmetCondition("no-evaluation-in-support", "No evaluation has been held in the support phase.")]
    }

    /// To close: an approved continuation plan with all its parts, the manager's assessment
    /// that the children are safe, and the neighbourhood team's acceptance of the handover.
    private static func closingConditions(_ facts: CaseFacts) -> [UnmetCondition] {
        var unmet: [UnmetCondition] = []
        if let plan = facts.continuationPlan {
            let missing = ContinuationPart.allCases.filter { !plan.parts.contains($0) }
            if !missing.isEmpty {
                unmet.append(
                    UnmetCondition(
                        "continuation-plan-incomplete",
                        "The continuation plan lacks: \(missing.map(\.rawValue).joined(separator: ", "))."))
            }
            if !plan.approved {
                unmet.append(
                    UnmetCondition("continuation-plan-not-approved", "The team lead has not approved the continuation plan."))
            }
        } else {
            unmet.append(UnmetCondition("no-continuation-plan", "The case has no continuation plan."))
        }
        if facts.safetyAssessment != .safe {
            unmet.append(
                UnmetCondition(
                    "children-not-assessed-safe",
                    facts.safetyAssessment == nil
                        ? "The family manager has not assessed the children's safety."
                        : "The family manager's latest assessment is that the children are not safe."))
        }
        if !facts.handoverAccepted {
            unmet.append(
                UnmetCondition("handover-not-accepted", "The area's neighbourhood team has not accepted the handover."))
        }
        return unmet
    }
}

/// The parts a continuation plan must have before a case may close.
public enum ContinuationPart: String, Sendable, CaseIterable, Codable {
    case whatKeepsTheHomeSafe = "what-keeps-the-home-safe"
    case warningSigns = "warning-signs"
    case whatToDo = "what-to-do"
    case whoToCall = "who-to-call"
}

public enum SafetyAssessment: String, Sendable, Codable {
    case safe
    case notSafe = "not-safe"
}

/// What the lifecycle's guards look at.
public struct CaseFacts: Sendable, Equatable {
    public struct ApprovedPlan: Sendable, Equatable {
        public var goals: Int
        public var safetyAgreements: Int

        public init(goals: Int, safetyAgreements: Int) {
            self.goals = goals
            self.safetyAgreements = safetyAgreements
        }
    }

    public struct ContinuationPlan: Sendable, Equatable {
        public var parts: Set<ContinuationPart>
        public var approved: Bool

        public init(parts: Set<ContinuationPart>, approved: Bool) {
            self.parts = parts
            self.approved = approved
        }
    }

    public var phase: Phase
    /// The latest plan version the team lead approved, if any.
    public var approvedPlan: ApprovedPlan?
    public var evaluationsInSupport: Int
    public var continuationPlan: ContinuationPlan?
    /// The family manager's latest safety assessment, if any.
    public var safetyAssessment: SafetyAssessment?
    public var handoverAccepted: Bool
    /// A new referral of the family arrived after the case closed.
    public var reReferred: Bool

    public init(
        phase: Phase, approvedPlan: ApprovedPlan? = nil, evaluationsInSupport: Int = 0,
        continuationPlan: ContinuationPlan? = nil, safetyAssessment: SafetyAssessment? = nil,
        handoverAccepted: Bool = false, reReferred: Bool = false
    ) {
        self.phase = phase
        self.approvedPlan = approvedPlan
        self.evaluationsInSupport = evaluationsInSupport
        self.continuationPlan = continuationPlan
        self.safetyAssessment = safetyAssessment
        self.handoverAccepted = handoverAccepted
        self.reReferred = reReferred
    }
}

extension Phase {
    /// The phases in the order a case passes through them.
    var order: Int {
        switch self {
        case .connect: 0
        case .support: 1
        case .secure: 2
        case .closed: 3
        }
    }
}
