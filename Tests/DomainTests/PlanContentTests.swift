import PlanningService
import SamenplanDomain
import Testing

// The family plan's rules on its values (issue 4, item 2). Shape and types are checked by
// decoding; these are the method's rules.

private let goal = PlanContent.Goal(
    id: "g1", what: "Vaste bedtijden", responsible: .init(kind: .member, who: "p1"), dueOn: "2027-03-01")

@Suite("Family plan")
struct PlanContentTests {
    @Test("a complete plan breaks no rule")
    func validPlan() {
        let plan = PlanContent(
            currentSituation: "Moeder alleen met twee kinderen.", concerns: ["Ruzies"], strengths: ["Oma"],
            talents: [.init(memberRef: "c1", talent: "voetbal", stage: .learn, ageBand: .twelveToEighteen)],
            goals: [goal], safetyAgreements: ["Bij ruzie belt moeder oma"])
        #expect(plan.problems().isEmpty)
    }

    @Test("each age band reaches its own ILW stage, and no further", arguments: PlanContent.AgeBand.allCases)
    func stagesPerAgeBand(band: PlanContent.AgeBand) {
        let furthest: [PlanContent.AgeBand: PlanContent.TalentStage] = [
            .fourToTwelve: .inspire, .twelveToEighteen: .learn, .adult: .work,
        ]
        #expect(band.furthestStage == furthest[band])
        for stage in PlanContent.TalentStage.allCases {
            let plan = PlanContent(
                currentSituation: "x", talents: [.init(memberRef: "c1", talent: "tekenen", stage: stage, ageBand: band)])
            let beyond = plan.problems().map(\.rule) == ["stage-beyond-age-band"]
            #expect(beyond == (stage > furthest[band]!), "\(stage) at \(band)")
        }
    }

    @Test("every broken rule is named at its pointer")
    func everyProblemNamed() {
        var duplicate = goal
        duplicate.dueOn = "2027-02-30"
        duplicate.what = "  "
        let plan = PlanContent(
            currentSituation: "", concerns: [""], talents: [.init(memberRef: "", talent: "x", stage: .inspire, ageBand: .adult)],
            goals: [goal, duplicate], safetyAgreements: ["ok", "\n"])
        let found = plan.problems().map { "\($0.rule) \($0.pointer)" }
        #expect(
            found == [
                "required /currentSituation", "required /concerns/0", "required /safetyAgreements/1",
                "required /talents/0/memberRef", "duplicate /goals/1/id", "required /goals/1/what", "date /goals/1/dueOn",
            ])
    }

    @Test("texts have limits")
    func limits() {
        let plan = PlanContent(currentSituation: String(repeating: "a", count: 20001))
        #expect(plan.problems().map(\.rule) == ["too-long"])
    }

    /// Issue 18, finding 10: a plan with 400,000 concerns was accepted.
    @Test("lists have limits")
    func listLimits() {
        let many = Array(repeating: "Zorg", count: PlanContent.maxItems + 1)
        let plan = PlanContent(currentSituation: "x", concerns: many, strengths: many)
        #expect(plan.problems().map(\.pointer) == ["/concerns", "/strengths"])
        #expect(plan.problems().allSatisfy { $0.rule == "max-items" })
        #expect(PlanContent(currentSituation: "x", concerns: Array(many.dropFirst())).problems().isEmpty)
    }

    @Test("goal changes between the plan in effect and a new version")
    func goalChanges() {
        var kept = goal
        kept.id = "kept"
        var reached = goal
        reached.id = "reached"
        var edited = goal
        edited.id = "edited"
        var dropped = goal
        dropped.id = "dropped"
        let before = PlanContent(currentSituation: "x", goals: [kept, reached, edited, dropped])
        var nowReached = reached
        nowReached.reached = true
        var nowEdited = edited
        nowEdited.dueOn = "2027-09-01"
        var added = goal
        added.id = "new"
        let after = PlanContent(currentSituation: "y", goals: [kept, nowReached, nowEdited, added])
        #expect(
            after.goalChanges(from: before) == [
                .init(goalId: "reached", kind: .reached), .init(goalId: "edited", kind: .changed),
                .init(goalId: "new", kind: .added), .init(goalId: "dropped", kind: .removed),
            ])
        #expect(before.goalChanges(from: nil).map(\.kind) == [.added, .added, .added, .added])
        #expect(after.goalChanges(from: after).isEmpty)
    }
}
