import Foundation
import Hummingbird
import HummingbirdTesting
import ReportingService
import SamenplanDomain
import SamenplanKafka
import SamenplanServer
import SamenplanTesting
import Testing

/// The flow figures (issue 7; docs/indicators.md) from a fixed set of events, against a table
/// worked out by hand below: five families in Borsele and one in Goes around the fourth
/// quarter of 2026.
@Suite(.serialized) struct ReportingFlowTests {
    @Test func theFlowOfAQuarterMatchesTheHandWrittenTable() async throws {
        try await TestEnvironment.with { environment in
            let app = try await ServiceRuntime.buildApplication(
                try Reporting.definition(), configuration: try environment.configuration(for: "reporting"))
            try await withRunningApplications([app]) { clients in
                let reporting = clients[0]
                let events = Fixture.events()
                try await environment.withProducer { producer in
                    for (topic, event) in events {
                        try await producer.send(topic: topic, key: Array((event.subject ?? "").utf8), value: try event.structuredBytes())
                    }
                }
                let analyst = try await environment.token(role: .analyst, subject: "analyst")
                @Sendable func flow(_ query: String, _ token: String) async throws -> TestResponse {
                    try await reporting.execute(
                        uri: "/v1/reports/flow?\(query)", method: .get, headers: [.authorization: "Bearer \(token)"])
                }
                @Sendable func figures(_ query: String, _ token: String) async throws -> JSON {
                    try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: try await flow(query, token).body))
                }
                // Every event is in once reporting's inbox holds them all: each case's events
                // are on a partition of their own, and a busy machine reads some later.
                let published = events.count
                #expect(try await eventually(timeout: .seconds(60)) {
                    guard try await inboxCount(environment) == published else { return false }
                    let quarter = try await figures("period=2026-Q4", analyst)
                    return quarter["referrals"] == 5 && quarter["days"]?["total"]?["cases"] == 2
                        && quarter["days"]?["secure"]?["cases"] == 2
                })

                // All areas, Q4 2026.
                let all = try await figures("period=2026-Q4", analyst)
                #expect(all["referrals"] == 5)  // A, B, C, C's join, E (D's came in September)
                #expect(all["reReferrals"] == 1)  // C
                #expect(all["closures"] == 2)  // A, D
                #expect(all["closuresWithHandover"] == 1)  // A
                #expect(all["days"]?["connect"] == ["cases": 4, "median": 10, "p90": 17])  // 5, 10, 10, 20
                #expect(all["days"]?["support"] == ["cases": 3, "median": 40, "p90": 40])  // 30, 40, 40
                #expect(all["days"]?["secure"] == ["cases": 2, "median": 25, "p90": 29])  // 20, 30
                #expect(all["days"]?["total"] == ["cases": 2, "median": 70, "p90": 70])  // A, D

                // One area; one manager.
                let borsele = try await figures("period=2026-Q4&area=borsele", analyst)
                #expect(borsele["referrals"] == 4)
                #expect(borsele["days"]?["connect"] == ["cases": 3, "median": 10, "p90": 18])  // 5, 10, 20
                let secondManager = try await figures("period=2026-Q4&managerId=fm-2", analyst)
                #expect(secondManager["referrals"] == 2)
                #expect(secondManager["reReferrals"] == 1)
                #expect(secondManager["closures"] == 1)
                #expect(secondManager["closuresWithHandover"] == 0)
                // Another period: September has D's referral and its connect phase.
                let september = try await figures("period=2026-09", analyst)
                #expect(september["referrals"] == 1)
                #expect(september["days"]?["connect"]?["cases"] == 1)
                #expect(try await figures("period=2026", analyst)["referrals"] == 6)

                // External figures leave out every cell of fewer than 5 families.
                let external = try await figures("period=2026-Q4&scope=external", analyst)
                #expect(external["referrals"] == 5)
                #expect(external["reReferrals"] == .null)
                #expect(external["closures"] == .null)
                #expect(external["days"]?["connect"] == ["cases": .null, "median": .null, "p90": .null])
                #expect(external["suppressedBelow"] == 5)

                // CSV on request.
                let csv = try await reporting.execute(
                    uri: "/v1/reports/flow?period=2026-Q4", method: .get,
                    headers: [.authorization: "Bearer \(analyst)", .accept: "text/csv"])
                #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
                let lines = String(buffer: csv.body).components(separatedBy: "\r\n")
                #expect(lines.first == "period,indicator,phase,value")
                #expect(lines.contains("2026-Q4,referrals,,5"))
                #expect(lines.contains("2026-Q4,days-p90,connect,17"))

                // Who may ask: analysts, admins, team leads for their own areas; nobody else.
                let goesLead = try await environment.token(role: .teamLead, subject: "tl-goes", areas: ["goes"])
                #expect(try await figures("period=2026-Q4", goesLead)["referrals"] == 1)
                #expect(try await flow("period=2026-Q4&area=borsele", goesLead).status == .forbidden)
                let manager = try await environment.token(role: .familyManager, subject: "fm-1")
                #expect(try await flow("period=2026-Q4", manager).status == .forbidden)
                // A clear error for a period that is none.
                let bad = try await flow("period=2026-Q5&scope=outside", analyst)
                #expect(bad.status == .badRequest)
                let pointers = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: bad.body))["problems"]?.arrayValue?
                    .compactMap { $0["pointer"]?.stringValue }
                #expect(pointers == ["period", "scope"])
            }
        }
    }
}

/// The caseload now: open cases by framework, and the queue of families waiting for a manager.
@Suite(.serialized) struct ReportingCaseloadTests {
    @Test func openCasesByFrameworkAndTheQueue() async throws {
        let now = Timestamp.parse("2026-11-23T10:00:00Z")!
        try await withReporting(at: now) { environment, clients in
            let (waiting, served, closed) = (UUID(), UUID(), UUID())
            let day: TimeInterval = 86_400
            func opened(_ id: UUID, _ framework: Framework) throws -> CloudEvent {
                try CloudEvent(
                    source: EventSource.service("intake"), type: .caseOpened, subject: id.uuidString,
                    payload: CaseOpened(
                        caseId: id, familyId: UUID(), referralId: "r", framework: framework, urgency: .normal, area: "borsele",
                        courtOrderEndsOn: nil, childCount: 1, openedAt: now.addingTimeInterval(-10 * day)))
            }
            let events: [(String, CloudEvent)] = [
                (Topic.intake, try opened(waiting, .childProtection)),
                (Topic.intake, try CloudEvent(
                    source: EventSource.service("intake"), type: .caseQueued, subject: waiting.uuidString,
                    payload: CaseQueued(caseId: waiting, area: "borsele", urgency: .urgent, queuedAt: now.addingTimeInterval(-2.5 * day), queueLength: 1))),
                (Topic.intake, try opened(served, .voluntary)),
                (Topic.intake, try CloudEvent(
                    source: EventSource.service("intake"), type: .caseAssigned, subject: served.uuidString,
                    payload: CaseAssigned(caseId: served, managerId: "fm-1", area: "borsele", assignedAt: now.addingTimeInterval(-9 * day)))),
                (Topic.intake, try opened(closed, .voluntary)),
                (Topic.planning, try CloudEvent(
                    source: EventSource.service("planning"), type: .casePhaseChanged, subject: closed.uuidString,
                    payload: CasePhaseChanged(
                        caseId: closed, phase: .closed, previousPhase: .secure, area: "borsele", managerId: "fm-1",
                        changedAt: now.addingTimeInterval(-1 * day)))),
            ]
            try await environment.withProducer { producer in
                for (topic, event) in events {
                    try await producer.send(topic: topic, key: nil, value: try event.structuredBytes())
                }
            }
            let lead = try await environment.token(role: .teamLead, subject: "tl", areas: ["borsele"])
            @Sendable func caseload() async throws -> JSON {
                try JSONCoding.decoder.decode(
                    JSON.self,
                    from: Data(buffer: try await clients[0].execute(
                        uri: "/v1/reports/caseload", method: .get, headers: [.authorization: "Bearer \(lead)"]).body))
            }
            let published = events.count
            #expect(try await eventually(timeout: .seconds(60)) {
                guard try await inboxCount(environment) == published else { return false }
                let figures = try await caseload()
                return figures["queues"]?.arrayValue?.count == 1 && figures["byAreaAndFramework"]?.arrayValue?.count == 2
            })
            let figures = try await caseload()
            #expect(figures["byAreaAndFramework"] == [
                ["area": "borsele", "framework": "child-protection", "openCases": 1],
                ["area": "borsele", "framework": "voluntary", "openCases": 1],
            ])
            #expect(figures["queues"] == [["area": "borsele", "waiting": 1, "longestWaitDays": .number(2.5)]])
        }
    }
}

/// The rhythm of support: evaluations within 8 weeks of the previous one (or of entering
/// support), and cases in support overdue now (2026-11-23).
///
/// | case | support from | evaluations held               | now                          |
/// |------|--------------|--------------------------------|------------------------------|
/// | P    | 2026-09-01   | 10-20 (49 days), 11-20 (31)    | in support, not overdue      |
/// | Q    | 2026-08-01   | 10-10 (70 days: late)          | in support, 44 days: not yet |
/// | R    | 2026-09-15   | none                           | in support, 69 days: overdue |
/// | S    | 2026-06-01   | 07-01 (30 days)                | in secure since 08-01        |
@Suite(.serialized) struct ReportingRhythmTests {
    @Test func evaluationsOnTimeAndOverdueNow() async throws {
        let now = Timestamp.parse("2026-11-23T10:00:00Z")!
        try await withReporting(at: now) { environment, clients in
            var events: [CloudEvent] = []
            func phases(_ id: UUID, _ days: [(Phase, String)]) throws {
                for (phase, day) in days {
                    events.append(try CloudEvent(
                        source: EventSource.service("planning"), type: .casePhaseChanged, subject: id.uuidString,
                        payload: CasePhaseChanged(
                            caseId: id, phase: phase, previousPhase: nil, area: "borsele", managerId: "fm-1",
                            changedAt: Timestamp.parse("\(day)T10:00:00Z")!)))
                }
            }
            func held(_ id: UUID, _ days: [String]) throws {
                for day in days {
                    events.append(try CloudEvent(
                        source: EventSource.service("planning"), type: .evaluationRecorded, subject: id.uuidString,
                        payload: EvaluationRecorded(
                            caseId: id, area: "borsele", managerId: "fm-1", heldOn: day, attendees: 4, planAdjusted: false,
                            nextDueAt: nil)))
                }
            }
            let (p, q, r, s) = (UUID(), UUID(), UUID(), UUID())
            try phases(p, [(.connect, "2026-08-25"), (.support, "2026-09-01")])
            try held(p, ["2026-10-20", "2026-11-20"])
            try phases(q, [(.connect, "2026-07-25"), (.support, "2026-08-01")])
            try held(q, ["2026-10-10"])
            try phases(r, [(.connect, "2026-09-10"), (.support, "2026-09-15")])
            try phases(s, [(.connect, "2026-05-25"), (.support, "2026-06-01"), (.secure, "2026-08-01")])
            try held(s, ["2026-07-01"])
            let toPublish = events
            try await environment.withProducer { producer in
                for event in toPublish {
                    try await producer.send(topic: Topic.planning, key: Array((event.subject ?? "").utf8), value: try event.structuredBytes())
                }
            }
            let analyst = try await environment.token(role: .analyst, subject: "analyst")
            @Sendable func rhythm(_ query: String) async throws -> JSON {
                try JSONCoding.decoder.decode(
                    JSON.self,
                    from: Data(buffer: try await clients[0].execute(
                        uri: "/v1/reports/rhythm?\(query)", method: .get, headers: [.authorization: "Bearer \(analyst)"]).body))
            }
            // Each case's events are on a partition of their own: wait for all of them (S's,
            // the summer's only evaluation, too), or a busy machine reads Q3 before S arrives.
            let published = toPublish.count
            #expect(try await eventually(timeout: .seconds(60)) {
                guard try await inboxCount(environment) == published else { return false }
                let figures = try await rhythm("period=2026-Q4")
                return figures["evaluations"] == 3 && figures["inSupportNow"] == 3
            })
            let quarter = try await rhythm("period=2026-Q4")
            #expect(quarter["evaluationsOnTime"] == 2)
            #expect(quarter["onTimePercent"] == .number(66.7))
            #expect(quarter["overdueNow"] == 1)
            let summer = try await rhythm("period=2026-Q3")
            #expect(summer["evaluations"] == 1)
            #expect(summer["onTimePercent"] == 100)
            let external = try await rhythm("period=2026-Q4&scope=external")
            #expect(external["evaluations"] == .null && external["overdueNow"] == .null)
        }
    }
}

/// Six families. Days in phase are whole days, from entering a phase to entering the next:
///
/// | case | area    | manager | opened     | connect → support → secure → closed            | notes                     |
/// |------|---------|---------|------------|------------------------------------------------|---------------------------|
/// | A    | borsele | fm-1    | 2026-10-01 | 10-01, 10-11 (10), 11-20 (40), 12-10 (20)       | handover accepted; 70 days |
/// | B    | borsele | fm-1    | 2026-10-05 | 10-05, 10-25 (20), 12-04 (40)                  | still in secure           |
/// | C    | borsele | fm-2    | 2026-11-01 | 11-01, 11-06 (5)                               | re-referral; a join 11-15 |
/// | D    | borsele | fm-2    | 2026-09-20 | 09-20, 09-30 (10), 10-30 (30), 11-29 (30)      | no handover; 70 days      |
/// | E    | goes    | fm-3    | 2026-10-10 | 10-10, 10-20 (10)                              |                           |
private enum Fixture {
    static func at(_ day: String) -> Date { Timestamp.parse("\(day)T10:00:00Z")! }

    static func events() -> [(String, CloudEvent)] {
        var events: [(String, CloudEvent)] = []
        func add(_ topic: String, _ type: EventType, _ caseId: UUID, _ payload: some Encodable, time: Date) {
            let event = CloudEvent(
                source: topic == Topic.intake ? EventSource.service("intake") : EventSource.service("planning"),
                type: type.rawValue, time: time, subject: caseId.uuidString.lowercased(), data: try! JSON(encoding: payload))
            events.append((topic, event))
        }
        func family(
            _ name: String, area: String, manager: String, opened: String, phases: [String], reReferral: Bool = false,
            handover: Bool = false, joinOn: String? = nil
        ) {
            let caseId = UUID()
            add(
                Topic.intake, .caseOpened, caseId,
                CaseOpened(
                    caseId: caseId, familyId: UUID(), referralId: name, framework: .voluntary, urgency: .normal, area: area,
                    courtOrderEndsOn: nil, childCount: 1, openedAt: at(opened), reReferral: reReferral),
                time: at(opened))
            add(
                Topic.intake, .referralAccepted, caseId,
                ReferralAccepted(eventSource: "/desk", eventId: name, referralId: name, caseId: caseId, joinedExistingCase: false),
                time: at(opened))
            if let joinOn {
                add(
                    Topic.intake, .referralAccepted, caseId,
                    ReferralAccepted(
                        eventSource: "/desk", eventId: name + "-join", referralId: name + "-join", caseId: caseId,
                        joinedExistingCase: true),
                    time: at(joinOn))
            }
            add(
                Topic.intake, .caseAssigned, caseId,
                CaseAssigned(caseId: caseId, managerId: manager, area: area, assignedAt: at(opened)), time: at(opened))
            let order: [Phase] = [.connect, .support, .secure, .closed]
            for (index, day) in phases.enumerated() {
                add(
                    Topic.planning, .casePhaseChanged, caseId,
                    CasePhaseChanged(
                        caseId: caseId, phase: order[index], previousPhase: index == 0 ? nil : order[index - 1], area: area,
                        managerId: manager, changedAt: at(day)),
                    time: at(day))
            }
            if handover, let closedOn = phases.last {
                add(
                    Topic.planning, .handoverAccepted, caseId,
                    CaseEndingStep(caseId: caseId, area: area, managerId: manager, by: "nt-\(area)", at: at(closedOn)),
                    time: at(closedOn))
            }
        }
        family("A", area: "borsele", manager: "fm-1", opened: "2026-10-01",
               phases: ["2026-10-01", "2026-10-11", "2026-11-20", "2026-12-10"], handover: true)
        family("B", area: "borsele", manager: "fm-1", opened: "2026-10-05", phases: ["2026-10-05", "2026-10-25", "2026-12-04"])
        family("C", area: "borsele", manager: "fm-2", opened: "2026-11-01", phases: ["2026-11-01", "2026-11-06"],
               reReferral: true, joinOn: "2026-11-15")
        family("D", area: "borsele", manager: "fm-2", opened: "2026-09-20",
               phases: ["2026-09-20", "2026-09-30", "2026-10-30", "2026-11-29"])
        family("E", area: "goes", manager: "fm-3", opened: "2026-10-10", phases: ["2026-10-10", "2026-10-20"])
        // Delivered in any order: the projection does not depend on it.
        return events.reversed()
    }
}

/// Runs reporting with its clock at `now`.
func withReporting(
    at now: Date, _ body: @Sendable (TestEnvironment, [any TestClientProtocol]) async throws -> Void
) async throws {
    try await TestEnvironment.with { environment in
        let app = try await ServiceRuntime.buildApplication(
            try Reporting.definition(), configuration: try environment.configuration(for: "reporting"),
            clock: ManualWallClock(now))
        try await withRunningApplications([app]) { clients in try await body(environment, clients) }
    }
}

/// Outcomes and volunteers of 2026-Q4 from a small fixture, worked out by hand:
///
/// | case | opened     | support from | placements started            | nuisance reports              |
/// |------|------------|--------------|-------------------------------|-------------------------------|
/// | O1   | 2026-10-05 | 2026-10-15   | 06-01 (before), 10-20 (after, during support) | 08-01, 09-01 (before), 11-01 (after) |
/// | O2   | 2026-11-01 | —            | 11-10 (after)                 | 03-01 (more than 6 months before) |
/// | O3   | 2026-06-01 | 2026-06-10   | 10-01 (during support; started before Q4) | — |
///
/// Goals: O1 reaches g1 and g2 in November. Volunteers: one active, one stopped, one applicant;
/// three help requests raised, two matched after 10 and 4 days, both assignments ended.
@Suite(.serialized) struct ReportingOutcomesTests {
    @Test func outcomesAndVolunteersOfAQuarter() async throws {
        try await withReporting(at: Timestamp.parse("2026-11-23T10:00:00Z")!) { environment, clients in
            var events: [(String, CloudEvent)] = []
            func on(_ day: String) -> Date { Timestamp.parse("\(day)T10:00:00Z")! }
            func add(_ topic: String, _ type: EventType, _ payload: some Encodable, time: Date = Date()) throws {
                events.append((topic, CloudEvent(source: "/samenplan/test", type: type.rawValue, time: time, data: try JSON(encoding: payload))))
            }
            let (o1, o2, o3) = (UUID(), UUID(), UUID())
            for (id, opened) in [(o1, "2026-10-05"), (o2, "2026-11-01"), (o3, "2026-06-01")] {
                try add(Topic.intake, .caseOpened, CaseOpened(
                    caseId: id, familyId: UUID(), referralId: "r", framework: .voluntary, urgency: .normal, area: "borsele",
                    courtOrderEndsOn: nil, childCount: 1, openedAt: on(opened)))
                try add(Topic.planning, .casePhaseChanged, CasePhaseChanged(
                    caseId: id, phase: .connect, previousPhase: nil, area: "borsele", managerId: "fm-1", changedAt: on(opened)))
            }
            for (id, day) in [(o1, "2026-10-15"), (o3, "2026-06-10")] {
                try add(Topic.planning, .casePhaseChanged, CasePhaseChanged(
                    caseId: id, phase: .support, previousPhase: .connect, area: "borsele", managerId: "fm-1", changedAt: on(day)))
            }
            for (id, day) in [(o1, "2026-06-01"), (o1, "2026-10-20"), (o2, "2026-11-10"), (o3, "2026-10-01")] {
                try add(Topic.intake, .placementRecorded, PlacementRecorded(
                    caseId: id, memberRef: "c-\(day)", kind: "foster-care", on: day, change: .started, area: "borsele"))
            }
            for (id, day) in [(o1, "2026-08-01"), (o1, "2026-09-01"), (o1, "2026-11-01"), (o2, "2026-03-01")] {
                try add(Topic.intake, .nuisanceRecorded, NuisanceRecorded(
                    reportId: "n-\(id)-\(day)", area: "borsele", reportedOn: day, category: "noise", caseId: id))
            }
            try add(Topic.planning, .goalChanged, GoalChanged(caseId: o1, version: 2, goalId: "g1", change: "reached", responsibleKind: "member", dueOn: nil), time: on("2026-11-05"))
            try add(Topic.planning, .goalChanged, GoalChanged(caseId: o1, version: 3, goalId: "g2", change: "reached", responsibleKind: "member", dueOn: nil), time: on("2026-11-06"))
            try add(Topic.planning, .goalChanged, GoalChanged(caseId: o2, version: 1, goalId: "g1", change: "added", responsibleKind: "member", dueOn: nil), time: on("2026-11-06"))
            // Volunteers.
            let volunteerSteps: [(EventType, String, String, String)] = [
                (.volunteerRegistered, "v1", "active", "2026-10-01"), (.volunteerRegistered, "v2", "active", "2026-10-01"),
                (.volunteerStatusChanged, "v2", "stopped", "2026-11-01"), (.volunteerRegistered, "v3", "applicant", "2026-10-01"),
            ]
            for (type, id, status, day) in volunteerSteps {
                try add(Topic.volunteers, type, VolunteerChanged(
                    volunteerId: id, status: status, areas: ["borsele"], guideId: nil, reason: nil, at: on(day)))
            }
            let (h1, h2, h3) = (UUID(), UUID(), UUID())
            for (id, day) in [(h1, "2026-10-10"), (h2, "2026-11-01"), (h3, "2026-11-10")] {
                try add(Topic.planning, .helpRequestRaised, HelpRequestRaised(
                    helpRequestId: id, caseId: o1, area: "borsele", managerId: "fm-1", kind: "practical", goalId: nil, need: "x"),
                    time: on(day))
            }
            let (a1, a2) = (UUID(), UUID())
            for (assignment, request, started, ended, reason) in [(a1, h1, "2026-10-20", "2026-11-15", "goal-reached"), (a2, h2, "2026-11-05", "2026-11-20", "family-wish")] {
                try add(Topic.volunteers, .volunteerAssignmentStarted, VolunteerAssignmentChanged(
                    assignmentId: assignment, helpRequestId: request, caseId: o1, volunteerId: "v1", at: on(started)))
                try add(Topic.volunteers, .volunteerAssignmentEnded, VolunteerAssignmentChanged(
                    assignmentId: assignment, helpRequestId: request, caseId: o1, volunteerId: "v1", at: on(ended), reason: reason))
            }
            let toPublish = events
            try await environment.withProducer { producer in
                for (topic, event) in toPublish {
                    try await producer.send(topic: topic, key: nil, value: try event.structuredBytes())
                }
            }
            let analyst = try await environment.token(role: .analyst, subject: "analyst")
            @Sendable func report(_ path: String) async throws -> JSON {
                try JSONCoding.decoder.decode(
                    JSON.self,
                    from: Data(buffer: try await clients[0].execute(
                        uri: "/v1/reports/\(path)", method: .get, headers: [.authorization: "Bearer \(analyst)"]).body))
            }
            let published = toPublish.count
            #expect(try await eventually(timeout: .seconds(60)) {
                guard try await inboxCount(environment) == published else { return false }
                let outcomes = try await report("outcomes?period=2026-Q4")
                let volunteers = try await report("volunteers?period=2026-Q4")
                return outcomes["nuisanceReports"]?["after"] == 1 && outcomes["goalsReached"] == 2
                    && outcomes["placementsStartedDuringSupport"] == 2 && volunteers["assignmentsEnded"]?.objectValue?.count == 2
                    && volunteers["activeVolunteers"] == 1
            })
            let outcomes = try await report("outcomes?period=2026-Q4")
            #expect(outcomes["casesStarted"] == 2)
            #expect(outcomes["placementsStartedDuringSupport"] == 2)
            #expect(outcomes["placementsStarted"] == ["before": 1, "after": 2])
            #expect(outcomes["nuisanceReports"] == ["before": 2, "after": 1])
            #expect(outcomes["goalsReached"] == 2)
            let volunteers = try await report("volunteers?period=2026-Q4")
            #expect(volunteers["activeVolunteers"] == 1)
            #expect(volunteers["helpRequestsRaised"] == 3)
            #expect(volunteers["helpRequestsMatched"] == 2)
            #expect(volunteers["daysToMatchMedian"] == 7)
            #expect(volunteers["assignmentsEnded"] == ["goal-reached": 1, "family-wish": 1])
            // Every figure here is about fewer than 5 families: an external answer shows none.
            let external = try await report("outcomes?period=2026-Q4&scope=external")
            #expect(external["casesStarted"] == .null && external["placementsStarted"] == ["before": .null, "after": .null])
        }
    }
}
