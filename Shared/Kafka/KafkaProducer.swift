// Idempotent producer whose `send` returns when the broker acknowledged the message.
//
// Delivery reports: every `send` gets an id, registers its continuation under that id, and
// passes the id to librdkafka as the message's opaque pointer. librdkafka sends a delivery
// report event to the client's main queue for every message exactly once (success, failure
// after its own retries within `message.timeout.ms`, or purge at close); the events thread
// of `RDKafkaClient` reads the id back and resumes the continuation. `close` fails whatever
// is still registered afterwards, so no continuation is ever left hanging.

import CRdKafka
import Logging
import Metrics
import Synchronization

/// Idempotent producer (`enable.idempotence=true`, `acks=all` by default; caller properties
/// override or extend them and are passed to librdkafka unchanged, SASL/TLS included).
public final class KafkaProducer: Sendable {
    private let client: RDKafkaClient
    private let deliveries: DeliveryRegistry
    private let logger: Logger
    private let produced = TopicCounters(label: KafkaMetricNames.produced)
    private let produceErrors = TopicCounters(label: KafkaMetricNames.produceErrors)

    /// - Parameters:
    ///   - properties: librdkafka configuration, at least `bootstrap.servers`.
    ///   - logger: receives librdkafka's log lines and errors.
    public init(properties: [String: String], logger: Logger) throws {
        var configuration = ["enable.idempotence": "true", "acks": "all"]
        configuration.merge(properties) { _, caller in caller }
        let deliveries = DeliveryRegistry()
        self.deliveries = deliveries
        self.logger = logger
        self.client = try RDKafkaClient(
            kind: .producer,
            properties: configuration,
            events: RD_KAFKA_EVENT_DR,
            logger: logger,
            onDelivery: { id, _, error in deliveries.complete(id, error: error) }
        )
    }

    deinit {
        if client.isOpen {
            logger.warning("KafkaProducer released without close(); its librdkafka handle stays open")
        }
    }

    /// Produces one message and returns when its delivery report arrives.
    ///
    /// Throws `KafkaError` when delivery failed after librdkafka's own retries (bounded by
    /// `message.timeout.ms`), when the producer is closed or has hit a fatal error. While
    /// librdkafka's local queue is full, it waits and retries the enqueue. Cancelling the
    /// task does not withdraw a message already handed to librdkafka: `send` still waits for
    /// its delivery report, so the outcome is never unknown.
    public func send(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) async throws {
        do {
            if let fatal = client.fatalError { throw fatal }
            while true {
                do {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                        let id = deliveries.register(continuation)
                        if let error = client.produce(topic: topic, key: key, value: value, headers: headers, opaque: id) {
                            deliveries.fail(id, with: EnqueueFailure(error: error))
                        }
                    }
                    produced(topic).increment()
                    return
                } catch let failure as EnqueueFailure where failure.error.code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue {
                    // librdkafka's buffer (queue.buffering.max.*) is full: wait for deliveries.
                    try await Task.sleep(for: .milliseconds(5))
                } catch let failure as EnqueueFailure {
                    throw failure.error
                }
            }
        } catch {
            produceErrors(topic).increment()
            logger.warning(
                "Kafka delivery failed",
                metadata: ["kafka.topic": "\(topic)", "kafka.error": "\(error)"]
            )
            throw error
        }
    }

    /// Produces `messages` in the given order and waits for all their delivery reports;
    /// returns one outcome per message, in the same order.
    ///
    /// All messages are enqueued from one call, one after the other, so librdkafka keeps
    /// their order within each partition (the idempotent producer keeps it across its own
    /// retries too), and they travel in shared batches instead of one round trip each. If one
    /// cannot be enqueued (queue full, producer closed, fatal error), it and every later
    /// message fail without being attempted, so a caller that retries the failed ones later
    /// does not overtake them with later messages.
    public func sendInOrder(_ messages: [OutgoingMessage]) async -> [Result<Void, KafkaError>] {
        guard !messages.isEmpty else { return [] }
        let client = self.client
        let deliveries = self.deliveries
        let outcomes = await withCheckedContinuation { (continuation: CheckedContinuation<[Result<Void, KafkaError>], Never>) in
            let batch = DeliveryBatch(count: messages.count, continuation: continuation)
            var refusal: KafkaError? = client.fatalError
            for (index, message) in messages.enumerated() {
                if let refusal {
                    batch.record(index, .failure(refusal))
                    continue
                }
                let id = deliveries.register(batch: batch, index: index)
                refusal = client.produce(
                    topic: message.topic,
                    key: message.key,
                    value: message.value,
                    headers: message.headers,
                    opaque: id
                )
                if let refusal {
                    deliveries.complete(id, error: refusal)
                }
            }
        }
        for (message, outcome) in zip(messages, outcomes) {
            switch outcome {
            case .success:
                produced(message.topic).increment()
            case .failure:
                produceErrors(message.topic).increment()
            }
        }
        if case .failure(let error)? = outcomes.first(where: { if case .failure = $0 { true } else { false } }) {
            logger.warning(
                "Kafka delivery failed",
                metadata: [
                    "kafka.failed": "\(outcomes.count { if case .failure = $0 { true } else { false } })",
                    "kafka.error": "\(error)",
                ]
            )
        }
        return outcomes
    }

    /// True when a broker answers a metadata request within `timeout` (for `/health/ready`).
    /// The request blocks a dispatch thread, never the cooperative pool. False after close.
    public func clusterAnswers(timeout: Duration) async -> Bool {
        let timeoutMs = milliseconds(timeout)
        let result = await client.runBlocking("metadata") { handle in
            RDKafkaClient.requestMetadata(handle, topic: nil, timeoutMs: timeoutMs).rawValue
        }
        return result == RD_KAFKA_RESP_ERR_NO_ERROR.rawValue
    }

    /// Fetches metadata for these topics so that the first produce to each does not stall
    /// (librdkafka otherwise waits about a second for the topic's metadata). Keeps the topics
    /// known to the client, so librdkafka refreshes their metadata from then on. Failures are
    /// logged, not thrown: producing still works, only the first message may be slower.
    public func warmUp(topics: [String]) async {
        let client = self.client
        let logger = self.logger
        _ = await client.runBlocking("warmup") { handle in
            for topic in topics {
                guard let topicHandle = client.knownTopic(topic, handle: handle) else { continue }
                let err = RDKafkaClient.requestMetadata(handle, topic: topicHandle, timeoutMs: 5_000)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.warning(
                        "Kafka metadata warm-up failed",
                        metadata: ["kafka.topic": "\(topic)", "kafka.error": "\(KafkaError(err))"]
                    )
                }
            }
        }
    }

    /// Waits for in-flight messages (at most `timeout`), fails the sends still waiting after
    /// that, then destroys the handle. Idempotent; concurrent callers all return once it is
    /// closed.
    public func close(timeout: Duration) async {
        let timeoutMs = milliseconds(timeout)
        let logger = self.logger
        let deliveries = self.deliveries
        await client.close(
            beforeDestroy: { handle in
                RDKafkaClient.flushAndPurge(handle, timeoutMs: timeoutMs, logger: logger)
            },
            afterEvents: {
                deliveries.failAll(with: KafkaError.closed("Kafka producer"))
            }
        )
    }
}

/// librdkafka refused to enqueue the message (as opposed to a failed delivery).
private struct EnqueueFailure: Error {
    var error: KafkaError
}

/// One message to produce with `sendInOrder`.
public struct OutgoingMessage: Sendable {
    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]

    public init(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// Who waits for the delivery reports of the messages in flight, by opaque id.
final class DeliveryRegistry: Sendable {
    private enum Waiter {
        /// A `send`: resumed with the outcome.
        case single(CheckedContinuation<Void, any Error>)
        /// Message `index` of a `sendInOrder` batch.
        case batch(DeliveryBatch, index: Int)
    }

    private struct State {
        /// Starts at 1: the id travels as a pointer, and a zero pointer would read back as nil.
        var nextID: UInt = 1
        var waiting: [UInt: Waiter] = [:]

        mutating func add(_ waiter: Waiter) -> UInt {
            let id = nextID
            nextID &+= 1
            if nextID == 0 { nextID = 1 }
            waiting[id] = waiter
            return id
        }
    }

    private let state = Mutex(State())

    /// Registers `continuation` and returns its id.
    func register(_ continuation: CheckedContinuation<Void, any Error>) -> UInt {
        state.withLock { $0.add(.single(continuation)) }
    }

    /// Registers message `index` of `batch` and returns its id.
    func register(batch: DeliveryBatch, index: Int) -> UInt {
        state.withLock { $0.add(.batch(batch, index: index)) }
    }

    /// Delivers the outcome for this id: success when `error` is nil.
    func complete(_ id: UInt, error: KafkaError?) {
        guard let waiter = state.withLock({ $0.waiting.removeValue(forKey: id) }) else { return }
        Self.resume(waiter, with: error.map { .failure($0) } ?? .success(()))
    }

    /// Fails one `send` with an error that is not a delivery report (see `EnqueueFailure`).
    func fail(_ id: UInt, with error: any Error) {
        guard let waiter = state.withLock({ $0.waiting.removeValue(forKey: id) }) else { return }
        switch waiter {
        case .single(let continuation):
            continuation.resume(throwing: error)
        case .batch(let batch, let index):
            batch.record(index, .failure(error as? KafkaError ?? KafkaError.closed("Kafka producer")))
        }
    }

    /// Fails everything still waiting (at close, after the last delivery report).
    func failAll(with error: KafkaError) {
        let all = state.withLock { state in
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for waiter in all {
            Self.resume(waiter, with: .failure(error))
        }
    }

    private static func resume(_ waiter: Waiter, with outcome: Result<Void, KafkaError>) {
        switch waiter {
        case .single(let continuation):
            continuation.resume(with: outcome.mapError { $0 as any Error })
        case .batch(let batch, let index):
            batch.record(index, outcome)
        }
    }
}

/// Collects the outcomes of one `sendInOrder` call and resumes it when the last one is in.
final class DeliveryBatch: Sendable {
    private struct State {
        var outcomes: [Result<Void, KafkaError>?]
        var remaining: Int
        var continuation: CheckedContinuation<[Result<Void, KafkaError>], Never>?
    }

    private let state: Mutex<State>

    init(count: Int, continuation: CheckedContinuation<[Result<Void, KafkaError>], Never>) {
        state = Mutex(State(outcomes: Array(repeating: nil, count: count), remaining: count, continuation: continuation))
    }

    func record(_ index: Int, _ outcome: Result<Void, KafkaError>) {
        let finished = state.withLock { state -> (CheckedContinuation<[Result<Void, KafkaError>], Never>, [Result<Void, KafkaError>])? in
            guard state.outcomes[index] == nil else { return nil }
            state.outcomes[index] = outcome
            state.remaining -= 1
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.outcomes.map { $0 ?? .failure(KafkaError.closed("Kafka producer")) })
        }
        if let (continuation, outcomes) = finished {
            continuation.resume(returning: outcomes)
        }
    }
}
