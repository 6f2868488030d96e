import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage
import ServiceLifecycle

/// Sends due webhook messages and records every attempt.
///
/// Each message carries `Idempotency-Key: <delivery id>`: a receiver that sees the same key
/// twice (after a crash between sending and recording, the send is repeated) keeps one.
/// Failures are retried with exponential backoff and jitter, up to `maxAttempts`; then the
/// message is marked failed. Outcomes are emitted on `samenplan.notifications.v1`.
struct WebhookSender: Service {
    let database: Database
    let logger: Logger
    let defaultURL: String?
    let secret: String
    let maxAttempts: Int
    let source: String
    let pollInterval: Duration = .milliseconds(200)
    let httpClient = HTTPClient.shared

    func run() async throws {
        var backoff = Backoff(maximum: .seconds(10))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // Unstructured, so a shutdown lets the batch in flight be recorded.
                let sent = try await Task { try await sendDueBatch() }.value
                backoff.reset()
                if sent == 0 { try? await Task.sleep(for: pollInterval) }
            } catch {
                logger.warning("webhook sender paused", metadata: ["error": "\(error)"])
                try? await backoff.wait()
            }
        }
    }

    /// Claims due messages (several replicas may run: `SKIP LOCKED`), sends each, records.
    func sendDueBatch() async throws -> Int {
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                SELECT d.id, d.recipient_id, d.event_type, d.body, d.attempts, r.webhook_url
                FROM deliveries d LEFT JOIN recipients r ON r.id = d.recipient_id
                WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                ORDER BY d.next_attempt_at LIMIT 20
                FOR UPDATE OF d SKIP LOCKED
                """, logger: logger
            ).collect()
            for row in rows {
                let (id, recipient, eventType, body, attempts, url) =
                    try row.decode((UUID, String, String, String, Int, String?).self)
                let attempt = attempts + 1
                let result = await send(body: body, deliveryId: id, to: url ?? defaultURL)
                try await record(
                    result, deliveryId: id, attempt: attempt, recipient: recipient, eventType: eventType, on: connection)
            }
            return rows.count
        }
    }

    enum SendResult {
        case delivered(status: Int)
        case failed(status: Int?, error: String)
        case noChannel
    }

    func send(body: String, deliveryId: UUID, to url: String?) async -> SendResult {
        guard let url else { return .noChannel }
        let bytes = Array(body.utf8)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: deliveryId.uuidString.lowercased())
        request.headers.add(
            name: WebhookSignature.header,
            value: WebhookSignature.sign(body: bytes, timestamp: Int(Date().timeIntervalSince1970), secret: secret))
        request.body = .bytes(ByteBuffer(bytes: bytes))
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(5))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            return (200..<300).contains(status)
                ? .delivered(status: status) : .failed(status: status, error: "HTTP \(status)")
        } catch {
            return .failed(status: nil, error: "\(error)")
        }
    }

    private func record(
        _ result: SendResult, deliveryId: UUID, attempt: Int, recipient: String, eventType: String,
        on connection: PostgresConnection
    ) async throws {
        let outcome: String
        var status: Int?
        var error: String?
        switch result {
        case .delivered(let code):
            outcome = "delivered"
            status = code
        case .failed(let code, let message):
            outcome = "failed"
            status = code
            error = String(message.prefix(500))
        case .noChannel:
            outcome = "no-channel"
            error = "the recipient has no webhook and no default is configured"
        }
        try await connection.query(
            """
            INSERT INTO delivery_attempts (delivery_id, attempt, outcome, http_status, error)
            VALUES (\(deliveryId), \(attempt), \(outcome), \(status), \(error))
            """, logger: logger)

        let finalStatus: String?
        switch result {
        case .delivered: finalStatus = "delivered"
        case .noChannel: finalStatus = "failed"
        case .failed: finalStatus = attempt >= maxAttempts ? "failed" : nil
        }
        guard let finalStatus else {
            // Exponential backoff with jitter: about 1 s, 2 s, 4 s … capped at 10 minutes.
            let ceiling = min(600.0, pow(2.0, Double(attempt - 1)))
            let delay = Double.random(in: (ceiling / 2)...ceiling)
            try await connection.query(
                """
                UPDATE deliveries SET attempts = \(attempt), next_attempt_at = now() + make_interval(secs => \(delay))
                WHERE id = \(deliveryId)
                """, logger: logger)
            return
        }
        try await connection.query(
            """
            UPDATE deliveries SET attempts = \(attempt), status = \(finalStatus), finished_at = now() WHERE id = \(deliveryId)
            """, logger: logger)
        let outcomeEvent = NotificationOutcome(
            deliveryId: deliveryId, recipientId: recipient, channel: "webhook", eventType: eventType, attempts: attempt,
            at: Date())
        let event = try CloudEvent(
            source: source, type: finalStatus == "delivered" ? .notificationDelivered : .notificationFailed,
            subject: deliveryId.uuidString.lowercased(), payload: outcomeEvent)
        try await Outbox.enqueue(
            event, topic: Topic.notifications, key: deliveryId.uuidString.lowercased(), on: connection, logger: logger)
    }
}
