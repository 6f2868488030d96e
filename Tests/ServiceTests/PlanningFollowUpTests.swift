import Foundation
import Hummingbird
import HummingbirdTesting
import IntakeService
import PlanningService
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanServer
import SamenplanTesting
import Testing

/// The follow-ups held after a case closed (issue 7): recorded by the family's last manager or
/// their team lead, checked against the continuation plan's agreed months, the closing day and
/// the service's clock, stored once per month, and published as `follow-up.recorded` with the
/// day it was due and the day it was held.
@Suite(.serialized) struct PlanningFollowUpTests {
    static let start = Timestamp.parse("2026-11-23T09:00:00Z")!

    @Test func aHeldFollowUpIsRecordedOncePerAgreedMonthAndPublishedWithItsDueDay() async throws {
        let clock = ManualWallClock(Self.start)
        try await TestEnvironment.with { environment in
            let apps: [any ApplicationProtocol] = [
                try await ServiceRuntime.buildApplication(
                    try Intake.definition(), configuration: try environment.configuration(for: "intake"), clock: clock),
                try await ServiceRuntime.buildApplication(
                    try Planning.definition(), configuration: try environment.configuration(for: "planning"), clock: clock),
            ]
            try await withRunningApplications(apps) { clients in
                let opened = try await PlanningCase.open(
                    environment, intake: clients[0], planning: clients[1], referralId: "VT-FOLLOW")
                let (manager, lead) = (opened.manager, opened.lead)
                let followUp = { (months: Int, heldOn: String) -> JSON in
                    ["months": .number(Double(months)), "heldOn": .string(heldOn), "childrenSafe": true]
                }
                func rules(_ response: TestResponse) throws -> [String] {
                    try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))["problems"]?.arrayValue?
                        .compactMap { $0["rule"]?.stringValue } ?? []
                }
                func body(_ response: TestResponse) throws -> JSON {
                    try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))
                }

                // The case on its way to closure, with follow-ups agreed at 6 and 12 months.
                let plan: JSON = [
                    "currentSituation": "Vader alleen met drie kinderen.", "concerns": [], "strengths": [], "talents": [],
                    "goals": [["id": "g1", "what": "Rust in huis", "dueOn": "2027-06-01", "responsible": ["kind": "member", "who": "p1"]]],
                    "safetyAgreements": ["Bij ruzie belt vader de buurvrouw"],
                ]
                #expect(
                    try await opened.call(.put, "/plan", manager, ["plan": plan, "reason": "Start"], headers: [.ifNoneMatch: "*"])
                        .status == .created)
                #expect(try await opened.call(.post, "/plan/versions/1/decision", lead, ["decision": "approve"]).status == .ok)
                #expect(try await opened.call(.post, "/phase", manager, ["phase": "support"]).status == .ok)
                let evaluation: JSON = ["heldOn": "2026-11-23", "attendees": ["p1", "c1"], "outcome": "Gaat goed", "planAdjusted": false]
                #expect(try await opened.call(.post, "/evaluations", manager, evaluation).status == .created)
                #expect(try await opened.call(.post, "/phase", manager, ["phase": "secure"]).status == .ok)
                let continuation: JSON = [
                    "whatKeepsTheHomeSafe": "De buurvrouw kijkt mee", "warningSigns": "Slapeloosheid", "whatToDo": "Bellen",
                    "whoToCall": "Wijkteam", "followUpMonths": [6, 12],
                ]
                #expect(try await opened.call(.put, "/continuation-plan", manager, continuation).status == .created)
                #expect(try await opened.call(.post, "/continuation-plan/decision", lead, ["decision": "approve"]).status == .ok)
                #expect(
                    try await opened.call(.post, "/safety-assessments", manager, ["childrenSafe": true, "explanation": "Rust"])
                        .status == .created)
                // Not closed yet: there is no follow-up to record.
                #expect(try await opened.call(.post, "/follow-ups", manager, followUp(6, "2026-11-23")).status == .conflict)
                #expect(try await opened.call(.post, "/handover", manager).status == .ok)
                let team = try await environment.token(role: .neighbourhoodTeam, subject: "wijkteam-borsele", areas: ["borsele"])
                #expect(try await opened.call(.post, "/handover/answer", team, ["accept": true]).status == .ok)
                // Closed on 2026-11-23 (10:00 in the Netherlands): due on 2027-05-23 and 2027-11-23.

                // Half a year and a few days later.
                clock.set(Timestamp.parse("2027-05-26T09:00:00Z")!)

                // Every broken rule is named: the body's before the case is read, then the case's.
                #expect(try rules(try await opened.call(.post, "/follow-ups", manager, followUp(6, "2027-02-30"))) == ["date"])
                #expect(
                    try rules(try await opened.call(.post, "/follow-ups", manager, followUp(6, "2027-05-27"))) == ["not-in-future"])
                let wrong = try await opened.call(.post, "/follow-ups", manager, followUp(9, "2026-11-22"))
                #expect(wrong.status == .badRequest)
                #expect(try rules(wrong) == ["not-agreed", "before-closure"])

                // The same rules of access as the case: its manager, the team lead of its area,
                // an admin; anyone else who could see a case gets 404, other roles 403.
                let stranger = try await environment.token(role: .familyManager, subject: "fm-other")
                let otherLead = try await environment.token(role: .teamLead, subject: "tl-goes", areas: ["goes"])
                #expect(try await opened.call(.post, "/follow-ups", stranger, followUp(6, "2027-05-25")).status == .notFound)
                #expect(try await opened.call(.post, "/follow-ups", otherLead, followUp(6, "2027-05-25")).status == .notFound)
                #expect(try await opened.call(.post, "/follow-ups", team, followUp(6, "2027-05-25")).status == .forbidden)

                // Held on 2027-05-25 by the manager: recorded once.
                let held = try await opened.call(.post, "/follow-ups", manager, followUp(6, "2027-05-25"))
                #expect(held.status == .created)
                let recorded = try body(held)
                #expect(recorded["dueOn"] == "2027-05-23")
                #expect(recorded["heldOn"] == "2027-05-25")
                #expect(recorded["months"] == 6)
                #expect(recorded["childrenSafe"] == true)
                // The same again (a retry after a lost answer) is answered with what is stored.
                let again = try await opened.call(.post, "/follow-ups", manager, followUp(6, "2027-05-25"))
                #expect(again.status == .ok)
                #expect(try body(again) == recorded)
                // Another day, or another judgement, for the same month contradicts the record.
                #expect(try await opened.call(.post, "/follow-ups", lead, followUp(6, "2027-05-26")).status == .conflict)
                #expect(
                    try await opened.call(
                        .post, "/follow-ups", manager, ["months": 6, "heldOn": "2027-05-25", "childrenSafe": false]
                    ).status == .conflict)

                // A year on, the team lead records the 12-month follow-up, held late.
                clock.set(Timestamp.parse("2027-12-10T09:00:00Z")!)
                let late = try await opened.call(.post, "/follow-ups", lead, followUp(12, "2027-12-08"))
                #expect(late.status == .created)
                #expect(try body(late)["dueOn"] == "2027-11-23")

                // Published once each, with dates and ids only.
                let events = try await publishedEvents(.followUpRecorded, by: "planning", on: Topic.planning, from: environment)
                let payloads = try events.map { try $0.data.decode(FollowUpRecorded.self) }
                let caseId = try #require(UUID(uuidString: opened.id))
                #expect(
                    payloads == [
                        FollowUpRecorded(
                            caseId: caseId, area: "borsele", managerId: "fm-borsele", months: 6, dueOn: "2027-05-23",
                            heldOn: "2027-05-25", at: Timestamp.parse("2027-05-26T09:00:00Z")!),
                        FollowUpRecorded(
                            caseId: caseId, area: "borsele", managerId: "fm-borsele", months: 12, dueOn: "2027-11-23",
                            heldOn: "2027-12-08", at: Timestamp.parse("2027-12-10T09:00:00Z")!),
                    ])
                #expect(events.allSatisfy { $0.subject == opened.id && $0.source == "/samenplan/planning" })
                #expect(
                    Set(events.compactMap { $0.data.objectValue.map { Set($0.keys) } })
                        == [["caseId", "area", "managerId", "months", "dueOn", "heldOn", "at"]])

                // Stored with the judgement, which stays in planning; every attempt is audited.
                let stored = try await environment.withAdminClient { client in
                    try await client.query(
                        "SELECT months, held_on::text, children_safe, recorded_by FROM planning.follow_ups ORDER BY months"
                    ).collect().map { try $0.decode((Int, String, Bool, String).self) }
                }
                #expect(stored.map(\.0) == [6, 12])
                #expect(stored.map(\.1) == ["2027-05-25", "2027-12-08"])
                #expect(stored.map(\.3) == ["fm-borsele", "tl-borsele"])
                let audited = try await environment.withAdminClient { client in
                    try await client.query(
                        """
                        SELECT actor, outcome FROM planning.audit_log
                        WHERE case_id = \(caseId) AND resource_type = 'follow-up' AND action = 'record'
                        """
                    ).collect().map { try $0.decode((String, String).self) }
                }
                #expect(audited.filter { $0 == ("fm-other", "denied") }.count == 1)
                #expect(audited.filter { $0 == ("tl-goes", "denied") }.count == 1)
                #expect(audited.filter { $0.1 == "allowed" }.count >= 5)
            }
        }
    }
}
