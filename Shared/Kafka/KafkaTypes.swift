// Value types shared by the producer, the consumer and the mock cluster.
//
// They are plain Swift values: every byte is copied out of librdkafka's buffers before the
// C object that owns them is destroyed, so nothing here points into C memory.

import CRdKafka

/// One Kafka record header. Kafka allows the same name more than once; order is kept.
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }

    /// Convenience for textual headers (`ce_type`, `traceparent`, …): the UTF-8 bytes of `value`.
    public init(name: String, string value: String) {
        self.init(name: name, value: Array(value.utf8))
    }

    /// The value decoded as UTF-8, or nil when it is not valid UTF-8.
    public var stringValue: String? {
        String(validating: value, as: UTF8.self)
    }
}

/// A record read from Kafka, fully copied into Swift memory.
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// nil when the record has no key (not the same as an empty key).
    public var key: [UInt8]?
    /// The record's value; a tombstone (null value) reads as an empty array.
    public var value: [UInt8]
    public var headers: [KafkaHeader]

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// The first header with this name, if any.
    public func header(_ name: String) -> KafkaHeader? {
        headers.first { $0.name == name }
    }
}

/// An error reported by librdkafka (or by this wrapper, using librdkafka's codes).
///
/// `code` is librdkafka's `rd_kafka_resp_err_t`: negative values are client-side errors
/// (`RD_KAFKA_RESP_ERR__…`, for example -192 `__MSG_TIMED_OUT`), positive values are Kafka
/// protocol errors returned by a broker.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    /// The client instance can no longer be used (for example an idempotent-producer sequence
    /// error). The owner should close it and start a new one.
    public var isFatal: Bool
    /// Trying the same operation again later may succeed (broker away, timeout, leader moved).
    public var isRetriable: Bool

    public init(code: Int32, message: String, isFatal: Bool = false, isRetriable: Bool = false) {
        self.code = code
        self.message = message
        self.isFatal = isFatal
        self.isRetriable = isRetriable
    }

    /// librdkafka's symbolic name of `code`, for example `_MSG_TIMED_OUT`.
    public var name: String {
        String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code)))
    }

    public var description: String {
        var text = "KafkaError \(name) (\(code)): \(message)"
        if isFatal { text += " [fatal]" }
        if isRetriable { text += " [retriable]" }
        return text
    }

    /// The operation was attempted on a producer or consumer after `close()`.
    public static func closed(_ what: String) -> KafkaError {
        KafkaError(
            code: RD_KAFKA_RESP_ERR__DESTROY.rawValue,
            message: "\(what) is closed",
            isFatal: false,
            isRetriable: false
        )
    }
}

extension KafkaError {
    /// An error from a bare response code, with librdkafka's text when no message is given.
    init(_ err: rd_kafka_resp_err_t, message: String? = nil, isFatal: Bool = false) {
        self.init(
            code: err.rawValue,
            message: message ?? String(cString: rd_kafka_err2str(err)),
            isFatal: isFatal || err == RD_KAFKA_RESP_ERR__FATAL,
            isRetriable: Self.retriableCodes.contains(err.rawValue)
        )
    }

    /// Takes ownership of an `rd_kafka_error_t` (as returned by `rd_kafka_produceva`) and
    /// destroys it.
    init(consuming error: OpaquePointer) {
        defer { rd_kafka_error_destroy(error) }
        self.init(
            code: rd_kafka_error_code(error).rawValue,
            message: String(cString: rd_kafka_error_string(error)),
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            isRetriable: rd_kafka_error_is_retriable(error) != 0
        )
    }

    /// Codes for which librdkafka's plain response codes carry no retriable flag but a later
    /// attempt can succeed: transport problems, timeouts, leadership moves, full queues.
    private static let retriableCodes: Set<Int32> = Set([
        RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT,
        RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, RD_KAFKA_RESP_ERR__QUEUE_FULL,
        RD_KAFKA_RESP_ERR__RESOLVE, RD_KAFKA_RESP_ERR__WAIT_COORD,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
        RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
    ].map(\.rawValue))
}
