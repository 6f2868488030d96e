// The Kafka wrapper against librdkafka's mock cluster over TCP: the same code paths as
// against a real broker (protocol, consumer groups, offset commits, idempotent producer).

import Foundation
import SamenplanDomain
import SamenplanKafka
import Synchronization
import Testing

@Suite("Kafka client", .timeLimit(.minutes(2)))
struct KafkaClientTests {
    @Test("a message keeps its key, value and headers from producer to consumer")
    func roundTrip() async throws {
        let cluster = try KafkaMockCluster()
        defer { cluster.close() }
        let topic = unique("roundtrip")
        try cluster.createTopic(topic, partitions: 1)

        let producer = try makeProducer(cluster)
        let headers = [
            KafkaHeader(name: "ce_type", string: "nl.samenplan.referral.submitted.v1"),
            KafkaHeader(name: "binary", value: [0, 255, 1, 0]),
            KafkaHeader(name: "empty", value: []),
            KafkaHeader(name: "binary", value: [7]),  // repeated name, order kept
        ]
        try await producer.send(topic: topic, key: bytes("case-1"), value: bytes(#"{"a":1}"#), headers: headers)
        try await producer.send(topic: topic, key: nil, value: [1, 2, 3])
        try await producer.send(topic: topic, key: [], value: [])

        let consumer = try makeConsumer(cluster, group: unique("group"), topics: [topic])
        let received = try await collect(consumer, count: 3, within: .seconds(30))
        await consumer.close()
        await producer.close(timeout: .seconds(5))

        try #require(received.count == 3)
        let first = received[0]
        #expect(first.topic == topic)
        #expect(first.partition == 0)
        #expect(first.offset == 0)
        #expect(first.key == bytes("case-1"))
        #expect(first.value == bytes(#"{"a":1}"#))
        #expect(first.headers == headers)
        #expect(first.header("ce_type")?.stringValue == "nl.samenplan.referral.submitted.v1")

        #expect(received[1].offset == 1)
        #expect(received[1].key == nil)
        #expect(received[1].value == [1, 2, 3])
        #expect(received[1].headers.isEmpty)

        #expect(received[2].key == [])  // empty, not null
        #expect(received[2].value == [])
    }

    @Test("500 awaited sends succeed and one group member reads all 500; lag follows stored offsets")
    func fiveHundredMessages() async throws {
        let cluster = try KafkaMockCluster()
        defer { cluster.close() }
        let topic = unique("bulk")
        try cluster.createTopic(topic, partitions: 6)

        let producer = try makeProducer(cluster)
        await producer.warmUp(topics: [topic])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<500 {
                group.addTask {
                    try await producer.send(topic: topic, key: bytes("family-\(index % 25)"), value: bytes("\(index)"))
                }
            }
            try await group.waitForAll()
        }
        await producer.close(timeout: .seconds(5))

        let consumer = try makeConsumer(cluster, group: unique("group"), topics: [topic])
        let received = try await collect(consumer, count: 500, within: .seconds(60))

        #expect(received.count == 500)
        #expect(Set(received.map { text($0.value) }) == Set((0..<500).map { "\($0)" }))
        // One key, one partition (so one family's events stay in order) …
        let partitionsByKey = Dictionary(grouping: received, by: { text($0.key ?? []) })
            .mapValues { Set($0.map(\.partition)) }
        #expect(partitionsByKey.count == 25)
        #expect(partitionsByKey.values.allSatisfy { $0.count == 1 })
        // … and the keys spread over the partitions.
        #expect(Set(received.map(\.partition)).count > 1)

        // Nothing stored or committed yet: every message still counts as lag.
        #expect(await eventually(within: .seconds(10)) { await consumer.lag() == 500 })
        for message in received {
            try consumer.storeOffset(for: message)
        }
        #expect(await consumer.lag() == 0)
        try await consumer.commitStoredOffsets()
        await consumer.close()
    }

    @Test("sendInOrder delivers a batch in order and reports one outcome per message")
    func sendInOrder() async throws {
        let cluster = try KafkaMockCluster()
        defer { cluster.close() }
        let topic = unique("ordered")
        try cluster.createTopic(topic, partitions: 1)

        let producer = try makeProducer(cluster)
        let batch = (0..<200).map { OutgoingMessage(topic: topic, key: bytes("case-7"), value: bytes("\($0)")) }
        let outcomes = await producer.sendInOrder(batch)
        #expect(outcomes.count == 200)
        #expect(outcomes.allSatisfy { if case .success = $0 { true } else { false } })
        await producer.close(timeout: .seconds(5))

        // After close: every message fails, none is left waiting.
        let refused = await producer.sendInOrder(Array(batch.prefix(3)))
        #expect(refused.count == 3)
        #expect(refused.allSatisfy { if case .failure = $0 { true } else { false } })

        let consumer = try makeConsumer(cluster, group: unique("group"), topics: [topic])
        let received = try await collect(consumer, count: 200, within: .seconds(120))
        await consumer.close()
        #expect(received.map { text($0.value) } == (0..<200).map { "\($0)" })
        #expect(received.map(\.offset) == (0..<200).map { Int64($0) })
    }

    @Test("a new member of the group resumes after the last stored offset")
    func resumesAtStoredOffset() async throws {
        let cluster = try KafkaMockCluster()
        defer { cluster.close() }
        let topic = unique("offsets")
        try cluster.createTopic(topic, partitions: 1)
        let group = unique("group")

        let producer = try makeProducer(cluster)
        for index in 0..<10 {
            try await producer.send(topic: topic, key: bytes("k"), value: bytes("\(index)"))
        }
        await producer.close(timeout: .seconds(5))

        // The first member processes offsets 0…4 but only 0…3 "commit their transaction".
        let first = try makeConsumer(cluster, group: group, topics: [topic])
        let stored = Mutex<[Int64]>([])
        let firstBatch = try await collect(first, count: 5, within: .seconds(30)) { message in
            if message.offset < 4 {
                try first.storeOffset(for: message)
                stored.withLock { $0.append(message.offset) }
            }
        }
        #expect(firstBatch.map(\.offset) == [0, 1, 2, 3, 4])
        #expect(stored.withLock { $0 } == [0, 1, 2, 3])
        // High watermark 10, stored position 4.
        #expect(await eventually(within: .seconds(10)) { await first.lag() == 6 })
        await first.close()

        let second = try makeConsumer(cluster, group: group, topics: [topic])
        let secondBatch = try await collect(second, count: 1, within: .seconds(30))
        await second.close()

        let resumed = try #require(secondBatch.first)
        #expect(resumed.offset == 4)
        #expect(text(resumed.value) == "4")
    }

    @Test("a send made while the broker is down completes after it comes back; readiness follows")
    func brokerDownAndUp() async throws {
        let cluster = try KafkaMockCluster()
        defer { cluster.close() }
        let topic = unique("outage")
        try cluster.createTopic(topic, partitions: 2)

        let producer = try makeProducer(
            cluster,
            ["message.timeout.ms": "30000", "reconnect.backoff.ms": "100", "reconnect.backoff.max.ms": "500"]
        )
        await producer.warmUp(topics: [topic])
        try await producer.send(topic: topic, key: bytes("k"), value: bytes("before"))
        #expect(await producer.clusterAnswers(timeout: .seconds(2)))

        cluster.setBrokerDown(1)
        let probeStart = ContinuousClock.now
        #expect(await producer.clusterAnswers(timeout: .seconds(1)) == false)
        // The probe gives up near its timeout instead of hanging; the bound is generous
        // because the whole suite shares two cores.
        #expect(ContinuousClock.now - probeStart < .seconds(10))

        let sending = Task { () throws -> ContinuousClock.Instant in
            try await producer.send(topic: topic, key: bytes("k"), value: bytes("during"))
            return ContinuousClock.now
        }
        try await Task.sleep(for: .seconds(2))
        let upAt = ContinuousClock.now
        cluster.setBrokerUp(1)

        let deliveredAt = try await sending.value
        #expect(deliveredAt > upAt, "the send must not complete while the broker is down")
        #expect(deliveredAt - upAt < .seconds(25))
        #expect(await eventually(within: .seconds(10)) { await producer.clusterAnswers(timeout: .seconds(1)) })
        await producer.close(timeout: .seconds(5))

        // Delivered once each: the idempotent producer's retries leave no duplicate.
        let consumer = try makeConsumer(cluster, group: unique("group"), topics: [topic])
        let received = try await collect(consumer, count: 3, within: .seconds(8))
        await consumer.close()
        #expect(received.map { text($0.value) }.sorted() == ["before", "during"])
    }

    @Test("close() is idempotent, prompt, ends iteration and refuses later use")
    func closing() async throws {
        let cluster = try KafkaMockCluster()
        defer { cluster.close() }
        let topic = unique("close")
        try cluster.createTopic(topic, partitions: 1)

        let producer = try makeProducer(cluster)
        try await producer.send(topic: topic, key: nil, value: bytes("one"))

        let consumer = try makeConsumer(cluster, group: unique("group"), topics: [topic])
        let received = try await collect(consumer, count: 1, within: .seconds(30))
        let message = try #require(received.first)
        // An iteration waiting for a message that never comes.
        let iteration = Task { () throws -> Int in
            var count = 0
            for try await _ in consumer { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(300))

        var started = ContinuousClock.now
        async let closeA: Void = consumer.close()
        async let closeB: Void = consumer.close()
        _ = await (closeA, closeB)
        await consumer.close()
        // Closing leaves the consumer group, which takes a round trip or two; the bound says
        // "does not hang" with room for a machine busy with the other tests running in parallel.
        // 10 s was once exceeded on a clean-clone CI run (10.19 s: the mock cluster's LeaveGroup
        // on a loaded machine), which without a second try fails the run; a hang is unbounded,
        // so 30 s still tells one apart. A bounded close is issue 24's work.
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(try await iteration.value == 0)
        var afterClose = consumer.makeAsyncIterator()
        #expect(try await afterClose.next() == nil)
        #expect(throws: KafkaError.self) { try consumer.storeOffset(for: message) }
        await #expect(throws: KafkaError.self) { try await consumer.commitStoredOffsets() }
        #expect(await consumer.lag() == nil)

        // The first close flushes (nothing is waiting) and frees librdkafka's handle: it does not
        // hang, with room for a machine busy with the other tests. The second has nothing to do.
        started = ContinuousClock.now
        await producer.close(timeout: .seconds(5))
        #expect(ContinuousClock.now - started < .seconds(10))
        started = ContinuousClock.now
        await producer.close(timeout: .seconds(5))
        #expect(ContinuousClock.now - started < .seconds(1))
        await #expect(throws: KafkaError.self) {
            try await producer.send(topic: topic, key: nil, value: bytes("two"))
        }
        #expect(await producer.clusterAnswers(timeout: .milliseconds(200)) == false)
    }

    @Test("close() fails sends still waiting for a delivery report instead of leaving them hanging")
    func closeFailsPendingSends() async throws {
        let cluster = try KafkaMockCluster()
        defer { cluster.close() }
        let topic = unique("pending")
        try cluster.createTopic(topic, partitions: 1)

        let producer = try makeProducer(cluster, ["message.timeout.ms": "120000"])
        await producer.warmUp(topics: [topic])
        cluster.setBrokerDown(1)
        let sending = Task { () -> (any Error)? in
            do {
                try await producer.send(topic: topic, key: nil, value: bytes("lost"))
                return nil
            } catch {
                return error
            }
        }
        try await Task.sleep(for: .milliseconds(500))

        let started = ContinuousClock.now
        await producer.close(timeout: .milliseconds(500))
        let error = await sending.value
        #expect(ContinuousClock.now - started < .seconds(10))
        let kafkaError = try #require(error as? KafkaError)
        #expect(!kafkaError.message.isEmpty)
    }

    @Test("cancelling the task that iterates a consumer ends the iteration")
    func cancellingIteration() async throws {
        let cluster = try KafkaMockCluster()
        defer { cluster.close() }
        let topic = unique("cancel")
        try cluster.createTopic(topic, partitions: 1)
        let consumer = try makeConsumer(cluster, group: unique("group"), topics: [topic])

        let iteration = Task { () throws -> Int in
            var count = 0
            for try await _ in consumer { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        iteration.cancel()
        #expect(try await iteration.value == 0)
        // Within one poll (100 ms) when idle; the margin is for a machine busy with the other
        // tests running in parallel. Without cancellation the iteration would never end.
        #expect(ContinuousClock.now - started < .seconds(5))

        // Cancellation ends that iteration only; the consumer stays usable until closed.
        let producer = try makeProducer(cluster)
        try await producer.send(topic: topic, key: nil, value: bytes("after"))
        await producer.close(timeout: .seconds(5))
        let received = try await collect(consumer, count: 1, within: .seconds(30))
        await consumer.close()
        #expect(received.map { text($0.value) } == ["after"])
    }

    @Test("an unknown librdkafka property is refused with a KafkaError naming it")
    func invalidConfiguration() throws {
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(properties: ["bootstrap.servers": "127.0.0.1:1", "no.such.property": "1"], logger: testLogger)
        }
        #expect(error?.message.contains("no.such.property") == true)
        #expect(throws: KafkaError.self) {
            _ = try KafkaConsumer(
                properties: ["bootstrap.servers": "127.0.0.1:1", "session.timeout.ms": "not-a-number"],
                groupID: unique("group"), topics: [unique("topic")], logger: testLogger
            )
        }
    }

    @Test("the mock cluster refuses a duplicate topic and every suite topic can be created")
    func mockClusterTopics() throws {
        let cluster = try KafkaMockCluster(brokers: 3)
        defer { cluster.close() }
        #expect(cluster.bootstrapServers.split(separator: ",").count == 3)
        for topic in Topic.all {
            try cluster.createTopic(topic, partitions: 6)
        }
        #expect(throws: KafkaError.self) { try cluster.createTopic(Topic.referrals) }
        cluster.close()
        cluster.close()
        #expect(throws: KafkaError.self) { try cluster.createTopic(unique("after-close")) }
    }
}
