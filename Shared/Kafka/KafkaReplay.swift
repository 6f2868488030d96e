// Replaying whole topics, outside any consumer group: what a read model needs to be rebuilt
// from the start. A `KafkaConsumer.replaying(...)` reader asks which partitions the topics
// have and how far each reaches now, assigns them from their first message, and reads with
// `nextBatch` like any consumer. The caller knows it is done when its position in every
// partition has reached the `high` offset it asked for.

import CRdKafka

/// One partition of a topic and the messages it holds now: offsets `low..<high`.
public struct KafkaPartitionRange: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var low: Int64
    public var high: Int64

    public init(topic: String, partition: Int32, low: Int64, high: Int64) {
        self.topic = topic
        self.partition = partition
        self.low = low
        self.high = high
    }

    public var messageCount: Int64 { Swift.max(0, high - low) }
}

extension KafkaConsumer {
    /// Every partition of `topics` with its offsets now: one metadata request, then one
    /// watermark query per partition (both answered by the partition leaders, not a cache).
    /// A topic that does not exist has no partitions.
    public func partitionRanges(of topics: [String], timeout: Duration = .seconds(10)) async throws -> [KafkaPartitionRange] {
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000)
        let wanted = Set(topics)
        let answer: Result<[KafkaPartitionRange], KafkaError>? = await client.runBlocking("metadata") { handle in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(handle, 1, nil, &metadata, milliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                return .failure(KafkaError(err, message: "metadata of \(topics.joined(separator: ", "))"))
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            var partitions: [(String, Int32)] = []
            for index in 0..<Int(metadata.pointee.topic_cnt) {
                let topic = metadata.pointee.topics[index]
                let name = String(cString: topic.topic)
                guard wanted.contains(name), topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
                for partition in 0..<Int(topic.partition_cnt) {
                    partitions.append((name, topic.partitions[partition].id))
                }
            }
            var ranges: [KafkaPartitionRange] = []
            for (topic, partition) in partitions {
                var low: Int64 = 0
                var high: Int64 = 0
                let err = rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, milliseconds)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    return .failure(KafkaError(err, message: "offsets of \(topic)/\(partition)"))
                }
                ranges.append(KafkaPartitionRange(topic: topic, partition: partition, low: low, high: high))
            }
            return .success(ranges.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) })
        }
        guard let answer else { throw KafkaError.closed("Kafka consumer") }
        return try answer.get()
    }

    /// Reads `partitions` from their first message, with no group (nothing is committed);
    /// the messages come from `nextBatch`.
    public func assign(fromStartOf partitions: [KafkaPartitionRange]) throws {
        let err: rd_kafka_resp_err_t? = client.withHandle { handle in
            let list = rd_kafka_topic_partition_list_new(Int32(clamping: partitions.count))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for range in partitions {
                rd_kafka_topic_partition_list_add(list, range.topic, range.partition)?.pointee.offset =
                    Int64(RD_KAFKA_OFFSET_BEGINNING)
            }
            return rd_kafka_assign(handle, list)
        }
        guard let err else { throw KafkaError.closed("Kafka consumer") }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, message: "assigning partitions") }
    }
}

/// How far a replay has read: the next offset per partition. Kept across calls of
/// `read(upTo:from:)`, so a later stage (more messages published since) reads on from there.
public struct KafkaReplayPosition: Sendable {
    struct Partition: Hashable, Sendable {
        var topic: String
        var partition: Int32
    }

    var next: [Partition: Int64] = [:]

    public init() {}
}

extension KafkaConsumer {
    /// Reads on, handing each batch of messages to `body`, until every partition of `ranges`
    /// has been read up to its `high` offset. Throws when the reader is closed first.
    public func read(
        upTo ranges: [KafkaPartitionRange], from position: inout KafkaReplayPosition, batchSize: Int = 5000,
        _ body: ([KafkaMessage]) async throws -> Void
    ) async throws {
        var pending: [KafkaReplayPosition.Partition: Int64] = [:]
        for range in ranges where range.messageCount > 0 {
            let partition = KafkaReplayPosition.Partition(topic: range.topic, partition: range.partition)
            if let next = position.next[partition], next >= range.high { continue }  // read past already
            pending[partition] = range.high
        }
        while !pending.isEmpty {
            let messages = try await nextBatch(maximum: batchSize)
            guard !messages.isEmpty else { throw KafkaError.closed("Kafka reader") }
            try await body(messages)
            for message in messages {
                let partition = KafkaReplayPosition.Partition(topic: message.topic, partition: message.partition)
                position.next[partition] = Swift.max(position.next[partition] ?? 0, message.offset + 1)
                if let high = pending[partition], message.offset + 1 >= high { pending[partition] = nil }
            }
        }
    }
}
