import Foundation
import SamenplanDomain
import SamenplanLoad
import Testing

/// The load generator's traffic plan and the reconciler's rules: a seed replays a run, and
/// every kind of wrong effect (a lost one, a duplicated one, a second case for a family, a
/// phase nobody asked for, a report that disagrees) is reported as such.
@Suite struct LoadReconciliationTests {
    static let now = Timestamp.parse("2026-12-02T10:00:00Z")!

    static func run(seed: UInt64, steps: Int) -> (LoadManifest, [Traffic.Step]) {
        var traffic = Traffic(runId: "run-a", seed: seed, areaCount: 3)
        let sent = (0..<steps).map { _ in traffic.next(now: now) }
        return (traffic.manifest, sent)
    }

    @Test func aSeedReplaysTheSameTraffic() {
        let (first, firstSteps) = Self.run(seed: 7, steps: 300)
        let (second, secondSteps) = Self.run(seed: 7, steps: 300)
        #expect(first == second)
        #expect(firstSteps == secondSteps)
        #expect(Self.run(seed: 8, steps: 300).0 != first)
    }

    @Test func theMixHasEveryKindOfStepAndTheManifestCountsThem() {
        let (manifest, steps) = Self.run(seed: 3, steps: 1_000)
        var referrals = 0, redeliveries = 0, reports = 0, joins = 0
        var families = Set<String>()
        for step in steps {
            switch step {
            case .referral(_, _, let event, _, let newFamily):
                referrals += 1
                if !newFamily { joins += 1 }
                families.insert(event.data["members"]?.arrayValue?[1]["givenName"]?.stringValue ?? "")
            case .redelivery: redeliveries += 1
            case .nuisanceReport: reports += 1
            }
        }
        #expect(manifest.messagesSent == 1_000)
        #expect(manifest.referralCount == referrals)
        #expect(manifest.redeliveries == redeliveries)
        #expect(manifest.nuisanceReports.count == reports)
        #expect(manifest.families.count == referrals - joins)
        // Each family is recognisable by its child alone: no two families share a name.
        #expect(families.count == manifest.families.count)
        // Roughly the mix asked for (10% each), far from zero and from everything.
        for count in [joins, redeliveries, reports] { #expect((50...150).contains(count)) }
        #expect(manifest.families.contains { $0.planWork } && manifest.families.contains { !$0.planWork })
    }

    @Test func aRedeliveryIsAnEarlierMessageByteForByte() throws {
        let (_, steps) = Self.run(seed: 5, steps: 200)
        let sent = steps.compactMap { step -> CloudEvent? in
            if case .referral(_, _, let event, _, _) = step { return event } else { return nil }
        }
        let copies = steps.compactMap { step -> CloudEvent? in
            if case .redelivery(_, _, let event) = step { return event } else { return nil }
        }
        #expect(!copies.isEmpty)
        for copy in copies { #expect(sent.contains(copy)) }
    }

    /// An observation in which the suite did everything exactly once.
    static func perfect(_ manifest: LoadManifest) -> LoadObservation {
        var observed = LoadObservation()
        for (index, family) in manifest.families.enumerated() {
            let caseId = UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", index))!
            for referral in family.referralIds { observed.referralCases[referral] = [caseId] }
            observed.caseOpenedEvents[caseId] = ["o\(index)"]
            observed.caseAssignedEvents[caseId] = ["a\(index)"]
            observed.assignedWebhooks[caseId] = ["w\(index)"]
            let worked = family.planWorkDone == true
            observed.planningPhases[caseId] = worked ? "support" : "connect"
            if worked {
                observed.planProposedEvents[caseId] = ["p\(index)"]
                observed.planApprovedEvents[caseId] = ["ap\(index)"]
                observed.supportStartedEvents[caseId] = ["s\(index)"]
            }
            observed.reportedCaseload[family.area, default: [:]][worked ? "support" : "connect", default: 0] += 1
            observed.reportedReferrals[family.area, default: 0] += family.referralIds.count
        }
        for report in manifest.nuisanceReports { observed.nuisanceRows[report.reportId] = 1 }
        return observed
    }

    static func manifest() -> LoadManifest {
        var (manifest, _) = run(seed: 11, steps: 200)
        for index in manifest.families.indices where manifest.families[index].planWork {
            manifest.families[index].planWorkDone = true
        }
        return manifest
    }

    @Test func everythingOnceHolds() {
        let manifest = Self.manifest()
        let lines = Reconciliation.lines(manifest: manifest, observed: Self.perfect(manifest))
        #expect(lines.filter { !$0.holds }.isEmpty, "\(lines.filter { !$0.holds })")
        #expect(lines.first { $0.effect == "one case per family" }?.found == manifest.families.count)
    }

    @Test func aLostEffectADuplicateAndASecondCaseAreEachReported() throws {
        let manifest = Self.manifest()
        var observed = Self.perfect(manifest)
        let joined = try #require(manifest.families.firstIndex { $0.referralIds.count > 1 })
        let family = manifest.families[joined]
        let caseId = try #require(observed.referralCases[family.referralIds[0]]?.first)

        observed.caseAssignedEvents[caseId] = nil  // lost
        observed.caseOpenedEvents[caseId]?.insert("another")  // duplicated
        observed.referralCases[family.referralIds[1]] = [UUID()]  // the join opened a second case
        let reportId = manifest.nuisanceReports[0].reportId
        observed.nuisanceRows[reportId] = 2

        let lines = Dictionary(uniqueKeysWithValues: Reconciliation.lines(manifest: manifest, observed: observed).map { ($0.effect, $0) })
        #expect(lines["case.assigned event"]?.lost == 1)
        #expect(lines["case.opened event"]?.duplicated == 1)
        #expect(lines["one case per family"]?.duplicated == 1)
        #expect(lines["nuisance report stored"]?.duplicated == 1)
        #expect(lines["webhook to the manager (case assigned)"]?.holds == true)
    }

    @Test func aPhaseNobodyAskedForAndADisagreeingReportFail() throws {
        let manifest = Self.manifest()
        var observed = Self.perfect(manifest)
        let idle = try #require(manifest.families.firstIndex { !$0.planWork })
        let caseId = try #require(observed.referralCases[manifest.families[idle].referralIds[0]]?.first)
        observed.planningPhases[caseId] = "support"
        let area = manifest.families[idle].area
        observed.reportedReferrals[area]! += 1
        observed.reportedCaseload[area]!["connect"]! -= 1

        let lines = Dictionary(uniqueKeysWithValues: Reconciliation.lines(manifest: manifest, observed: observed).map { ($0.effect, $0) })
        #expect(lines["case in the phase its plan work left it"]?.duplicated == 1)
        #expect(lines["flow report (referrals per area)"]?.duplicated == 1)
        #expect(lines["caseload report (open cases per area and phase)"]?.lost == 1)
    }

    @Test func planWorkNotDoneExpectsNoPlanEffects() {
        var manifest = Self.manifest()
        let observed = Self.perfect(manifest)
        // The same observation, but the generator says it gave up on every case's plan work:
        // then the proposals it still made are not expected, and a case in support is wrong.
        for index in manifest.families.indices { manifest.families[index].planWorkDone = false }
        let lines = Dictionary(uniqueKeysWithValues: Reconciliation.lines(manifest: manifest, observed: observed).map { ($0.effect, $0) })
        #expect(lines["plan.version-proposed event"]?.expected == 0)
        #expect(lines["case in the phase its plan work left it"]?.holds == false)
    }
}
