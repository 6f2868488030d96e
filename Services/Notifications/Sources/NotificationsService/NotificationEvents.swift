import Foundation
import SamenplanDomain
import SamenplanEventing

/// Turns events into messages: one row per recipient and channel, sent by `WebhookSender`.
struct NotificationEventHandler: EventHandler {
    var handledTypes: Set<EventType> { [.caseAssigned, .volunteerConcernFlagged] }

    func handle(_ event: CloudEvent, in context: EventContext) async throws {
        switch EventType(rawValue: event.type) {
        case .caseAssigned:
            // The assigned family manager hears about their new family.
            let assigned = try event.payload(as: CaseAssigned.self)
            try await enqueue(
                event: event, recipient: assigned.managerId,
                message: [
                    "kind": .string("new-family"),
                    "caseId": .string(assigned.caseId.uuidString.lowercased()),
                    "area": .string(assigned.area),
                ], in: context)
        case .volunteerConcernFlagged:
            // A volunteer's concern reaches the family's manager at once (issue 5, item 3).
            let concern = try event.payload(as: VolunteerConcernFlagged.self)
            guard let managerId = concern.managerId else { return }
            try await enqueue(
                event: event, recipient: managerId,
                message: [
                    "kind": .string("volunteer-concern"), "urgency": .string("urgent"),
                    "caseId": .string(concern.caseId.uuidString.lowercased()),
                    "assignmentId": .string(concern.assignmentId.uuidString.lowercased()),
                    "concernId": .string(concern.concernId.uuidString.lowercased()),
                ], in: context)
        default:
            break
        }
    }

    private func enqueue(event: CloudEvent, recipient: String, message: [String: JSON], in context: EventContext) async throws {
        let id = UUID()
        var body = message
        body["deliveryId"] = .string(id.uuidString.lowercased())
        body["recipientId"] = .string(recipient)
        body["eventType"] = .string(event.type)
        body["eventId"] = .string(event.id)
        let text = String(decoding: try JSONCoding.encoder.encode(JSON.object(body)), as: UTF8.self)
        try await context.connection.query(
            """
            INSERT INTO deliveries (id, event_source, event_id, event_type, recipient_id, channel, body)
            VALUES (\(id), \(event.source), \(event.id), \(event.type), \(recipient), 'webhook', \(text))
            ON CONFLICT DO NOTHING
            """, logger: context.logger)
    }
}
