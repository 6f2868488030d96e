// swift-metrics counters of the Kafka wrapper. Names are part of the operations contract
// (dashboards and alerts read them), so they live in one place.

import Metrics
import Synchronization

/// Per-topic counters, created on first use and cached per producer or consumer (creating a
/// `Counter` asks the metrics factory each time). A cache per client instance, not a global
/// one, so that a `MetricsSystem.bootstrap` before the client is created is always honoured.
final class TopicCounters: Sendable {
    private let label: String
    private let counters = Mutex<[String: Counter]>([:])

    init(label: String) {
        self.label = label
    }

    func callAsFunction(_ topic: String) -> Counter {
        counters.withLock { counters in
            if let counter = counters[topic] { return counter }
            let counter = Counter(label: label, dimensions: [("topic", topic)])
            counters[topic] = counter
            return counter
        }
    }
}

enum KafkaMetricNames {
    /// Messages the broker acknowledged (delivery report without error), by topic.
    static let produced = "samenplan_kafka_produced_total"
    /// Messages that could not be enqueued or whose delivery failed, by topic.
    static let produceErrors = "samenplan_kafka_produce_errors_total"
    /// Messages handed to the application by a consumer, by topic.
    static let consumed = "samenplan_kafka_consumed_total"
    /// Errors librdkafka reported on any client (error events, consumer errors); no dimension.
    static let clientErrors = "samenplan_kafka_client_errors_total"
}
