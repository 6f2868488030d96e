// Helpers for the Kafka wrapper tests. Every test starts its own in-process mock cluster
// (real Kafka protocol over 127.0.0.1 TCP) and uses unique topic names and group ids.

import Foundation
import Logging
import SamenplanKafka

let testLogger: Logger = {
    var logger = Logger(label: "KafkaTests")
    logger.logLevel = .error
    return logger
}()

func unique(_ prefix: String) -> String {
    "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
}

func bytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

func makeProducer(_ cluster: KafkaMockCluster, _ extra: [String: String] = [:]) throws -> KafkaProducer {
    var properties = ["bootstrap.servers": cluster.bootstrapServers]
    properties.merge(extra) { _, new in new }
    return try KafkaProducer(properties: properties, logger: testLogger)
}

func makeConsumer(_ cluster: KafkaMockCluster, group: String, topics: [String]) throws -> KafkaConsumer {
    try KafkaConsumer(
        properties: ["bootstrap.servers": cluster.bootstrapServers],
        groupID: group,
        topics: topics,
        logger: testLogger
    )
}

/// Reads from `consumer` until `count` messages arrived or `timeout` passed (then returns
/// what it has: the iteration is cancelled, which ends it). `onMessage` runs for each message
/// inside the iteration, before the next one is requested.
func collect(
    _ consumer: KafkaConsumer,
    count: Int,
    within timeout: Duration,
    onMessage: @escaping @Sendable (KafkaMessage) throws -> Void = { _ in }
) async throws -> [KafkaMessage] {
    try await withThrowingTaskGroup(of: [KafkaMessage]?.self) { group in
        group.addTask {
            var received: [KafkaMessage] = []
            guard count > 0 else { return received }
            for try await message in consumer {
                received.append(message)
                try onMessage(message)
                if received.count == count { break }
            }
            return received
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        var received: [KafkaMessage] = []
        for try await result in group {
            group.cancelAll()
            if let result { received = result }
        }
        return received
    }
}

/// Polls `condition` every 100 ms until it holds or `timeout` passed.
func eventually(within timeout: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return await condition()
}
