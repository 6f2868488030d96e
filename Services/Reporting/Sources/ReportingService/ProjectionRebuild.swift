import Foundation
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanKafka
import SamenplanServer
import SamenplanStorage

/// Rebuilds reporting's read models from the topics (issue 7, item 1), while the old figures
/// stay served until the new ones are complete:
///
/// 1. The tables are created afresh, from reporting's own migrations, in the spare schema
///    `reporting_next` (see `DatabaseSetup.spareSchemas`).
/// 2. Every partition of every topic reporting reads is replayed there from its first
///    message up to where it ends when the rebuild starts, with the live projection's own
///    merge rules (`ProjectionBatch`, `ProjectionWriter`).
/// 3. The new tables are vacuumed and analysed, so the first reports from them are planned
///    on statistics.
/// 4. In one transaction on the live schema, the live tables are locked against writes (the
///    live consumer waits; report queries go on), the events published meanwhile are
///    replayed into the new tables too, and the tables swap: the old ones move to
///    `reporting_previous`, the new ones into `reporting`. The waiting consumer then writes
///    into the new tables (PostgreSQL looks a table's name up again after a lock wait).
///
/// Nothing is lost or counted twice: every projection is idempotent, so an event that both
/// the replay and the live consumer apply changes the new tables once. A rebuild that fails
/// (the database or the broker away) leaves the live tables as they were; run it again.
public struct ProjectionRebuild: Sendable {
    public struct Progress: Sendable {
        /// Messages read so far, and how many the topics held when the rebuild started.
        public var read: Int64
        public var total: Int64
    }

    public struct Summary: Sendable, CustomStringConvertible {
        public var messages: Int64
        /// Messages that were no event of the suite (the live consumer dead-lettered them).
        public var skipped: Int64
        public var tables: [String]
        public var duration: Duration

        public var description: String {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            let rate = seconds > 0 ? Int(Double(messages) / seconds) : 0
            return "rebuilt \(tables.count) tables from \(messages) messages (\(skipped) skipped) in "
                + "\(String(format: "%.1f", seconds)) s, \(rate) messages/s"
        }
    }

    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    /// The live schema and its two spares.
    static let schema = "reporting"
    static var nextSchema: String { DatabaseSetup.spareSchemas(of: schema)[0] }
    static var previousSchema: String { DatabaseSetup.spareSchemas(of: schema)[1] }

    let live: PostgresClient
    let next: PostgresClient
    let consumer: KafkaConsumer
    let migrations: [Migration]
    let topics: [String]
    let logger: Logger

    /// Rebuilds with the reporting service's own configuration (its environment variables).
    public static func run(
        configuration: ServiceConfiguration, logger: Logger, progress: @escaping @Sendable (Progress) -> Void
    ) async throws -> Summary {
        let definition = try Reporting.definition()
        let live = PostgresClient(
            configuration: try configuration.databaseURL.clientConfiguration(schema: schema, maximumConnections: 2),
            backgroundLogger: logger)
        let next = PostgresClient(
            configuration: try configuration.databaseURL.clientConfiguration(schema: nextSchema, maximumConnections: 2),
            backgroundLogger: logger)
        var readerProperties = configuration.kafkaClientProperties
        // A replay wants throughput: a broker holding a fetch for a partition already read to
        // its end (librdkafka's default 500 ms) would stall the partitions that still have data.
        readerProperties["fetch.wait.max.ms"] = readerProperties["fetch.wait.max.ms"] ?? "10"
        let consumer = try KafkaConsumer.replaying(properties: readerProperties, logger: logger)
        let rebuild = ProjectionRebuild(
            live: live, next: next, consumer: consumer, migrations: definition.migrations, topics: Reporting.topics, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await live.run() }
            group.addTask { await next.run() }
            defer { group.cancelAll() }
            do {
                let summary = try await rebuild.run(progress: progress)
                await consumer.close()
                return summary
            } catch {
                await consumer.close()
                throw error
            }
        }
    }

    func run(progress: @escaping @Sendable (Progress) -> Void) async throws -> Summary {
        let started = ContinuousClock.now
        return try await live.withConnection { lockHolder in
            // One rebuild at a time: a second one would swap half-built tables.
            let key = Int64(0x5245_4255_494C_44)  // "REBUILD"
            let locked = try await lockHolder.query("SELECT pg_try_advisory_lock(\(key))", logger: logger).collect()
            guard try locked.first?.decode(Bool.self) == true else {
                throw Refused(description: "another rebuild of reporting is running")
            }
            let outcome: Result<Summary, any Error>
            do {
                let tables = try await prepareNextSchema()
                let ranges = try await consumer.partitionRanges(of: topics)
                try consumer.assign(fromStartOf: ranges)
                var counts = Counts(total: ranges.reduce(0) { $0 + $1.messageCount }, targetHigh: ranges.reduce(0) { $0 + $1.high })
                progress(Progress(read: 0, total: counts.total))
                try await replay(until: ranges, counts: &counts, progress: progress)
                try await vacuumAndAnalyze(tables)
                try await swap(tables, counts: &counts, progress: progress)
                outcome = .success(
                    Summary(messages: counts.read, skipped: counts.skipped, tables: tables, duration: ContinuousClock.now - started))
            } catch {
                outcome = .failure(error)
            }
            _ = try? await lockHolder.query("SELECT pg_advisory_unlock(\(key))", logger: logger).collect()
            return try outcome.get()
        }
    }

    struct Counts {
        /// Messages to read: those the topics held at the start, plus those published since
        /// (known once the swap asks again).
        var total: Int64
        /// The sum of the partitions' end offsets the total was counted to.
        var targetHigh: Int64
        var read: Int64 = 0
        var skipped: Int64 = 0
        /// How far the topics have been read.
        var position = KafkaReplayPosition()
    }

    /// Empties `reporting_next` and creates the tables there from reporting's migrations;
    /// returns their names.
    private func prepareNextSchema() async throws -> [String] {
        try await next.withConnection { connection in
            let schemas = try await connection.query(
                "SELECT count(*)::int FROM pg_namespace WHERE nspname = ANY(\([Self.nextSchema, Self.previousSchema]))",
                logger: logger
            ).collect()
            guard try schemas.first?.decode(Int.self) == 2 else {
                throw Refused(
                    description: "the schemas \(Self.nextSchema) and \(Self.previousSchema) are missing: "
                        + "run samenplanctl setup-database once more")
            }
            for table in try await Self.tables(in: Self.nextSchema, on: connection, logger: logger) {
                try await connection.query(
                    PostgresQuery(unsafeSQL: "DROP TABLE \(Self.nextSchema).\(table) CASCADE"), logger: logger)
            }
            for migration in migrations.sorted(by: { $0.version < $1.version }) {
                try await connection.query(try migration.executableStatement(), logger: logger)
            }
            let tables = try await Self.tables(in: Self.nextSchema, on: connection, logger: logger)
            guard Set(tables) == Set(ProjectionWriter.tables) else {
                throw Refused(
                    description: "reporting's migrations create \(tables.sorted()), but ProjectionWriter.tables names "
                        + "\(ProjectionWriter.tables.sorted())")
            }
            return ProjectionWriter.tables
        }
    }

    /// Reads on until every partition has reached the `high` offset of `ranges`.
    private func replay(
        until ranges: [KafkaPartitionRange], counts: inout Counts, progress: @Sendable (Progress) -> Void
    ) async throws {
        try await consumer.read(upTo: ranges, from: &counts.position) { messages in
            counts.skipped += try await apply(messages)
            counts.read += Int64(messages.count)
            progress(Progress(read: counts.read, total: max(counts.total, counts.read)))
        }
    }

    /// Projects `messages` into the new tables; returns how many were skipped as no event of
    /// the suite. A batch that fails is applied one event at a time, so that one event whose
    /// data breaks its schema (dead-lettered by the live consumer) skips only itself.
    private func apply(_ messages: [KafkaMessage]) async throws -> Int64 {
        var events: [CloudEvent] = []
        var skipped: Int64 = 0
        for message in messages {
            guard let event = try? CloudEvent.decode(value: message.value, headers: message.headers.map { ($0.name, $0.value) })
            else {
                skipped += 1
                continue
            }
            if ProjectionBatch.projectedTypes.contains(EventType(rawValue: event.type)) { events.append(event) }
        }
        do {
            var batch = ProjectionBatch()
            for event in events { try batch.add(event) }
            try await write(batch)
        } catch is PermanentEventFailure {
            for event in events {
                var batch = ProjectionBatch()
                do {
                    try batch.add(event)
                } catch is PermanentEventFailure {
                    skipped += 1
                    continue
                }
                try await write(batch)
            }
        }
        return skipped
    }

    private func write(_ batch: ProjectionBatch) async throws {
        guard !batch.isEmpty else { return }
        try await next.withTransaction(logger: logger) { connection in
            try await ProjectionWriter.write(batch, on: connection, logger: logger)
        }
    }

    /// Gives the freshly filled tables what autovacuum would give them only a minute or more
    /// after the swap: planner statistics (without them PostgreSQL guessed 34 rows where the
    /// year's flow report met 2,625, and chose its joins for that) and a visibility map, so
    /// index-only scans need not visit the table. VACUUM cannot run in a transaction; these
    /// tables are not served yet, so nothing waits for it.
    private func vacuumAndAnalyze(_ tables: [String]) async throws {
        let names = tables.map { "\(Self.nextSchema).\($0)" }.joined(separator: ", ")
        try await next.withConnection { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: "VACUUM (ANALYZE) \(names)"), logger: logger)
        }
    }

    /// Locks the live tables against writes, replays what was published meanwhile, and swaps
    /// the new tables in, all in one transaction: readers see the old figures until it commits.
    private func swap(_ tables: [String], counts: inout Counts, progress: @Sendable (Progress) -> Void) async throws {
        let (live, previous, next) = (Self.schema, Self.previousSchema, Self.nextSchema)
        var counted = counts
        try await self.live.withTransaction(logger: logger) { connection in
            // The live consumer writes these tables in this order: locking them in the same
            // order cannot deadlock with it.
            let names = tables.map { "\(live).\($0)" }.joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(names) IN SHARE ROW EXCLUSIVE MODE"), logger: logger)
            let tail = try await consumer.partitionRanges(of: topics)
            let tailHigh = tail.reduce(0) { $0 + $1.high }
            counted.total += tailHigh - counted.targetHigh
            counted.targetHigh = tailHigh
            try await replay(until: tail, counts: &counted, progress: progress)
            for table in try await Self.tables(in: previous, on: connection, logger: logger) {
                try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE \(previous).\(table) CASCADE"), logger: logger)
            }
            for table in tables {
                try await connection.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(live).\(table) SET SCHEMA \(previous)"), logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(next).\(table) SET SCHEMA \(live)"), logger: logger)
            }
        }
        counts = counted
    }

    /// The tables of `schema`; names are plain identifiers (migrations create them).
    static func tables(in schema: String, on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var names: [String] = []
        for try await name in try await connection.query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = \(schema) ORDER BY tablename", logger: logger
        ).decode(String.self) {
            names.append(name)
        }
        return names
    }
}
