// The one place that owns a librdkafka client handle (`rd_kafka_t`) and makes the C calls
// on it, modelled on swift-kafka-client's `RDKafkaClient`.
//
// Threads, and why:
// - librdkafka's own threads do the network work. What reaches the application (delivery
//   reports, errors, log lines) is sent as *events* to the handle's main queue
//   (`rd_kafka_conf_set_events` plus `log.queue=true` / `rd_kafka_set_log_queue`), not as C
//   callbacks. One dedicated `Thread` per client ("events thread") polls that queue with a
//   100 ms timeout and dispatches the events in Swift.
// - Calls that block (consumer poll with a timeout, flush, synchronous commit, metadata
//   requests, consumer close) never run on Swift's cooperative pool, which has only as many
//   threads as cores (two here): `runBlocking` hops to a serial `DispatchQueue` and resumes
//   the awaiting task with the result. A queue created with a label targets an overcommit
//   root queue, so a blocked queue gets its own thread instead of starving other work.
// - Calls that do not block (produce, offsets store) run on the caller's thread.
//
// Lifetime: every C call goes through `withHandle`, which counts the call as in flight and
// refuses it once closing has begun. `close` waits for in-flight calls to finish (all of
// them are bounded by a timeout), stops the events thread, destroys the queues and topic
// handles it holds, and only then destroys the handle, so no call ever sees a freed handle.

import CRdKafka
import Dispatch
import Foundation
import Logging
import Metrics
import Synchronization

/// Owner of one `rd_kafka_t` (producer or consumer) and of every C call made on it.
///
/// `@unchecked Sendable` is safe here because: librdkafka's client handle and queues are
/// thread-safe (its API may be called from any thread concurrently, except that nothing may
/// be called after `rd_kafka_destroy`); the stored pointers never change after `init`; and
/// the only mutable Swift state lives in `Mutex`/`Atomic` values. Use after destroy is
/// excluded by the in-flight accounting in `withHandle` and `close`.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind: String {
        case producer
        case consumer
    }

    /// Receives each message of a delivery-report event, on the events thread: the opaque id
    /// that was given to `produce`, the topic, and the error (nil when the broker acked it).
    typealias DeliveryHandler = @Sendable (_ id: UInt, _ topic: String, _ error: KafkaError?) -> Void

    private struct Lifecycle {
        enum State {
            case open
            case closing
            case closed
        }

        var state = State.open
        /// C calls currently running under `withHandle`.
        var inFlight = 0
        /// Callers of `close` that arrived while another caller was closing.
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let kind: Kind
    let logger: Logger
    /// `rd_kafka_t *`. Valid until `close` finishes.
    private let handle: OpaquePointer
    /// The handle's main queue (`rd_kafka_queue_get_main`), where events go. Destroyed in
    /// `close` before the handle, as librdkafka requires.
    private let mainQueue: OpaquePointer
    private let onDelivery: DeliveryHandler?
    private let clientErrors: Counter
    private let lifecycle = Mutex(Lifecycle())
    private let fatal = Mutex<KafkaError?>(nil)
    /// Topic handles created by `knownTopic(_:)`, kept so that librdkafka keeps their
    /// metadata fresh; destroyed in `close` before the client handle. Stored as bit patterns
    /// (`UInt` is Sendable, `OpaquePointer` is not) since the pointers cross threads.
    private let topicHandles = Mutex<[String: UInt]>([:])
    private let stopEvents = Atomic<Bool>(false)
    private let eventsFinished = DispatchSemaphore(value: 0)
    /// Serial queue for the consumer's polls: one poll at a time, on a thread of its own.
    let pollQueue: DispatchQueue

    /// Creates the handle from `properties` (librdkafka names, passed through unchanged) and
    /// starts the events thread. `events` is a mask of `RD_KAFKA_EVENT_*` to route to the
    /// main queue; logs and errors are always routed.
    init(kind: Kind, properties: [String: String], events: Int32, logger: Logger, onDelivery: DeliveryHandler?) throws {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE, message: "rd_kafka_conf_new failed")
        }
        var all = properties
        // Logs become events on the main queue instead of being printed by librdkafka.
        all["log.queue"] = "true"
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in all.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, name, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(
                    RD_KAFKA_RESP_ERR__INVALID_ARG,
                    message: "librdkafka property \(name): \(cString(errorText))"
                )
            }
        }
        rd_kafka_conf_set_events(conf, events | RD_KAFKA_EVENT_LOG | RD_KAFKA_EVENT_ERROR)

        // On success rd_kafka_new takes ownership of conf; on failure it stays ours.
        guard let handle = rd_kafka_new(kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(RD_KAFKA_RESP_ERR__INVALID_ARG, message: "rd_kafka_new: \(cString(errorText))")
        }
        // nil: forward the log queue to the main queue, which the events thread polls.
        _ = rd_kafka_set_log_queue(handle, nil)
        guard let mainQueue = rd_kafka_queue_get_main(handle) else {
            rd_kafka_destroy(handle)
            throw KafkaError(RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE, message: "rd_kafka_queue_get_main failed")
        }

        self.kind = kind
        self.handle = handle
        self.mainQueue = mainQueue
        self.onDelivery = onDelivery
        let name = String(cString: rd_kafka_name(handle))
        var logger = logger
        logger[metadataKey: "kafka.client"] = "\(name)"
        self.logger = logger
        self.clientErrors = Counter(label: KafkaMetricNames.clientErrors)
        self.pollQueue = DispatchQueue(label: "samenplan.kafka.\(name).poll")

        let thread = Thread { [self] in runEventLoop() }
        thread.name = "kafka-events-\(name)"
        thread.start()
    }

    // MARK: Lifetime

    /// False once `close` has begun.
    var isOpen: Bool {
        lifecycle.withLock { $0.state == .open }
    }

    /// The fatal error librdkafka raised on this client, if any.
    var fatalError: KafkaError? {
        fatal.withLock { $0 }
    }

    /// Runs `body` with the handle unless closing has begun (then returns nil). While `body`
    /// runs, `close` does not destroy the handle.
    func withHandle<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T? {
        let admitted = lifecycle.withLock { state -> Bool in
            guard state.state == .open else { return false }
            state.inFlight += 1
            return true
        }
        guard admitted else { return nil }
        defer { lifecycle.withLock { $0.inFlight -= 1 } }
        return try body(handle)
    }

    /// Runs a blocking C call off the cooperative pool: on `queue` when given (serial, so
    /// calls on it take turns), otherwise on a fresh serial queue of its own so that an
    /// unrelated slow call (a flush, a commit) cannot delay it. Returns nil when the client is
    /// closing or closed by the time the call would start.
    func runBlocking<T: Sendable>(
        on queue: DispatchQueue? = nil,
        _ label: String,
        _ body: @escaping @Sendable (OpaquePointer) -> T
    ) async -> T? {
        let queue = queue ?? DispatchQueue(label: "samenplan.kafka.\(label)")
        return await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: self.withHandle(body))
            }
        }
    }

    /// Closes the client once; later or concurrent calls wait until the first one finished.
    ///
    /// `beforeDestroy` runs off the pool once no other C call is in flight and while the
    /// events thread still runs (so delivery reports produced by a flush are still
    /// dispatched): the producer flushes there, the consumer calls `rd_kafka_consumer_close`.
    /// `afterEvents` runs after the events thread has stopped (the producer fails any
    /// delivery still awaited).
    func close(
        beforeDestroy: @escaping @Sendable (OpaquePointer) -> Void,
        afterEvents: @escaping @Sendable () -> Void = {}
    ) async {
        let mustClose = lifecycle.withLock { state -> Bool in
            guard state.state == .open else { return false }
            state.state = .closing
            return true
        }
        if mustClose {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue(label: "samenplan.kafka.close").async {
                    self.performClose(beforeDestroy: beforeDestroy, afterEvents: afterEvents)
                    continuation.resume()
                }
            }
        } else {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let closed = lifecycle.withLock { state -> Bool in
                    if state.state == .closed { return true }
                    state.closeWaiters.append(continuation)
                    return false
                }
                if closed { continuation.resume() }
            }
        }
    }

    /// Runs on a dispatch thread. See `close`.
    private func performClose(
        beforeDestroy: @Sendable (OpaquePointer) -> Void,
        afterEvents: @Sendable () -> Void
    ) {
        // No new call gets in (state is .closing); wait for the running ones. Each is bounded
        // by a timeout (a poll by 100 ms), so this ends.
        while lifecycle.withLock({ $0.inFlight }) > 0 {
            usleep(1_000)
        }
        beforeDestroy(handle)

        stopEvents.store(true, ordering: .releasing)
        eventsFinished.wait()
        afterEvents()

        let topics = topicHandles.withLock { handles in
            defer { handles.removeAll() }
            return Array(handles.values)
        }
        for topic in topics {
            rd_kafka_topic_destroy(OpaquePointer(bitPattern: topic))
        }
        // Queues before the handle that owns them, or rd_kafka_destroy can hang.
        rd_kafka_queue_destroy(mainQueue)
        rd_kafka_destroy(handle)

        let waiters = lifecycle.withLock { state in
            state.state = .closed
            defer { state.closeWaiters.removeAll() }
            return state.closeWaiters
        }
        for waiter in waiters {
            waiter.resume()
        }
        logger.debug("Kafka \(kind.rawValue) closed")
    }

    // MARK: Events thread

    private func runEventLoop() {
        while !stopEvents.load(ordering: .acquiring) {
            if let event = rd_kafka_queue_poll(mainQueue, 100) {
                handle(event: event)
                rd_kafka_event_destroy(event)
            }
        }
        // Whatever is still queued (delivery reports of a final flush or purge).
        while let event = rd_kafka_queue_poll(mainQueue, 0) {
            handle(event: event)
            rd_kafka_event_destroy(event)
        }
        eventsFinished.signal()
    }

    private func handle(event: OpaquePointer) {
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_DR:
            handleDeliveryReports(event)
        case RD_KAFKA_EVENT_LOG:
            var facility: UnsafePointer<CChar>?
            var text: UnsafePointer<CChar>?
            var level: Int32 = 0
            guard rd_kafka_event_log(event, &facility, &text, &level) == 0 else { return }
            let message = text.map { String(cString: $0) } ?? ""
            let facilityName = facility.map { String(cString: $0) } ?? ""
            logger.log(
                level: Self.logLevel(syslog: level),
                "librdkafka: \(message)",
                metadata: ["kafka.facility": "\(facilityName)"]
            )
        case RD_KAFKA_EVENT_ERROR:
            handleError(event)
        default:
            let name = String(cString: rd_kafka_event_name(event))
            logger.debug("Ignoring librdkafka event", metadata: ["kafka.event": "\(name)"])
        }
    }

    private func handleDeliveryReports(_ event: OpaquePointer) {
        while let message = rd_kafka_event_message_next(event) {
            let id = UInt(bitPattern: message.pointee._private)
            let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
            var error: KafkaError?
            let code = message.pointee.err
            if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                if code == RD_KAFKA_RESP_ERR__FATAL, let fatal = fatalError {
                    error = fatal
                } else {
                    error = KafkaError(code, message: String(cString: rd_kafka_err2str(code)))
                }
            }
            onDelivery?(id, topic, error)
        }
    }

    private func handleError(_ event: OpaquePointer) {
        let code = rd_kafka_event_error(event)
        let text = String(cString: rd_kafka_event_error_string(event))
        clientErrors.increment()
        if rd_kafka_event_error_is_fatal(event) != 0 {
            // The event carries __FATAL; the underlying error comes from rd_kafka_fatal_error.
            var buffer = [CChar](repeating: 0, count: 512)
            let underlying = rd_kafka_fatal_error(handle, &buffer, buffer.count)
            let error = KafkaError(underlying, message: cString(buffer), isFatal: true)
            fatal.withLock { if $0 == nil { $0 = error } }
            logger.critical("librdkafka fatal error; the client must be recreated", metadata: ["kafka.error": "\(error)"])
        } else {
            logger.warning("librdkafka error", metadata: ["kafka.error": "\(KafkaError(code, message: text))"])
        }
    }

    /// syslog severities, as librdkafka uses them, to swift-log levels.
    private static func logLevel(syslog level: Int32) -> Logger.Level {
        switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    }

    // MARK: Producing

    /// Enqueues one message with `RD_KAFKA_MSG_F_COPY` (librdkafka copies key, value and
    /// headers before returning). Returns nil when librdkafka accepted it: exactly one
    /// delivery report with `opaque` follows on the events thread. Never blocks.
    func produce(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader], opaque: UInt) -> KafkaError? {
        let outcome: KafkaError?? = withHandle { handle in
            Self.produce(handle, topic: topic, key: key, value: value, headers: headers, opaque: opaque)
        }
        guard let outcome else { return .closed("Kafka producer") }
        return outcome
    }

    private static func produce(
        _ handle: OpaquePointer,
        topic: String,
        key: [UInt8]?,
        value: [UInt8],
        headers: [KafkaHeader],
        opaque: UInt
    ) -> KafkaError? {
        // Header list: on success the message owns it; if produceva fails it is still ours.
        var headerList: OpaquePointer?
        if !headers.isEmpty {
            let list = rd_kafka_headers_new(headers.count)
            for header in headers {
                let err = withNonNullBytes(header.value) { bytes, count in
                    rd_kafka_header_add(list, header.name, -1, bytes, count)
                }
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    rd_kafka_headers_destroy(list)
                    return KafkaError(err, message: "header \(header.name): \(String(cString: rd_kafka_err2str(err)))")
                }
            }
            headerList = list
        }

        let failure: OpaquePointer? = topic.withCString { topicName in
            withNonNullBytes(value) { valueBytes, valueCount in
                withOptionalBytes(key) { keyBytes, keyCount in
                    var values: [rd_kafka_vu_t] = []
                    var entry = rd_kafka_vu_t()
                    entry.vtype = RD_KAFKA_VTYPE_TOPIC
                    entry.u.cstr = topicName
                    values.append(entry)

                    entry = rd_kafka_vu_t()
                    entry.vtype = RD_KAFKA_VTYPE_VALUE
                    entry.u.mem.ptr = UnsafeMutableRawPointer(mutating: valueBytes)
                    entry.u.mem.size = valueCount
                    values.append(entry)

                    if let keyBytes {
                        entry = rd_kafka_vu_t()
                        entry.vtype = RD_KAFKA_VTYPE_KEY
                        entry.u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBytes)
                        entry.u.mem.size = keyCount
                        values.append(entry)
                    }
                    if let headerList {
                        entry = rd_kafka_vu_t()
                        entry.vtype = RD_KAFKA_VTYPE_HEADERS
                        entry.u.headers = headerList
                        values.append(entry)
                    }

                    entry = rd_kafka_vu_t()
                    entry.vtype = RD_KAFKA_VTYPE_OPAQUE
                    entry.u.ptr = UnsafeMutableRawPointer(bitPattern: opaque)
                    values.append(entry)

                    entry = rd_kafka_vu_t()
                    entry.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    entry.u.i = RD_KAFKA_MSG_F_COPY
                    values.append(entry)

                    return values.withUnsafeBufferPointer { buffer in
                        rd_kafka_produceva(handle, buffer.baseAddress, buffer.count)
                    }
                }
            }
        }
        guard let failure else { return nil }
        if let headerList { rd_kafka_headers_destroy(headerList) }
        return KafkaError(consuming: failure)
    }

    /// Waits until every enqueued message has been delivered or failed, at most `timeoutMs`,
    /// then purges what is left (those messages get a `_PURGE_QUEUE`/`_PURGE_INFLIGHT`
    /// delivery report). Blocking: call from `beforeDestroy` only.
    static func flushAndPurge(_ handle: OpaquePointer, timeoutMs: Int32, logger: Logger) {
        let err = rd_kafka_flush(handle, timeoutMs)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let left = rd_kafka_outq_len(handle)
            logger.warning(
                "Kafka producer flush did not finish; purging undelivered messages",
                metadata: ["kafka.error": "\(KafkaError(err))", "kafka.outq": "\(left)"]
            )
            _ = rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
            // Lets the purge's delivery reports reach the main queue.
            _ = rd_kafka_flush(handle, 100)
        }
    }

    // MARK: Metadata

    /// A topic handle that lives until `close`: librdkafka then keeps the topic's metadata
    /// in its cache and refreshes it.
    func knownTopic(_ name: String, handle: OpaquePointer) -> OpaquePointer? {
        let bits = topicHandles.withLock { handles -> UInt in
            if let existing = handles[name] { return existing }
            let topic = UInt(bitPattern: rd_kafka_topic_new(handle, name, nil))
            if topic != 0 { handles[name] = topic }
            return topic
        }
        return OpaquePointer(bitPattern: bits)
    }

    /// One metadata request, blocking up to `timeoutMs`: for `topic` when given, else for
    /// the topics this client already knows (enough to prove a broker answers).
    static func requestMetadata(_ handle: OpaquePointer, topic: OpaquePointer?, timeoutMs: Int32) -> rd_kafka_resp_err_t {
        var metadata: UnsafePointer<rd_kafka_metadata_t>?
        let err = rd_kafka_metadata(handle, 0, topic, &metadata, timeoutMs)
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        return err
    }
}

// MARK: Helpers

/// A `String` from a NUL-terminated C buffer.
func cString(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { pointer in
        String(cString: pointer.baseAddress!)
    }
}

/// `Duration` as whole milliseconds for librdkafka's `int timeout_ms` parameters.
func milliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    let millis = seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    return Int32(clamping: max(0, millis))
}

/// Calls `body` with a pointer that is never NULL, even for an empty array: librdkafka reads
/// a NULL pointer as a *null* value or key, which is not the same thing as an empty one.
func withNonNullBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawPointer, Int) -> R) -> R {
    if bytes.isEmpty {
        return withUnsafeTemporaryAllocation(byteCount: 1, alignment: 1) { scratch in
            body(UnsafeRawPointer(scratch.baseAddress!), 0)
        }
    }
    return bytes.withUnsafeBytes { buffer in
        body(buffer.baseAddress!, buffer.count)
    }
}

/// Like `withNonNullBytes`, passing nil through for a missing (null) key.
func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
    guard let bytes else { return body(nil, 0) }
    return withNonNullBytes(bytes) { pointer, count in body(pointer, count) }
}
