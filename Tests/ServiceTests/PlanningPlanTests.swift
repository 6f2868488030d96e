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

/// The family plan: versions with ETags, the team lead's decision, and the phase change
/// whose guard is the approved plan (issue 4).
@Suite(.serialized) struct PlanningPlanTests {
    /// A valid plan with `goals` goals and one safety agreement.
    func plan(goals: Int, situation: String = "Twee kinderen, moeder alleen; schulden.") -> JSON {
        .object([
            "currentSituation": .string(situation),
            "concerns": ["Ruzies in huis"],
            "strengths": ["Oma helpt elke woensdag"],
            "talents": [["memberRef": "c1", "talent": "voetbal", "stage": "inspire", "ageBand": "4-12"]],
            "goals": .array(
                (0..<goals).map { n in
                    [
                        "id": .string("g\(n)"), "what": "Vaste bedtijden", "dueOn": "2027-03-01",
                        "responsible": ["kind": "member", "who": "p1"],
                    ]
                }),
            "safetyAgreements": ["Bij ruzie belt moeder oma"],
        ])
    }

    func decoded(_ response: TestResponse) throws -> JSON {
        try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))
    }

    @Test func aPlanIsVersionedApprovedAndOpensTheSupportPhase() async throws {
        try await TestEnvironment.with { environment in
            try await withIntakeAndPlanning(environment) { intake, planning in
                let opened = try await PlanningCase.open(
                    environment, intake: intake, planning: planning, referralId: "VT-PLAN")
                let (caseId, manager, lead) = (opened.id, opened.manager, opened.lead)
                let proposal = { (goals: Int) -> JSON in ["plan": plan(goals: goals), "reason": "Eerste plan"] }

                // Without saying which version it was made on, a change is refused.
                #expect(try await opened.call(.put, "/plan", manager, proposal(1)).status == .preconditionRequired)

                // Every broken rule is named at its pointer.
                var broken = plan(goals: 1)
                if case .object(var fields) = broken {
                    fields["talents"] = [["memberRef": "c1", "talent": "koken", "stage": "work", "ageBand": "4-12"]]
                    fields["goals"] = [
                        ["id": "g0", "what": " ", "dueOn": "2027-02-30", "responsible": ["kind": "network", "who": "buurman"]]
                    ]
                    broken = .object(fields)
                }
                let invalid = try await opened.call(
                    .put, "/plan", manager, ["plan": broken, "reason": ""], headers: [.ifNoneMatch: "*"])
                #expect(invalid.status == .badRequest)
                let rules = try decoded(invalid)["problems"]?.arrayValue?.compactMap { $0["rule"]?.stringValue } ?? []
                #expect(Set(rules) == ["stage-beyond-age-band", "required", "date", "length"])

                // The first version, proposed on no plan.
                let first = try await opened.call(.put, "/plan", manager, proposal(1), headers: [.ifNoneMatch: "*"])
                #expect(first.status == .created)
                #expect(first.headers[.eTag] == "\"1\"")
                // A second "first" version is a lost update: refused.
                #expect(
                    try await opened.call(.put, "/plan", manager, proposal(1), headers: [.ifNoneMatch: "*"]).status
                        == .preconditionFailed)

                // Not approved yet: support is refused, naming why; skipping ahead is refused too.
                let early = try await opened.call(.post, "/phase", manager, ["phase": "support"])
                #expect(early.status == .conflict)
                #expect(try decoded(early)["problems"]?.arrayValue?.first?["rule"]?.stringValue == "plan-not-approved")
                let skip = try await opened.call(.post, "/phase", manager, ["phase": "secure"])
                #expect(try decoded(skip)["problems"]?.arrayValue?.first?["rule"]?.stringValue == "phase-skipped")

                // Two edits made on version 1 at the same time: exactly one wins.
                let second = proposal(2)
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            try await opened.call(.put, "/plan", manager, second, headers: [.ifMatch: "\"1\""]).status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.sorted { $0.code < $1.code } == [.created, .preconditionFailed])

                // Only the team lead of the area decides; sending back needs a comment.
                #expect(try await opened.call(.post, "/plan/versions/2/decision", manager, ["decision": "approve"]).status == .forbidden)
                let otherLead = try await environment.token(role: .teamLead, subject: "tl-goes", areas: ["goes"])
                #expect(try await opened.call(.post, "/plan/versions/2/decision", otherLead, ["decision": "approve"]).status == .notFound)
                #expect(try await opened.call(.post, "/plan/versions/2/decision", lead, ["decision": "send-back"]).status == .badRequest)
                // A version number past PostgreSQL's integer is a 400, not a 500 (issue 18, finding 6).
                let huge = try await opened.call(.post, "/plan/versions/2147483648/decision", lead, ["decision": "approve"])
                #expect(huge.status == .badRequest)
                #expect(try await opened.call(.get, "/plan/versions/2147483648", lead).status == .badRequest)
                #expect(try await opened.call(.get, "/plan/versions/-1", lead).status == .badRequest)
                // Version 1 is no longer the latest.
                #expect(try await opened.call(.post, "/plan/versions/1/decision", lead, ["decision": "approve"]).status == .conflict)
                let approved = try await opened.call(.post, "/plan/versions/2/decision", lead, ["decision": "approve", "comment": "Goed"])
                #expect(approved.status == .ok)
                #expect(try decoded(approved)["status"]?.stringValue == "approved")
                #expect(try await opened.call(.post, "/plan/versions/2/decision", lead, ["decision": "approve"]).status == .conflict)

                // The plan in effect, with its ETag; old versions stay readable.
                let current = try await opened.call(.get, "/plan", lead)
                #expect(current.headers[.eTag] == "\"2\"")
                #expect(try decoded(current)["approvedVersion"] == 2)
                #expect(try decoded(current)["plan"]?["goals"]?.arrayValue?.count == 2)
                let old = try await opened.call(.get, "/plan/versions/1", manager)
                #expect(try decoded(old)["plan"]?["goals"]?.arrayValue?.count == 1)
                #expect(try decoded(try await opened.call(.get, "/plan/versions", manager))["items"]?.arrayValue?.count == 2)
                // Someone else's manager sees nothing.
                let stranger = try await environment.token(role: .familyManager, subject: "fm-other")
                #expect(try await opened.call(.get, "/plan", stranger).status == .notFound)
                #expect(try await opened.call(.put, "/plan", stranger, proposal(1), headers: [.ifMatch: "\"2\""]).status == .notFound)

                // Now the case moves to support, and the events say so without the plan's words.
                let moved = try await opened.call(.post, "/phase", manager, ["phase": "support"])
                #expect(moved.status == .ok)
                #expect(try decoded(moved)["phase"]?.stringValue == "support")
                #expect(try await opened.call(.post, "/phase", manager, ["phase": "support"]).status == .conflict)
                let events = try await readTopic(Topic.planning, from: environment, atLeast: 7)
                let types = events.compactMap { $0.event?.type }
                #expect(types.filter { $0 == EventType.planVersionProposed.rawValue }.count == 2)
                #expect(types.contains(EventType.planVersionApproved.rawValue))
                // Version 2 took effect with two goals, both new to the plan in effect.
                let goals = events.compactMap { $0.event }.filter { $0.type == EventType.goalChanged.rawValue }
                #expect(goals.compactMap { $0.data["goalId"]?.stringValue } == ["g0", "g1"])
                #expect(goals.allSatisfy { $0.data["change"] == "added" && $0.data["version"] == 2 })
                let phases = events.compactMap { $0.event }.filter { $0.type == EventType.casePhaseChanged.rawValue }
                    .compactMap { $0.data["phase"]?.stringValue }
                #expect(phases == ["connect", "support"])
                for message in events {
                    let text = String(decoding: message.value, as: UTF8.self)
                    #expect(!text.contains("schulden") && !text.contains("Vaste bedtijden") && !text.contains("Goed"))
                }

                // Every look at and change of the plan is in the audit log, refusals included.
                let audited = try await environment.withAdminClient { client in
                    try await client.query(
                        """
                        SELECT actor, action, outcome FROM planning.audit_log
                        WHERE case_id = \(UUID(uuidString: caseId)!) AND resource_type = 'plan'
                        """
                    ).collect().map { try $0.decode((String, String, String).self) }
                }
                #expect(audited.contains { $0 == ("fm-borsele", "propose", "allowed") })
                #expect(audited.contains { $0 == ("tl-borsele", "decide", "allowed") })
                #expect(audited.contains { $0 == ("fm-other", "read", "denied") })
                #expect(audited.contains { $0 == ("tl-goes", "decide", "denied") })
            }
        }
    }

    @Test func anApprovedVersionPublishesHowManyTalentsMovedOnSinceTheVersionApprovedBefore() async throws {
        try await TestEnvironment.with { environment in
            try await withIntakeAndPlanning(environment) { intake, planning in
                let opened = try await PlanningCase.open(
                    environment, intake: intake, planning: planning, referralId: "VT-TALENT")
                let (manager, lead) = (opened.manager, opened.lead)
                func version(_ talents: [(String, String, String)]) -> JSON {
                    var content = plan(goals: 1)
                    if case .object(var fields) = content {
                        fields["talents"] = .array(
                            talents.map { member, talent, stage in
                                ["memberRef": .string(member), "talent": .string(talent), "stage": .string(stage), "ageBand": "18+"]
                            })
                        content = .object(fields)
                    }
                    return ["plan": content, "reason": "Talenten bijgewerkt"]
                }

                // Version 1, the first approved: nothing to have moved on from.
                let first = version([("p1", "koken", "inspire"), ("p2", "schilderen", "learn"), ("p1", "fietsen", "work")])
                #expect(try await opened.call(.put, "/plan", manager, first, headers: [.ifNoneMatch: "*"]).status == .created)
                #expect(try await opened.call(.post, "/plan/versions/1/decision", lead, ["decision": "approve"]).status == .ok)
                // Version 2 is sent back: it moved nothing on, and says nothing about talents.
                let second = version([("p1", "koken", "work"), ("p2", "schilderen", "work"), ("p1", "fietsen", "work")])
                #expect(try await opened.call(.put, "/plan", manager, second, headers: [.ifMatch: "\"1\""]).status == .created)
                #expect(
                    try await opened.call(.post, "/plan/versions/2/decision", lead, ["decision": "send-back", "comment": "Te snel"])
                        .status == .ok)
                // Version 3, compared with version 1: koken and Schilderen (retyped) moved on,
                // fietsen stayed, zwemmen is new.
                let third = version([
                    ("p1", "koken", "learn"), ("p2", "Schilderen", "work"), ("p1", "fietsen", "work"), ("p2", "zwemmen", "work"),
                ])
                #expect(try await opened.call(.put, "/plan", manager, third, headers: [.ifMatch: "\"2\""]).status == .created)
                #expect(try await opened.call(.post, "/plan/versions/3/decision", lead, ["decision": "approve"]).status == .ok)

                let approved = try await publishedEvents(
                    .planVersionApproved, by: "planning", on: Topic.planning, from: environment)
                let decided = try approved.map { try $0.data.decode(PlanVersionChanged.self) }
                #expect(decided.map(\.version) == [1, 3])
                #expect(decided.map(\.talentsMovedOn) == [0, 2])
                let sentBack = try await publishedEvents(
                    .planVersionSentBack, by: "planning", on: Topic.planning, from: environment)
                let proposed = try await publishedEvents(
                    .planVersionProposed, by: "planning", on: Topic.planning, from: environment)
                #expect(sentBack.count == 1 && proposed.count == 3)
                #expect((sentBack + proposed).allSatisfy { $0.data["talentsMovedOn"] == nil })
                // Counts only: the talents' names stay in planning.
                #expect((approved + sentBack + proposed).allSatisfy { event in
                    let text = String(decoding: (try? JSONCoding.encoder.encode(event.data)) ?? Data(), as: UTF8.self)
                    return !text.contains("koken") && !text.lowercased().contains("schilderen")
                })
            }
        }
    }

    @Test func helpRequestsGoToTheVolunteersServiceAndItsAnswersUpdateThePlan() async throws {
        try await TestEnvironment.with { environment in
            try await withIntakeAndPlanning(environment) { intake, planning in
                let opened = try await PlanningCase.open(
                    environment, intake: intake, planning: planning, referralId: "VT-HELP")
                let (manager, lead) = (opened.manager, opened.lead)
                #expect(
                    try await opened.call(
                        .put, "/plan", manager, ["plan": plan(goals: 1), "reason": "Start"], headers: [.ifNoneMatch: "*"]
                    ).status == .created)
                #expect(try await opened.call(.post, "/plan/versions/1/decision", lead, ["decision": "approve"]).status == .ok)

                // A goal the plan in effect does not have is refused; a request without a
                // volunteer stays in planning.
                let unknown = try await opened.call(
                    .post, "/help-requests", manager, ["need": "Klusjes", "goalId": "nope", "volunteer": "practical"])
                #expect(unknown.status == .badRequest)
                #expect(try decoded(unknown)["problems"]?.arrayValue?.first?["rule"] == "unknown-goal")
                #expect(
                    try await opened.call(.post, "/help-requests", manager, ["need": "Budgetcursus", "volunteer": "none"]).status
                        == .created)
                let raised = try await opened.call(
                    .post, "/help-requests", manager,
                    ["need": "Samen naar de voetbalclub", "goalId": "g0", "volunteer": "long-term"])
                #expect(raised.status == .created)
                let requestId = try #require(try decoded(raised)["id"]?.stringValue)

                // The volunteers service hears of the one that wants a volunteer.
                let toVolunteers = try await readTopic(Topic.planning, from: environment, atLeast: 5)
                let helpEvents = toVolunteers.compactMap { $0.event }.filter { $0.type == EventType.helpRequestRaised.rawValue }
                #expect(helpEvents.count == 1)
                #expect(helpEvents.first?.data["helpRequestId"]?.stringValue?.lowercased() == requestId)
                #expect(helpEvents.first?.data["kind"] == "long-term")
                #expect(helpEvents.first?.data["goalId"] == "g0")

                // Its answers come back over Kafka: the goal has its volunteer, then no longer.
                @Sendable func answer(_ type: EventType, helpRequest: String, reason: String? = nil) throws -> [UInt8] {
                    try CloudEvent(
                        source: EventSource.service("volunteers"), type: type, subject: opened.id,
                        payload: VolunteerAssignmentChanged(
                            assignmentId: UUID(), helpRequestId: UUID(uuidString: helpRequest)!,
                            caseId: UUID(uuidString: opened.id)!, volunteerId: "vol-7", at: Date(), reason: reason)
                    ).structuredBytes()
                }
                try await environment.withProducer { producer in
                    try await producer.send(
                        topic: Topic.volunteers, key: nil, value: try answer(.volunteerAssignmentStarted, helpRequest: requestId))
                }
                #expect(
                    try await eventually {
                        try decoded(try await opened.call(.get, "/plan", manager))["goalVolunteers"]
                            == [["goalId": "g0", "volunteerId": "vol-7", "helpRequestId": .string(requestId)]]
                    })
                try await environment.withProducer { producer in
                    try await producer.send(
                        topic: Topic.volunteers, key: nil,
                        value: try answer(.volunteerAssignmentEnded, helpRequest: requestId, reason: "goal-reached"))
                    // An answer about a help request planning does not have is dead-lettered.
                    try await producer.send(
                        topic: Topic.volunteers, key: nil,
                        value: try answer(.volunteerAssignmentStarted, helpRequest: UUID().uuidString))
                }
                #expect(
                    try await eventually {
                        let items = try decoded(try await opened.call(.get, "/help-requests", manager))["items"]?.arrayValue
                        return items?.first { $0["id"]?.stringValue == requestId }?["status"] == "ended"
                    })
                #expect(try decoded(try await opened.call(.get, "/plan", manager))["goalVolunteers"] == [])
                let dead = try await readTopic(Topic.deadLetter(service: "planning"), from: environment, atLeast: 1)
                #expect(dead.first?.headerString("dlq-reason") == "unknown-help-request")
                let statuses = try decoded(try await opened.call(.get, "/help-requests", manager))["items"]?.arrayValue?
                    .compactMap { $0["status"]?.stringValue }
                #expect(statuses == ["no-volunteer", "ended"])
            }
        }
    }
}
