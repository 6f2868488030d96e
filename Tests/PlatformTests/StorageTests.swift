import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanKafka
import SamenplanStorage
import SamenplanTesting
import Synchronization
import Testing

/// Migrations, schema isolation and the outbox relay, against the real database and the
/// real Kafka protocol.
@Suite(.serialized) struct StorageTests {
    /// Runs `body` with a running pool logged in as `service`.
    func withDatabase<T: Sendable>(
        _ environment: TestEnvironment, service: String, _ body: @Sendable (Database) async throws -> T
    ) async throws -> T {
        let url = try DatabaseURL(environment.databaseURL(for: service))
        let client = PostgresClient(configuration: try url.clientConfiguration(schema: service))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(Database(client: client, schema: service, logger: environment.logger))
        }
    }

    @Test func migrationsApplyOnceEvenFromSeveralReplicasAtOnce() async throws {
        try await TestEnvironment.with { environment in
            try await withDatabase(environment, service: "planning") { database in
                let migrations = [
                    Migration(version: "0001_first", sql: "CREATE TABLE things (id int PRIMARY KEY); INSERT INTO things VALUES (1);"),
                    Migration(version: "0002_second", sql: "ALTER TABLE things ADD COLUMN name text;"),
                ]
                let runner = MigrationRunner(database: database, serviceMigrations: migrations)
                #expect(try await runner.isCurrent() == false)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 { group.addTask { try await runner.apply() } }
                    try await group.waitForAll()
                }
                #expect(try await runner.isCurrent())
                let versions = try await database.client.query("SELECT version FROM schema_migrations ORDER BY version")
                    .collect().map { try $0.decode(String.self) }
                #expect(versions == ["0000_platform", "0000_platform_timers", "0001_first", "0002_second"])
                #expect(try await database.client.count("SELECT count(*) FROM planning.things") == 1)

                // A failing migration leaves no trace and is reported.
                let broken = MigrationRunner(
                    database: database,
                    serviceMigrations: migrations + [Migration(version: "0003_broken", sql: "CREATE TABLE half (id int); SELECT nonsense;")])
                await #expect(throws: (any Error).self) { try await broken.apply() }
                #expect(try await database.client.count("SELECT count(*) FROM pg_tables WHERE tablename = 'half'") == 0)
                #expect(try await broken.isCurrent() == false)
            }
        }
    }

    @Test func aServiceCannotReadAnotherServicesSchema() async throws {
        try await TestEnvironment.with { environment in
            try await withDatabase(environment, service: "intake") { intake in
                try await MigrationRunner(database: intake, serviceMigrations: []).apply()
            }
            _ = try await withDatabase(environment, service: "reporting") { reporting in
                await #expect(throws: PSQLError.self) {
                    try await reporting.client.query("SELECT count(*) FROM intake.outbox").collect()
                }
            }
        }
    }

    @Test func outboxRelayPublishesCommittedEventsOnlyAndSurvivesABrokerOutage() async throws {
        try await TestEnvironment.with { environment in
            try await withDatabase(environment, service: "intake") { database in
                try await MigrationRunner(database: database, serviceMigrations: []).apply()
                let producer = try KafkaProducer(
                    properties: ["bootstrap.servers": environment.kafka.bootstrapServers, "message.timeout.ms": "60000"],
                    logger: environment.logger)
                let relay = OutboxRelay(
                    database: database, producer: producer, logger: environment.logger, pollInterval: .milliseconds(200))
                func enqueue(_ count: Int, key: String, commit: Bool) async throws {
                    struct Rollback: Error {}
                    do {
                        try await database.transaction { connection in
                            for index in 0..<count {
                                let event = CloudEvent(
                                    source: "/test", type: "nl.samenplan.test.happened.v1", subject: key,
                                    data: .object(["index": .number(Double(index))]))
                                try await Outbox.enqueue(event, topic: Topic.intake, key: key, on: connection, logger: environment.logger)
                            }
                            if !commit { throw Rollback() }
                        }
                    } catch is Rollback {}
                }

                try await enqueue(50, key: "case-a", commit: true)
                try await enqueue(10, key: "case-rolled-back", commit: false)
                var published = 0
                while published < 50 { published += try await relay.publishBatch() }
                let messages = try await readTopic(Topic.intake, from: environment, atLeast: 50)
                #expect(messages.count == 50)
                #expect(Set(messages.map { $0.key.map { String(decoding: $0, as: UTF8.self) } }) == ["case-a"])
                // One case's events keep the order they were written in.
                #expect(messages.compactMap { $0.event?.data["index"] } == (0..<50).map { .number(Double($0)) })
                #expect(try await database.client.count("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0)
                #expect(messages.allSatisfy { $0.headerString("content-type") == CloudEvent.structuredContentType })

                // Broker away: the events wait in the outbox, and go out once it is back.
                environment.kafka.setBrokerDown(1)
                try await enqueue(5, key: "case-b", commit: true)
                let batch = Task { try await relay.publishBatch() }
                try await Task.sleep(for: .seconds(1))
                #expect(try await database.client.count("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 5)
                environment.kafka.setBrokerUp(1)
                #expect(try await batch.value == 5)
                #expect(try await database.client.count("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0)
                await producer.close(timeout: .seconds(2))
            }
        }
    }

    /// Issue 19, item 4: message k of a batch fails to hand over while the rest of the batch
    /// reaches Kafka (the worst case). Only 0..<k count as sent; k and everything after it stay
    /// unsent and go out again, in their order, on the next try: nothing overtakes k.
    @Test func theRelayNeverOvertakesAFailedMessage() async throws {
        try await TestEnvironment.with { environment in
            try await withDatabase(environment, service: "intake") { database in
                try await MigrationRunner(database: database, serviceMigrations: []).apply()
                let producer = try KafkaProducer(
                    properties: ["bootstrap.servers": environment.kafka.bootstrapServers], logger: environment.logger)
                let failing = FailsOnce(inner: producer, at: 4)
                let relay = OutboxRelay(database: database, producer: failing, logger: environment.logger)
                try await database.transaction { connection in
                    for index in 0..<10 {
                        let event = CloudEvent(
                            source: "/test", type: "nl.samenplan.test.happened.v1", subject: "case-k",
                            data: .object(["index": .number(Double(index))]))
                        try await Outbox.enqueue(event, topic: Topic.intake, key: "case-k", on: connection, logger: environment.logger)
                    }
                }
                await #expect(throws: (any Error).self) { try await relay.publishBatch() }
                let unsent = try await database.client.query(
                    "SELECT (event::jsonb -> 'data' ->> 'index')::int FROM outbox WHERE sent_at IS NULL ORDER BY seq"
                ).collect().map { try $0.decode(Int.self) }
                #expect(unsent == Array(4..<10))
                #expect(try await database.client.count("SELECT count(*) FROM outbox WHERE attempts = 1") == 1)
                // The next try: k and what follows, in order.
                #expect(try await relay.publishBatch() == 6)
                let indices = try await readTopic(Topic.intake, from: environment, atLeast: 15).compactMap { $0.event?.data["index"]?.numberValue }
                    .map { Int($0) }
                #expect(indices == [0, 1, 2, 3, 5, 6, 7, 8, 9] + Array(4..<10))
                await producer.close(timeout: .seconds(2))
            }
        }
    }
}

/// Hands a batch to the real producer, except that the first batch's message `at` fails
/// (its neighbours still go out), as a broker that refuses one message would.
final class FailsOnce: OutboxPublisher {
    let inner: KafkaProducer
    let at: Int
    let armed = Mutex(true)

    init(inner: KafkaProducer, at: Int) {
        self.inner = inner
        self.at = at
    }

    func sendInOrder(_ messages: [OutgoingMessage]) async -> [Result<Void, KafkaError>] {
        let fail = armed.withLock { armed in
            defer { armed = false }
            return armed && messages.count > at
        }
        guard fail else { return await inner.sendInOrder(messages) }
        var outcomes = await inner.sendInOrder(Array(messages[..<at]) + Array(messages[(at + 1)...]))
        outcomes.insert(.failure(KafkaError(code: -1, message: "refused on purpose (test)")), at: at)
        return outcomes
    }
}
