import PlanningService
import SamenplanDomain
import Testing

// The case lifecycle's guards (issue 4, item 1): every allowed and refused transition, and
// every condition named when it is unmet.

private let readyForSupport = CaseFacts(phase: .connect, approvedPlan: .init(goals: 1, safetyAgreements: 1))
private let readyForSecure = CaseFacts(phase: .support, evaluationsInSupport: 1)
private let readyToClose = CaseFacts(
    phase: .secure, continuationPlan: .init(parts: Set(ContinuationPart.allCases), approved: true),
    safetyAssessment: .safe, handoverAccepted: true)
private let readyToReopen = CaseFacts(phase: .closed, reReferred: true)

private func rules(_ target: Phase, _ facts: CaseFacts) -> [String] {
    CaseLifecycle.unmetConditions(toEnter: target, facts: facts).map(\.rule)
}

@Suite("Case lifecycle")
struct CaseLifecycleTests {
    @Test("each phase moves only to the next, and a closed case back to connect")
    func transitionTable() {
        let ready: [Phase: CaseFacts] = [
            .connect: readyForSupport, .support: readyForSecure, .secure: readyToClose, .closed: readyToReopen,
        ]
        let allowed: Set<[Phase]> = [[.connect, .support], [.support, .secure], [.secure, .closed], [.closed, .connect]]
        let skipping: Set<[Phase]> = [[.connect, .secure], [.connect, .closed], [.support, .closed]]
        for from in Phase.allCases {
            for to in Phase.allCases {
                let unmet = rules(to, ready[from]!)
                if allowed.contains([from, to]) {
                    #expect(unmet.isEmpty, "\(from) → \(to)")
                } else if from == to {
                    #expect(unmet == ["already-in-phase"], "\(from) → \(to)")
                } else if skipping.contains([from, to]) {
                    #expect(unmet == ["phase-skipped"], "\(from) → \(to)")
                } else {
                    // Backwards (support → connect, closed → secure, …).
                    #expect(unmet == ["transition-not-allowed"], "\(from) → \(to)")
                }
            }
        }
    }

    @Test("support needs an approved plan with a goal and safety agreements")
    func supportGuards() {
        #expect(rules(.support, CaseFacts(phase: .connect)) == ["plan-not-approved"])
        #expect(
            rules(.support, CaseFacts(phase: .connect, approvedPlan: .init(goals: 0, safetyAgreements: 0)))
                == ["plan-without-goals", "plan-without-safety-agreements"])
        #expect(rules(.support, CaseFacts(phase: .connect, approvedPlan: .init(goals: 2, safetyAgreements: 0))) == ["plan-without-safety-agreements"])
        #expect(rules(.support, CaseFacts(phase: .connect, approvedPlan: .init(goals: 0, safetyAgreements: 3))) == ["plan-without-goals"])
    }

    @Test("secure needs an evaluation held in support")
    func secureGuard() {
        #expect(rules(.secure, CaseFacts(phase: .support)) == ["no-evaluation-in-support"])
        #expect(rules(.secure, CaseFacts(phase: .support, evaluationsInSupport: 3)).isEmpty)
    }

    @Test("closing needs the whole continuation plan approved, children assessed safe and the handover accepted")
    func closingGuards() {
        #expect(
            rules(.closed, CaseFacts(phase: .secure))
                == ["no-continuation-plan", "children-not-assessed-safe", "handover-not-accepted"])
        var facts = readyToClose
        facts.continuationPlan = .init(parts: [.whatKeepsTheHomeSafe, .whoToCall], approved: false)
        facts.safetyAssessment = .notSafe
        let unmet = CaseLifecycle.unmetConditions(toEnter: .closed, facts: facts)
        #expect(unmet.map(\.rule) == ["continuation-plan-incomplete", "continuation-plan-not-approved", "children-not-assessed-safe"])
        #expect(unmet[0].detail.contains("warning-signs") && unmet[0].detail.contains("what-to-do"))
        #expect(!unmet[0].detail.contains("who-to-call"))
        #expect(unmet[2].detail.contains("not safe"))
    }

    @Test("only a re-referral reopens a closed case")
    func reopening() {
        #expect(rules(.connect, CaseFacts(phase: .closed)) == ["not-re-referred"])
        #expect(rules(.connect, readyToReopen).isEmpty)
    }

    @Test("however short the case, a phase is never skipped")
    func noSkipping() {
        // Everything for closing is in place, but the case is still in connect.
        var facts = readyToClose
        facts.phase = .connect
        #expect(rules(.closed, facts) == ["phase-skipped"])
        #expect(rules(.secure, facts) == ["phase-skipped"])
    }
}
