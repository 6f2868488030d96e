import PlanningService
import SamenplanDomain
import Testing

// Talents moved on to a further ILW stage (issue 7): what an approved plan version publishes
// as `talentsMovedOn`, compared with the version approved before it.

private func talent(
    _ memberRef: String, _ name: String, _ stage: PlanContent.TalentStage, _ band: PlanContent.AgeBand = .adult
) -> PlanContent.Talent {
    .init(memberRef: memberRef, talent: name, stage: stage, ageBand: band)
}

private func plan(_ talents: [PlanContent.Talent]) -> PlanContent {
    PlanContent(currentSituation: "x", talents: talents)
}

@Suite("Talents moved on")
struct TalentsMovedOnTests {
    @Test("the first approved version moves no talent on")
    func firstVersion() {
        #expect(plan([talent("c1", "voetbal", .work)]).talentsMovedOn(since: nil) == 0)
        #expect(plan([]).talentsMovedOn(since: nil) == 0)
    }

    @Test("a talent counts when its stage is further than before; staying, going back or being new does not")
    func furtherStagesOnly() {
        let before = plan([
            talent("c1", "voetbal", .inspire), talent("c1", "tekenen", .learn), talent("p1", "koken", .work),
            talent("c2", "zingen", .inspire),
        ])
        let after = plan([
            talent("c1", "voetbal", .learn),  // inspire → learn: moved on
            talent("c1", "tekenen", .work),  // learn → work: moved on
            talent("p1", "koken", .learn),  // went back: not counted
            talent("c2", "zingen", .inspire),  // stayed
            talent("c2", "dansen", .work),  // new in this version: not counted
        ])
        #expect(after.talentsMovedOn(since: before) == 2)
        #expect(before.talentsMovedOn(since: after) == 1)  // koken, learn → work
        #expect(after.talentsMovedOn(since: after) == 0)
    }

    @Test("a talent skipping a stage counts once")
    func skippedStage() {
        #expect(plan([talent("p1", "fietsen", .work)]).talentsMovedOn(since: plan([talent("p1", "fietsen", .inspire)])) == 1)
    }

    @Test("a talent is a member and a talent: the same talent of another member is another talent")
    func keyedByMemberAndTalent() {
        let before = plan([talent("c1", "voetbal", .inspire)])
        #expect(plan([talent("c2", "voetbal", .learn)]).talentsMovedOn(since: before) == 0)
        #expect(plan([talent("c1", "voetballen", .learn)]).talentsMovedOn(since: before) == 0)
    }

    @Test("the talent's name is compared trimmed and without regard to case")
    func retypedName() {
        let before = plan([talent("c1", "Voetbal", .inspire)])
        #expect(plan([talent("c1", " voetbal ", .learn)]).talentsMovedOn(since: before) == 1)
    }

    @Test("a talent listed twice in a version counts once, at its furthest stage")
    func listedTwice() {
        let before = plan([talent("c1", "voetbal", .inspire), talent("c1", "voetbal", .learn)])
        #expect(plan([talent("c1", "voetbal", .learn)]).talentsMovedOn(since: before) == 0)
        let after = plan([talent("c1", "voetbal", .work), talent("c1", "Voetbal", .work)])
        #expect(after.talentsMovedOn(since: before) == 1)
    }
}
