import Foundation
import Logging
import SamenplanStorage

/// One environment variable the suite reads, with what it means. The configuration
/// table and the docker-compose check are made from this list.
public struct ConfigVariable: Sendable, Hashable {
    public var name: String
    public var defaultValue: String?
    public var meaning: String

    public init(_ name: String, default defaultValue: String? = nil, _ meaning: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.meaning = meaning
    }
}

/// A variable that is missing or malformed. The message names the variable so an operator
/// can fix the deployment without reading code.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var variable: String
    public var problem: String

    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }

    public var description: String { "configuration: \(variable) \(problem)" }
}

/// Settings every service reads from its environment (DESIGN.md, Configuration), validated at
/// start-up.
public struct ServiceConfiguration: Sendable {
    public var service: String
    public var databaseURL: DatabaseURL
    public var kafkaBootstrapServers: String
    /// librdkafka properties passed through from `KAFKA_*` variables (SASL, TLS, …).
    public var kafkaProperties: [String: String]
    public var httpHost: String
    public var httpPort: Int
    public var logLevel: Logger.Level
    public var jwtSecret: String
    public var jwtIssuer: String
    public var tokenPolicy: TokenPolicy
    public var http: HTTPLimits
    /// The rest of the environment, for service-specific variables.
    public var environment: [String: String]

    /// Variables every service reads.
    public static let commonVariables: [ConfigVariable] = [
        ConfigVariable("DATABASE_URL", "postgres://ROLE:PASSWORD@HOST:PORT/DATABASE?sslmode=disable|require|verify-full; the role is the service's own (intake, planning, …)"),
        ConfigVariable("KAFKA_BOOTSTRAP_SERVERS", "host:port[,host:port…] of the Kafka cluster"),
        ConfigVariable("KAFKA_*", "any other librdkafka property, passed through: KAFKA_SECURITY_PROTOCOL=SASL_SSL becomes security.protocol=SASL_SSL (lowercase, _ becomes .)"),
        ConfigVariable("HTTP_HOST", default: "127.0.0.1", "address the HTTP server binds to (0.0.0.0 in containers)"),
        ConfigVariable("HTTP_PORT", "HTTP port; defaults: intake 8081, planning 8082, volunteers 8083, notifications 8084, reporting 8085"),
        ConfigVariable("LOG_LEVEL", default: "info", "trace, debug, info, notice, warning, error or critical"),
        ConfigVariable("JWT_SECRET", "HMAC-SHA256 key (at least 32 characters) that bearer tokens are signed with"),
        ConfigVariable("JWT_ISSUER", default: "samenplan", "the `iss` every accepted token must carry"),
        ConfigVariable("HTTP_IDLE_TIMEOUT_SECONDS", default: "30", "a connection that has not sent a whole request head within this many seconds (1–600), or is idle that long between requests, is closed"),
        ConfigVariable("HTTP_MAX_CONNECTIONS", default: "512", "open HTTP connections a service accepts at once (1–100000); past that new ones wait in the listen backlog"),
        ConfigVariable("JWT_MAX_LIFETIME_SECONDS", default: "86400", "the longest a token may be valid from its `iat` (60–2592000); longer-lived tokens are refused"),
        ConfigVariable("JWT_CLOCK_SKEW_SECONDS", default: "60", "how far a token's `iat` and `nbf` may lie in the future (0–600), for clocks that differ a little"),
    ]

    /// Variables only one service reads. Listed here, beside the common ones, so the manual's (docs/manual.md)
    /// table and the docker-compose check know every variable of the suite.
    public static let serviceVariables: [ConfigVariable] = [
        ConfigVariable("INTAKE_AREAS", "intake: the areas Samenplan serves besides those registered (PUT /v1/areas/{area}, or with a manager), as area[:team],…; a referral to any other area is rejected"),
        ConfigVariable("INTAKE_COURT_ORDER_NOTICE_MONTHS", default: "3", "intake: months before a court order ends that its family manager is warned (nl.samenplan.court-order.ending.v1)"),
        ConfigVariable("PLANNING_EVALUATION_DUE_WEEKS", default: "6", "planning: weeks after the last evaluation (or the start of support) that the next is due (nl.samenplan.evaluation.due.v1)"),
        ConfigVariable("PLANNING_EVALUATION_OVERDUE_WEEKS", default: "8", "planning: weeks after the last evaluation that it is overdue and the team lead is told (nl.samenplan.evaluation.overdue.v1)"),
        ConfigVariable("VOLUNTEERS_CERTIFICATE_MAX_AGE_MONTHS", default: "36", "volunteers: months a certificate of conduct (VOG) allows matching after its issue date"),
        ConfigVariable("VOLUNTEERS_CERTIFICATE_START_MONTHS", default: "3", "volunteers: at most this many months old must the certificate be when a volunteer starts their first assignment"),
        ConfigVariable("VOLUNTEERS_CERTIFICATE_WARNING_DAYS", default: "60", "volunteers: days before the certificate runs out that the coordinator is warned (nl.samenplan.volunteer-certificate.expiring.v1)"),
        ConfigVariable("VOLUNTEERS_INTAKE_URL", default: "http://127.0.0.1:8081", "volunteers: intake's base URL, asked (with a service token) for the first names of the family a volunteer helps"),
        ConfigVariable("VOLUNTEERS_UNMATCHED_DAYS", default: "14", "volunteers: days a help request may wait for a volunteer before the case consultation's agenda names it"),
        ConfigVariable("NOTIFICATIONS_WEBHOOK_URL", "notifications: webhook for recipients that registered no channel of their own (unset: such messages fail as undeliverable)"),
        ConfigVariable("NOTIFICATIONS_WEBHOOK_SECRET", "notifications: HMAC-SHA256 key (at least 16 characters) for the webhook signature header"),
        ConfigVariable("NOTIFICATIONS_MAX_ATTEMPTS", default: "8", "notifications: attempts per message before it is given up and marked failed"),
        ConfigVariable("NOTIFICATIONS_RULES_DIR", "notifications: a directory with rules.yaml and templates/<language>/*.mustache to use instead of the shipped ones (checked at start)"),
        ConfigVariable("NOTIFICATIONS_DIGEST_AT", default: "08:00", "notifications: the local time (Europe/Amsterdam) the daily digest of non-urgent messages goes out"),
        ConfigVariable("NOTIFICATIONS_SMTP_URL", "notifications: the SMTP server, smtp://host:port (STARTTLS is required); unset: e-mail messages fail as undeliverable"),
        ConfigVariable("NOTIFICATIONS_SMTP_USER", "notifications: the SMTP login"),
        ConfigVariable("NOTIFICATIONS_SMTP_PASSWORD", "notifications: the SMTP password"),
        ConfigVariable("NOTIFICATIONS_SMTP_FROM", "notifications: the sender of e-mail messages, e.g. Samenplan <noreply@example.nl>; required with NOTIFICATIONS_SMTP_URL"),
        ConfigVariable("NOTIFICATIONS_SMTP_CA_FILE", "notifications: a PEM file of certificates to trust for the SMTP server besides the system's"),
        ConfigVariable("REPORTING_SUPPRESS_BELOW", default: "5", "reporting: external figures (scope=external) leave out every cell of fewer families than this"),
        ConfigVariable("SAMENPLAN_DB_PASSWORD_*", "samenplanctl setup-database: the password of each service's login role (SAMENPLAN_DB_PASSWORD_INTAKE, …); without it the role's name, for local use only"),
    ]

    /// Every variable the suite reads.
    public static var allVariables: [ConfigVariable] { commonVariables + serviceVariables }

    /// True when `name` is one of `allVariables` (a `*` entry stands for a prefix).
    public static func knows(_ name: String) -> Bool {
        allVariables.contains { variable in
            variable.name.hasSuffix("*") ? name.hasPrefix(variable.name.dropLast()) : variable.name == name
        }
    }

    public static func load(
        service: String, defaultPort: Int, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> ServiceConfiguration {
        func required(_ name: String) throws(ConfigurationError) -> String {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
                throw ConfigurationError(variable: name, problem: "is not set")
            }
            return value
        }

        let databaseURL: DatabaseURL
        do {
            databaseURL = try DatabaseURL(try required("DATABASE_URL"))
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(variable: "DATABASE_URL", problem: "is not a usable URL: \(error)")
        }

        let bootstrap = try required("KAFKA_BOOTSTRAP_SERVERS")
        for server in bootstrap.split(separator: ",") {
            let parts = server.split(separator: ":")
            guard parts.count >= 2, let port = Int(parts.last!), (1...65535).contains(port) else {
                throw ConfigurationError(
                    variable: "KAFKA_BOOTSTRAP_SERVERS", problem: "must be host:port[,host:port…], got \(server)")
            }
        }

        let port: Int
        if let text = environment["HTTP_PORT"], !text.isEmpty {
            guard let value = Int(text), (1...65535).contains(value) else {
                throw ConfigurationError(variable: "HTTP_PORT", problem: "must be a port number, got \(text)")
            }
            port = value
        } else {
            port = defaultPort
        }

        let levelText = environment["LOG_LEVEL"].flatMap { $0.isEmpty ? nil : $0 } ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ConfigurationError(
                variable: "LOG_LEVEL",
                problem: "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \(levelText)")
        }

        let secret = try required("JWT_SECRET")
        guard secret.utf8.count >= 32 else {
            throw ConfigurationError(variable: "JWT_SECRET", problem: "must be at least 32 characters")
        }

        func seconds(_ name: String, default value: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> TimeInterval {
            guard let text = environment[name], !text.isEmpty else { return TimeInterval(value) }
            guard let number = Int(text), range.contains(number) else {
                throw ConfigurationError(
                    variable: name, problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(text)")
            }
            return TimeInterval(number)
        }
        let tokenPolicy = TokenPolicy(
            clockSkew: try seconds("JWT_CLOCK_SKEW_SECONDS", default: 60, range: 0...600),
            maxLifetime: try seconds("JWT_MAX_LIFETIME_SECONDS", default: 86_400, range: 60...2_592_000))

        let http = HTTPLimits(
            idleTimeoutSeconds: Int(try seconds("HTTP_IDLE_TIMEOUT_SECONDS", default: 30, range: 1...600)),
            maxConnections: Int(try seconds("HTTP_MAX_CONNECTIONS", default: 512, range: 1...100_000)))

        return ServiceConfiguration(
            service: service,
            databaseURL: databaseURL,
            kafkaBootstrapServers: bootstrap,
            kafkaProperties: kafkaPassThrough(environment),
            httpHost: environment["HTTP_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1",
            httpPort: port,
            logLevel: level,
            jwtSecret: secret,
            jwtIssuer: environment["JWT_ISSUER"].flatMap { $0.isEmpty ? nil : $0 } ?? "samenplan",
            tokenPolicy: tokenPolicy,
            http: http,
            environment: environment)
    }

    /// `KAFKA_SASL_MECHANISMS=PLAIN` → `sasl.mechanisms=PLAIN`: librdkafka settings reach the
    /// client without code changes.
    public static func kafkaPassThrough(_ environment: [String: String]) -> [String: String] {
        var properties: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("KAFKA_") && name != "KAFKA_BOOTSTRAP_SERVERS" {
            let property = name.dropFirst("KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            properties[property] = value
        }
        return properties
    }

    /// The librdkafka properties for a client of this service.
    public var kafkaClientProperties: [String: String] {
        var properties = kafkaProperties
        properties["bootstrap.servers"] = kafkaBootstrapServers
        properties["client.id"] = properties["client.id"] ?? "samenplan-\(service)"
        return properties
    }

    /// A service-specific variable, with a clear error when it is malformed.
    public func string(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = environment[name], !text.isEmpty else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(variable: name, problem: "must be a whole number in \(range), got \(text)")
        }
        return value
    }
}

/// How much of the HTTP server one client may hold (issue 18, finding 9).
public struct HTTPLimits: Sendable, Hashable {
    /// Seconds before a connection without a whole request head, or idle between requests, is closed.
    public var idleTimeoutSeconds: Int
    /// Connections accepted at once.
    public var maxConnections: Int

    public init(idleTimeoutSeconds: Int = 30, maxConnections: Int = 512) {
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.maxConnections = maxConnections
    }
}
