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

/// A family is shown only to whom may see it, and every look is audited.
@Suite(.serialized) struct PlanningAccessTests {
    @Test func aCaseIsShownToItsManagerAndTheTeamLeadOfItsAreaOnly() async throws {
        try await TestEnvironment.with { environment in
            try await withIntakeAndPlanning(environment) { intake, planning in
                let admin = try await environment.token(role: .admin)
                try await registerManager(intake, token: admin, id: "fm-borsele", areas: ["borsele"], maxCaseload: 5)
                try await environment.withProducer { producer in
                    try await producer.send(
                        topic: Topic.referrals, key: nil,
                        value: try referralEvent(referralId: "VT-ACCESS", area: "borsele").structuredBytes())
                }
                let caseId = try #require(try await openedCaseId(environment, referralId: "VT-ACCESS"))

                let status: @Sendable (String) async throws -> HTTPResponse.Status = { token in
                    try await planning.execute(
                        uri: "/v1/cases/\(caseId)", method: .get, headers: [.authorization: "Bearer \(token)"]
                    ).status
                }
                let own = try await environment.token(role: .familyManager, subject: "fm-borsele")
                #expect(try await eventually { try await status(own) == .ok })
                #expect(try await status(try await environment.token(role: .familyManager, subject: "fm-other")) == .notFound)
                #expect(try await status(try await environment.token(role: .teamLead, areas: ["borsele"])) == .ok)
                #expect(try await status(try await environment.token(role: .teamLead, areas: ["goes"])) == .notFound)
                #expect(try await status(try await environment.token(role: .analyst)) == .forbidden)
                #expect(try await status(try await environment.token(role: .volunteer)) == .forbidden)
                #expect(
                    try await planning.execute(uri: "/v1/cases/\(caseId)", method: .get).status == .unauthorized)

                // Reads and refusals of the family's case are in the audit log.
                let audited = try await environment.withAdminClient { client in
                    try await client.query(
                        "SELECT actor, outcome FROM planning.audit_log WHERE case_id = \(UUID(uuidString: caseId)!) ORDER BY id"
                    ).collect().map { try $0.decode((String, String).self) }
                }
                #expect(audited.contains { $0 == ("fm-borsele", "allowed") })
                #expect(audited.contains { $0 == ("fm-other", "denied") })
                #expect(audited.filter { $0.1 == "allowed" }.count >= 2)
            }
        }
    }
}

/// Intake and planning running against the test environment, with their HTTP clients.
func withIntakeAndPlanning(
    _ environment: TestEnvironment,
    _ body: @Sendable (_ intake: any TestClientProtocol, _ planning: any TestClientProtocol) async throws -> Void
) async throws {
    let apps: [any ApplicationProtocol] = [
        try await ServiceRuntime.buildApplication(
            try Intake.definition(), configuration: try environment.configuration(for: "intake")),
        try await ServiceRuntime.buildApplication(
            try Planning.definition(), configuration: try environment.configuration(for: "planning")),
    ]
    try await withRunningApplications(apps) { clients in try await body(clients[0], clients[1]) }
}

/// One family's case in planning, opened through intake (area `borsele`, manager
/// `fm-borsele`), and a way to call planning's routes about it.
struct PlanningCase: Sendable {
    let id: String
    let planning: any TestClientProtocol
    let manager: String
    let lead: String

    /// Registers the manager, publishes a referral and waits until planning shows the case
    /// to its manager (it has consumed intake's case.opened and case.assigned).
    static func open(
        _ environment: TestEnvironment, intake: any TestClientProtocol, planning: any TestClientProtocol,
        referralId: String
    ) async throws -> PlanningCase {
        try await registerManager(
            intake, token: try await environment.token(role: .admin), id: "fm-borsele", areas: ["borsele"], maxCaseload: 5)
        try await environment.withProducer { producer in
            try await producer.send(
                topic: Topic.referrals, key: nil,
                value: try referralEvent(referralId: referralId, area: "borsele").structuredBytes())
        }
        let id = try #require(try await openedCaseId(environment, referralId: referralId))
        let opened = PlanningCase(
            id: id, planning: planning,
            manager: try await environment.token(role: .familyManager, subject: "fm-borsele"),
            lead: try await environment.token(role: .teamLead, subject: "tl-borsele", areas: ["borsele"]))
        // Generous: with two planning processes their consumer group rebalances first.
        #expect(try await eventually(timeout: .seconds(60)) { try await opened.call(.get, "", opened.manager).status == .ok })
        return opened
    }

    /// `method` on `/v1/cases/{id}<path>` with `token` and an optional JSON body.
    func call(
        _ method: HTTPRequest.Method, _ path: String, _ token: String, _ json: JSON? = nil, headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
        headers.append(contentsOf: extra)
        return try await planning.execute(
            uri: "/v1/cases/\(id)\(path)", method: method, headers: headers,
            body: try json.map { ByteBuffer(bytes: try JSONCoding.encoder.encode($0)) })
    }
}
