import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage
import ServiceLifecycle

/// Sends due e-mail and webhook messages and records every attempt (issue 6, item 3).
///
/// A sender claims a batch of due messages for 60 s (`claimed_until`, `SKIP LOCKED`, so
/// replicas share the work), commits, sends them concurrently, then records every outcome in
/// one transaction. A crash between sending and recording leaves the claim to run out, and
/// the message is sent again with the same idempotency key (the delivery id: the webhook's
/// `Idempotency-Key` header, the e-mail's `Message-ID`), which the receiver uses to keep one.
/// Failures are retried with exponential backoff and jitter up to `maxAttempts`; then the
/// message is marked failed. Outcomes are published on `samenplan.notifications.v1`.
struct DeliverySender: Service {
    let database: Database
    let logger: Logger
    let clock: any WallClock
    let webhook: WebhookChannel
    let mailer: SMTPMailer?
    let maxAttempts: Int
    let source: String
    let batchSize = 200
    let concurrency = 64
    let claim: TimeInterval = 60
    // An idle poll is one index probe on the pending messages; short, so a message waits little.
    let pollInterval: Duration = .milliseconds(25)

    func run() async throws {
        var backoff = Backoff(maximum: .seconds(10))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // Unstructured, so a shutdown lets the batch in flight be recorded.
                let sent = try await Task { try await sendDueBatch() }.value
                backoff.reset()
                if sent == 0 { try? await Task.sleep(for: pollInterval) }
            } catch {
                logger.warning("delivery sender paused", metadata: ["error": "\(error)"])
                try? await backoff.wait()
            }
        }
    }

    struct Due: Sendable {
        var id: UUID
        var recipient: String
        var eventType: String
        var channel: String
        var subject: String
        var message: String
        var body: String
        var attempts: Int
        var email: String?
        var webhookUrl: String?
    }

    /// Claims, sends and records one batch; the number of messages it handled.
    func sendDueBatch() async throws -> Int {
        let now = clock.now()
        let due = try await database.transaction { connection -> [Due] in
            try await connection.query(
                """
                UPDATE deliveries d SET claimed_until = \(now.addingTimeInterval(claim))
                FROM (SELECT id FROM deliveries
                      WHERE status = 'pending' AND next_attempt_at <= \(now) AND (claimed_until IS NULL OR claimed_until < \(now))
                      ORDER BY next_attempt_at LIMIT \(batchSize) FOR UPDATE SKIP LOCKED) AS c
                WHERE d.id = c.id
                RETURNING d.id, d.recipient_id, d.event_type, d.channel, d.subject, d.message, d.body, d.attempts,
                          (SELECT r.email FROM recipients r WHERE r.id = d.recipient_id),
                          (SELECT r.webhook_url FROM recipients r WHERE r.id = d.recipient_id)
                """, logger: logger
            ).collect().map {
                let (id, recipient, type, channel, subject, message, body, attempts, email, url) = try $0.decode(
                    (UUID, String, String, String, String, String, String, Int, String?, String?).self)
                return Due(
                    id: id, recipient: recipient, eventType: type, channel: channel, subject: subject, message: message,
                    body: body, attempts: attempts, email: email, webhookUrl: url)
            }
        }
        guard !due.isEmpty else { return 0 }
        let results = await withTaskGroup(of: (Int, SendResult).self) { group -> [SendResult] in
            var results = [SendResult](repeating: .noChannel(""), count: due.count)
            var next = 0
            func start() {
                let index = next
                let message = due[index]
                next += 1
                group.addTask { (index, await send(message)) }
            }
            while next < min(concurrency, due.count) { start() }
            for await (index, result) in group {
                results[index] = result
                if next < due.count { start() }
            }
            return results
        }
        try await database.transaction { connection in
            try await record(zip(due, results).map { $0 }, at: clock.now(), on: connection)
        }
        return due.count
    }

    enum SendResult: Sendable {
        case delivered(status: Int?)
        case failed(status: Int?, error: String, permanent: Bool)
        case noChannel(String)
    }

    func send(_ message: Due) async -> SendResult {
        switch message.channel {
        case "webhook":
            return await webhook.send(body: message.body, deliveryId: message.id, to: message.webhookUrl)
        case "email":
            guard let mailer else { return .noChannel("no SMTP server is configured (NOTIFICATIONS_SMTP_URL)") }
            guard let address = message.email else { return .noChannel("the recipient has no e-mail address") }
            do {
                try await mailer.send(
                    MailMessage(
                        to: address, subject: message.subject, body: message.message,
                        messageId: message.id.uuidString.lowercased()))
                return .delivered(status: nil)
            } catch {
                return .failed(status: nil, error: error.message, permanent: error.isPermanent)
            }
        default:
            return .noChannel("unknown channel \(message.channel)")
        }
    }

    /// Every attempt, the messages' new state and the outcome events, in one transaction.
    private func record(_ outcomes: [(Due, SendResult)], at now: Date, on connection: PostgresConnection) async throws {
        var attempts = AttemptRows()
        var events: [OutboxEntry] = []
        for (message, result) in outcomes {
            let attempt = message.attempts + 1
            var final: String?
            var retryAt: Date?
            switch result {
            case .delivered(let status):
                attempts.append(message.id, attempt, "delivered", status, nil)
                final = "delivered"
            case .noChannel(let reason):
                attempts.append(message.id, attempt, "no-channel", nil, reason)
                final = "failed"
            case .failed(let status, let error, let permanent):
                attempts.append(message.id, attempt, "failed", status, String(error.prefix(500)))
                if permanent || attempt >= maxAttempts {
                    final = "failed"
                } else {
                    // Exponential backoff with jitter: about 1 s, 2 s, 4 s … capped at 10 minutes.
                    let ceiling = min(600.0, pow(2.0, Double(attempt - 1)))
                    retryAt = now.addingTimeInterval(Double.random(in: (ceiling / 2)...ceiling))
                }
            }
            attempts.finish(message.id, attempt, status: final ?? "pending", retryAt: retryAt ?? now)
            if let final {
                let outcome = NotificationOutcome(
                    deliveryId: message.id, recipientId: message.recipient, channel: message.channel,
                    eventType: message.eventType, attempts: attempt, at: now)
                events.append(
                    try OutboxEntry(
                        StructuredEvent(
                            source: source, type: final == "delivered" ? .notificationDelivered : .notificationFailed,
                            subject: message.id.uuidString.lowercased(), traceparent: nil, data: outcome),
                        topic: Topic.notifications, key: message.id.uuidString.lowercased()))
            }
        }
        try await attempts.write(at: now, on: connection, logger: logger)
        try await Outbox.enqueue(events, on: connection, logger: logger)
    }
}

/// A batch's attempts and the messages' new state, as columns.
struct AttemptRows {
    var ids: [UUID] = []
    var numbers: [Int] = []
    var outcomes: [String] = []
    var statuses: [Int?] = []
    var errors: [String?] = []
    var finalStatus: [String] = []
    var retryAt: [Date] = []

    mutating func append(_ id: UUID, _ attempt: Int, _ outcome: String, _ status: Int?, _ error: String?) {
        ids.append(id)
        numbers.append(attempt)
        outcomes.append(outcome)
        statuses.append(status)
        errors.append(error)
    }

    mutating func finish(_ id: UUID, _ attempt: Int, status: String, retryAt moment: Date) {
        finalStatus.append(status)
        retryAt.append(moment)
    }

    func write(at now: Date, on connection: PostgresConnection, logger: Logger) async throws {
        guard !ids.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO delivery_attempts (delivery_id, attempt, at, outcome, http_status, error)
            SELECT id, attempt, \(now), outcome, NULLIF(status, -1), NULLIF(error, '')
            FROM unnest(\(ids)::uuid[], \(numbers)::int[], \(outcomes)::text[], \(statuses.map { $0 ?? -1 })::int[],
                        \(errors.map { $0 ?? "" })::text[]) AS a(id, attempt, outcome, status, error)
            ON CONFLICT DO NOTHING
            """, logger: logger)
        try await connection.query(
            """
            UPDATE deliveries d SET attempts = u.attempt, status = u.status, next_attempt_at = u.retry_at,
                claimed_until = NULL, finished_at = CASE WHEN u.status = 'pending' THEN NULL ELSE \(now) END
            FROM unnest(\(ids)::uuid[], \(numbers)::int[], \(finalStatus)::text[], \(retryAt)::timestamptz[])
                AS u(id, attempt, status, retry_at)
            WHERE d.id = u.id
            """, logger: logger)
    }
}
