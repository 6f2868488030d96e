import Foundation
import Hummingbird
import NotificationsDomain
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage

/// The notifications service (issue 6): the right person hears about it once, by the
/// channel they chose, in their language.
public enum Notifications {
    public static func definition() throws -> ServiceDefinition {
        ServiceDefinition(
            name: "notifications",
            defaultPort: 8084,
            migrations: try Migration.load(from: Bundle.module.resourceURL!.appendingPathComponent("Migrations")),
            consumer: { environment in
                let settings = try NotificationSettings(environment.configuration)
                return .init(
                    topics: [Topic.intake, Topic.planning, Topic.volunteers],
                    handler: NotificationEventHandler(
                        rules: settings.rules, clock: environment.clock, digest: settings.digest,
                        defaultWebhook: settings.defaultWebhookURL != nil),
                    batchSize: 500)
            },
            timers: { environment in Digests(rules: try NotificationSettings(environment.configuration).rules) },
            routes: { group, environment in
                NotificationRoutes.add(
                    to: group, environment: environment,
                    defaultWebhook: environment.configuration.string("NOTIFICATIONS_WEBHOOK_URL") != nil)
            },
            backgroundServices: { environment in
                let settings = try NotificationSettings(environment.configuration)
                return [
                    DeliverySender(
                        database: environment.database, logger: environment.logger, clock: environment.clock,
                        webhook: WebhookChannel(defaultURL: settings.defaultWebhookURL, secret: settings.webhookSecret),
                        mailer: settings.smtp.map(SMTPMailer.init(settings:)), maxAttempts: settings.maxAttempts,
                        source: environment.source)
                ]
            })
    }
}

/// Notifications' configuration (docs/manual.md, configuration table), checked at start.
struct NotificationSettings: Sendable {
    var rules: RuleBook
    var digest: DigestSchedule
    var defaultWebhookURL: String?
    var webhookSecret: String
    var maxAttempts: Int
    var smtp: SMTPSettings?

    init(_ configuration: ServiceConfiguration) throws {
        // The rules and templates are data: the shipped ones, or an operator's own directory
        // with the same layout (rules.yaml, templates/<language>/…).
        let directory =
            configuration.string("NOTIFICATIONS_RULES_DIR").map { URL(fileURLWithPath: $0) }
            ?? Bundle.module.resourceURL!.appendingPathComponent("Rules")
        do {
            rules = try RuleBook.load(
                rules: directory.appendingPathComponent("rules.yaml"), templates: directory.appendingPathComponent("templates"))
        } catch {
            throw ConfigurationError(variable: "NOTIFICATIONS_RULES_DIR", problem: "the rules do not load: \(error)")
        }
        let digestAt = configuration.string("NOTIFICATIONS_DIGEST_AT") ?? "08:00"
        guard let at = LocalTime(digestAt) else {
            throw ConfigurationError(variable: "NOTIFICATIONS_DIGEST_AT", problem: "must be a time of day, HH:MM, got \(digestAt)")
        }
        digest = DigestSchedule(at: at)
        defaultWebhookURL = configuration.string("NOTIFICATIONS_WEBHOOK_URL")
        guard let secret = configuration.string("NOTIFICATIONS_WEBHOOK_SECRET"), secret.utf8.count >= 16 else {
            throw ConfigurationError(variable: "NOTIFICATIONS_WEBHOOK_SECRET", problem: "must be set, at least 16 characters")
        }
        webhookSecret = secret
        maxAttempts = try configuration.integer("NOTIFICATIONS_MAX_ATTEMPTS", default: 8, range: 1...50)
        if let url = configuration.string("NOTIFICATIONS_SMTP_URL") {
            guard url.hasPrefix("smtp://") else {
                throw ConfigurationError(
                    variable: "NOTIFICATIONS_SMTP_URL", problem: "must be smtp://host:port (STARTTLS is required), got \(url)")
            }
            guard let from = configuration.string("NOTIFICATIONS_SMTP_FROM") else {
                throw ConfigurationError(variable: "NOTIFICATIONS_SMTP_FROM", problem: "must be set with NOTIFICATIONS_SMTP_URL")
            }
            smtp = SMTPSettings(
                url: url, username: configuration.string("NOTIFICATIONS_SMTP_USER"),
                password: configuration.string("NOTIFICATIONS_SMTP_PASSWORD"), from: from,
                caFile: configuration.string("NOTIFICATIONS_SMTP_CA_FILE"))
        }
    }
}
