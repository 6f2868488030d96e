import Foundation

/// What the suite did with a load run, read back from the database, the topics, the webhook
/// receiver and the reports. Every effect is keyed by what makes it one effect (a case, a
/// referral id, a report id), with the ids of the records that carry it: one record is the
/// effect, none is a lost effect, two are a duplicated one.
public struct LoadObservation: Sendable, Equatable {
    /// intake.referrals: the case of each row, per referral id (two rows would be a duplicate).
    public var referralCases: [String: [UUID]] = [:]
    /// intake.nuisance_reports: rows per report id.
    public var nuisanceRows: [String: Int] = [:]
    /// Distinct event ids on samenplan.intake.v1, per case.
    public var caseOpenedEvents: [UUID: Set<String>] = [:]
    public var caseAssignedEvents: [UUID: Set<String>] = [:]
    /// planning.cases: each case's phase.
    public var planningPhases: [UUID: String] = [:]
    /// Distinct event ids on samenplan.planning.v1, per case.
    public var planProposedEvents: [UUID: Set<String>] = [:]
    public var planApprovedEvents: [UUID: Set<String>] = [:]
    public var supportStartedEvents: [UUID: Set<String>] = [:]
    /// Distinct webhook deliveries (idempotency keys) of `case.assigned`, per case, as the
    /// receiver logged them.
    public var assignedWebhooks: [UUID: Set<String>] = [:]
    /// Reporting's caseload: open cases per area and phase.
    public var reportedCaseload: [String: [String: Int]] = [:]
    /// Reporting's flow: referrals per area in the run's year.
    public var reportedReferrals: [String: Int] = [:]
    /// Copies of an event id seen more than once on a topic (at-least-once delivery; the
    /// inboxes drop them, so they are not duplicated effects, but they are worth a figure).
    public var redeliveredCopies = 0

    public init() {}
}

/// One line of the reconciler's report: an effect, how many were expected, found, lost and
/// duplicated.
public struct ReconciliationLine: Sendable, Equatable, CustomStringConvertible {
    public var effect: String
    public var expected: Int
    public var found: Int
    public var lost: Int
    public var duplicated: Int

    public var holds: Bool { lost == 0 && duplicated == 0 && found == expected }

    public var description: String {
        "\(holds ? "ok  " : "FAIL") \(effect): expected \(expected), found \(found), lost \(lost), duplicated \(duplicated)"
    }
}

/// Compares a run's manifest with what the suite did. Pure, so every rule has a unit test.
public enum Reconciliation {
    public static func lines(manifest: LoadManifest, observed: LoadObservation) -> [ReconciliationLine] {
        var lines: [ReconciliationLine] = []

        // Referrals: every referral id once, and all of a family's on one case.
        let referralIds = manifest.families.flatMap(\.referralIds)
        lines.append(count("referral stored with its case", expected: referralIds) { observed.referralCases[$0]?.count ?? 0 })

        // Cases: one per family. A family whose referrals ended on two cases has one too many.
        var caseOfFamily: [Int: UUID] = [:]
        var familiesOnTwoCases = 0
        for (index, family) in manifest.families.enumerated() {
            let cases = Set(family.referralIds.flatMap { observed.referralCases[$0] ?? [] })
            if cases.count > 1 { familiesOnTwoCases += 1 }
            if let first = family.referralIds.first.flatMap({ observed.referralCases[$0]?.first }) {
                caseOfFamily[index] = first
            }
        }
        lines.append(
            ReconciliationLine(
                effect: "one case per family", expected: manifest.families.count, found: caseOfFamily.count,
                lost: manifest.families.count - caseOfFamily.count, duplicated: familiesOnTwoCases))

        let cases = manifest.families.indices.compactMap { caseOfFamily[$0] }
        lines.append(count("case.opened event", expected: cases) { observed.caseOpenedEvents[$0]?.count ?? 0 })
        lines.append(count("case.assigned event", expected: cases) { observed.caseAssignedEvents[$0]?.count ?? 0 })
        lines.append(count("case in planning", expected: cases) { observed.planningPhases[$0] == nil ? 0 : 1 })
        lines.append(count("webhook to the manager (case assigned)", expected: cases) { observed.assignedWebhooks[$0]?.count ?? 0 })

        let reports = manifest.nuisanceReports.map(\.reportId)
        lines.append(count("nuisance report stored", expected: reports) { observed.nuisanceRows[$0] ?? 0 })

        // Plan work: proposed, approved and in support exactly once per case worked on.
        let worked = manifest.families.indices.filter { manifest.families[$0].planWorkDone == true }.compactMap { caseOfFamily[$0] }
        lines.append(count("plan.version-proposed event", expected: worked) { observed.planProposedEvents[$0]?.count ?? 0 })
        lines.append(count("plan.version-approved event", expected: worked) { observed.planApprovedEvents[$0]?.count ?? 0 })
        lines.append(count("case.phase-changed to support", expected: worked) { observed.supportStartedEvents[$0]?.count ?? 0 })

        // Cases not worked on stay in connect: a phase change nobody asked for is a wrong effect.
        let workedSet = Set(worked)
        let wrongPhase = cases.filter { id in
            guard let phase = observed.planningPhases[id] else { return false }
            return phase != (workedSet.contains(id) ? "support" : "connect")
        }.count
        lines.append(
            ReconciliationLine(
                effect: "case in the phase its plan work left it", expected: cases.count, found: cases.count - wrongPhase,
                lost: 0, duplicated: wrongPhase))

        lines.append(contentsOf: reportLines(manifest: manifest, cases: caseOfFamily, worked: workedSet, observed: observed))
        return lines
    }

    /// The report figures per area: caseload by phase and the year's referrals.
    private static func reportLines(
        manifest: LoadManifest, cases: [Int: UUID], worked: Set<UUID>, observed: LoadObservation
    ) -> [ReconciliationLine] {
        var expectedCaseload: [String: [String: Int]] = [:]
        var expectedReferrals: [String: Int] = [:]
        for (index, family) in manifest.families.enumerated() {
            expectedReferrals[family.area, default: 0] += family.referralIds.count
            guard let id = cases[index] else { continue }
            expectedCaseload[family.area, default: [:]][worked.contains(id) ? "support" : "connect", default: 0] += 1
        }
        var caseload = ReconciliationLine(effect: "caseload report (open cases per area and phase)", expected: 0, found: 0, lost: 0, duplicated: 0)
        var referrals = ReconciliationLine(effect: "flow report (referrals per area)", expected: 0, found: 0, lost: 0, duplicated: 0)
        for area in manifest.areas {
            for phase in ["connect", "support", "secure"] {
                add(expected: expectedCaseload[area]?[phase] ?? 0, found: observed.reportedCaseload[area]?[phase] ?? 0, to: &caseload)
            }
            add(expected: expectedReferrals[area] ?? 0, found: observed.reportedReferrals[area] ?? 0, to: &referrals)
        }
        return [caseload, referrals]
    }

    private static func add(expected: Int, found: Int, to line: inout ReconciliationLine) {
        line.expected += expected
        line.found += min(expected, found)
        line.lost += max(0, expected - found)
        line.duplicated += max(0, found - expected)
    }

    /// Each key expected once: missing keys are lost, records beyond the first duplicated.
    private static func count<Key>(_ effect: String, expected keys: [Key], records: (Key) -> Int) -> ReconciliationLine {
        var line = ReconciliationLine(effect: effect, expected: keys.count, found: 0, lost: 0, duplicated: 0)
        for key in keys {
            let found = records(key)
            if found == 0 { line.lost += 1 } else { line.found += 1 }
            line.duplicated += max(0, found - 1)
        }
        return line
    }
}
