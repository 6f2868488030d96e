import Foundation
import Logging
import NotificationsDomain
import PostgresNIO
import SamenplanDomain
import SamenplanStorage

/// Someone notifications can reach: staff and volunteers registered through
/// `/v1/recipients` (volunteers also from the volunteers service's events).
struct Recipient: Sendable {
    var id: String
    var role: Role?
    var displayName: String?
    var email: String?
    var webhookUrl: String?
    var language: Language
    var areas: [String]
    var preferences: Preferences

    /// Someone an event names who was never registered: the suite's default webhook.
    static func unregistered(_ id: String) -> Recipient {
        Recipient(
            id: id, role: nil, displayName: nil, email: nil, webhookUrl: nil, language: .nl, areas: [],
            preferences: .unregistered)
    }

    /// Without chosen channels: the feed, plus e-mail when they have an address, plus the
    /// webhook when they have one or the suite has a default (`NOTIFICATIONS_WEBHOOK_URL`).
    static func defaultChannels(email: String?, webhookUrl: String?, defaultWebhook: Bool) -> [DeliveryChannel] {
        [.inApp] + (email == nil ? [] : [.email]) + (webhookUrl == nil && !defaultWebhook ? [] : [.webhook])
    }

    static let columns = """
        id, role, display_name, email, webhook_url, language, areas, urgent_channels, normal_channels,
        to_char(quiet_from, 'HH24:MI'), to_char(quiet_to, 'HH24:MI'), digest
        """

    init(
        id: String, role: Role?, displayName: String?, email: String?, webhookUrl: String?, language: Language,
        areas: [String], preferences: Preferences
    ) {
        self.id = id
        self.role = role
        self.displayName = displayName
        self.email = email
        self.webhookUrl = webhookUrl
        self.language = language
        self.areas = areas
        self.preferences = preferences
    }

    init(row: PostgresRow, defaultWebhook: Bool) throws {
        let (id, role, name, email, url, language, areas, urgent, normal, quietFrom, quietTo, digest) = try row.decode(
            (String, String?, String?, String?, String?, String, [String], [String]?, [String]?, String?, String?, Bool).self)
        let fallback = Self.defaultChannels(email: email, webhookUrl: url, defaultWebhook: defaultWebhook)
        var quiet: QuietHours?
        if let quietFrom, let quietTo, let from = LocalTime(quietFrom), let to = LocalTime(quietTo) {
            quiet = QuietHours(from: from, to: to)
        }
        self.init(
            id: id, role: role.flatMap(Role.init(rawValue:)), displayName: name, email: email, webhookUrl: url,
            language: Language(rawValue: language) ?? .nl, areas: areas,
            preferences: Preferences(
                urgent: urgent?.compactMap(DeliveryChannel.init) ?? fallback, normal: normal?.compactMap(DeliveryChannel.init) ?? fallback,
                quietHours: quiet, digest: digest))
    }

    /// The active recipients with one of `ids`, or one of `roles`: everyone an event's rules
    /// can name, in one query per batch.
    static func load(
        ids: Set<String>, roles: Set<Role>, defaultWebhook: Bool, on connection: PostgresConnection, logger: Logger
    ) async throws -> [Recipient] {
        guard !ids.isEmpty || !roles.isEmpty else { return [] }
        return try await connection.query(
            """
            SELECT \(unescaped: columns) FROM recipients
            WHERE active AND (id = ANY(\(Array(ids))::text[]) OR role = ANY(\(roles.map(\.rawValue))::text[]))
            """, logger: logger
        ).collect().map { try Recipient(row: $0, defaultWebhook: defaultWebhook) }
    }

    static func find(_ id: String, defaultWebhook: Bool, on connection: PostgresConnection, logger: Logger) async throws
        -> Recipient?
    {
        try await connection.query("SELECT \(unescaped: columns) FROM recipients WHERE id = \(id)", logger: logger)
            .collect().first.map { try Recipient(row: $0, defaultWebhook: defaultWebhook) }
    }

    func json() -> JSON {
        var quiet: JSON = .null
        if let hours = preferences.quietHours {
            quiet = .object(["from": .string(hours.from.description), "to": .string(hours.to.description)])
        }
        return .object([
            "id": .string(id), "role": role.map { .string($0.rawValue) } ?? .null,
            "displayName": displayName.map(JSON.string) ?? .null, "email": email.map(JSON.string) ?? .null,
            "webhookUrl": webhookUrl.map(JSON.string) ?? .null, "language": .string(language.rawValue),
            "areas": .array(areas.map(JSON.string)),
            "preferences": .object([
                "urgent": .array(preferences.urgent.map { .string($0.rawValue) }),
                "normal": .array(preferences.normal.map { .string($0.rawValue) }),
                "quietHours": quiet, "digest": .bool(preferences.digest),
            ]),
        ])
    }
}
