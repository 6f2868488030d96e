import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import SamenplanDomain
import SamenplanKafka
import SamenplanServer
import ServiceLifecycle
import Synchronization

/// Runs several applications at once (each with its services: consumer, relay, workers)
/// and hands `body` one test client per application, in order.
public func withRunningApplications<T: Sendable>(
    _ apps: [any ApplicationProtocol], _ body: @Sendable ([any TestClientProtocol]) async throws -> T
) async throws -> T {
    try await runNested(apps[...], clients: [], body)
}

private func runNested<T: Sendable>(
    _ apps: ArraySlice<any ApplicationProtocol>, clients: [any TestClientProtocol],
    _ body: @Sendable ([any TestClientProtocol]) async throws -> T
) async throws -> T {
    guard let first = apps.first else { return try await body(clients) }
    let rest = apps.dropFirst()
    return try await first.test(.router) { client in
        // Start work only once the service says it is ready (schema migrated, Kafka reached).
        let ready = try await eventually(timeout: .seconds(60)) {
            try await client.execute(uri: "/health/ready", method: .get).status == .ok
        }
        guard ready else { throw NotReady() }
        return try await runNested(rest, clients: clients + [client], body)
    }
}

struct NotReady: Error, CustomStringConvertible {
    var description: String { "a service did not become ready within 30 s" }
}

struct OutboxNotSent: Error, CustomStringConvertible {
    var service: String
    var description: String { "the \(service) outbox still had unsent events after 30 s" }
}

/// An HTTP receiver on a real loopback port that records every request, for webhook tests.
public final class RecordingReceiver: Sendable {
    public struct Received: Sendable {
        public var path: String
        /// Header values by lowercased name.
        public var headers: [String: String]
        public var body: [UInt8]
    }

    private let received = Mutex<[Received]>([])
    /// Status codes to answer with, in turn; 200 once they are used up.
    private let scripted = Mutex<[HTTPResponse.Status]>([])

    public init() {}

    public var requests: [Received] { received.withLock { $0 } }

    public func answer(_ statuses: [HTTPResponse.Status]) { scripted.withLock { $0 = statuses } }

    /// Runs the receiver for the duration of `body`, which gets its base URL.
    public func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("**") { request, context -> Response in
            let bytes = try await request.body.collect(upTo: 1_048_576)
            self.received.withLock {
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                $0.append(Received(path: request.uri.path, headers: headers, body: Array(buffer: bytes)))
            }
            let status = self.scripted.withLock { $0.isEmpty ? HTTPResponse.Status.ok : $0.removeFirst() }
            return Response(status: status)
        }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: Logger(label: "receiver"))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            let serviceGroup = ServiceGroup(services: [app], logger: Logger(label: "receiver"))
            group.addTask { try await serviceGroup.run() }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next() ?? 0
            defer { group.cancelAll() }
            let result = try await body("http://127.0.0.1:\(port)")
            await serviceGroup.triggerGracefulShutdown()
            return result
        }
    }
}

/// Reads what the suite published: a consumer with a group of its own, from the beginning.
public func readTopic(
    _ topic: String, from environment: TestEnvironment, atLeast count: Int, timeout: Duration = .seconds(20)
) async throws -> [KafkaMessage] {
    let consumer = try KafkaConsumer(
        properties: ["bootstrap.servers": environment.kafka.bootstrapServers],
        groupID: "test-reader-\(UUID().uuidString)", topics: [topic], logger: environment.logger)
    let messages = try await withThrowingTaskGroup(of: [KafkaMessage].self) { group in
        group.addTask {
            var messages: [KafkaMessage] = []
            for try await message in consumer {
                messages.append(message)
                if messages.count >= count { break }
            }
            return messages
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return []
        }
        let first = try await group.next() ?? []
        group.cancelAll()
        return first
    }
    await consumer.close()
    return messages
}

/// The events of `type` that `service` published on `topic`, read back from the topic once
/// the service's outbox has nothing left to send: what a consumer of the topic gets.
public func publishedEvents(
    _ type: EventType, by service: String, on topic: String, from environment: TestEnvironment
) async throws -> [CloudEvent] {
    let total = try await eventuallyValue(timeout: .seconds(60)) {
        try await environment.withAdminClient { client -> Int? in
            let unsent = try await client.count(
                PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(service).outbox WHERE sent_at IS NULL"))
            guard unsent == 0 else { return nil }
            return try await client.count(
                PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(service).outbox WHERE topic = '\(topic)'"))
        }
    }
    guard let total else { throw OutboxNotSent(service: service) }
    return try await readTopic(topic, from: environment, atLeast: total).compactMap(\.event)
        .filter { $0.type == type.rawValue }
}

extension KafkaMessage {
    /// The message as a CloudEvent (structured mode), for assertions.
    public var event: CloudEvent? {
        try? CloudEvent.decode(value: value, headers: headers.map { ($0.name, $0.value) })
    }

    public func headerString(_ name: String) -> String? {
        header(name).map { String(decoding: $0.value, as: UTF8.self) }
    }
}

/// A referral event as an integrator would publish it; `data` can be altered per test.
public func referralEvent(
    id: String = UUID().uuidString, source: String = "/integrators/veilig-thuis", referralId: String = "VT-\(UUID().uuidString.prefix(8))",
    area: String = "borsele", childGivenName: String = "Sanne", childFamilyName: String = "de Vries",
    childBirthDate: String = "2015-04-02", urgency: String = "normal"
) -> CloudEvent {
    CloudEvent(
        id: id, source: source, type: EventType.referralSubmitted.rawValue, subject: referralId,
        data: .object([
            "referralId": .string(referralId),
            "framework": .string("voluntary"),
            "urgency": .string(urgency),
            "area": .string(area),
            "referrer": .object(["organisation": .string("Veilig Thuis Zeeland")]),
            "members": .array([
                .object([
                    "memberRef": .string("m1"), "role": .string("parent"), "givenName": .string("Eva"),
                    "familyName": .string(childFamilyName),
                ]),
                .object([
                    "memberRef": .string("m2"), "role": .string("child"), "givenName": .string(childGivenName),
                    "familyName": .string(childFamilyName), "birthDate": .string(childBirthDate),
                ]),
            ]),
            "reason": .string("Zorgen over de veiligheid thuis."),
        ]))
}
