import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanStorage

/// What a service does with the events of one consumer group.
///
/// `handle` runs inside the database transaction that also records the event in the inbox;
/// anything it writes (state, outbox events, audit lines) commits with it or not at all.
public protocol EventHandler: Sendable {
    /// The event types this handler acts on.
    var handledTypes: Set<EventType> { get }
    /// Types that this consumer sees on its topics but has nothing to do with: they are
    /// skipped. A type in neither set is unknown and goes to the dead-letter topic. By
    /// default every other type of the suite (`EventType.catalogue`), so a service does not
    /// dead-letter another's events that it simply does not use.
    var ignoredTypes: Set<EventType> { get }

    func handle(_ event: CloudEvent, in context: EventContext) async throws

    /// Handles events fetched together, in their order, in one transaction; each is new (the
    /// consumer has claimed it in the inbox) and of a handled type. The default hands them to
    /// `handle` one by one; a handler whose work is cheaper set-based overrides it. Throwing
    /// rolls the batch back: the consumer then handles each event on its own.
    func handle(batch: [ReceivedEvent]) async throws

    /// Work on one fetched event of a handled type that needs neither the database nor the
    /// events before it (validating, normalising names). The consumer does it on the thread
    /// pool while the previous batch's transaction runs, which takes it off the batch's
    /// critical path; the result reaches the handler as ``ReceivedEvent/prepared``. It must
    /// not throw or fail: what it finds wrong the handler answers in the transaction. By
    /// default nothing is prepared.
    func prepare(_ event: CloudEvent) -> (any Sendable)?
}

extension EventHandler {
    public var ignoredTypes: Set<EventType> { EventType.catalogue.subtracting(handledTypes) }

    public func prepare(_ event: CloudEvent) -> (any Sendable)? { nil }

    public func handle(batch: [ReceivedEvent]) async throws {
        for received in batch { try await handle(received.event, in: received.context) }
    }
}

/// An event of a batch, with the context (transaction, topic) it is handled in.
public struct ReceivedEvent: Sendable {
    public var event: CloudEvent
    public var context: EventContext
    /// What ``EventHandler/prepare(_:)`` made of the event when it was fetched, if anything.
    public var prepared: (any Sendable)?

    public init(event: CloudEvent, context: EventContext, prepared: (any Sendable)? = nil) {
        self.event = event
        self.context = context
        self.prepared = prepared
    }
}

/// The transaction an event is handled in, and the means to answer it.
public struct EventContext: Sendable {
    public let connection: PostgresConnection
    public let logger: Logger
    /// The service's own `source`, for the events it emits.
    public let source: String
    /// The Kafka topic the event came from; nil when it came another way (HTTP, a timer).
    public let topic: String?

    public init(connection: PostgresConnection, logger: Logger, source: String, topic: String? = nil) {
        self.connection = connection
        self.logger = logger
        self.source = source
        self.topic = topic
    }

    /// Writes `event` to the outbox in this transaction; the relay publishes it after commit.
    public func emit(_ event: CloudEvent, on topic: String, key: String?) async throws {
        try await Outbox.enqueue(event, topic: topic, key: key, on: connection, logger: logger)
    }

    /// Builds and emits an event of this service with a typed payload. The trace context of
    /// the event being handled travels on.
    public func emit(
        _ type: EventType, payload: some Encodable, on topic: String, key: String, traceparent: String?
    ) async throws {
        let event = StructuredEvent(source: source, type: type, subject: key, traceparent: traceparent, data: payload)
        try await Outbox.enqueue([OutboxEntry(event, topic: topic, key: key)], on: connection, logger: logger)
    }
}

/// Thrown by a handler for an event that can never succeed and has no answer of its own
/// (for example an internal event whose data breaks its schema). The event goes to the
/// dead-letter topic with this reason and the consumer moves on.
public struct PermanentEventFailure: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var detail: String

    public init(reason: String, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason): \(detail)" }
}

extension CloudEvent {
    /// The typed `data` of one of the suite's own events. An internal event whose data does
    /// not match its schema can never succeed: it is a permanent failure (dead-lettered).
    public func payload<T: Decodable>(as type: T.Type) throws -> T {
        do {
            return try data.decode(T.self)
        } catch {
            throw PermanentEventFailure(reason: "schema", detail: "\(self.type) data does not match its schema: \(error)")
        }
    }
}
