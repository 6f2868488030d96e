import Foundation
import Hummingbird
import HummingbirdTesting
import IntakeService
import NIOCore
import NotificationsService
import PlanningService
import PostgresNIO
import ReportingService
import SamenplanDomain
import SamenplanKafka
import SamenplanServer
import SamenplanTesting
import Testing
import VolunteersService

/// One referral end to end, through Kafka and PostgreSQL, in all five services.
@Suite(.serialized) struct ReferralFlowTests {
    @Test func referralTravelsThroughAllFiveServices() async throws {
        try await TestEnvironment.with { environment in
            let receiver = RecordingReceiver()
            try await receiver.run { receiverURL in
                let apps: [any ApplicationProtocol] = [
                    try await ServiceRuntime.buildApplication(
                        try Intake.definition(), configuration: try environment.configuration(for: "intake")),
                    try await ServiceRuntime.buildApplication(
                        try Planning.definition(), configuration: try environment.configuration(for: "planning")),
                    try await ServiceRuntime.buildApplication(
                        try Volunteers.definition(), configuration: try environment.configuration(for: "volunteers")),
                    try await ServiceRuntime.buildApplication(
                        try Notifications.definition(),
                        configuration: try environment.configuration(
                            for: "notifications", extra: ["NOTIFICATIONS_WEBHOOK_URL": receiverURL + "/hook"])),
                    try await ServiceRuntime.buildApplication(
                        try Reporting.definition(), configuration: try environment.configuration(for: "reporting")),
                ]
                try await withRunningApplications(apps) { clients in
                    let (intake, planning, reporting) = (clients[0], clients[1], clients[4])
                    let admin = try await environment.token(role: .admin)
                    try await registerManager(intake, token: admin, id: "fm-anna", areas: ["borsele"], maxCaseload: 10)

                    try await environment.withProducer { producer in
                        try await producer.send(
                            topic: Topic.referrals, key: Array("family-1".utf8),
                            value: try referralEvent(referralId: "VT-2026-000123").structuredBytes())
                    }

                    // Planning serves the case in phase connect, to its family manager.
                    let caseId = try #require(try await openedCaseId(environment, referralId: "VT-2026-000123"))
                    let managerToken = try await environment.token(role: .familyManager, subject: "fm-anna")
                    let caseBody = try #require(
                        try await eventuallyValue { () -> JSON? in
                            let response = try await planning.execute(
                                uri: "/v1/cases/\(caseId)", method: .get, headers: [.authorization: "Bearer \(managerToken)"])
                            guard response.status == .ok else { return nil }
                            let body = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))
                            return body["managerId"]?.stringValue == "fm-anna" ? body : nil
                        })
                    #expect(caseBody["phase"]?.stringValue == "connect")
                    #expect(caseBody["area"]?.stringValue == "borsele")

                    // The caseload report counts it by area, phase and manager.
                    let analyst = try await environment.token(role: .analyst)
                    #expect(
                        try await eventually {
                            let response = try await reporting.execute(
                                uri: "/v1/reports/caseload", method: .get, headers: [.authorization: "Bearer \(analyst)"])
                            let report = try JSONCoding.decoder.decode(JSON.self, from: Data(buffer: response.body))
                            return report["byAreaAndPhase"] == .array([
                                .object(["area": .string("borsele"), "phase": .string("connect"), "openCases": .number(1)])
                            ]) && report["byManager"] == .array([.object(["managerId": .string("fm-anna"), "openCases": .number(1)])])
                        })

                    // The manager hears of the new family once, by a signed webhook.
                    #expect(try await eventually { receiver.requests.count == 1 })
                    try await Task.sleep(for: .milliseconds(500))
                    let requests = receiver.requests
                    #expect(requests.count == 1)
                    let request = try #require(requests.first)
                    let signature = try #require(request.headers["samenplan-signature"])
                    #expect(
                        WebhookSignature.verify(header: signature, body: request.body, secret: TestEnvironment.webhookSecret))
                    #expect(!WebhookSignature.verify(header: signature, body: request.body, secret: "another-secret-value"))
                    let message = try JSONCoding.decoder.decode(JSON.self, from: Data(request.body))
                    #expect(message["recipientId"]?.stringValue == "fm-anna")
                    #expect(message["data"]?["caseId"]?.stringValue?.lowercased() == caseId)
                    #expect(message["eventType"]?.stringValue == EventType.caseAssigned.rawValue)
                    #expect(request.headers["idempotency-key"] == message["deliveryId"]?.stringValue)
                }
            }
        }
    }
}

/// The id of the case intake opened for a referral, once it exists.
func openedCaseId(
    _ environment: TestEnvironment, referralId: String, timeout: Duration = .seconds(60)
) async throws -> String? {
    try await eventuallyValue(timeout: timeout) {
        try await environment.withAdminClient { client in
            try await client.query("SELECT case_id FROM intake.referrals WHERE referral_id = \(referralId)")
                .collect().first?.decode(UUID.self).uuidString.lowercased()
        }
    }
}

func registerManager(
    _ intake: any TestClientProtocol, token: String, id: String, areas: [String], maxCaseload: Int
) async throws {
    let body = try JSONCoding.encoder.encode(
        JSON.object([
            "id": .string(id), "displayName": .string("Manager \(id)"), "areas": .array(areas.map(JSON.string)),
            "maxCaseload": .number(Double(maxCaseload)),
        ]))
    let response = try await intake.execute(
        uri: "/v1/managers", method: .post,
        headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
        body: ByteBuffer(bytes: body))
    #expect(response.status == .created)
}
