import Foundation
import Logging
import Metrics
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanStorage
import ServiceLifecycle

/// Publishes the outbox's committed events to Kafka and marks them sent.
///
/// Woken by `LISTEN <schema>_outbox` (a trigger notifies on every insert) and, in case a
/// notification is missed or the listening connection is down, by a polling timer. A row is
/// marked sent only after its delivery report arrived, so an event is never lost; a crash
/// between publishing and marking publishes it again, which consumers' inboxes absorb.
///
/// Several replicas may run: each batch is claimed with `FOR UPDATE SKIP LOCKED`, and a
/// transaction-scoped advisory lock lets one replica publish at a time, which keeps one
/// case's events in the order they were written.
public final class OutboxRelay: Service, Sendable {
    let database: Database
    let producer: any OutboxPublisher
    let logger: Logger
    let pollInterval: Duration
    let batchSize: Int

    public init(
        database: Database, producer: any OutboxPublisher, logger: Logger,
        pollInterval: Duration = .seconds(1), batchSize: Int = 2000
    ) {
        self.database = database
        self.producer = producer
        self.logger = logger
        self.pollInterval = pollInterval
        self.batchSize = batchSize
    }

    public func run() async throws {
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listen(wake: wake) }
            group.addTask {
                // The polling fallback.
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.pollInterval)
                    wake.yield()
                }
            }
            await cancelWhenGracefulShutdown {
                await self.relay(wakeups: wakeups)
            }
            group.cancelAll()
        }
    }

    /// Longer than a batch can take when everything answers, or fails, in time: librdkafka
    /// gives up a message after `message.timeout.ms` (30 s by default).
    static let batchDeadline = Duration.seconds(90)

    /// Publishes until the outbox is empty, then waits for a wake-up.
    private func relay(wakeups: AsyncStream<Void>) async {
        var backoff = Backoff(maximum: .seconds(30))
        var lastGauge = ContinuousClock.now - .seconds(10)
        var iterator = wakeups.makeAsyncIterator()
        while !Task.isCancelled {
            do {
                // A task of its own, so shutdown lets the batch in flight finish and be marked;
                // bounded, so a batch that never ends (seen once in the chaos run, after
                // PostgreSQL and the broker had both restarted) cannot stop the relay for good.
                // A late batch still marks what it sent; another one may send the same events
                // again, which the consumers' inboxes drop.
                let published = try await withinDeadline(Self.batchDeadline) { try await self.publishBatch() }
                backoff.reset()
                if ContinuousClock.now - lastGauge > .seconds(1) {
                    await recordBacklog()
                    lastGauge = .now
                }
                if published == batchSize { continue }
                guard await iterator.next() != nil else { return }
            } catch {
                logger.warning("outbox relay paused", metadata: ["error": "\(error)"])
                try? await backoff.wait()
            }
        }
    }

    /// Publishes up to `batchSize` unsent events in their order. Returns how many were sent.
    /// Public so tests can drive the relay one batch at a time.
    public func publishBatch() async throws -> Int {
        let logger = self.logger
        let batchSize = self.batchSize
        let producer = self.producer
        // The marks are committed first, and the failure reported after: what went out before
        // it stays sent, and the failed event's attempt is counted.
        let (sentCount, failure) = try await database.transaction { connection -> (Int, RelayError?) in
            let lockKey = "\(database.schema).outbox-relay"
            let locked = try await connection.query(
                "SELECT pg_try_advisory_xact_lock(hashtext(\(lockKey)))", logger: logger
            ).collect().first?.decode(Bool.self) ?? false
            guard locked else { return (0, nil) }

            var rows: [(seq: Int64, message: OutgoingMessage)] = []
            let result = try await connection.query(
                """
                SELECT seq, topic, kafka_key, event, traceparent FROM outbox WHERE sent_at IS NULL
                ORDER BY seq LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                """, logger: logger)
            for try await (seq, topic, key, event, traceparent) in result.decode((Int64, String, String?, String, String?).self) {
                // Structured mode, as the CloudEvents Kafka binding names it; the trace context
                // also as a header, so tools that do not parse the value can follow it.
                var headers = [KafkaHeader(name: "content-type", string: CloudEvent.structuredContentType)]
                if let traceparent { headers.append(KafkaHeader(name: "traceparent", string: traceparent)) }
                rows.append(
                    (seq, OutgoingMessage(topic: topic, key: key.map { Array($0.utf8) }, value: Array(event.utf8), headers: headers)))
            }
            guard !rows.isEmpty else { return (0, nil) }

            let outcomes = await producer.sendInOrder(rows.map(\.message))
            // Only what was handed over before the first failure counts as sent: the rest of
            // the batch stays unsent, even where Kafka took it, and goes out again after the
            // failed one on the next try. A later event never overtakes one that failed (a
            // copy that did go out is absorbed by the consumers' inboxes).
            let firstFailure = outcomes.firstIndex { if case .failure = $0 { true } else { false } } ?? rows.count
            let sent = rows.prefix(firstFailure).map(\.seq)
            var failed: [Int64] = []
            var lastError = ""
            if firstFailure < rows.count, case .failure(let error) = outcomes[firstFailure] {
                failed = [rows[firstFailure].seq]
                lastError = "\(error)"
            }
            if !sent.isEmpty {
                // The time Kafka confirmed the delivery, not the transaction's start (now()),
                // which was before the events were read and published.
                try await connection.query(
                    "UPDATE outbox SET sent_at = statement_timestamp() WHERE seq = ANY(\(sent))", logger: logger)
            }
            if !failed.isEmpty {
                try await connection.query(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = \(lastError) WHERE seq = ANY(\(failed))",
                    logger: logger)
            }
            Counter(label: "samenplan_events_produced_total", dimensions: [("schema", database.schema)])
                .increment(by: sent.count)
            return (sent.count, failed.isEmpty ? nil : RelayError(failed: rows.count - sent.count, lastError: lastError))
        }
        if let failure { throw failure }
        return sentCount
    }

    struct RelayError: Error, CustomStringConvertible {
        var failed: Int
        var lastError: String
        var description: String { "\(failed) events not delivered: \(lastError)" }
    }

    /// Outbox backlog and the age of its oldest unsent event, for `/metrics`.
    private func recordBacklog() async {
        do {
            let rows = try await database.client.query(
                """
                SELECT count(*)::bigint, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8
                FROM outbox WHERE sent_at IS NULL
                """, logger: logger
            ).collect()
            if let (count, age) = try rows.first?.decode((Int64, Double).self) {
                Gauge(label: "samenplan_outbox_backlog", dimensions: [("schema", database.schema)]).record(count)
                Gauge(label: "samenplan_outbox_oldest_age_seconds", dimensions: [("schema", database.schema)]).record(age)
            }
        } catch {
            logger.debug("could not read the outbox backlog", metadata: ["error": "\(error)"])
        }
    }

    /// Keeps one connection listening for the outbox trigger's notifications; reconnects with
    /// backoff when the database goes away (polling covers the gap).
    private func listen(wake: AsyncStream<Void>.Continuation) async {
        let channel = "\(database.schema)_outbox"
        var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(10))
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        backoff.reset()
                        wake.yield()  // anything committed while we were not listening
                        for try await _ in notifications { wake.yield() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("outbox listener reconnecting", metadata: ["error": "\(error)"])
            }
            try? await backoff.wait()
        }
    }
}

/// What the relay hands events to: the Kafka producer, or in a test one that fails on
/// purpose. One outcome per message, in the messages' order.
public protocol OutboxPublisher: Sendable {
    func sendInOrder(_ messages: [OutgoingMessage]) async -> [Result<Void, KafkaError>]
}

extension KafkaProducer: OutboxPublisher {}
