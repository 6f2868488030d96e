import CaseHistories
import Foundation
import HummingbirdTesting
import ReportingService
import SamenplanDomain
import SamenplanServer
import SamenplanTesting
import Testing

// Issue 7, acceptance: a deterministic event fixture, generated from a seed, and a table of
// the figures it must give, written down by hand; every indicator is compared.
//
// The fixture is `CaseHistories(seed: 3, families: 16)` from 2025-07-01 to 2026-12-15 12:00
// (print it with `samenplanctl generate-history --seed 3 --families 16 --start 2025-07-01
// --now 2026-12-15T12:00:00Z`): 250 events of 16 families in borsele (team-west), goes and
// kapelle (team-oost). The figures below were worked out from that timeline with the
// definitions of docs/indicators.md, independently of reporting's SQL. Two worked cells:
//
// - re-referrals in 2026: the cases opened on 04-25, 05-17, 10-28 and 11-07 are re-referrals
//   (those of 2025-09-12, 09-18 and 11-16 are not in the year): 4;
// - served from a queue in 2026: the families queued on 04-25 (18 days), 09-09 (1 day) and
//   11-07 (18 days): 3, median 18, 90th percentile 18 (between the 2nd and 3rd of 1, 18, 18).

@Suite(.serialized) struct ReportingFixtureTests {
    static let now = Timestamp.parse("2026-12-15T12:00:00Z")!

    /// Report → dotted JSON path → the figure.
    static let expected: [String: [String: JSON]] = [
        "flow?period=2026": [
            "referrals": 10, "reReferrals": 4, "closures": 9, "closuresWithHandover": 6,
            "days.connect.cases": 8, "days.connect.median": 47, "days.connect.p90": 55.6,
            "days.support.cases": 9, "days.support.median": 152, "days.support.p90": 231,
            "days.secure.cases": 9, "days.secure.median": 45, "days.secure.p90": 59.4,
            "days.total.cases": 9, "days.total.median": 244, "days.total.p90": 295.8,
            "servedFromQueue.cases": 3, "servedFromQueue.waitedDaysMedian": 18, "servedFromQueue.waitedDaysP90": 18,
        ],
        "flow?period=2026&team=team-west": [
            "referrals": 4, "reReferrals": 1, "closures": 4, "closuresWithHandover": 2,
            "days.connect.cases": 3, "days.connect.median": 55, "days.connect.p90": 56.6,
            "days.support.cases": 3, "days.support.median": 190, "days.support.p90": 226,
            "days.secure.cases": 4, "days.secure.median": 43, "days.secure.p90": 56.5,
            "days.total.cases": 4, "days.total.median": 268.5, "days.total.p90": 302.8,
            "servedFromQueue.cases": 0, "servedFromQueue.waitedDaysMedian": nil, "servedFromQueue.waitedDaysP90": nil,
        ],
        "rhythm?period=2026": [
            "evaluations": 24, "evaluationsOnTime": 11, "onTimePercent": 45.8, "overdueNow": 1, "inSupportNow": 6,
            "followUpsDue": 7, "followUpsOnTime": 4, "followUpsStillOpen": 2, "followUpsOnTimePercent": 80,
        ],
        "outcomes?period=2026": [
            "placementsStartedDuringSupport": 1, "casesStarted": 8, "placementsStarted.before": 0, "placementsStarted.after": 0,
            "nuisanceReports.before": 6, "nuisanceReports.after": 4, "goalsReached": 6, "talentsMovedOn": 13,
        ],
        "volunteers?period=2026": [
            "activeVolunteers": 7, "helpRequestsRaised": 3, "helpRequestsMatched": 3, "daysToMatchMedian": 6, "hours": 19,
            "assignmentsEnded.concern": 2, "assignmentsEnded.family-wish": 1,
        ],
        "volunteers?period=2026&area=goes": [
            "activeVolunteers": 2, "helpRequestsRaised": 1, "helpRequestsMatched": 1, "daysToMatchMedian": 16, "hours": 4.5,
            "assignmentsEnded.concern": 1,
        ],
    ]

    /// Open cases now, per area and phase, manager, team and framework.
    static let caseload: [String: Int] = [
        "borsele/support": 3, "goes/support": 2, "goes/secure": 1, "kapelle/support": 1,
        "fm-borsele-1": 2, "fm-borsele-3": 1, "fm-goes-1": 2, "fm-goes-2": 1, "fm-kapelle-1": 1,
        "team-west": 3, "team-oost": 4,
        "borsele/juvenile-probation": 3, "goes/child-protection": 1, "goes/voluntary": 2, "kapelle/child-protection": 1,
    ]

    @Test func theSeededFixtureGivesTheHandWrittenFigures() async throws {
        let history = try CaseHistories(
            seed: 3, families: 16, now: Self.now, start: CalendarDate("2025-07-01")!.start()
        ).events()
        #expect(history.count == 250)
        try await withReporting(at: Self.now) { environment, clients in
            try await publish(history, in: environment)
            #expect(try await eventually(timeout: .seconds(60)) { try await inboxCount(environment) == history.count })
            let analyst = try await environment.token(role: .analyst, subject: "analyst")
            for (path, figures) in Self.expected {
                let answer = try JSONCoding.decoder.decode(
                    JSON.self, from: Data(try await report(clients[0], path, token: analyst).utf8))
                for (key, value) in figures {
                    #expect(answer.at(key) == value, "\(path): \(key)")
                }
                // Nothing beyond the table: a reason of an ended assignment not written down fails.
                if let ended = answer["assignmentsEnded"]?.objectValue {
                    #expect(Set(ended.keys) == Set(figures.keys.filter { $0.hasPrefix("assignmentsEnded.") }.map { String($0.dropFirst(17)) }))
                }
            }
            let caseload = try JSONCoding.decoder.decode(
                JSON.self, from: Data(try await report(clients[0], "caseload", token: analyst).utf8))
            var open: [String: Int] = [:]
            func collect(_ list: String, _ name: (JSON) -> String?) {
                for row in caseload[list]?.arrayValue ?? [] {
                    if let key = name(row), case .number(let count)? = row["openCases"] { open[key] = Int(count) }
                }
            }
            collect("byAreaAndPhase") { row in row["area"]?.stringValue.flatMap { a in row["phase"]?.stringValue.map { "\(a)/\($0)" } } }
            collect("byManager") { $0["managerId"]?.stringValue }
            collect("byTeam") { $0["team"]?.stringValue }
            collect("byAreaAndFramework") { row in
                row["area"]?.stringValue.flatMap { a in row["framework"]?.stringValue.map { "\(a)/\($0)" } }
            }
            #expect(open == Self.caseload)
            #expect(caseload["queues"] == [])
        }
    }
}

extension JSON {
    /// The value at a dotted path (`days.connect.median`); a key may itself hold a dash.
    func at(_ path: String) -> JSON? {
        path.split(separator: ".").reduce(Optional(self)) { value, key in value?[String(key)] }
    }
}
