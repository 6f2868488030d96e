import Foundation
import Hummingbird
import Logging
import HummingbirdTesting
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanKafka
import SamenplanServer
import SamenplanStorage
import SamenplanTesting
import Synchronization
import Testing

/// Paths nothing tested before (issue 19, item 10): a handler that keeps failing, and which
/// database errors count as transient.
@Suite(.serialized) struct ConsumerFailureTests {
    /// Fails every time it is called, with an error that is no database fault.
    final class AlwaysFails: EventHandler {
        struct Broken: Error {}
        let calls = Mutex(0)
        var handledTypes: Set<EventType> { [.caseOpened] }
        func handle(_ event: CloudEvent, in context: EventContext) async throws {
            calls.withLock { $0 += 1 }
            throw Broken()
        }
    }

    /// A handler error that is no transient fault is tried five times and then dead-lettered
    /// as `handler-failed`, with nothing recorded in the inbox; the consumer goes on.
    @Test func aFailingHandlerIsTriedFiveTimesThenDeadLettered() async throws {
        let handler = AlwaysFails()
        let definition = ServiceDefinition(
            name: "planning", defaultPort: 0, migrations: [],
            consumer: { _ in .init(topics: [Topic.intake], handler: handler, batchSize: 10) },
            routes: { _, _ in })
        try await TestEnvironment.with { environment in
            let app = try await ServiceRuntime.buildApplication(definition, configuration: try environment.configuration(for: "planning"))
            try await withRunningApplications([app]) { _ in
                let event = CloudEvent(source: "/test", type: EventType.caseOpened.rawValue, subject: "case-x", data: ["caseId": "x"])
                try await environment.withProducer { producer in
                    try await producer.send(topic: Topic.intake, key: Array("case-x".utf8), value: try event.structuredBytes())
                }
                let letters = try await eventuallyValue(timeout: .seconds(90)) { () -> [DeadLetter]? in
                    let letters = try await DeadLetterQueue.list(
                        service: "planning", kafka: ["bootstrap.servers": environment.kafka.bootstrapServers], logger: environment.logger)
                    return letters.isEmpty ? nil : letters
                }
                let letter = try #require(letters?.first)
                #expect(letters?.count == 1)
                #expect(letter.reason == "handler-failed" && letter.eventID == event.id)
                // Five tries (a batch of one is handled as the event alone), no more.
                #expect(handler.calls.withLock { $0 } == 5, "called \(handler.calls.withLock { $0 }) times")
                let handled = try await environment.withAdminClient { client in
                    try await client.count("SELECT count(*) FROM planning.inbox WHERE event_id = \(event.id)")
                }
                #expect(handled == 0)
            }
        }
    }

    /// The SQLSTATEs a retry can get past are transient; the ones that will happen again are
    /// not. Raised by the real server, so the classification sees what it will see in use.
    @Test(arguments: [
        ("40001", true), ("40P01", true), ("57P01", true), ("55P03", true), ("53300", true), ("08006", true),
        ("23505", false), ("42601", false), ("22P02", false), ("P0001", false),
    ])
    func databaseErrorsAreTransientOnlyWhenARetryCanHelp(state: String, transient: Bool) async throws {
        var url = try DatabaseURL(TestEnvironment.adminURLText)
        url.database = "postgres"
        let caught = try await DatabaseSetup.withClient(url, logger: Logger(label: "test")) { client -> (any Error)? in
            do {
                _ = try await client.query(
                    PostgresQuery(unsafeSQL: "DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '\(state)'; END $$")
                ).collect()
                return nil
            } catch {
                return error
            }
        }
        let error = try #require(caught)
        #expect(DatabaseFault.isTransient(error) == transient, "\(state): \(String(reflecting: error).prefix(300))")
    }
}
