import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanServer
import SamenplanStorage

/// What an integration test runs against: a fresh database on the real PostgreSQL server
/// that `scripts/test.sh` starts, and an in-process librdkafka mock cluster reached over
/// TCP (the real Kafka protocol). Both are thrown away after the test.
public struct TestEnvironment: Sendable {
    public let adminURL: DatabaseURL
    public let database: String
    public let kafka: KafkaMockCluster
    public let logger: Logger
    public static let jwtSecret = "test-secret-test-secret-test-secret-0123"
    public static let webhookSecret = "webhook-secret-0123456789"
    /// Every area a test refers a family to without registering a manager there first.
    public static let testAreas = "borsele,goes,kapelle,veere,tholen,middelburg,noord,zuid"

    /// The admin connection tests use: `SAMENPLAN_TEST_ADMIN_URL`, or the local server that
    /// `scripts/test.sh` starts.
    public static var adminURLText: String {
        ProcessInfo.processInfo.environment["SAMENPLAN_TEST_ADMIN_URL"]
            ?? "postgres://postgres@127.0.0.1:54329/postgres"
    }

    /// Creates the database and the mock cluster, runs `body`, then drops both.
    public static func with<T: Sendable>(
        partitions: Int32 = 4, _ body: @Sendable (TestEnvironment) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        let adminURL = try DatabaseURL(adminURLText)
        try await Logins.shared.ensure(adminURL: adminURL, logger: logger)
        let database = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await DatabaseSetup.prepareDatabase(
            adminURL: adminURL, database: database, services: Topic.serviceNames, logger: logger)
        let kafka = try KafkaMockCluster(brokers: 1)
        for topic in Topic.all { try kafka.createTopic(topic, partitions: partitions) }
        let environment = TestEnvironment(adminURL: adminURL, database: database, kafka: kafka, logger: logger)
        do {
            let result = try await body(environment)
            await environment.tearDown()
            return result
        } catch {
            await environment.tearDown()
            throw error
        }
    }

    private func tearDown() async {
        kafka.close()
        await dumpPublishedEvents()
        _ = try? await DatabaseSetup.withClient(adminURL, logger: logger) { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \"\(database)\" WITH (FORCE)"))
        }
    }

    /// With `SAMENPLAN_EVENT_DUMP` set (scripts/test.sh sets it), every event the services
    /// wrote to their outboxes during the test goes to `<dir>/<database>.jsonl`, one
    /// `{"topic": …, "event": …}` a line, before the database is dropped: scripts/
    /// check_event_schemas.py then checks each against its documented JSON Schema (issue 19).
    private func dumpPublishedEvents() async {
        guard let directory = ProcessInfo.processInfo.environment["SAMENPLAN_EVENT_DUMP"], !directory.isEmpty else { return }
        do {
            let lines = try await withAdminClient { client -> [String] in
                var lines: [String] = []
                for service in Topic.serviceNames {
                    let exists = try await client.query(
                        "SELECT to_regclass(\(service + ".outbox"))::text").collect().first?.decode(String?.self) ?? nil
                    guard exists != nil else { continue }
                    for try await line in try await client.query(
                        PostgresQuery(unsafeSQL: "SELECT json_build_object('topic', topic, 'event', event::json)::text FROM \(service).outbox ORDER BY seq")
                    ).decode(String.self) {
                        lines.append(line)
                    }
                }
                return lines
            }
            guard !lines.isEmpty else { return }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try (lines.joined(separator: "\n") + "\n").write(
                toFile: "\(directory)/\(database).jsonl", atomically: true, encoding: .utf8)
        } catch {
            logger.warning("could not dump the test's published events: \(error)")
        }
    }

    /// A service's connection string: its own login role on the test database.
    public func databaseURL(for service: String) -> String {
        "postgres://\(service):\(service)@\(adminURL.host):\(adminURL.port)/\(database)"
    }

    public func configuration(for service: String, extra: [String: String] = [:]) throws -> ServiceConfiguration {
        var environment = [
            "DATABASE_URL": databaseURL(for: service),
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrapServers,
            "JWT_SECRET": Self.jwtSecret,
            "LOG_LEVEL": logger.logLevel.rawValue,
            "NOTIFICATIONS_WEBHOOK_SECRET": Self.webhookSecret,
        ]
        // The areas the tests refer families to (issue 18: intake serves a managed list).
        if service == "intake" { environment["INTAKE_AREAS"] = Self.testAreas }
        environment.merge(extra) { _, new in new }
        return try ServiceConfiguration.load(service: service, defaultPort: 0, environment: environment)
    }

    /// A PostgreSQL client on the test database as the admin, for assertions.
    public func withAdminClient<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        var url = adminURL
        url.database = database
        return try await DatabaseSetup.withClient(url, logger: logger, body)
    }

    /// A producer for publishing test input, closed after `body`.
    public func withProducer<T: Sendable>(_ body: @Sendable (KafkaProducer) async throws -> T) async throws -> T {
        let producer = try KafkaProducer(properties: ["bootstrap.servers": kafka.bootstrapServers], logger: logger)
        do {
            let result = try await body(producer)
            await producer.close(timeout: .seconds(2))
            return result
        } catch {
            await producer.close(timeout: .seconds(2))
            throw error
        }
    }

    /// A signed bearer token accepted by services built from `configuration(for:)`.
    public func token(role: Role, subject: String = "tester", areas: [String] = []) async throws -> String {
        try await TokenAuthority(secret: Self.jwtSecret, issuer: "samenplan").sign(
            subject: subject, role: role, areas: areas)
    }
}

/// The service roles are cluster-wide: created once per test process.
actor Logins {
    static let shared = Logins()
    private var setup: Task<Void, any Error>?

    func ensure(adminURL: DatabaseURL, logger: Logger) async throws {
        if setup == nil {
            setup = Task {
                try await DatabaseSetup.createLogins(
                    adminURL: adminURL,
                    logins: Topic.serviceNames.map { DatabaseSetup.ServiceLogin(service: $0, password: $0) },
                    logger: logger)
            }
        }
        try await setup!.value
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held. For
/// asynchronous effects (an event consumed, a webhook received). The default is generous:
/// with every suite running in parallel on a loaded 2-core machine, a consumer group's first
/// join alone can take tens of seconds, and a condition that holds returns at once anyway.
public func eventually(
    timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(100),
    _ condition: @Sendable () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}

/// Polls `produce` until it gives a value or `timeout` passes.
public func eventuallyValue<T: Sendable>(
    timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(100),
    _ produce: @Sendable () async throws -> T?
) async throws -> T? {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try await produce() { return value }
        try await Task.sleep(for: interval)
    }
    return try await produce()
}

extension PostgresClient {
    /// The single integer a `SELECT count(*)…` gives.
    public func count(_ query: PostgresQuery) async throws -> Int {
        let rows = try await self.query(query).collect()
        return Int(try rows.first?.decode(Int64.self) ?? 0)
    }
}
