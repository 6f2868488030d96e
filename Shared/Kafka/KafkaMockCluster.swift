// librdkafka's in-process mock cluster (rdkafka_mock.h). It runs on librdkafka threads and
// speaks the real Kafka protocol on 127.0.0.1 TCP ports that it picks itself, so producers,
// consumers, kcat or another process connect to it like to any broker. It supports
// metadata, produce, fetch, consumer groups, offset commits and the idempotent producer;
// it does not support the CreateTopics admin request, hence `createTopic`.
//
// Limits seen with librdkafka 2.0.2: about 5 MB kept per partition (older records vanish
// silently), and a consumer-group join takes about 3 s.

import CRdKafka
import Synchronization

/// An in-process Kafka cluster for development and tests.
public final class KafkaMockCluster: Sendable {
    private struct Handles {
        /// `rd_kafka_t *` that owns the mock cluster (librdkafka requires one); unused otherwise.
        var owner: OpaquePointer
        /// `rd_kafka_mock_cluster_t *`.
        var cluster: OpaquePointer
    }

    /// nil once closed. Every mock call runs under this lock, so none overlaps `close()`.
    /// The calls are short: librdkafka hands them to the mock thread and waits for the reply.
    private let handles: Mutex<Handles?>

    /// `host:port,host:port…` of the mock brokers, for `bootstrap.servers`.
    public let bootstrapServers: String

    /// Starts `brokers` mock brokers (ids 1…brokers).
    public init(brokers: Int = 1) throws {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE, message: "rd_kafka_conf_new failed")
        }
        var errorText = [CChar](repeating: 0, count: 512)
        // The owner handle has no bootstrap servers of its own; only warnings are worth printing.
        _ = rd_kafka_conf_set(conf, "log_level", "4", &errorText, errorText.count)
        guard let owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(RD_KAFKA_RESP_ERR__INVALID_ARG, message: "rd_kafka_new: \(cString(errorText))")
        }
        guard let cluster = rd_kafka_mock_cluster_new(owner, Int32(clamping: brokers)) else {
            rd_kafka_destroy(owner)
            throw KafkaError(RD_KAFKA_RESP_ERR__FAIL, message: "rd_kafka_mock_cluster_new failed")
        }
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        handles = Mutex(Handles(owner: owner, cluster: cluster))
    }

    deinit {
        close()
    }

    /// Creates a topic with `partitions` partitions (replication factor 1). Throws when the
    /// topic exists already or the cluster is closed.
    public func createTopic(_ name: String, partitions: Int32 = 6) throws {
        let err: rd_kafka_resp_err_t? = handles.withLock { handles in
            guard let handles else { return nil }
            return rd_kafka_mock_topic_create(handles.cluster, name, partitions, 1)
        }
        guard let err else { throw KafkaError.closed("Kafka mock cluster") }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, message: "creating topic \(name): \(String(cString: rd_kafka_err2str(err)))")
        }
    }

    /// Takes a broker offline: it drops its connections and refuses new ones (leadership
    /// does not move). No effect on an unknown broker id or a closed cluster.
    public func setBrokerDown(_ brokerID: Int32) {
        handles.withLock { handles in
            guard let handles else { return }
            _ = rd_kafka_mock_broker_set_down(handles.cluster, brokerID)
        }
    }

    /// Brings a broker taken down with `setBrokerDown` back.
    public func setBrokerUp(_ brokerID: Int32) {
        handles.withLock { handles in
            guard let handles else { return }
            _ = rd_kafka_mock_broker_set_up(handles.cluster, brokerID)
        }
    }

    /// Stops the brokers (clients see their connections close). Idempotent.
    public func close() {
        handles.withLock { handles in
            guard let current = handles else { return }
            handles = nil
            rd_kafka_mock_cluster_destroy(current.cluster)
            rd_kafka_destroy(current.owner)
        }
    }
}
