import SamenplanKafka

/// The headers a dead letter carries, so an operator (and the DLQ tool) can see why it
/// was set aside and where it came from.
public enum DeadLetterHeader {
    public static let reason = "dlq-reason"
    public static let detail = "dlq-detail"
    public static let service = "dlq-service"
    public static let originalTopic = "dlq-original-topic"
    public static let originalPartition = "dlq-original-partition"
    public static let originalOffset = "dlq-original-offset"
}

extension KafkaMessage {
    /// This message as a dead letter: the original key, value and headers, plus the reason
    /// and the original position.
    func deadLetterHeaders(reason: String, detail: String, service: String) -> [KafkaHeader] {
        func header(_ name: String, _ value: String) -> KafkaHeader { KafkaHeader(name: name, value: Array(value.utf8)) }
        return headers + [
            header(DeadLetterHeader.reason, reason),
            header(DeadLetterHeader.detail, String(detail.prefix(1000))),
            header(DeadLetterHeader.service, service),
            header(DeadLetterHeader.originalTopic, topic),
            header(DeadLetterHeader.originalPartition, String(partition)),
            header(DeadLetterHeader.originalOffset, String(offset)),
        ]
    }
}
