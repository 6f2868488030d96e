import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanServer
import SamenplanTesting
import Testing
import IntakeService
import PlanningService
import VolunteersService

/// The volunteers service against a real database and the Kafka protocol (issue 5): the
/// registry's validation, the certificate clock, matching from a help request planning
/// raised to an assignment with the family's consent, the assignment's check-ins, hours,
/// concerns and end, the case consultation on a simulated clock, and who may see what.
@Suite(.serialized) struct VolunteersTests {
    static let start = Timestamp.parse("2026-11-23T09:00:00Z")!
    static let day: TimeInterval = 24 * 3600

    @Test func theRegistryNamesEveryBrokenRuleAndTheCertificateClockWarnsOnceThenPauses() async throws {
        let clock = ManualWallClock(Self.start)
        try await withVolunteers(clock: clock) { environment, client in
            let desk = try await Desk(environment, client)
            // Every broken rule is named, with a pointer to the field.
            let broken = try await desk.call(
                .post, "/v1/volunteers", desk.coordinator,
                .object(
                    volunteer("vol-bad", areas: [], skills: ["juggling"], availability: ["someday"], kinds: [], consent: false)
                        .merging(["id": "bad id!"])))
            #expect(broken.status == .badRequest)
            let pointers = Set(try desk.problems(broken).map(\.pointer))
            #expect(pointers == ["/id", "/areas", "/skills/0", "/availability/0", "/helpKinds", "/consentGiven"])

            // Only the coordinator (and an admin) keeps the registry.
            let manager = try await environment.token(role: .familyManager, subject: "fm-1", areas: ["borsele"])
            #expect(try await desk.call(.post, "/v1/volunteers", manager, .object(volunteer("vol-x", certificate: "2026-11-01"))).status == .forbidden)

            #expect(try await desk.register("vol-anna", certificate: "2026-11-01").status == .created)
            #expect(try await desk.register("vol-anna", certificate: "2026-11-01").status == .conflict)
            #expect(try await desk.register("vol-bert", certificate: "2026-11-01").status == .created)
            // Bert brings a new certificate: his old one's timers no longer apply. A date still
            // to come is refused.
            var renewed = volunteer("vol-bert", certificate: "2026-12-01")
            renewed["id"] = nil
            let future = try await desk.call(.put, "/v1/volunteers/vol-bert", desk.coordinator, .object(renewed))
            #expect(future.status == .badRequest)
            #expect(try desk.problems(future).map(\.pointer) == ["/certificateIssuedOn"])
            renewed["certificateIssuedOn"] = "2026-11-20"
            #expect(try await desk.call(.put, "/v1/volunteers/vol-bert", desk.coordinator, .object(renewed)).status == .ok)
            let anna = try desk.json(try await desk.call(.get, "/v1/volunteers/vol-anna", desk.coordinator))
            #expect(anna["certificate"]?["standing"]?.stringValue == "valid")
            #expect(anna["certificate"]?["expiresOn"]?.stringValue == "2029-11-01")

            // A volunteer sees their own record and nobody else's.
            let annaToken = try await environment.token(role: .volunteer, subject: "vol-anna")
            #expect(try await desk.call(.get, "/v1/volunteers/vol-anna", annaToken).status == .ok)
            #expect(try await desk.call(.get, "/v1/volunteers/vol-bert", annaToken).status == .notFound)
            #expect(try await desk.call(.get, "/v1/volunteers", annaToken).status == .forbidden)

            // 60 days before Anna's certificate runs out (2029-11-01) the coordinator is warned, once.
            try await desk.at(CalendarDateText.instant("2029-09-01"), clock)
            #expect(try await desk.published(.volunteerCertificateExpiring) == 0)
            try await desk.at(CalendarDateText.instant("2029-09-02"), clock)
            #expect(try await desk.eventuallyPublished(.volunteerCertificateExpiring, 1))
            try await desk.at(CalendarDateText.instant("2029-09-03"), clock)
            #expect(try await desk.published(.volunteerCertificateExpiring) == 1)
            // On the day it runs out she is paused; Bert, with his new certificate, is not.
            try await desk.at(CalendarDateText.instant("2029-11-01"), clock)
            #expect(try await eventually(timeout: .seconds(60)) {
                try desk.json(try await desk.call(.get, "/v1/volunteers/vol-anna", desk.coordinator))["status"] == "paused"
            })
            let paused = try desk.json(try await desk.call(.get, "/v1/volunteers/vol-anna", desk.coordinator))
            #expect(paused["status"]?.stringValue == "paused")
            #expect(paused["statusReason"]?.stringValue == "certificate-expired")
            #expect(paused["certificate"]?["standing"]?.stringValue == "expired")
            let bert = try desk.json(try await desk.call(.get, "/v1/volunteers/vol-bert", desk.coordinator))
            #expect(bert["status"]?.stringValue == "active")
            #expect(try await desk.published(.volunteerStatusChanged) == 1)
            // Bert's warning came on 2029-09-24, for his new certificate only.
            #expect(try await desk.eventuallyPublished(.volunteerCertificateExpiring, 2))
        }
    }

    @Test func aHelpRequestBecomesAnAssignmentOnlyWithTheFamilysConsent() async throws {
        let clock = ManualWallClock(Self.start)
        try await withVolunteers(clock: clock) { environment, client in
            let desk = try await Desk(environment, client)
            // Anna fits best; Bert is from the next village; Cor's certificate has run out;
            // Eva offers only long-term contact; Fenna's certificate is too old to start with.
            #expect(try await desk.register("vol-anna", certificate: "2026-10-01", availability: ["wednesday-afternoon"]).status == .created)
            #expect(try await desk.register("vol-bert", areas: ["goes"], certificate: "2026-09-01").status == .created)
            #expect(try await desk.register("vol-cor", certificate: "2020-01-01").status == .created)
            // Registered with a certificate that ran out long ago, Cor is paused by its timer at once.
            #expect(try await eventually(timeout: .seconds(60)) {
                try desk.json(try await desk.call(.get, "/v1/volunteers/vol-cor", desk.coordinator))["status"] == "paused"
            })
            #expect(try await desk.register("vol-eva", certificate: "2026-11-01", kinds: ["long-term"]).status == .created)
            #expect(try await desk.register("vol-fenna", areas: ["goes"], certificate: "2025-06-01").status == .created)

            let caseId = UUID()
            let requestId = try await desk.raise(caseId: caseId, manager: "fm-1", raisedAt: Self.start)
            let wishes: JSON = ["skills": ["homework"], "languages": ["nl"], "availability": ["wednesday-afternoon"]]
            #expect(try await desk.call(.patch, "/v1/help-requests/\(requestId)", desk.coordinator, wishes).status == .ok)

            // The shortlist: never anyone ineligible, best first, every factor explained.
            let shortlist = try desk.json(try await desk.call(.get, "/v1/help-requests/\(requestId)/shortlist", desk.coordinator))
            let candidates = shortlist["candidates"]?.arrayValue ?? []
            #expect(candidates.compactMap { $0["volunteerId"]?.stringValue } == ["vol-anna", "vol-bert", "vol-fenna"])
            for candidate in candidates {
                #expect(Set((candidate["reasons"]?.arrayValue ?? []).compactMap { $0["factor"]?.stringValue })
                    == ["area", "skills", "language", "availability", "load", "certificate"])
            }
            let manager = try await environment.token(role: .familyManager, subject: "fm-1", areas: ["borsele"])
            #expect(try await desk.call(.get, "/v1/help-requests/\(requestId)/shortlist", manager).status == .forbidden)

            // An ineligible proposal names the rules it breaks.
            let refusedProposal = try await desk.propose(requestId, "vol-cor")
            #expect(refusedProposal.status == .conflict)
            #expect(try desk.problems(refusedProposal).map(\.rule) == ["status", "certificate-expired"])

            // Anna is proposed; the family (through its manager) refuses her.
            let annaProposal = try desk.json(try await desk.propose(requestId, "vol-anna"))["id"]?.stringValue ?? ""
            #expect(try await desk.propose(requestId, "vol-bert").status == .conflict)
            let otherManager = try await environment.token(role: .familyManager, subject: "fm-2", areas: ["borsele"])
            #expect(try await desk.call(.post, "/v1/proposals/\(annaProposal)/answer", otherManager, ["consent": false]).status == .notFound)
            #expect(try await desk.call(.post, "/v1/proposals/\(annaProposal)/answer", desk.coordinator, ["consent": true]).status == .forbidden)
            #expect(try await desk.call(.post, "/v1/proposals/\(annaProposal)/answer", manager, ["consent": false]).status == .ok)
            #expect(try await desk.call(.post, "/v1/proposals/\(annaProposal)/answer", manager, ["consent": true]).status == .conflict)
            // Back to the shortlist, without the volunteer the family refused.
            let again = try desk.json(try await desk.call(.get, "/v1/help-requests/\(requestId)/shortlist", desk.coordinator))
            #expect((again["candidates"]?.arrayValue ?? []).compactMap { $0["volunteerId"]?.stringValue } == ["vol-bert", "vol-fenna"])

            // Fenna's certificate allows matching but not a first start.
            let fennaProposal = try desk.json(try await desk.propose(requestId, "vol-fenna"))["id"]?.stringValue ?? ""
            let tooOld = try await desk.call(.post, "/v1/proposals/\(fennaProposal)/answer", manager, ["consent": true])
            #expect(tooOld.status == .conflict)
            #expect(try desk.problems(tooOld).map(\.rule) == ["certificate-too-old-to-start"])
            #expect(try await desk.call(.post, "/v1/proposals/\(fennaProposal)/answer", manager, ["consent": false]).status == .ok)

            // Bert: consent makes him the assignment.
            let bertProposal = try desk.json(try await desk.propose(requestId, "vol-bert"))["id"]?.stringValue ?? ""
            let accepted = try desk.json(
                try await desk.call(.post, "/v1/proposals/\(bertProposal)/answer", manager, ["consent": true]))
            let assignmentId = try #require(accepted["assignmentId"]?.stringValue)
            let request = try desk.json(try await desk.call(.get, "/v1/help-requests/\(requestId)", manager))
            #expect(request["status"]?.stringValue == "matched")
            #expect(try await desk.published(.volunteerMatchProposed) == 3)
            #expect(try await desk.published(.volunteerMatchRefused) == 2)
            #expect(try await desk.published(.volunteerAssignmentStarted) == 1)

            // The assignment: Bert sees the help request, never the manager's notes.
            let bert = try await environment.token(role: .volunteer, subject: "vol-bert")
            let anna = try await environment.token(role: .volunteer, subject: "vol-anna")
            let mine = try desk.json(try await desk.call(.get, "/v1/assignments", bert))["items"]?.arrayValue ?? []
            #expect(mine.compactMap { $0["id"]?.stringValue } == [assignmentId])
            #expect(mine.first?["helpRequest"]?["need"]?.stringValue == "Hulp bij huiswerk van Sam")
            #expect((try desk.json(try await desk.call(.get, "/v1/assignments", anna))["items"]?.arrayValue ?? []).isEmpty)
            #expect(try await desk.call(.get, "/v1/assignments/\(assignmentId)", anna).status == .notFound)
            let checkIn: JSON = ["heldOn": "2026-11-23", "notes": "Loopt goed; vader vraagt om vaste dag.", "concern": false]
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/check-ins", desk.coordinator, checkIn).status == .forbidden)
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/check-ins", bert, checkIn).status == .forbidden)
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/check-ins", manager, checkIn).status == .created)
            let future: JSON = ["heldOn": "2026-12-01", "notes": "x", "concern": false]
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/check-ins", manager, future).status == .badRequest)
            let seenByBert = try desk.json(try await desk.call(.get, "/v1/assignments/\(assignmentId)", bert))
            #expect(seenByBert["checkIns"]?.arrayValue?.count == 1)
            #expect(seenByBert["checkIns"]?.arrayValue?.first?["notes"] == nil)
            let seenByManager = try desk.json(try await desk.call(.get, "/v1/assignments/\(assignmentId)", manager))
            #expect(seenByManager["checkIns"]?.arrayValue?.first?["notes"]?.stringValue == checkIn["notes"]?.stringValue)

            // Hours by the volunteer, in quarter hours.
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/hours", bert, ["workedOn": "2026-11-23", "hours": .number(2.5)]).status == .created)
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/hours", bert, ["workedOn": "2026-11-23", "hours": .number(0.3)]).status == .badRequest)
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/hours", anna, ["workedOn": "2026-11-23", "hours": 1]).status == .notFound)
            // Not from before the assignment started (issue 18, finding 10: 1900-01-01 was accepted).
            let ancient = try await desk.call(.post, "/v1/assignments/\(assignmentId)/hours", bert, ["workedOn": "1900-01-01", "hours": 1])
            #expect(ancient.status == .badRequest)
            #expect(try desk.json(ancient)["problems"]?.arrayValue?.first?["rule"] == "before-start")
            #expect(try desk.json(try await desk.call(.get, "/v1/assignments/\(assignmentId)", bert))["hoursLogged"]?.numberValue == 2.5)

            // A concern reaches the manager through an event at once; its text stays here.
            let concernText = "Sam vertelde dat het thuis onrustig is."
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/concerns", bert, ["note": .string(concernText)]).status == .created)
            #expect(try await desk.published(.volunteerConcernFlagged) == 1)

            // The end, with a reason, once.
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/end", manager, ["reason": "bored"]).status == .badRequest)
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/end", bert, ["reason": "goal-reached"]).status == .forbidden)
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/end", manager, ["reason": "goal-reached"]).status == .ok)
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/end", manager, ["reason": "goal-reached"]).status == .conflict)
            #expect(try await desk.published(.volunteerAssignmentEnded) == 1)

            // Events carry ids and codes: no note, no check-in text, no name.
            let leaked = try await environment.withAdminClient { client in
                try await client.count(
                    """
                    SELECT count(*) FROM volunteers.outbox
                    WHERE event LIKE '%onrustig%' OR event LIKE '%vaste dag%' OR event LIKE '%Volunteer vol-%'
                    """)
            }
            #expect(leaked == 0)
            // Every read of a family's help request or assignment is audited, refused ones too.
            let audited = try await environment.withAdminClient { client in
                try await client.count(
                    "SELECT count(*) FROM volunteers.audit_log WHERE resource_type = 'assignment' AND outcome = 'denied' AND actor = 'vol-anna'")
            }
            #expect(audited == 2)
        }
    }

    @Test func loggedHoursArePublishedOncePerEntryWithTheEntrysId() async throws {
        let clock = ManualWallClock(Self.start)
        try await withVolunteers(clock: clock) { environment, client in
            let desk = try await Desk(environment, client)
            #expect(try await desk.register("vol-anna", certificate: "2026-10-01").status == .created)
            let caseId = UUID()
            let requestId = try await desk.raise(caseId: caseId, manager: "fm-1", raisedAt: Self.start)
            let proposal = try desk.json(try await desk.propose(requestId, "vol-anna"))["id"]?.stringValue ?? ""
            let manager = try await environment.token(role: .familyManager, subject: "fm-1", areas: ["borsele"])
            let assignmentId = try #require(
                try desk.json(try await desk.call(.post, "/v1/proposals/\(proposal)/answer", manager, ["consent": true]))[
                    "assignmentId"]?.stringValue)
            let anna = try await environment.token(role: .volunteer, subject: "vol-anna")
            @Sendable func log(_ token: String, _ workedOn: String, _ hours: Double) async throws -> TestResponse {
                try await desk.call(
                    .post, "/v1/assignments/\(assignmentId)/hours", token, ["workedOn": .string(workedOn), "hours": .number(hours)])
            }

            // Two entries, by the volunteer and by the coordinator; refused ones publish nothing.
            // The assignment started today (2026-11-23): hours are logged from today on.
            let first = try await log(anna, "2026-11-23", 2.5)
            #expect(first.status == .created)
            #expect(try await log(anna, "2026-11-24", 1).status == .badRequest)
            #expect(try await log(manager, "2026-11-23", 1).status == .forbidden)
            clock.set(Self.start.addingTimeInterval(3600))
            let second = try await log(desk.coordinator, "2026-11-23", 0.75)
            #expect(second.status == .created)
            #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/end", manager, ["reason": "goal-reached"]).status == .ok)
            #expect(try await log(anna, "2026-11-24", 1).status == .badRequest)
            clock.set(Self.start.addingTimeInterval(2 * Self.day))
            #expect(try await log(anna, "2026-11-24", 1).status == .conflict)  // after the assignment ended

            let events = try await publishedEvents(.volunteerHoursLogged, by: "volunteers", on: Topic.volunteers, from: environment)
            let logged = try events.map { try $0.data.decode(VolunteerHoursLogged.self) }
            let ids = try [first, second].map { try #require(UUID(uuidString: try desk.json($0)["id"]?.stringValue ?? "")) }
            let assignment = try #require(UUID(uuidString: assignmentId))
            let helpRequest = try #require(UUID(uuidString: requestId))
            #expect(
                logged == [
                    VolunteerHoursLogged(
                        hoursId: ids[0], assignmentId: assignment, helpRequestId: helpRequest, caseId: caseId,
                        volunteerId: "vol-anna", area: "borsele", workedOn: "2026-11-23", hours: 2.5, at: Self.start),
                    VolunteerHoursLogged(
                        hoursId: ids[1], assignmentId: assignment, helpRequestId: helpRequest, caseId: caseId,
                        volunteerId: "vol-anna", area: "borsele", workedOn: "2026-11-23", hours: 0.75,
                        at: Self.start.addingTimeInterval(3600)),
                ])
            // Keyed by the case, like every event about one family.
            #expect(events.allSatisfy { $0.subject == caseId.uuidString.lowercased() && $0.source == "/samenplan/volunteers" })
        }
    }

    @Test func theCaseConsultationMeetsOnItsRhythmWithItsAgenda() async throws {
        let clock = ManualWallClock(Self.start)
        try await withVolunteers(clock: clock) { environment, client in
            let desk = try await Desk(environment, client)
            #expect(try await desk.register("vol-anna", certificate: "2026-10-01").status == .created)
            // Raised 13 and 15 days before the meeting on 2026-12-07, and one in another area.
            let meeting = CalendarDateText.instant("2026-12-07")
            let recent = try await desk.raise(caseId: UUID(), manager: "fm-1", raisedAt: meeting.addingTimeInterval(-13 * Self.day))
            let waiting = try await desk.raise(caseId: UUID(), manager: "fm-1", raisedAt: meeting.addingTimeInterval(-15 * Self.day))
            _ = try await desk.raise(caseId: UUID(), manager: "fm-9", area: "goes", raisedAt: meeting.addingTimeInterval(-30 * Self.day))
            let matchedCase = UUID()
            let matched = try await desk.raise(caseId: matchedCase, manager: "fm-1", raisedAt: meeting.addingTimeInterval(-40 * Self.day))
            let proposal = try desk.json(try await desk.propose(matched, "vol-anna"))["id"]?.stringValue ?? ""
            let manager = try await environment.token(role: .familyManager, subject: "fm-1", areas: ["borsele"])
            let assignment = try desk.json(
                try await desk.call(.post, "/v1/proposals/\(proposal)/answer", manager, ["consent": true]))["assignmentId"]?.stringValue ?? ""
            #expect(try await desk.call(.post, "/v1/assignments/\(assignment)/concerns", manager, ["note": "Zorgen om oudste"]).status == .created)

            // The rhythm: 3–6 weeks.
            #expect(try await desk.call(.put, "/v1/areas/borsele/consultations", desk.coordinator, ["everyWeeks": 8, "firstOn": "2026-12-07"]).status == .badRequest)
            let set = try await desk.call(.put, "/v1/areas/borsele/consultations", desk.coordinator, ["everyWeeks": 4, "firstOn": "2026-12-07"])
            #expect(set.status == .ok)
            let consultationId = try #require(try desk.json(set)["next"]?["id"]?.stringValue)

            // The agenda: the family with a volunteer, the open concern, the request waiting 15 days.
            let outsider = try await environment.token(role: .familyManager, subject: "fm-9", areas: ["goes"])
            #expect(try await desk.call(.get, "/v1/consultations/\(consultationId)", outsider).status == .notFound)
            let agenda = try desk.json(try await desk.call(.get, "/v1/consultations/\(consultationId)", manager))["agenda"]
            #expect(agenda?["families"]?.arrayValue?.compactMap { $0["caseId"]?.stringValue } == [matchedCase.uuidString.lowercased()])
            #expect(agenda?["openConcerns"]?.arrayValue?.count == 1)
            #expect(agenda?["unmatchedRequests"]?.arrayValue?.compactMap { $0["helpRequestId"]?.stringValue } == [waiting])
            #expect(recent != waiting)

            // Minutes only afterwards.
            #expect(try await desk.call(.put, "/v1/consultations/\(consultationId)/minutes", desk.coordinator, ["minutes": "Besproken."]).status == .conflict)
            #expect(try await desk.published(.caseConsultationDue) == 0)
            try await desk.at(meeting, clock)
            #expect(try await desk.eventuallyPublished(.caseConsultationDue, 1))
            try await desk.at(meeting.addingTimeInterval(Self.day), clock)
            #expect(try await desk.published(.caseConsultationDue) == 1)
            #expect(try await desk.call(.put, "/v1/consultations/\(consultationId)/minutes", desk.coordinator, ["minutes": "Besproken."]).status == .ok)
            // The next meeting, four weeks on, on the same durable timer.
            let list = try desk.json(try await desk.call(.get, "/v1/consultations?area=borsele", desk.coordinator))
            #expect(list["items"]?.arrayValue?.compactMap { $0["meetsOn"]?.stringValue } == ["2026-12-07", "2027-01-04"])
            try await desk.at(CalendarDateText.instant("2027-01-04"), clock)
            #expect(try await desk.eventuallyPublished(.caseConsultationDue, 2))
        }
    }
}

/// Runs one volunteers service on `clock`.
private func withVolunteers(
    clock: ManualWallClock, _ body: @Sendable (TestEnvironment, any TestClientProtocol) async throws -> Void
) async throws {
    try await TestEnvironment.with { environment in
        let app = try await ServiceRuntime.buildApplication(
            try Volunteers.definition(), configuration: try environment.configuration(for: "volunteers"), clock: clock)
        try await withRunningApplications([app]) { clients in try await body(environment, clients[0]) }
    }
}

/// A registration with the fixture's defaults: Borsele, homework, Dutch, practical help.
private func volunteer(
    _ id: String, areas: [String] = ["borsele"], skills: [String] = ["homework"], availability: [String] = [],
    kinds: [String] = ["practical"], consent: Bool = true, certificate: String? = nil, status: String = "active"
) -> [String: JSON] {
    var body: [String: JSON] = [
        "id": .string(id), "name": .string("Volunteer \(id)"), "email": .string("\(id)@example.nl"),
        "areas": .array(areas.map(JSON.string)), "skills": .array(skills.map(JSON.string)), "languages": ["nl"],
        "availability": .array(availability.map(JSON.string)), "helpKinds": .array(kinds.map(JSON.string)),
        "guideId": "coordinator-1", "consentGiven": .bool(consent), "status": .string(status),
    ]
    if let certificate { body["certificateIssuedOn"] = .string(certificate) }
    return body
}

extension Dictionary where Key == String, Value == JSON {
    fileprivate func merging(_ other: [String: JSON]) -> [String: JSON] { merging(other) { _, new in new } }
}

private enum CalendarDateText {
    /// 09:00 in the Netherlands on `date`: after the day's timers are due.
    static func instant(_ date: String) -> Date { Timestamp.parse("\(date)T09:00:00+01:00")! }
}

/// The coordinator's desk: calls, events published, the simulated clock.
private struct Desk: Sendable {
    let environment: TestEnvironment
    let client: any TestClientProtocol
    let coordinator: String

    init(_ environment: TestEnvironment, _ client: any TestClientProtocol) async throws {
        self.environment = environment
        self.client = client
        coordinator = try await environment.token(role: .volunteerCoordinator, subject: "coordinator-1")
    }

    func call(_ method: HTTPRequest.Method, _ path: String, _ token: String, _ json: JSON? = nil) async throws -> TestResponse {
        try await client.execute(
            uri: path, method: method, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
            body: try json.map { ByteBuffer(bytes: try JSONCoding.encoder.encode($0)) })
    }

    func json(_ response: TestResponse) throws -> JSON {
        try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))
    }

    func problems(_ response: TestResponse) throws -> [Problem.Item] {
        try JSONCoding.decoder.decode([Problem.Item].self, from: try JSONCoding.encoder.encode(json(response)["problems"] ?? []))
    }

    func register(
        _ id: String, areas: [String] = ["borsele"], certificate: String, availability: [String] = [],
        kinds: [String] = ["practical"]
    ) async throws -> TestResponse {
        try await call(
            .post, "/v1/volunteers", coordinator,
            .object(volunteer(id, areas: areas, availability: availability, kinds: kinds, certificate: certificate)))
    }

    func propose(_ requestId: String, _ volunteerId: String) async throws -> TestResponse {
        try await call(.post, "/v1/help-requests/\(requestId)/proposals", coordinator, ["volunteerId": .string(volunteerId)])
    }

    /// Publishes planning's `help-request.raised` and waits until the service has it.
    func raise(caseId: UUID, manager: String, area: String = "borsele", raisedAt: Date) async throws -> String {
        let requestId = UUID()
        let raised = HelpRequestRaised(
            helpRequestId: requestId, caseId: caseId, area: area, managerId: manager, kind: "practical", goalId: "g1",
            need: "Hulp bij huiswerk van Sam")
        let event = CloudEvent(
            source: EventSource.service("planning"), type: EventType.helpRequestRaised.rawValue, time: raisedAt,
            data: try JSON(encoding: raised))
        try await environment.withProducer { producer in
            try await producer.send(topic: Topic.planning, key: Array(caseId.uuidString.lowercased().utf8), value: try event.structuredBytes())
        }
        let id = requestId.uuidString.lowercased()
        let arrived = try await eventually(timeout: .seconds(60)) {
            try await call(.get, "/v1/help-requests/\(id)", coordinator).status == .ok
        }
        #expect(arrived)
        return id
    }

    func published(_ type: EventType) async throws -> Int {
        try await environment.withAdminClient { client in
            try await client.count("SELECT count(*) FROM volunteers.outbox WHERE event LIKE \("%\"type\":\"\(type.rawValue)\"%")")
        }
    }

    /// Whether `count` events of `type` are in the outbox within 60 s: a timer that is due fires
    /// at the poller's next look, which a busy machine may delay.
    func eventuallyPublished(_ type: EventType, _ count: Int) async throws -> Bool {
        try await eventually(timeout: .seconds(60)) { try await published(type) == count }
    }

    /// Moves time and waits for the timer poller to have looked twice.
    func at(_ instant: Date, _ clock: ManualWallClock) async throws {
        clock.set(instant)
        try await Task.sleep(for: .seconds(2.5))
    }
}

/// Intake, planning and volunteers together (issue 5, item 2): a help request raised in the
/// plan reaches the volunteer centre, every matching step comes back to planning over Kafka,
/// and the volunteer sees the family's first names, asked of intake over HTTP.
@Suite(.serialized) struct VolunteersWithPlanningTests {
    @Test func everyMatchingStepUpdatesThePlanAndTheVolunteerSeesOnlyFirstNames() async throws {
        try await TestEnvironment.with { environment in
            let intake = try await ServiceRuntime.buildApplication(
                try Intake.definition(), configuration: try environment.configuration(for: "intake"))
            // Intake listens on a real port: volunteers asks it for first names over HTTP.
            try await intake.test(.live) { intakeClient in
                #expect(try await eventually(timeout: .seconds(60)) {
                    try await intakeClient.execute(uri: "/health/ready", method: .get).status == .ok
                })
                let intakeURL = "http://127.0.0.1:\(try #require(intakeClient.port))"
                let apps: [any ApplicationProtocol] = [
                    try await ServiceRuntime.buildApplication(
                        try Planning.definition(), configuration: try environment.configuration(for: "planning")),
                    try await ServiceRuntime.buildApplication(
                        try Volunteers.definition(),
                        configuration: try environment.configuration(for: "volunteers", extra: ["VOLUNTEERS_INTAKE_URL": intakeURL])),
                ]
                try await withRunningApplications(apps) { clients in
                    let (planning, volunteers) = (clients[0], clients[1])
                    let opened = try await PlanningCase.open(environment, intake: intakeClient, planning: planning, referralId: "VT-VOL")
                    let plan: JSON = [
                        "currentSituation": "Moeder alleen met twee kinderen.", "concerns": [], "strengths": [], "talents": [],
                        "goals": [["id": "g0", "what": "Sanne gaat naar de voetbalclub", "dueOn": "2027-06-01", "responsible": ["kind": "volunteer", "who": "nog te vinden"]]],
                        "safetyAgreements": ["Bij ruzie belt moeder oma"],
                    ]
                    #expect(try await opened.call(.put, "/plan", opened.manager, ["plan": plan, "reason": "Start"], headers: [.ifNoneMatch: "*"]).status == .created)
                    #expect(try await opened.call(.post, "/plan/versions/1/decision", opened.lead, ["decision": "approve"]).status == .ok)
                    let raised = try await opened.call(
                        .post, "/help-requests", opened.manager, ["need": "Samen naar de voetbalclub", "goalId": "g0", "volunteer": "long-term"])
                    #expect(raised.status == .created)
                    let requestId = try #require(try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: raised.body))["id"]?.stringValue)

                    let desk = try await Desk(environment, volunteers)
                    #expect(try await desk.register("vol-anna", certificate: "2026-10-01", kinds: ["long-term"]).status == .created)
                    #expect(try await eventually(timeout: .seconds(60)) {
                        try await desk.call(.get, "/v1/help-requests/\(requestId)", desk.coordinator).status == .ok
                    })
                    @Sendable func planningStatus() async throws -> String? {
                        let list = try JSONCoding.decoder.decode(
                            JSON.self, from: Data(buffer: try await opened.call(.get, "/help-requests", opened.manager).body))
                        return list["items"]?.arrayValue?.first { $0["id"]?.stringValue == requestId }?["status"]?.stringValue
                    }

                    // Proposed: planning shows the family is being asked.
                    let proposal = try desk.json(try await desk.propose(requestId, "vol-anna"))["id"]?.stringValue ?? ""
                    #expect(try await eventually(timeout: .seconds(60)) { try await planningStatus() == "proposed" })
                    // Consent (the family's manager in volunteers): the goal has its volunteer in the plan.
                    let accepted = try desk.json(
                        try await desk.call(.post, "/v1/proposals/\(proposal)/answer", opened.manager, ["consent": true]))
                    let assignmentId = try #require(accepted["assignmentId"]?.stringValue)
                    #expect(try await eventually(timeout: .seconds(60)) { try await planningStatus() == "matched" })
                    let inPlan = try JSONCoding.decoder.decode(
                        JSON.self, from: Data(buffer: try await opened.call(.get, "/plan", opened.manager).body))
                    #expect(inPlan["goalVolunteers"] == [["goalId": "g0", "volunteerId": "vol-anna", "helpRequestId": .string(requestId)]])

                    // The volunteer sees the help request and the family's first names, nothing more.
                    let anna = try await environment.token(role: .volunteer, subject: "vol-anna")
                    let seen = try desk.json(try await desk.call(.get, "/v1/assignments/\(assignmentId)", anna))
                    #expect(seen["familyFirstNames"] == ["Eva", "Sanne"])
                    #expect(seen["helpRequest"]?["need"]?.stringValue == "Samen naar de voetbalclub")
                    #expect(seen["plan"] == nil && seen["reason"] == nil)
                    // Only the volunteers service reads first names from intake; a volunteer may not.
                    let direct = try await intakeClient.execute(
                        uri: "/v1/cases/\(opened.id)/first-names", method: .get, headers: [.authorization: "Bearer \(anna)"])
                    #expect(direct.status == .forbidden)
                    let intakeAudit = try await environment.withAdminClient { client in
                        try await client.count(
                            "SELECT count(*) FROM intake.audit_log WHERE resource_type = 'first-names' AND actor = 'volunteers' AND outcome = 'allowed'")
                    }
                    #expect(intakeAudit == 1)

                    // The end comes back too: the goal no longer has a volunteer.
                    #expect(try await desk.call(.post, "/v1/assignments/\(assignmentId)/end", opened.manager, ["reason": "goal-reached"]).status == .ok)
                    #expect(try await eventually(timeout: .seconds(60)) { try await planningStatus() == "ended" })
                    // Issue 18, finding 5: once the assignment has ended, the volunteer sees nothing
                    // of the family: no first names (intake is not even asked) and no need.
                    let afterwards = try desk.json(try await desk.call(.get, "/v1/assignments/\(assignmentId)", anna))
                    #expect(afterwards["familyFirstNames"] == .null)
                    #expect(afterwards["helpRequest"]?["need"] == nil && afterwards["helpRequest"]?["kind"] != nil)
                    let namesRead = try await environment.withAdminClient { client in
                        try await client.count(
                            "SELECT count(*) FROM intake.audit_log WHERE resource_type = 'first-names' AND actor = 'volunteers'")
                    }
                    #expect(namesRead == 1)
                }
            }
        }
    }
}
