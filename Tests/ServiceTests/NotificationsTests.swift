import Foundation
import Hummingbird
import HummingbirdTesting
import NotificationsService
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanServer
import SamenplanTesting
import Testing

/// Webhook delivery: signed, retried with backoff, every attempt recorded, one message per
/// event and recipient however often the event arrives.
@Suite(.serialized) struct NotificationsTests {
    @Test func failedWebhookIsRetriedAndEveryAttemptIsRecorded() async throws {
        try await TestEnvironment.with { environment in
            let receiver = RecordingReceiver()
            receiver.answer([.internalServerError, .serviceUnavailable])
            try await receiver.run { url in
                let app = try await ServiceRuntime.buildApplication(
                    try Notifications.definition(),
                    configuration: try environment.configuration(
                        for: "notifications", extra: ["NOTIFICATIONS_WEBHOOK_URL": url + "/hook"]))
                try await withRunningApplications([app]) { _ in
                    let caseId = UUID()
                    let assigned = try CloudEvent(
                        source: EventSource.service("intake"), type: .caseAssigned, subject: caseId.uuidString,
                        payload: CaseAssigned(caseId: caseId, managerId: "fm-1", area: "borsele", assignedAt: Date()))
                    let bytes = try assigned.structuredBytes()
                    try await environment.withProducer { producer in
                        // Delivered twice, as Kafka may: still one message.
                        for _ in 0..<2 {
                            try await producer.send(topic: Topic.intake, key: Array(caseId.uuidString.utf8), value: bytes)
                        }
                    }
                    let delivered = try await eventually(timeout: .seconds(60)) {
                        try await environment.withAdminClient {
                            try await $0.count("SELECT count(*) FROM notifications.deliveries WHERE status = 'delivered'")
                        } == 1
                    }
                    #expect(delivered)
                    let attempts = try await environment.withAdminClient { client in
                        try await client.query(
                            "SELECT outcome, http_status FROM notifications.delivery_attempts ORDER BY attempt"
                        ).collect().map { try $0.decode((String, Int?).self) }
                    }
                    #expect(attempts.map(\.0) == ["failed", "failed", "delivered"])
                    #expect(attempts.map(\.1) == [500, 503, 200])
                    #expect(receiver.requests.count == 3)
                    // The same idempotency key on every attempt, so the receiver can keep one.
                    #expect(Set(receiver.requests.compactMap { $0.headers["idempotency-key"] }).count == 1)
                    #expect(
                        try await environment.withAdminClient { try await $0.count("SELECT count(*) FROM notifications.deliveries") }
                            == 1)
                    // The outcome is announced for reporting.
                    let outcomes = try await readTopic(Topic.notifications, from: environment, atLeast: 1)
                    #expect(outcomes.first?.event?.type == EventType.notificationDelivered.rawValue)
                }
            }
        }
    }

    /// Issue 5, item 3: a volunteer's concern reaches the family's manager at once, with ids
    /// only; the concern's text stays in the volunteers service.
    @Test func aVolunteersConcernReachesTheFamilyManager() async throws {
        try await TestEnvironment.with { environment in
            let receiver = RecordingReceiver()
            try await receiver.run { url in
                let app = try await ServiceRuntime.buildApplication(
                    try Notifications.definition(),
                    configuration: try environment.configuration(
                        for: "notifications", extra: ["NOTIFICATIONS_WEBHOOK_URL": url + "/hook"]))
                try await withRunningApplications([app]) { _ in
                    let caseId = UUID()
                    let flagged = try CloudEvent(
                        source: EventSource.service("volunteers"), type: .volunteerConcernFlagged, subject: caseId.uuidString,
                        payload: VolunteerConcernFlagged(
                            concernId: UUID(), assignmentId: UUID(), caseId: caseId, managerId: "fm-7", volunteerId: "vol-anna",
                            raisedBy: "vol-anna", at: Date()))
                    try await environment.withProducer { producer in
                        try await producer.send(
                            topic: Topic.volunteers, key: Array(caseId.uuidString.utf8), value: try flagged.structuredBytes())
                    }
                    #expect(try await eventually(timeout: .seconds(60)) { receiver.requests.count == 1 })
                    let message = try JSONCoding.decoder.decode(JSON.self, from: Data(receiver.requests[0].body))
                    #expect(message["recipientId"] == "fm-7")
                    #expect(message["eventType"]?.stringValue == EventType.volunteerConcernFlagged.rawValue)
                    #expect(message["urgency"] == "urgent")
                    #expect(message["data"]?["caseId"]?.stringValue == caseId.uuidString)
                    #expect(message["subject"]?.stringValue?.isEmpty == false)
                }
            }
        }
    }

    /// Issue 19, item 10: two notification processes send at once, and each message reaches
    /// the receiver exactly once (the senders claim messages; a claim keeps the other off).
    @Test func twoSendersDeliverEachMessageOnce() async throws {
        try await TestEnvironment.with(partitions: 4) { environment in
            let receiver = RecordingReceiver()
            try await receiver.run { url in
                let apps: [any ApplicationProtocol] = try await (0..<2).asyncMap { _ in
                    try await ServiceRuntime.buildApplication(
                        try Notifications.definition(),
                        configuration: try environment.configuration(
                            for: "notifications", extra: ["NOTIFICATIONS_WEBHOOK_URL": url + "/hook"]))
                }
                try await withRunningApplications(apps) { _ in
                    let cases = (0..<40).map { _ in UUID() }
                    try await environment.withProducer { producer in
                        for caseId in cases {
                            let assigned = try CloudEvent(
                                source: EventSource.service("intake"), type: .caseAssigned, subject: caseId.uuidString,
                                payload: CaseAssigned(caseId: caseId, managerId: "fm-1", area: "borsele", assignedAt: Date()))
                            try await producer.send(topic: Topic.intake, key: Array(caseId.uuidString.utf8), value: try assigned.structuredBytes())
                        }
                    }
                    #expect(try await eventually(timeout: .seconds(90)) {
                        try await environment.withAdminClient {
                            try await $0.count("SELECT count(*) FROM notifications.deliveries WHERE status = 'delivered'")
                        } == cases.count
                    })
                    // A little longer, for a second copy a sender might still be sending.
                    try await Task.sleep(for: .seconds(2))
                    let keys = receiver.requests.compactMap { $0.headers["idempotency-key"] }
                    #expect(keys.count == cases.count, "\(keys.count) requests for \(cases.count) messages")
                    #expect(Set(keys).count == cases.count)
                }
            }
        }
    }

    @Test func webhookSignatureCoversTimestampAndBody() {
        let body = Array(#"{"caseId":"x"}"#.utf8)
        let header = WebhookSignature.sign(body: body, timestamp: 1_700_000_000, secret: "a-secret-of-16-chars")
        #expect(header.hasPrefix("t=1700000000,v1="))
        #expect(WebhookSignature.verify(header: header, body: body, secret: "a-secret-of-16-chars"))
        #expect(!WebhookSignature.verify(header: header, body: body + [32], secret: "a-secret-of-16-chars"))
        #expect(
            !WebhookSignature.verify(
                header: header.replacingOccurrences(of: "t=1700000000", with: "t=1700000001"), body: body,
                secret: "a-secret-of-16-chars"))
    }
}
