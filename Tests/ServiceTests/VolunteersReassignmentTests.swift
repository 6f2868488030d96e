import Foundation
import Hummingbird
import HummingbirdTesting
import PlanningService
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanServer
import SamenplanTesting
import Testing
import VolunteersService

/// A family manager sees only the families assigned to them (DESIGN.md, HTTP), in the
/// volunteers service too: when intake moves a case to another manager, planning re-tells it
/// on its own topic (`case.manager-changed`) and the volunteers service moves the family's
/// help requests, and with them their assignments, to the new manager.
@Suite(.serialized) struct VolunteersReassignmentTests {
    @Test func aReassignedFamilysHelpRequestsAndAssignmentsMoveToTheNewManagerInVolunteers() async throws {
        try await TestEnvironment.with { environment in
            let apps: [any ApplicationProtocol] = [
                try await ServiceRuntime.buildApplication(
                    try Planning.definition(), configuration: try environment.configuration(for: "planning")),
                try await ServiceRuntime.buildApplication(
                    try Volunteers.definition(), configuration: try environment.configuration(for: "volunteers")),
            ]
            try await withRunningApplications(apps) { clients in
                let (planning, volunteers) = (clients[0], clients[1])
                let caseId = UUID()
                let key = caseId.uuidString.lowercased()
                let managerA = try await environment.token(role: .familyManager, subject: "fm-a")
                let managerB = try await environment.token(role: .familyManager, subject: "fm-b")
                let coordinator = try await environment.token(role: .volunteerCoordinator, subject: "coordinator-1")
                @Sendable func publish(_ events: [CloudEvent]) async throws {
                    try await environment.withProducer { producer in
                        for event in events {
                            try await producer.send(topic: Topic.intake, key: Array(key.utf8), value: try event.structuredBytes())
                        }
                    }
                }
                @Sendable func intakeEvent(_ type: EventType, _ payload: some Encodable & Sendable) throws -> CloudEvent {
                    try CloudEvent(source: EventSource.service("intake"), type: type, subject: key, payload: payload)
                }
                @Sendable func call(
                    _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ token: String,
                    _ json: JSON? = nil
                ) async throws -> TestResponse {
                    try await client.execute(
                        uri: path, method: method, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                        body: try json.map { ByteBuffer(bytes: try JSONCoding.encoder.encode($0)) })
                }
                @Sendable func body(_ response: TestResponse) throws -> JSON {
                    try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))
                }
                @Sendable func listed(_ path: String, _ token: String) async throws -> [String] {
                    try body(try await call(volunteers, .get, path, token))["items"]?.arrayValue?
                        .compactMap { $0["id"]?.stringValue } ?? []
                }

                // Intake's side, as intake publishes it: the case opens and waits in the queue.
                try await publish([
                    try intakeEvent(
                        .caseOpened,
                        CaseOpened(
                            caseId: caseId, familyId: UUID(), referralId: "VT-MOVE", framework: .voluntary,
                            urgency: .normal, area: "borsele", courtOrderEndsOn: nil, childCount: 1, openedAt: Date()))
                ])
                let admin = try await environment.token(role: .admin, subject: "admin-1")
                #expect(try await eventually { try await call(planning, .get, "/v1/cases/\(key)", admin).status == .ok })
                // An admin raises a help request before the case has a manager: volunteers keeps
                // it without one, so no family manager sees it yet.
                let early = try body(
                    try await call(
                        planning, .post, "/v1/cases/\(key)/help-requests", admin,
                        ["need": "Vervoer naar school", "volunteer": "practical"]))
                let earlyId = try #require(early["id"]?.stringValue)
                #expect(try await eventually { try await call(volunteers, .get, "/v1/help-requests/\(earlyId)", admin).status == .ok })
                #expect(try await call(volunteers, .get, "/v1/help-requests/\(earlyId)", managerA).status == .notFound)

                // fm-a becomes the case's first manager: the early request is theirs now.
                try await publish([
                    try intakeEvent(
                        .caseAssigned, CaseAssigned(caseId: caseId, managerId: "fm-a", area: "borsele", assignedAt: Date()))
                ])
                #expect(try await eventually { try await call(planning, .get, "/v1/cases/\(key)", managerA).status == .ok })
                #expect(try await eventually { try await call(volunteers, .get, "/v1/help-requests/\(earlyId)", managerA).status == .ok })

                // fm-a raises a help request in planning; the volunteers service has it for fm-a.
                let raised = try await call(
                    planning, .post, "/v1/cases/\(key)/help-requests", managerA,
                    ["need": "Hulp bij de administratie", "volunteer": "practical"])
                #expect(raised.status == .created)
                let requestId = try #require(try body(raised)["id"]?.stringValue)
                #expect(try await eventually { try await call(volunteers, .get, "/v1/help-requests/\(requestId)", managerA).status == .ok })

                // A volunteer works with the family, with the family's consent given through fm-a.
                let certificate = String(Timestamp.format(Date().addingTimeInterval(-10 * 24 * 3600)).prefix(10))
                let registration: JSON = [
                    "id": "vol-anna", "name": "Anna", "email": "anna@example.nl", "areas": ["borsele"],
                    "skills": ["administration"], "languages": ["nl"], "availability": [], "helpKinds": ["practical"],
                    "guideId": "coordinator-1", "consentGiven": true, "status": "active",
                    "certificateIssuedOn": .string(certificate),
                ]
                #expect(try await call(volunteers, .post, "/v1/volunteers", coordinator, registration).status == .created)
                let proposal = try body(
                    try await call(
                        volunteers, .post, "/v1/help-requests/\(requestId)/proposals", coordinator, ["volunteerId": "vol-anna"]))
                let proposalId = try #require(proposal["id"]?.stringValue)
                let consent = try body(
                    try await call(volunteers, .post, "/v1/proposals/\(proposalId)/answer", managerA, ["consent": true]))
                let assignmentId = try #require(consent["assignmentId"]?.stringValue)
                #expect(try await listed("/v1/assignments", managerA) == [assignmentId])
                #expect(try await listed("/v1/help-requests", managerB) == [])
                let both = [earlyId, requestId].sorted()

                // The team lead moves the family to fm-b: intake publishes case.assigned naming fm-a.
                let reassigned = try intakeEvent(
                    .caseAssigned,
                    CaseAssigned(
                        caseId: caseId, managerId: "fm-b", area: "borsele", assignedAt: Date(), previousManagerId: "fm-a"))
                try await publish([reassigned])
                #expect(try await eventually { try await call(volunteers, .get, "/v1/help-requests/\(requestId)", managerB).status == .ok })

                // fm-b sees the family's help request and assignment; fm-a no longer sees either.
                #expect(try await listed("/v1/help-requests", managerB).sorted() == both)
                #expect(try await listed("/v1/assignments", managerB) == [assignmentId])
                #expect(try await call(volunteers, .get, "/v1/assignments/\(assignmentId)", managerB).status == .ok)
                #expect(try await listed("/v1/help-requests", managerA) == [])
                #expect(try await call(volunteers, .get, "/v1/help-requests/\(requestId)", managerA).status == .notFound)
                #expect(try await listed("/v1/assignments", managerA) == [])
                #expect(try await call(volunteers, .get, "/v1/assignments/\(assignmentId)", managerA).status == .notFound)

                // Kafka delivers the reassignment again, and a copy under another id arrives: neither
                // changes the manager, so neither is re-told. The copy, handled after the redelivery
                // on the case's partition, shows planning is past both.
                let copy = try intakeEvent(
                    .caseAssigned,
                    CaseAssigned(
                        caseId: caseId, managerId: "fm-b", area: "borsele", assignedAt: Date(), previousManagerId: "fm-a"))
                try await publish([reassigned, copy])
                #expect(
                    try await eventually {
                        try await environment.withAdminClient { client in
                            try await client.count("SELECT count(*) FROM planning.inbox WHERE event_id = \(copy.id)")
                        } == 1
                    })
                let changes = try await publishedEvents(
                    .caseManagerChanged, by: "planning", on: Topic.planning, from: environment)
                // Two changes: the first assignment (the case had a help request) and the move.
                let told = try changes.map { try $0.data.decode(CaseManagerChanged.self) }
                #expect(told.map(\.caseId) == [caseId, caseId])
                #expect(told.map(\.managerId) == ["fm-a", "fm-b"])
                #expect(told.map(\.previousManagerId) == [nil, "fm-a"])
                #expect(changes.allSatisfy { $0.subject == key })
                #expect(try await listed("/v1/help-requests", managerB).sorted() == both)
            }
        }
    }
}
