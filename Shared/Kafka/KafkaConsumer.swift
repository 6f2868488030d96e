// Consumer-group member, read as an AsyncSequence of messages.
//
// Polling: each `next()` polls librdkafka's consumer queue (`rd_kafka_consumer_poll`) with a
// 100 ms timeout on the client's serial poll queue (a dispatch thread, never the cooperative
// pool), and repeats until a message arrives, the consumer is closed or the task is
// cancelled. Nothing is polled while nobody asks for the next message, which is the
// backpressure. (librdkafka still prefetches into its own bounded buffer,
// `queued.max.messages.kbytes`.) Keep iterating: a member that does not poll for
// `max.poll.interval.ms` (300 s) is removed from its group.
//
// Offsets: `enable.auto.offset.store=false` and `enable.auto.commit=false`. The application
// calls `storeOffset(for:)` once the message's effect is durable (its database transaction
// committed); `commitInBackground()` sends the stored offsets (the event consumer calls it
// every 5 s), and `close()` commits them a last time. A crash between the database commit and
// the offset commit redelivers the message, which the idempotent inbox absorbs. Not
// librdkafka's auto-commit: at a rebalance it commits the revoked partitions' offsets and
// waits for the answer before it lets them go, and librdkafka 2.0.2 was seen to wait there
// for good (`wait-unassign-to-complete`) when the broker or a group member had just failed —
// the member then consumed nothing and could not leave its group. Without it a revoked
// partition is let go at once; its new owner may read a few handled messages again.

import CRdKafka
import Logging
import Metrics
import Synchronization

/// Consumer-group member. Defaults: `enable.auto.commit=false`, `enable.auto.offset.store=false`,
/// `auto.offset.reset=earliest`, `session.timeout.ms=30000`, `heartbeat.interval.ms=3000`;
/// caller properties override them. `group.id` is always `groupID`.
///
/// The session outlasts a broker outage of the length the chaos run drills (10 s): a member
/// whose session ran out while the coordinator was away revokes its partitions and rejoins,
/// and librdkafka 2.0.2 was seen to hang in `wait-unassign-to-complete` from there, consuming
/// nothing for minutes and blocking `close()`. The price: a killed member's partitions move
/// to the others after 30 s (librdkafka's default is 45 s).
public final class KafkaConsumer: AsyncSequence, Sendable {
    public typealias Element = KafkaMessage

    let client: RDKafkaClient
    private let logger: Logger
    private let consumed = TopicCounters(label: KafkaMetricNames.consumed)
    private let clientErrors = Counter(label: KafkaMetricNames.clientErrors)
    /// Offsets stored through this consumer (next offset to read, per partition), for `lag()`:
    /// they are newer than the committed ones until the next commit.
    private let storedOffsets = Mutex<[TopicPartition: Int64]>([:])

    public convenience init(properties: [String: String], groupID: String, topics: [String], logger: Logger) throws {
        try self.init(properties: properties, groupID: groupID, subscribingTo: topics, logger: logger)
    }

    /// A reader outside any consumer group, for replaying whole topics (rebuilding a read
    /// model): nothing is subscribed and no offset is ever committed; `replayFromStart`
    /// assigns the partitions.
    public static func replaying(properties: [String: String], logger: Logger) throws -> KafkaConsumer {
        var properties = properties
        properties["enable.auto.commit"] = "false"
        // A group id is still required by librdkafka's consumer; a fresh one never collides
        // with the services' groups, and nothing joins it.
        return try KafkaConsumer(
            properties: properties, groupID: "samenplan-replay-\(UInt64.random(in: 0...UInt64.max))", subscribingTo: nil,
            logger: logger)
    }

    private init(properties: [String: String], groupID: String, subscribingTo topics: [String]?, logger: Logger) throws {
        var configuration = [
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "auto.offset.reset": "earliest",
            "session.timeout.ms": "30000",
            "heartbeat.interval.ms": "3000",
        ]
        configuration.merge(properties) { _, caller in caller }
        configuration["group.id"] = groupID

        var logger = logger
        logger[metadataKey: "kafka.group"] = "\(groupID)"
        self.logger = logger
        // No rebalance callback or event: librdkafka assigns and revokes partitions itself.
        let client = try RDKafkaClient(
            kind: .consumer,
            properties: configuration,
            events: 0,
            logger: logger,
            onDelivery: nil
        )

        guard let topics else {
            self.client = client
            return
        }
        let subscribeError: rd_kafka_resp_err_t? = client.withHandle { handle in
            let list = rd_kafka_topic_partition_list_new(Int32(clamping: topics.count))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for topic in topics {
                rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
            }
            return rd_kafka_subscribe(handle, list)
        }
        if let subscribeError, subscribeError != RD_KAFKA_RESP_ERR_NO_ERROR {
            // Never handed out, so nobody else can close it.
            let error = KafkaError(subscribeError)
            Self.closeDetached(client)
            throw error
        }
        // Assigned last: a failed init above never runs `deinit`.
        self.client = client
    }

    deinit {
        if client.isOpen {
            logger.warning("KafkaConsumer released without close(); its librdkafka handle stays open")
        }
    }

    // MARK: AsyncSequence

    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer

        /// The next message; nil after `close()` or when the task is cancelled. Throws only
        /// fatal librdkafka errors.
        public mutating func next() async throws -> KafkaMessage? {
            try await consumer.nextMessage()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(consumer: self)
    }

    private func nextMessage() async throws -> KafkaMessage? {
        while !Task.isCancelled {
            if let fatal = client.fatalError { throw fatal }
            let outcome = await client.runBlocking(on: client.pollQueue, "poll") { handle in
                Self.poll(handle, timeoutMs: 100)
            }
            switch outcome {
            case nil:
                return nil  // closing or closed
            case .idle?:
                continue
            case .message(let message)?:
                consumed(message.topic).increment()
                return message
            case .endOfPartition(let topic, let partition)?:
                logger.debug("Reached end of partition", metadata: ["kafka.topic": "\(topic)", "kafka.partition": "\(partition)"])
            case .error(let error)?:
                try report(error)
            }
        }
        return nil
    }

    /// Counts and logs a librdkafka error; throws it when it is fatal (the client is unusable).
    private func report(_ error: KafkaError) throws {
        clientErrors.increment()
        if error.isFatal {
            logger.critical("Kafka consumer fatal error", metadata: ["kafka.error": "\(error)"])
            throw error
        }
        logger.warning("Kafka consumer error", metadata: ["kafka.error": "\(error)"])
    }

    /// Up to `maximum` messages: waits for the first as `next()` does, then takes only what
    /// librdkafka has already fetched (polls without waiting). Lets a caller handle several
    /// messages in one database transaction. Empty after `close()` or cancellation.
    public func nextBatch(maximum: Int) async throws -> [KafkaMessage] {
        guard let first = try await nextMessage() else { return [] }
        var batch = [first]
        polling: while batch.count < maximum {
            let outcome = await client.runBlocking(on: client.pollQueue, "poll") { handle in
                Self.poll(handle, timeoutMs: 0)
            }
            switch outcome {
            case .message(let message)?:
                consumed(message.topic).increment()
                batch.append(message)
            case .endOfPartition?:
                continue polling
            case .error(let error)?:
                try report(error)
                break polling
            case .idle?, nil:
                break polling
            }
        }
        return batch
    }

    private enum PollOutcome: Sendable {
        case idle
        case message(KafkaMessage)
        case endOfPartition(topic: String, partition: Int32)
        case error(KafkaError)
    }

    /// One `rd_kafka_consumer_poll`, run on the poll queue. Copies everything out of the
    /// librdkafka message, then destroys it.
    private static func poll(_ handle: OpaquePointer, timeoutMs: Int32) -> PollOutcome {
        guard let message = rd_kafka_consumer_poll(handle, timeoutMs) else { return .idle }
        defer { rd_kafka_message_destroy(message) }
        let record = message.pointee
        let topic = record.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""

        switch record.err {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
            break
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
            return .endOfPartition(topic: topic, partition: record.partition)
        case RD_KAFKA_RESP_ERR__FATAL:
            var buffer = [CChar](repeating: 0, count: 512)
            let underlying = rd_kafka_fatal_error(handle, &buffer, buffer.count)
            return .error(KafkaError(underlying, message: cString(buffer), isFatal: true))
        default:
            let text = String(cString: rd_kafka_message_errstr(message))
            let place = topic.isEmpty ? "" : " (\(topic)/\(record.partition))"
            return .error(KafkaError(record.err, message: text + place))
        }

        let value: [UInt8] =
            record.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: record.len)) } ?? []
        let key: [UInt8]? = record.key.map { Array(UnsafeRawBufferPointer(start: $0, count: record.key_len)) }

        var headers: [KafkaHeader] = []
        var headerList: OpaquePointer?
        if rd_kafka_message_headers(message, &headerList) == RD_KAFKA_RESP_ERR_NO_ERROR, let headerList {
            var index = 0
            while true {
                var name: UnsafePointer<CChar>?
                var bytes: UnsafeRawPointer?
                var size = 0
                guard rd_kafka_header_get_all(headerList, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR
                else { break }
                headers.append(
                    KafkaHeader(
                        name: name.map { String(cString: $0) } ?? "",
                        value: bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                    )
                )
                index += 1
            }
        }

        return .message(
            KafkaMessage(
                topic: topic,
                partition: record.partition,
                offset: record.offset,
                key: key,
                value: value,
                headers: headers
            )
        )
    }

    // MARK: Offsets

    /// Marks `message` as processed: stores `offset + 1` for its partition, which the next
    /// `commitInBackground()`, `commitStoredOffsets()` or `close()` sends to the group coordinator.
    /// Call it only after the message's effect is durable. Does not block.
    ///
    /// Throws when the consumer is closed or the partition is no longer assigned to this
    /// member (after a rebalance): the new owner will then receive the message again.
    public func storeOffset(for message: KafkaMessage) throws {
        let next = message.offset + 1
        let result: rd_kafka_resp_err_t? = client.withHandle { handle in
            let list = rd_kafka_topic_partition_list_new(1)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            guard let entry = rd_kafka_topic_partition_list_add(list, message.topic, message.partition) else {
                return RD_KAFKA_RESP_ERR__INVALID_ARG
            }
            entry.pointee.offset = next
            let err = rd_kafka_offsets_store(handle, list)
            return err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : entry.pointee.err
        }
        guard let result else { throw KafkaError.closed("Kafka consumer") }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(
                result,
                message: "storing offset \(next) for \(message.topic)/\(message.partition): "
                    + String(cString: rd_kafka_err2str(result))
            )
        }
        storedOffsets.withLock { stored in
            let key = TopicPartition(topic: message.topic, partition: message.partition)
            stored[key] = Swift.max(stored[key] ?? next, next)
        }
    }

    /// Commits the stored offsets now and waits for the coordinator's answer (off the
    /// cooperative pool). Nothing stored since the last commit is not an error.
    /// Sends the stored offsets to the group coordinator without waiting for its answer; a
    /// failed commit is simply repeated by the next call. Call it every few seconds.
    public func commitInBackground() async {
        _ = await client.runBlocking("commit") { handle in
            rd_kafka_commit(handle, nil, 1).rawValue
        }
    }

    public func commitStoredOffsets() async throws {
        let result = await client.runBlocking("commit") { handle in
            rd_kafka_commit(handle, nil, 0).rawValue
        }
        guard let result else { throw KafkaError.closed("Kafka consumer") }
        let err = rd_kafka_resp_err_t(rawValue: result)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET else {
            throw KafkaError(err)
        }
    }

    // MARK: Lag

    /// Sum over the assigned partitions of (high watermark − position), where position is
    /// the newest of the offset stored through this consumer and the group's committed
    /// offset (no offset yet: the low watermark, as `auto.offset.reset=earliest` starts there).
    /// Partitions whose watermarks are not known yet are left out; nil when none is known or
    /// the consumer is closed; 0 when no partition is assigned. For a consumer-lag gauge.
    public func lag() async -> Int64? {
        let stored = storedOffsets.withLock { $0 }
        let result: Int64?? = await client.runBlocking("lag") { handle in
            var assignment: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            guard rd_kafka_assignment(handle, &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR, let assignment else {
                return nil
            }
            defer { rd_kafka_topic_partition_list_destroy(assignment) }
            let count = Int(assignment.pointee.cnt)
            if count == 0 { return 0 }
            // Fills each entry's offset with the committed one (RD_KAFKA_OFFSET_INVALID if none).
            let committedKnown = rd_kafka_committed(handle, assignment, 2_000) == RD_KAFKA_RESP_ERR_NO_ERROR

            var total: Int64 = 0
            var known = 0
            for index in 0..<count {
                let entry = assignment.pointee.elems[index]
                let topic = String(cString: entry.topic)
                var low: Int64 = 0
                var high: Int64 = 0
                // Cached watermarks, updated by fetch responses: no broker round trip.
                guard rd_kafka_get_watermark_offsets(handle, topic, entry.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                    high >= 0
                else { continue }
                var position: Int64? = nil
                if committedKnown, entry.err == RD_KAFKA_RESP_ERR_NO_ERROR, entry.offset >= 0 {
                    position = entry.offset
                }
                if let mine = stored[TopicPartition(topic: topic, partition: entry.partition)] {
                    position = Swift.max(position ?? mine, mine)
                }
                if position == nil, low >= 0 { position = low }
                guard let position else { continue }
                total += Swift.max(0, high - position)
                known += 1
            }
            return known > 0 ? total : nil
        }
        return result ?? nil
    }

    // MARK: Group membership

    /// True once the group coordinator has given this consumer a member id, that is once it
    /// has joined its group (a join takes about 3 s after start). Until then messages sit
    /// unread: `/health/ready` reports it. A member with no partitions (more replicas than
    /// partitions) has joined too.
    public func hasJoinedGroup() -> Bool {
        let joined: Bool? = client.withHandle { handle in
            guard let memberID = rd_kafka_memberid(handle) else { return false }
            defer { rd_kafka_mem_free(handle, memberID) }
            return memberID.pointee != 0
        }
        return joined ?? false
    }

    // MARK: Closing

    /// Commits the stored offsets and leaves the group with `rd_kafka_consumer_close`, off
    /// the cooperative pool, then destroys the queues and the handle. A `next()` in progress
    /// returns nil within about 100 ms. Idempotent.
    public func close() async {
        let logger = self.logger
        await client.close(beforeDestroy: { handle in
            // A failed commit (no coordinator) only means a redelivery; nothing stored is no failure.
            let commit = rd_kafka_commit(handle, nil, 0)
            if commit != RD_KAFKA_RESP_ERR_NO_ERROR && commit != RD_KAFKA_RESP_ERR__NO_OFFSET {
                logger.warning("could not commit offsets on close", metadata: ["kafka.error": "\(KafkaError(commit))"])
            }
            let err = rd_kafka_consumer_close(handle)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.warning("rd_kafka_consumer_close failed", metadata: ["kafka.error": "\(KafkaError(err))"])
            }
        })
    }

    /// Closes a client that failed to subscribe, from a synchronous initialiser.
    private static func closeDetached(_ client: RDKafkaClient) {
        Task.detached {
            await client.close(beforeDestroy: { handle in _ = rd_kafka_consumer_close(handle) })
        }
    }
}

struct TopicPartition: Hashable, Sendable {
    var topic: String
    var partition: Int32
}
