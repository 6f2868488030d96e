import Foundation
import Logging
import NotificationsDomain
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage

/// Turns events into messages (issue 6): the rule book says who hears about an event and in
/// which words; each recipient's preferences say by which channels and when. One row per
/// message and channel in `deliveries`, unique per event, recipient and channel, so an
/// event delivered twice gives one message. A batch is handled set-based: its recipients
/// are read in one query and its messages written in one statement.
struct NotificationEventHandler: EventHandler {
    let rules: RuleBook
    let clock: any WallClock
    let digest: DigestSchedule
    /// Whether the suite has a default webhook (`NOTIFICATIONS_WEBHOOK_URL`).
    let defaultWebhook: Bool

    var handledTypes: Set<EventType> {
        rules.eventTypes.union([.managerRegistered, .volunteerRegistered, .volunteerStatusChanged])
    }

    func handle(_ event: CloudEvent, in context: EventContext) async throws {
        try await handle(batch: [ReceivedEvent(event: event, context: context)])
    }

    func handle(batch: [ReceivedEvent]) async throws {
        guard let context = batch.first?.context else { return }
        let connection = context.connection
        let logger = context.logger
        // Managers and volunteers become recipients as intake and the volunteers service
        // register them.
        for received in batch where received.event.type == EventType.managerRegistered.rawValue {
            let manager = try received.event.payload(as: ManagerRegistered.self)
            let changed = try await connection.query(
                """
                INSERT INTO recipients (id, role, areas) VALUES (\(manager.managerId), 'family-manager', \(manager.areas))
                ON CONFLICT (id) DO UPDATE SET role = 'family-manager', areas = excluded.areas, active = true, updated_at = now()
                WHERE recipients.role IS NULL OR recipients.role = 'family-manager'
                RETURNING 1
                """, logger: logger
            ).collect()
            if changed.isEmpty { Self.refused(received.event, id: manager.managerId, logger: logger) }
        }
        for received in batch
        where [EventType.volunteerRegistered.rawValue, EventType.volunteerStatusChanged.rawValue].contains(received.event.type) {
            try await syncVolunteer(received.event, on: connection, logger: logger)
        }
        let work = batch.flatMap { received in
            rules.rules(for: EventType(rawValue: received.event.type)).map { (event: received.event, rule: $0) }
        }
        guard !work.isEmpty else { return }

        // Everyone the batch's rules can name, in one query.
        var ids: Set<String> = []
        var roles: Set<Role> = []
        for (event, rule) in work {
            for selector in rule.recipients {
                switch selector {
                case .field: if let id = selector.recipientId(in: event.data) { ids.insert(id) }
                case .role(let role, _): roles.insert(role)
                }
            }
        }
        let known = try await Recipient.load(
            ids: ids, roles: roles, defaultWebhook: defaultWebhook, on: connection, logger: logger)
        let byId = Dictionary(known.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })

        let now = clock.now()
        var rows = DeliveryRows()
        var digestDue: Set<String> = []
        for (event, rule) in work {
            var rendered: [Language: RenderedMessage] = [:]
            for recipient in recipients(of: rule, for: event, known: known, byId: byId) {
                let message: RenderedMessage
                if let cached = rendered[recipient.language] {
                    message = cached
                } else {
                    message = try rules.render(rule, language: recipient.language, data: event.data)
                    rendered[recipient.language] = message
                }
                for planned in recipient.preferences.plan(rule.urgency, at: now, in: CalendarDate.netherlands) {
                    rows.append(
                        event: event, recipient: recipient.id, channel: planned.channel, urgency: rule.urgency,
                        message: message, timing: planned.timing, now: now)
                    if planned.timing == .digest { digestDue.insert(recipient.id) }
                }
            }
        }
        try await rows.insert(on: connection, logger: logger)
        // One digest timer per recipient; scheduling it again keeps the same next moment.
        let next = digest.next(after: now, in: CalendarDate.netherlands)
        try await Timers.schedule(
            digestDue.sorted().map { TimerEntry(kind: Digests.timerKind, subject: $0, dueAt: next) }, on: connection,
            logger: logger)
    }

    /// The recipients a rule names for an event, each once.
    private func recipients(of rule: NotificationRule, for event: CloudEvent, known: [Recipient], byId: [String: Recipient])
        -> [Recipient]
    {
        var chosen: [Recipient] = []
        var seen: Set<String> = []
        func add(_ recipient: Recipient) {
            if seen.insert(recipient.id).inserted { chosen.append(recipient) }
        }
        for selector in rule.recipients {
            switch selector {
            case .field:
                guard let id = selector.recipientId(in: event.data) else { continue }
                add(byId[id] ?? .unregistered(id))
            case .role(let role, _):
                // nil: the rule names no area, so everyone with the role; otherwise those
                // serving one of the event's areas.
                let areas = selector.areas(in: event.data).map { Set($0.map { $0.lowercased() }) }
                for recipient in known.sorted(by: { $0.id < $1.id }) where recipient.role == role {
                    if let areas, areas.isDisjoint(with: recipient.areas.map { $0.lowercased() }) { continue }
                    add(recipient)
                }
            }
        }
        return chosen
    }

    /// A volunteer's recipient follows the registry: the record with the highest sequence
    /// wins (VolunteerChanged), and only a volunteer's recipient (or one nobody has claimed
    /// yet) is changed, never a member of staff who happens to have the same id.
    private func syncVolunteer(_ event: CloudEvent, on connection: PostgresConnection, logger: Logger) async throws {
        let changed = try event.payload(as: VolunteerChanged.self)
        let exists = try await connection.query(
            """
            INSERT INTO recipients AS r (id, role, areas, active, status_sequence, status_at)
            VALUES (\(changed.volunteerId), 'volunteer', \(changed.areas), \(changed.status != "stopped"), \(changed.sequence), \(changed.at))
            ON CONFLICT (id) DO UPDATE SET
                role = 'volunteer', areas = excluded.areas, active = excluded.active,
                status_sequence = excluded.status_sequence, status_at = excluded.status_at, updated_at = now()
            WHERE (r.role IS NULL OR r.role = 'volunteer')
              AND (COALESCE(r.status_sequence, 0), COALESCE(r.status_at, '-infinity'))
                  <= (COALESCE(excluded.status_sequence, 0), excluded.status_at)
            RETURNING 1
            """, logger: logger
        ).collect()
        guard exists.isEmpty else { return }
        // Not changed: an older record of the volunteer (nothing to say), or someone else's id.
        let role = try await connection.query("SELECT role FROM recipients WHERE id = \(changed.volunteerId)", logger: logger)
            .collect().first?.decode(String?.self)
        if let role, role != Role.volunteer.rawValue { Self.refused(event, id: changed.volunteerId, logger: logger) }
    }

    /// An event that names, as its own, a recipient of another role: left alone and logged,
    /// because one service may never change whom another role's messages reach.
    private static func refused(_ event: CloudEvent, id: String, logger: Logger) {
        logger.warning(
            "An event names a recipient that belongs to another role; the recipient is left as it is",
            metadata: ["event.type": "\(event.type)", "event.id": "\(event.id)", "recipient": "\(id)"])
    }
}

/// The messages of a batch, as columns for one insert.
struct DeliveryRows {
    var ids: [UUID] = []
    var sources: [String] = []
    var eventIds: [String] = []
    var types: [String] = []
    var recipients: [String] = []
    var channels: [String] = []
    var urgencies: [String] = []
    var subjects: [String] = []
    var messages: [String] = []
    var bodies: [String] = []
    var statuses: [String] = []
    var notBefore: [Date] = []
    var eventTimes: [Date] = []

    mutating func append(
        event: CloudEvent, recipient: String, channel: DeliveryChannel, urgency: Urgency, message: RenderedMessage,
        timing: PlannedDelivery.Timing, now: Date
    ) {
        let id = UUID.random()
        ids.append(id)
        sources.append(event.source)
        eventIds.append(event.id)
        types.append(event.type)
        recipients.append(recipient)
        channels.append(channel.rawValue)
        urgencies.append(urgency.rawValue)
        subjects.append(message.subject)
        messages.append(message.body)
        bodies.append(WebhookMessage.body(deliveryId: id, recipient: recipient, event: event, urgency: urgency, message: message))
        eventTimes.append(event.time ?? now)
        switch timing {
        case .now:
            // The feed has it as soon as it is written.
            statuses.append(channel == .inApp ? "delivered" : "pending")
            notBefore.append(now)
        case .at(let moment):
            statuses.append("pending")
            notBefore.append(moment)
        case .digest:
            statuses.append("digest")
            notBefore.append(now)
        }
    }

    func insert(on connection: PostgresConnection, logger: Logger) async throws {
        guard !ids.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO deliveries (id, event_source, event_id, event_type, recipient_id, channel, urgency, subject, message,
                                    body, status, next_attempt_at, event_time, created_at, finished_at)
            SELECT id, source, event_id, type, recipient, channel, urgency, subject, message, body, status, not_before,
                   event_time, not_before, CASE WHEN status = 'delivered' THEN not_before END
            FROM unnest(\(ids)::uuid[], \(sources)::text[], \(eventIds)::text[], \(types)::text[], \(recipients)::text[],
                        \(channels)::text[], \(urgencies)::text[], \(subjects)::text[], \(messages)::text[], \(bodies)::text[],
                        \(statuses)::text[], \(notBefore)::timestamptz[], \(eventTimes)::timestamptz[])
                AS d(id, source, event_id, type, recipient, channel, urgency, subject, message, body, status, not_before, event_time)
            ON CONFLICT (event_source, event_id, recipient_id, channel) DO NOTHING
            """, logger: logger)
    }
}

/// What a webhook receives: the rendered message and the event's data (ids, codes and dates).
enum WebhookMessage {
    static func body(deliveryId: UUID, recipient: String, event: CloudEvent, urgency: Urgency, message: RenderedMessage)
        -> String
    {
        let body: JSON = .object([
            "deliveryId": .string(deliveryId.uuidString.lowercased()), "recipientId": .string(recipient),
            "eventType": .string(event.type), "eventId": .string(event.id), "urgency": .string(urgency.rawValue),
            "subject": .string(message.subject), "body": .string(message.body), "data": event.data,
        ])
        return String(decoding: (try? JSONCoding.encoder.encode(body)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
