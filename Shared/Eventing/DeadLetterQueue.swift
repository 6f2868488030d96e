import Foundation
import Logging
import SamenplanDomain
import SamenplanKafka

/// One message a service set aside on its dead-letter topic, with why and where it came from.
public struct DeadLetter: Sendable {
    /// Where it lies on the dead-letter topic: `partition:offset`, the id to re-drive it by.
    public var id: String { "\(message.partition):\(message.offset)" }
    public var reason: String
    public var detail: String
    public var originalTopic: String?
    public var originalPosition: String?
    /// The CloudEvent's type and id when the message is one.
    public var eventType: String?
    public var eventID: String?
    public var message: KafkaMessage

    init(_ message: KafkaMessage) {
        self.message = message
        reason = message.header(DeadLetterHeader.reason)?.stringValue ?? "unknown"
        detail = message.header(DeadLetterHeader.detail)?.stringValue ?? ""
        originalTopic = message.header(DeadLetterHeader.originalTopic)?.stringValue
        if let partition = message.header(DeadLetterHeader.originalPartition)?.stringValue,
            let offset = message.header(DeadLetterHeader.originalOffset)?.stringValue
        {
            originalPosition = "\(partition):\(offset)"
        }
        let original = message.headers.filter { !$0.name.hasPrefix("dlq-") }.map { ($0.name, $0.value) }
        if let event = try? CloudEvent.decode(value: message.value, headers: original) {
            eventType = event.type
            eventID = event.id
        }
    }
}

/// The DLQ tool (issue 8, item 5): lists a service's dead letters with their reasons, and
/// re-drives chosen ones to the topic they came from once the cause is fixed.
///
/// Re-driving is idempotent: a re-driven CloudEvent keeps its `source` and `id`, so the
/// consumer's inbox handles it once however often it is re-driven, and it is never handled
/// if it had been handled after all. A message that still cannot be handled goes back to
/// the dead-letter topic, with the same reason.
public enum DeadLetterQueue {
    /// The header a re-driven message carries: the dead letter it came from.
    public static let redrivenFromHeader = "dlq-redriven-from"

    /// Every dead letter of `service` now, oldest first per partition.
    public static func list(service: String, kafka properties: [String: String], logger: Logger) async throws -> [DeadLetter] {
        let reader = try KafkaConsumer.replaying(properties: properties, logger: logger)
        do {
            let ranges = try await reader.partitionRanges(of: [Topic.deadLetter(service: service)])
            try reader.assign(fromStartOf: ranges)
            var position = KafkaReplayPosition()
            var letters: [DeadLetter] = []
            try await reader.read(upTo: ranges, from: &position) { messages in
                letters += messages.map(DeadLetter.init)
            }
            await reader.close()
            return letters.sorted { ($0.message.partition, $0.message.offset) < ($1.message.partition, $1.message.offset) }
        } catch {
            await reader.close()
            throw error
        }
    }

    /// Publishes each letter's original key, value and headers to its original topic, in the
    /// order given, and waits until every one is acknowledged. Returns how many went out.
    public static func redrive(_ letters: [DeadLetter], with producer: KafkaProducer) async throws -> Int {
        let messages = try letters.map { letter in
            guard let topic = letter.originalTopic, !topic.isEmpty else {
                throw RedriveError(description: "dead letter \(letter.id) does not say which topic it came from")
            }
            var headers = letter.message.headers.filter { !$0.name.hasPrefix("dlq-") }
            headers.append(KafkaHeader(name: redrivenFromHeader, string: "\(letter.message.topic)/\(letter.id)"))
            return OutgoingMessage(topic: topic, key: letter.message.key, value: letter.message.value, headers: headers)
        }
        for result in await producer.sendInOrder(messages) { try result.get() }
        return messages.count
    }

    public struct RedriveError: Error, CustomStringConvertible {
        public var description: String
    }
}
