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

/// One family's case on a simulated clock, with two planning processes (issue 4, acceptance):
/// in support a reminder at 6 weeks and an escalation at 8, each exactly once; an evaluation
/// moves the clock on; then the safe ending (continuation plan, safety assessment, handover
/// declined and accepted), intake closing its case through Kafka, and follow-ups at 6 and 12
/// months after closure, each exactly once.
@Suite(.serialized) struct PlanningClockTests {
    static let start = Timestamp.parse("2026-11-23T09:00:00Z")!
    static let week: TimeInterval = 7 * 24 * 3600

    @Test func aFamilyFromSupportToClosureAndFollowUpsOnASimulatedClockWithTwoPlanningProcesses() async throws {
        let clock = ManualWallClock(Self.start)
        try await TestEnvironment.with { environment in
            let apps: [any ApplicationProtocol] = [
                try await ServiceRuntime.buildApplication(
                    try Intake.definition(), configuration: try environment.configuration(for: "intake"), clock: clock),
                try await ServiceRuntime.buildApplication(
                    try Planning.definition(), configuration: try environment.configuration(for: "planning"), clock: clock),
                try await ServiceRuntime.buildApplication(
                    try Planning.definition(), configuration: try environment.configuration(for: "planning"), clock: clock),
            ]
            try await withRunningApplications(apps) { clients in
                let opened = try await PlanningCase.open(
                    environment, intake: clients[0], planning: clients[1], referralId: "VT-CLOCK")
                let (caseId, manager, lead) = (opened.id, opened.manager, opened.lead)
                @Sendable func published(_ type: EventType) async throws -> Int {
                    try await environment.withAdminClient { client in
                        try await client.count("SELECT count(*) FROM planning.outbox WHERE event LIKE \("%\"type\":\"\(type.rawValue)\"%")")
                    }
                }
                /// Moves time and waits for both processes' timer pollers to have looked twice.
                @Sendable func at(_ offset: TimeInterval) async throws {
                    clock.set(Self.start.addingTimeInterval(offset))
                    try await Task.sleep(for: .seconds(2.5))
                }

                // An approved plan, then support: the clock starts.
                let plan: JSON = [
                    "currentSituation": "Moeder alleen met twee kinderen.", "concerns": [], "strengths": [],
                    "talents": [],
                    "goals": [["id": "g1", "what": "Rust in huis", "dueOn": "2027-06-01", "responsible": ["kind": "member", "who": "p1"]]],
                    "safetyAgreements": ["Bij ruzie belt moeder oma"],
                ]
                #expect(
                    try await opened.call(.put, "/plan", manager, ["plan": plan, "reason": "Start"], headers: [.ifNoneMatch: "*"]).status
                        == .created)
                #expect(try await opened.call(.post, "/plan/versions/1/decision", lead, ["decision": "approve"]).status == .ok)
                // No evaluation outside support; secure needs one held in support.
                let early: JSON = ["heldOn": "2026-11-23", "attendees": ["p1"], "outcome": "x", "planAdjusted": false]
                #expect(try await opened.call(.post, "/evaluations", manager, early).status == .conflict)
                #expect(try await opened.call(.post, "/phase", manager, ["phase": "support"]).status == .ok)
                let tooSoon = try await opened.call(.post, "/phase", manager, ["phase": "secure"])
                #expect(tooSoon.status == .conflict)

                // Just before 6 weeks: nothing. Just after: one reminder, whatever two processes do.
                try await at(6 * Self.week - 3600)
                #expect(try await published(.evaluationDue) == 0)
                try await at(6 * Self.week + 60)
                #expect(try await eventually { try await published(.evaluationDue) == 1 })
                try await at(8 * Self.week - 3600)
                #expect(try await published(.evaluationDue) == 1)
                #expect(try await published(.evaluationOverdue) == 0)
                try await at(8 * Self.week + 60)
                #expect(try await eventually { try await published(.evaluationOverdue) == 1 })
                try await Task.sleep(for: .seconds(2))
                #expect(try await published(.evaluationDue) == 1)
                #expect(try await published(.evaluationOverdue) == 1)

                // The evaluation is recorded (held the day after 8 weeks): the next is 6 weeks
                // after that day, and nothing fires before.
                try await at(8 * Self.week + 2 * 24 * 3600)
                let heldOn = CalendarDate(Self.start.addingTimeInterval(8 * Self.week + 24 * 3600), in: EvaluationClock.timeZone)
                let recorded = try await opened.call(
                    .post, "/evaluations", manager,
                    ["heldOn": .string(heldOn.description), "attendees": ["p1", "c1", "oma"],
                     "outcome": "Afspraken werken; bedtijden lukken", "planAdjusted": false])
                #expect(recorded.status == .created)
                let nextDue = EvaluationClock.start(of: heldOn).addingTimeInterval(6 * Self.week)
                try await at(nextDue.timeIntervalSince(Self.start) - 3600)
                #expect(try await published(.evaluationDue) == 1)
                #expect(try await published(.evaluationOverdue) == 1)
                try await at(nextDue.timeIntervalSince(Self.start) + 60)
                #expect(try await eventually { try await published(.evaluationDue) == 2 })

                // Held in support: the case may move on, and its evaluation clock stops.
                #expect(try await opened.call(.post, "/phase", manager, ["phase": "secure"]).status == .ok)
                #expect(
                    try await environment.withAdminClient { client in
                        try await client.count(
                            "SELECT count(*) FROM planning.timers WHERE subject = \(caseId) AND fired_at IS NULL")
                    } == 0)
                try await at(nextDue.timeIntervalSince(Self.start) + 20 * Self.week)
                #expect(try await published(.evaluationDue) == 2)
                #expect(try await published(.evaluationOverdue) == 1)
                #expect(try await published(.evaluationRecorded) == 1)
                // The evaluation's words stay in planning.
                #expect(
                    try await environment.withAdminClient { client in
                        try await client.count("SELECT count(*) FROM planning.outbox WHERE event LIKE '%bedtijden%'")
                    } == 0)

                // The safe ending. Closing is refused, naming everything that is missing.
                func rules(_ response: TestResponse) throws -> [String] {
                    try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))["problems"]?.arrayValue?
                        .compactMap { $0["rule"]?.stringValue } ?? []
                }
                #expect(
                    try rules(try await opened.call(.post, "/phase", manager, ["phase": "closed"]))
                        == ["no-continuation-plan", "children-not-assessed-safe", "handover-not-accepted"])
                let part = "Oma komt elke woensdag"
                #expect(
                    try await opened.call(
                        .put, "/continuation-plan", manager,
                        ["whatKeepsTheHomeSafe": .string(part), "warningSigns": "Schreeuwen"]
                    ).status == .created)
                #expect(try await opened.call(.post, "/continuation-plan/decision", lead, ["decision": "approve"]).status == .ok)
                #expect(try await opened.call(.post, "/safety-assessments", manager, ["childrenSafe": false, "explanation": "Nog niet"]).status == .created)
                #expect(
                    try rules(try await opened.call(.post, "/handover", manager))
                        == ["continuation-plan-incomplete", "children-not-assessed-safe"])
                let complete: JSON = [
                    "whatKeepsTheHomeSafe": .string(part), "warningSigns": "Schreeuwen", "whatToDo": "Naar oma",
                    "whoToCall": "Wijkteam Borsele",
                ]
                #expect(try await opened.call(.put, "/continuation-plan", manager, complete).status == .created)
                #expect(try await opened.call(.post, "/continuation-plan/decision", lead, ["decision": "send-back"]).status == .badRequest)
                #expect(
                    try await opened.call(.post, "/continuation-plan/decision", lead, ["decision": "send-back", "comment": "Wie belt wie?"])
                        .status == .ok)
                #expect(try rules(try await opened.call(.post, "/handover", manager)).contains("continuation-plan-not-approved"))
                #expect(try await opened.call(.put, "/continuation-plan", manager, complete).status == .created)
                #expect(try await opened.call(.post, "/continuation-plan/decision", lead, ["decision": "approve"]).status == .ok)
                #expect(try await opened.call(.post, "/safety-assessments", manager, ["childrenSafe": true, "explanation": "Rust"]).status == .created)

                // The handover: the area's neighbourhood team declines once, then accepts.
                #expect(try await opened.call(.post, "/handover", manager).status == .ok)
                #expect(try await opened.call(.post, "/handover", manager).status == .conflict)
                let team = try await environment.token(role: .neighbourhoodTeam, subject: "wijkteam-borsele", areas: ["borsele"])
                let otherTeam = try await environment.token(role: .neighbourhoodTeam, subject: "wijkteam-goes", areas: ["goes"])
                #expect(try await opened.call(.post, "/handover/answer", otherTeam, ["accept": true]).status == .notFound)
                #expect(try await opened.call(.post, "/handover/answer", team, ["accept": false]).status == .badRequest)
                let declined = try await opened.call(
                    .post, "/handover/answer", team, ["accept": false, "reason": "Geen plek tot maart"])
                #expect(declined.status == .ok)
                #expect(try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: declined.body))["phase"] == "secure")
                #expect(try await opened.call(.post, "/handover/answer", team, ["accept": true]).status == .conflict)
                #expect(try await opened.call(.post, "/handover", manager).status == .ok)
                let closedAt = clock.now()
                #expect(try await opened.call(.post, "/handover/answer", team, ["accept": true]).status == .ok)
                #expect(try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: try await opened.call(.get, "", manager).body))["phase"] == "closed")
                // Intake hears it through Kafka: the case is closed there too.
                #expect(
                    try await eventually {
                        try await environment.withAdminClient { client in
                            try await client.count(
                                "SELECT count(*) FROM intake.cases WHERE id = \(UUID(uuidString: caseId)!) AND status = 'closed'")
                        } == 1
                    })

                // Follow-ups 6 and 12 months after closing, once each across both processes.
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = EvaluationClock.timeZone
                let sixMonths = calendar.date(byAdding: .month, value: 6, to: closedAt)!.timeIntervalSince(Self.start)
                let twelveMonths = calendar.date(byAdding: .month, value: 12, to: closedAt)!.timeIntervalSince(Self.start)
                try await at(sixMonths - 3600)
                #expect(try await published(.followUpDue) == 0)
                try await at(sixMonths + 60)
                #expect(try await eventually { try await published(.followUpDue) == 1 })
                try await at(twelveMonths + 60)
                #expect(try await eventually { try await published(.followUpDue) == 2 })
                try await Task.sleep(for: .seconds(2))
                #expect(try await published(.followUpDue) == 2)
                // The team sees what became theirs: the handover, the continuation plan, the
                // follow-ups and whether they are due; another area's team sees nothing.
                @Sendable func handovers(_ token: String) async throws -> [JSON] {
                    let response = try await opened.planning.execute(
                        uri: "/v1/handovers", method: .get, headers: [.authorization: "Bearer \(token)"])
                    return try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))["items"]?.arrayValue ?? []
                }
                let listed = try await handovers(team)
                #expect(listed.count == 1)
                #expect(listed.first?["status"] == "accepted")
                #expect(listed.first?["continuationPlan"]?["whatToDo"] == "Naar oma")
                #expect(listed.first?["followUps"]?.arrayValue?.map { $0["months"] } == [6, 12])
                #expect(listed.first?["followUps"]?.arrayValue?.allSatisfy { $0["due"] == true } == true)
                #expect(try await handovers(otherTeam).isEmpty)
                #expect(
                    try await environment.withAdminClient { client in
                        try await client.count(
                            """
                            SELECT count(*) FROM planning.audit_log
                            WHERE actor = 'wijkteam-borsele' AND resource_type = 'handover' AND action = 'read'
                            """)
                    } == 1)
                #expect(try await published(.handoverDeclined) == 1)
                #expect(try await published(.handoverAccepted) == 1)
                // The continuation plan, comments and reasons stay in planning.
                for words in ["woensdag", "Wie belt", "Geen plek", "Wijkteam Borsele"] {
                    #expect(
                        try await environment.withAdminClient { client in
                            try await client.count("SELECT count(*) FROM planning.outbox WHERE event LIKE \("%\(words)%")")
                        } == 0, "\(words)")
                }
            }
        }
    }
}
