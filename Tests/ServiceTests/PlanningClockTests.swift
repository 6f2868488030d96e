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

/// The support phase's clock on a simulated clock, with two planning processes: a reminder
/// at 6 weeks, an escalation at 8, each exactly once; an evaluation moves the clock on; a
/// case that leaves support hears no more (issue 4, acceptance).
@Suite(.serialized) struct PlanningClockTests {
    static let start = Timestamp.parse("2026-11-23T09:00:00Z")!
    static let week: TimeInterval = 7 * 24 * 3600

    @Test func remindersAtSixAndEightWeeksOnceEachAcrossTwoPlanningProcesses() async throws {
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
            }
        }
    }
}
