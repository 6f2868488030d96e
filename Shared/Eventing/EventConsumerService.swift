import Foundation
import Logging
import Metrics
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanStorage
import ServiceLifecycle

/// Reads a consumer group's topics and hands each event to an `EventHandler`, with the
/// guarantees of DESIGN.md "Delivery guarantees":
///
/// - the handler's effect and the inbox record (CloudEvent `source` + `id`) commit in one
///   transaction, so a redelivered event changes nothing;
/// - the Kafka offset is stored only after that transaction committed;
/// - a transient fault (database or broker away) pauses and retries with backoff, and is
///   never dead-lettered;
/// - a message that can never succeed (not a CloudEvent, an unknown type, a permanent
///   handler failure) goes to `samenplan.<service>.dlq` and the consumer moves on.
public final class EventConsumerService: Service, Sendable {
    public let service: String
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let database: Database
    let handler: any EventHandler
    /// The handler's `handledTypes` and `ignoredTypes`, read once: handlers compute them as
    /// properties, and every message is checked against them, a batch's on the hot path.
    let handledTypes: Set<EventType>
    let ignoredTypes: Set<EventType>
    let logger: Logger
    /// How often an unexpected (neither transient nor permanent) handler error is retried
    /// before the event is dead-lettered, so that a bug cannot stall a partition forever.
    let maximumUnexpectedFailures: Int
    /// How many messages already fetched may share one transaction (one commit).
    let batchSize: Int

    public init(
        service: String, consumer: KafkaConsumer, producer: KafkaProducer, database: Database,
        handler: any EventHandler, logger: Logger, maximumUnexpectedFailures: Int = 5, batchSize: Int = 100
    ) {
        self.service = service
        self.consumer = consumer
        self.producer = producer
        self.database = database
        self.handler = handler
        self.handledTypes = handler.handledTypes
        self.ignoredTypes = handler.ignoredTypes
        self.logger = logger
        self.maximumUnexpectedFailures = maximumUnexpectedFailures
        self.batchSize = max(1, batchSize)
    }

    public func run() async throws {
        let lagGauge = Gauge(label: "samenplan_consumer_lag", dimensions: [("service", service)])
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The handled messages' offsets, committed every 5 s, and the consumer lag,
            // sampled; it stops with the group.
            group.addTask { [consumer] in
                while !Task.isCancelled {
                    await consumer.commitInBackground()
                    if let lag = await consumer.lag() { lagGauge.record(lag) }
                    try await Task.sleep(for: .seconds(5))
                }
            }
            do {
                try await cancelWhenGracefulShutdown {
                    var batch = try await self.fetch()
                    while !batch.isEmpty {
                        // The next batch is fetched and parsed while this one's transaction
                        // runs: reading JSON and waiting for the database overlap. Order is
                        // unchanged: batches are handled one after another.
                        async let next = self.fetch()
                        try await self.process(batch)
                        batch = try await next
                    }
                }
            } catch is CancellationError {
                // Graceful shutdown: the message in flight was finished (see `process`).
            }
            group.cancelAll()
        }
        // Shutting down: `close()` commits what was handled before it leaves the group.
        await consumer.close()
    }

    /// A fetched message and what it holds: a CloudEvent, or why it is none, and what the
    /// handler prepared from the event (``EventHandler/prepare(_:)``).
    struct Fetched: Sendable {
        var message: KafkaMessage
        var event: Result<CloudEvent, EnvelopeError>
        var prepared: (any Sendable)?

        init(_ message: KafkaMessage, for handler: any EventHandler, handling handledTypes: Set<EventType>) {
            self.message = message
            self.event = Result { () throws(EnvelopeError) in
                try CloudEvent.decode(value: message.value, headers: message.headers.map { ($0.name, $0.value) })
            }
            if case .success(let event) = event, handledTypes.contains(EventType(rawValue: event.type)) {
                prepared = handler.prepare(event)
            }
        }
    }

    /// The next messages (empty when the consumer was closed), parsed and prepared on the
    /// thread pool (``offload(_:)``) while the previous batch's transaction runs.
    private func fetch() async throws -> [Fetched] {
        let messages = try await consumer.nextBatch(maximum: batchSize)
        let (handler, handledTypes) = (self.handler, self.handledTypes)
        guard messages.count > 1 else { return messages.map { Fetched($0, for: handler, handling: handledTypes) } }
        return try await offload { messages.map { Fetched($0, for: handler, handling: handledTypes) } }
    }

    /// How long one transaction may take before it is given up as hung and tried again. The
    /// chaos run saw a transaction never return after PostgreSQL restarted (no session open on
    /// the server, no error), which stopped the service's consumer for good. A late transaction
    /// that does commit is harmless: the retry finds its events in the inbox.
    static let transactionDeadline = Duration.seconds(60)

    /// Handles one message to its end: handled, skipped or dead-lettered. Only then is its
    /// offset stored. Runs the work in an unstructured task so that a shutdown signal lets
    /// the transaction in flight finish instead of cutting it off.
    func process(_ fetched: Fetched) async throws {
        let outcome = try await Task { try await self.settle(fetched) }.value
        finish(fetched.message, outcome)
    }

    /// Handles what was fetched together in one transaction, so one commit serves them all
    /// (a commit per message caps a consumer at the disk's fsync rate). At any trouble the
    /// batch is rolled back and handled one message at a time, where each fault gets its own
    /// treatment: backoff for a transient one, the dead-letter topic for a permanent one.
    func process(_ batch: [Fetched]) async throws {
        if batch.count > 1, let outcomes = await Task(operation: { await self.settleTogether(batch) }).value {
            for (fetched, outcome) in zip(batch, outcomes) { finish(fetched.message, outcome) }
            return
        }
        for fetched in batch { try await process(fetched) }
    }

    /// The batch's outcomes, or nil when it must be handled one by one: a message that is
    /// not a CloudEvent of a known type (it has an answer of its own), or any error.
    private func settleTogether(_ batch: [Fetched]) async -> [Outcome]? {
        var events: [(event: CloudEvent, prepared: (any Sendable)?)] = []
        for fetched in batch {
            guard case .success(let event) = fetched.event else { return nil }
            let type = EventType(rawValue: event.type)
            guard handledTypes.contains(type) || ignoredTypes.contains(type) else { return nil }
            events.append((event, fetched.prepared))
        }
        let started = ContinuousClock.now
        do {
            let messages = batch.map(\.message)
            let outcomes = try await withinDeadline(Self.transactionDeadline) { [events] in
                try await self.database.transaction { connection -> [Outcome] in
                    try await self.handleOnce(events, from: messages, on: connection, logger: self.logger)
                }
            }
            recordDuration(since: started, type: "batch")
            return outcomes
        } catch {
            logger.debug("batch handled one message at a time", metadata: ["error": "\(error)", "size": "\(batch.count)"])
            return nil
        }
    }

    /// Records the events in the inbox (one statement) and hands the new ones to the handler
    /// together, in the caller's transaction; an event handled before is a duplicate and
    /// changes nothing.
    private func handleOnce(
        _ events: [(event: CloudEvent, prepared: (any Sendable)?)], from batch: [KafkaMessage],
        on connection: PostgresConnection, logger: Logger
    ) async throws -> [Outcome] {
        var outcomes = [Outcome](repeating: .ignored, count: events.count)
        let handled = events.indices.filter { !ignoredTypes.contains(EventType(rawValue: events[$0].event.type)) }
        let claims = try await Inbox.claim(
            handled.map { InboxKey(source: events[$0].event.source, id: events[$0].event.id, type: events[$0].event.type) },
            on: connection, logger: logger)
        var received: [ReceivedEvent] = []
        for (index, isNew) in zip(handled, claims) {
            outcomes[index] = isNew ? .handled : .duplicate
            guard isNew else { continue }
            let context = EventContext(
                connection: connection, logger: logger, source: EventSource.service(service), topic: batch[index].topic)
            received.append(ReceivedEvent(event: events[index].event, context: context, prepared: events[index].prepared))
        }
        try await handler.handle(batch: received)
        return outcomes
    }


    private func recordDuration(since started: ContinuousClock.Instant, type: String) {
        Timer(label: "samenplan_handler_duration_seconds", dimensions: [("service", service), ("type", type)])
            .recordNanoseconds(Int64((ContinuousClock.now - started) / .nanoseconds(1)))
    }

    /// Counts the outcome and stores the offset: the message is done.
    private func finish(_ message: KafkaMessage, _ outcome: Outcome) {
        Counter(
            label: "samenplan_events_consumed_total",
            dimensions: [("service", service), ("topic", message.topic), ("outcome", outcome.rawValue)]
        ).increment()
        do {
            try consumer.storeOffset(for: message)
        } catch {
            // The partition was taken away in a rebalance: its new owner reads the message
            // again and the inbox absorbs the duplicate. Nothing to stop for.
            logger.info(
                "offset not stored, partition no longer assigned",
                metadata: ["topic": "\(message.topic)", "partition": "\(message.partition)", "error": "\(error)"])
        }
    }

    enum Outcome: String {
        case handled, duplicate, ignored
        case deadLettered = "dead-lettered"
    }

    private func settle(_ fetched: Fetched) async throws -> Outcome {
        let message = fetched.message
        let event: CloudEvent
        switch fetched.event {
        case .success(let parsed):
            event = parsed
        case .failure(let error):
            try await deadLetter(message, reason: error.reason.rawValue, detail: error.detail)
            return .deadLettered
        }
        let type = EventType(rawValue: event.type)
        if ignoredTypes.contains(type) { return .ignored }
        guard handledTypes.contains(type) else {
            try await deadLetter(
                message, reason: EnvelopeError.Reason.unknownType.rawValue,
                detail: "\(service) does not know the event type \(event.type.prefix(200))")
            return .deadLettered
        }

        var logger = self.logger
        logger[metadataKey: "event.id"] = "\(event.id)"
        logger[metadataKey: "event.type"] = "\(event.type)"
        if let traceparent = event.traceparent { logger[metadataKey: "traceparent"] = "\(traceparent)" }

        var backoff = Backoff()
        var unexpectedFailures = 0
        while true {
            let started = ContinuousClock.now
            do {
                let outcome = try await withinDeadline(Self.transactionDeadline) { [logger] in
                    try await self.database.transaction { connection in
                        try await self.handleOnce(
                            [(event, fetched.prepared)], from: [message], on: connection, logger: logger)[0]
                    }
                }
                recordDuration(since: started, type: event.type)
                return outcome
            } catch let failure as PermanentEventFailure {
                try await deadLetter(message, reason: failure.reason, detail: failure.detail)
                return .deadLettered
            } catch where DatabaseFault.isTransient(error) || error is DeadlinePassed {
                logger.warning("transient fault, retrying", metadata: ["error": "\(error)"])
                try await backoff.wait()
            } catch {
                unexpectedFailures += 1
                logger.error(
                    "handler failed", metadata: ["error": "\(String(reflecting: error))", "attempt": "\(unexpectedFailures)"])
                if unexpectedFailures >= maximumUnexpectedFailures {
                    try await deadLetter(message, reason: "handler-failed", detail: "\(error)")
                    return .deadLettered
                }
                try await backoff.wait()
            }
        }
    }

    /// Publishes the message to this service's dead-letter topic. A broker that is away is a
    /// transient fault: keep trying, never drop the message.
    func deadLetter(_ message: KafkaMessage, reason: String, detail: String) async throws {
        let topic = Topic.deadLetter(service: service)
        logger.warning(
            "dead-lettering a message",
            metadata: [
                "reason": "\(reason)", "detail": "\(detail)", "topic": "\(message.topic)",
                "partition": "\(message.partition)", "offset": "\(message.offset)",
            ])
        var backoff = Backoff(maximum: .seconds(5))
        while true {
            do {
                try await producer.send(
                    topic: topic, key: message.key, value: message.value,
                    headers: message.deadLetterHeaders(reason: reason, detail: detail, service: service))
                Counter(label: "samenplan_events_dead_lettered_total", dimensions: [("service", service), ("reason", reason)])
                    .increment()
                return
            } catch {
                logger.warning("could not publish a dead letter, retrying", metadata: ["error": "\(error)"])
                try await backoff.wait()
            }
        }
    }
}
