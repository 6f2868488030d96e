import Foundation
import Hummingbird
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// The notifications service: the right person hears about it once, by their channel.
public enum Notifications {
    public static func definition() throws -> ServiceDefinition {
        ServiceDefinition(
            name: "notifications",
            defaultPort: 8084,
            migrations: try Migration.load(from: Bundle.module.resourceURL!.appendingPathComponent("Migrations")),
            consumer: { _ in
                .init(topics: [Topic.intake, Topic.planning, Topic.volunteers], handler: NotificationEventHandler())
            },
            routes: { group, environment in NotificationRoutes.add(to: group, environment: environment) },
            backgroundServices: { environment in
                let configuration = environment.configuration
                guard let secret = configuration.string("NOTIFICATIONS_WEBHOOK_SECRET"), secret.utf8.count >= 16 else {
                    throw ConfigurationError(
                        variable: "NOTIFICATIONS_WEBHOOK_SECRET", problem: "must be set, at least 16 characters")
                }
                return [
                    WebhookSender(
                        database: environment.database, logger: environment.logger,
                        defaultURL: configuration.string("NOTIFICATIONS_WEBHOOK_URL"), secret: secret,
                        maxAttempts: try configuration.integer("NOTIFICATIONS_MAX_ATTEMPTS", default: 8, range: 1...50),
                        source: environment.source)
                ]
            })
    }
}

/// Notifications' HTTP API (docs/openapi/notifications.yaml).
enum NotificationRoutes {
    struct RecipientChannels: Codable {
        var webhookUrl: String?
    }

    static func add(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment) {
        let database = environment.database

        group.put("recipients/:id") { request, context -> Response in
            _ = try context.require(.admin)
            let id = context.parameters.get("id") ?? ""
            let channels = try await request.decode(as: RecipientChannels.self, context: context)
            if let url = channels.webhookUrl {
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                    throw Problem.badRequest(
                        "webhookUrl must be an http(s) URL.",
                        problems: [.init(rule: "url", pointer: "/webhookUrl", detail: "an absolute http or https URL")])
                }
            }
            try await database.client.query(
                """
                INSERT INTO recipients (id, webhook_url) VALUES (\(id), \(channels.webhookUrl))
                ON CONFLICT (id) DO UPDATE SET webhook_url = excluded.webhook_url, updated_at = now()
                """, logger: context.logger)
            return Response(status: .noContent)
        }

        group.get("deliveries") { request, context -> Response in
            _ = try context.require(.admin)
            let recipient = request.uri.queryParameters.get("recipientId")
            var items: [JSON] = []
            let rows = try await database.client.query(
                """
                SELECT id, recipient_id, event_type, channel, status, attempts, created_at
                FROM deliveries WHERE (\(recipient)::text IS NULL OR recipient_id = \(recipient)::text)
                ORDER BY created_at DESC LIMIT 100
                """, logger: context.logger)
            for try await (id, recipientId, type, channel, status, attempts, created) in rows.decode(
                (UUID, String, String, String, String, Int, Date).self)
            {
                items.append(
                    .object([
                        "id": .string(id.uuidString.lowercased()), "recipientId": .string(recipientId),
                        "eventType": .string(type), "channel": .string(channel), "status": .string(status),
                        "attempts": .number(Double(attempts)), "createdAt": .string(Timestamp.format(created)),
                    ]))
            }
            return try .json(["items": .array(items)])
        }
    }
}
