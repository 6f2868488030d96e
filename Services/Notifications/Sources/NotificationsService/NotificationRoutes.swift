import Foundation
import Hummingbird
import NotificationsDomain
import PostgresNIO
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// Notifications' HTTP API (docs/openapi/notifications.yaml): recipients and their
/// preferences, the signed-in recipient's in-app feed, and every delivery with its attempts.
enum NotificationRoutes {
    /// `PUT /v1/recipients/{id}`: every field optional; what is left out stays as it was.
    struct RecipientBody: Decodable, Sendable {
        var role: String?
        var displayName: String?
        var email: String?
        var webhookUrl: String?
        var language: String?
        var areas: [String]?
        var preferences: PreferencesBody?
    }

    struct PreferencesBody: Decodable, Sendable {
        struct Quiet: Decodable, Sendable {
            var from: String
            var to: String
        }

        var urgent: [String]?
        var normal: [String]?
        var quietHours: Quiet?
        var digest: Bool?
    }

    static func add(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, defaultWebhook: Bool) {
        let database = environment.database

        group.put("recipients/:id") { request, context -> Response in
            let caller = try context.require(.admin, .familyManager, .teamLead, .volunteerCoordinator, .volunteer, .neighbourhoodTeam)
            let id = context.parameters.get("id") ?? ""
            // Staff and volunteers set their own preferences; only an admin registers others
            // or changes who someone is (role, areas).
            let body = try await request.decode(as: RecipientBody.self, context: context)
            // A webhook makes the service POST, signed with the suite's secret, to any address:
            // only an admin sets one.
            guard caller.role == .admin || (caller.subject == id && body.role == nil && body.areas == nil && body.webhookUrl == nil)
            else {
                throw Problem.forbidden("You may change your own language, e-mail address and preferences only.")
            }
            var problems = validate(body)
            if id.wholeMatch(of: /[A-Za-z0-9._-]{1,64}/) == nil {
                problems.insert(.init(rule: "pattern", pointer: "id", detail: "1–64 letters, digits, '.', '_' or '-'"), at: 0)
            }
            guard problems.isEmpty else { throw Problem.badRequest("The recipient breaks \(problems.count) rule(s).", problems: problems) }
            let preferences = body.preferences
            let recipient = try await database.transaction { connection -> Recipient? in
                try await connection.query(
                    """
                    INSERT INTO recipients (id) VALUES (\(id)) ON CONFLICT (id) DO NOTHING
                    """, logger: context.logger)
                try await connection.query(
                    """
                    UPDATE recipients SET
                        -- Someone who sets their own preferences first is stamped with the role of
                        -- their token, so no other service's event can claim their id later.
                        role = COALESCE(\(body.role), role, \(caller.role == .admin ? nil : caller.role.rawValue)), display_name = COALESCE(\(body.displayName), display_name),
                        email = COALESCE(\(body.email), email), webhook_url = COALESCE(\(body.webhookUrl), webhook_url),
                        language = COALESCE(\(body.language), language), areas = COALESCE(\(body.areas?.map { $0.lowercased() })::text[], areas),
                        urgent_channels = COALESCE(\(preferences?.urgent)::text[], urgent_channels),
                        normal_channels = COALESCE(\(preferences?.normal)::text[], normal_channels),
                        quiet_from = CASE WHEN \(preferences != nil) THEN \(preferences?.quietHours?.from)::time ELSE quiet_from END,
                        quiet_to = CASE WHEN \(preferences != nil) THEN \(preferences?.quietHours?.to)::time ELSE quiet_to END,
                        digest = COALESCE(\(preferences?.digest), digest), active = true, updated_at = now()
                    WHERE id = \(id)
                    """, logger: context.logger)
                return try await Recipient.find(id, defaultWebhook: defaultWebhook, on: connection, logger: context.logger)
            }
            return try Response.json(recipient?.json() ?? .null)
        }

        group.get("recipients/:id") { _, context -> Response in
            let caller = try context.require(.admin, .familyManager, .teamLead, .volunteerCoordinator, .volunteer, .neighbourhoodTeam)
            let id = context.parameters.get("id") ?? ""
            guard caller.role == .admin || caller.subject == id,
                let recipient = try await database.client.withConnection({
                    try await Recipient.find(id, defaultWebhook: defaultWebhook, on: $0, logger: context.logger)
                })
            else { throw Problem.notFound("No recipient \(id).") }
            return try Response.json(recipient.json())
        }

        // The signed-in recipient's feed, newest first.
        group.get("notifications") { request, context -> Response in
            let caller = try context.require(.admin, .familyManager, .teamLead, .volunteerCoordinator, .volunteer, .neighbourhoodTeam)
            let page = try Page(request)
            let unreadOnly = request.uri.queryParameters.get("unread") == "true"
            let after = try page.after.map { cursor -> UUID in
                guard let id = UUID(uuidString: cursor) else {
                    throw Problem.badRequest("after must be a cursor from a previous page.")
                }
                return id
            }
            var items: [JSON] = []
            var last: String?
            for try await (id, type, urgency, subject, message, created, read) in try await database.client.query(
                """
                SELECT id, event_type, urgency, subject, message, created_at, read_at FROM deliveries
                WHERE recipient_id = \(caller.subject) AND channel = 'in-app' AND (NOT \(unreadOnly) OR read_at IS NULL)
                  AND (\(after)::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM deliveries WHERE id = \(after)::uuid))
                ORDER BY created_at DESC, id DESC LIMIT \(page.limit)
                """, logger: context.logger
            ).decode((UUID, String, String, String, String, Date, Date?).self) {
                items.append(
                    .object([
                        "id": .string(id.uuidString.lowercased()), "eventType": .string(type), "urgency": .string(urgency),
                        "subject": .string(subject), "body": .string(message), "createdAt": .string(Timestamp.format(created)),
                        "read": .bool(read != nil),
                    ]))
                last = id.uuidString.lowercased()
            }
            return try Response.json(page.body(items: items, last: items.count == page.limit ? last : nil))
        }

        group.post("notifications/:id/read") { _, context -> Response in
            let caller = try context.require(.admin, .familyManager, .teamLead, .volunteerCoordinator, .volunteer, .neighbourhoodTeam)
            let id = try context.uuid()
            let updated = try await database.client.query(
                """
                UPDATE deliveries SET read_at = COALESCE(read_at, now())
                WHERE id = \(id) AND channel = 'in-app' AND recipient_id = \(caller.subject) RETURNING id
                """, logger: context.logger
            ).collect()
            guard !updated.isEmpty else { throw Problem.notFound("No notification \(id.uuidString.lowercased()) of yours.") }
            return Response(status: .noContent)
        }

        group.get("deliveries") { request, context -> Response in
            _ = try context.require(.admin)
            let query = request.uri.queryParameters
            let recipient = query.get("recipientId")
            let eventId = query.get("eventId")
            let status = query.get("status")
            if let status, !["pending", "delivered", "failed", "digest", "bundled"].contains(status) {
                throw Problem.badRequest(
                    "Unknown status.",
                    problems: [.init(rule: "enum", pointer: "status", detail: "pending, delivered, failed, digest or bundled")])
            }
            let page = try Page(request)
            let after = try page.after.map { cursor -> UUID in
                guard let id = UUID(uuidString: cursor) else {
                    throw Problem.badRequest(
                        "after must be a cursor from a previous page.",
                        problems: [.init(rule: "cursor", pointer: "after", detail: "a delivery id")])
                }
                return id
            }
            var items: [JSON] = []
            var last: String?
            for try await (id, recipientId, type, source, event, channel, urgency, state, attempts, created, finished) in try await database.client.query(
                """
                SELECT id, recipient_id, event_type, event_source, event_id, channel, urgency, status, attempts, created_at, finished_at
                FROM deliveries
                WHERE (\(recipient)::text IS NULL OR recipient_id = \(recipient)::text)
                  AND (\(eventId)::text IS NULL OR event_id = \(eventId)::text)
                  AND (\(status)::text IS NULL OR status = \(status)::text)
                  AND (\(after)::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM deliveries WHERE id = \(after)::uuid))
                ORDER BY created_at DESC, id DESC LIMIT \(page.limit)
                """, logger: context.logger
            ).decode((UUID, String, String, String, String, String, String, String, Int, Date, Date?).self) {
                items.append(
                    .object([
                        "id": .string(id.uuidString.lowercased()), "recipientId": .string(recipientId),
                        "eventType": .string(type), "eventSource": .string(source), "eventId": .string(event),
                        "channel": .string(channel), "urgency": .string(urgency), "status": .string(state),
                        "attempts": .number(Double(attempts)), "createdAt": .string(Timestamp.format(created)),
                        "finishedAt": finished.map { .string(Timestamp.format($0)) } ?? .null,
                    ]))
                last = id.uuidString.lowercased()
            }
            return try Response.json(page.body(items: items, last: items.count == page.limit ? last : nil))
        }

        group.get("deliveries/:id/attempts") { _, context -> Response in
            _ = try context.require(.admin)
            let id = try context.uuid()
            let known = try await database.client.query("SELECT 1 FROM deliveries WHERE id = \(id)", logger: context.logger)
                .collect()
            guard !known.isEmpty else { throw Problem.notFound("No delivery \(id.uuidString.lowercased()).") }
            var items: [JSON] = []
            for try await (attempt, at, outcome, status, error) in try await database.client.query(
                "SELECT attempt, at, outcome, http_status, error FROM delivery_attempts WHERE delivery_id = \(id) ORDER BY attempt",
                logger: context.logger
            ).decode((Int, Date, String, Int?, String?).self) {
                items.append(
                    .object([
                        "attempt": .number(Double(attempt)), "at": .string(Timestamp.format(at)), "outcome": .string(outcome),
                        "httpStatus": status.map { .number(Double($0)) } ?? .null, "error": error.map(JSON.string) ?? .null,
                    ]))
            }
            return try Response.json(.object(["deliveryId": .string(id.uuidString.lowercased()), "items": .array(items)]))
        }
    }

    /// Every broken rule of a recipient's registration.
    static func validate(_ body: RecipientBody) -> [Problem.Item] {
        var problems: [Problem.Item] = []
        if let role = body.role, Role(rawValue: role) == nil || ["integrator", "service", "analyst"].contains(role) {
            problems.append(.init(rule: "enum", pointer: "/role", detail: "a role of the staff or volunteer"))
        }
        if let name = body.displayName, !(1...200).contains(name.trimmingCharacters(in: .whitespaces).count) {
            problems.append(.init(rule: "length", pointer: "/displayName", detail: "1–200 characters"))
        }
        if let email = body.email, email.wholeMatch(of: /[^@\s<>",]{1,64}@[^@\s<>",]{1,190}\.[^@\s<>",]{2,}/) == nil {
            problems.append(.init(rule: "format", pointer: "/email", detail: "an e-mail address"))
        }
        if let url = body.webhookUrl {
            if URL(string: url).map({ ["http", "https"].contains($0.scheme ?? "") && $0.host != nil }) != true {
                problems.append(.init(rule: "url", pointer: "/webhookUrl", detail: "an absolute http or https URL"))
            }
        }
        if let language = body.language, Language(rawValue: language) == nil {
            problems.append(.init(rule: "enum", pointer: "/language", detail: "nl or en"))
        }
        if let areas = body.areas, areas.count > 50 || areas.contains(where: { !(1...100).contains($0.count) }) {
            problems.append(.init(rule: "areas", pointer: "/areas", detail: "at most 50 areas, each 1–100 characters"))
        }
        if let preferences = body.preferences {
            for (key, channels) in [("urgent", preferences.urgent), ("normal", preferences.normal)] {
                for (index, channel) in (channels ?? []).enumerated() where DeliveryChannel(rawValue: channel) == nil {
                    problems.append(.init(rule: "enum", pointer: "/preferences/\(key)/\(index)", detail: "in-app, email or webhook"))
                }
            }
            if let quiet = preferences.quietHours {
                for (key, value) in [("from", quiet.from), ("to", quiet.to)] where LocalTime(value) == nil {
                    problems.append(.init(rule: "time", pointer: "/preferences/quietHours/\(key)", detail: "a time of day, HH:MM"))
                }
            }
        }
        return problems
    }
}
