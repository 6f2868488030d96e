import Foundation
import Logging
import NotificationsDomain
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage

/// The daily digest (issue 6, item 4): non-urgent e-mail and webhook messages of a
/// recipient who chose a digest wait (`status = 'digest'`); once a day, at
/// `NOTIFICATIONS_DIGEST_AT`, a durable timer per recipient bundles them into one message
/// per channel. The digest is itself a delivery (source `/samenplan/notifications/digest`,
/// id `<recipient>/<date>`), so it goes out once, however often the timer fires.
struct Digests: TimerHandler {
    static let timerKind = "digest"
    static let source = "/samenplan/notifications/digest"
    let rules: RuleBook

    var kinds: Set<String> { [Self.timerKind] }

    func fire(_ timer: DueTimer, in context: EventContext) async throws {
        let connection = context.connection
        let recipientId = timer.subject
        let language =
            try await connection.query("SELECT language FROM recipients WHERE id = \(recipientId)", logger: context.logger)
            .collect().first.map { Language(rawValue: try $0.decode(String.self)) ?? .nl } ?? .nl
        var waiting: [String: [(UUID, RenderedMessage)]] = [:]
        for try await (id, channel, subject, message) in try await connection.query(
            """
            SELECT id, channel, subject, message FROM deliveries
            WHERE recipient_id = \(recipientId) AND status = 'digest' ORDER BY created_at, id FOR UPDATE
            """, logger: context.logger
        ).decode((UUID, String, String, String).self) {
            waiting[channel, default: []].append((id, RenderedMessage(subject: subject, body: message)))
        }
        let date = CalendarDate(timer.dueAt, in: CalendarDate.netherlands).description
        for (channel, items) in waiting.sorted(by: { $0.key < $1.key }) {
            let digest = rules.renderDigest(language: language, messages: items.map(\.1), date: date)
            let id = UUID.random()
            let eventId = "\(recipientId)/\(date)"
            let body = String(
                decoding: try JSONCoding.encoder.encode(
                    JSON.object([
                        "deliveryId": .string(id.uuidString.lowercased()), "recipientId": .string(recipientId),
                        "eventType": "digest", "eventId": .string(eventId), "urgency": "normal",
                        "subject": .string(digest.subject), "body": .string(digest.body),
                        "data": .object(["date": .string(date), "messages": .number(Double(items.count))]),
                    ])), as: UTF8.self)
            let inserted = try await connection.query(
                """
                INSERT INTO deliveries (id, event_source, event_id, event_type, recipient_id, channel, urgency, subject, message,
                                        body, status, next_attempt_at, event_time, created_at)
                VALUES (\(id), \(Self.source), \(eventId), 'digest', \(recipientId), \(channel), 'normal', \(digest.subject),
                        \(digest.body), \(body), 'pending', \(timer.dueAt), \(timer.dueAt), \(timer.dueAt))
                ON CONFLICT (event_source, event_id, recipient_id, channel) DO NOTHING RETURNING id
                """, logger: context.logger
            ).collect()
            guard !inserted.isEmpty else { continue }
            try await connection.query(
                "UPDATE deliveries SET status = 'bundled', bundled_into = \(id), finished_at = \(timer.dueAt) WHERE id = ANY(\(items.map(\.0))::uuid[])",
                logger: context.logger)
        }
    }
}
