import Foundation
import Logging
import Metrics
import PostgresNIO
import SamenplanDomain
import SamenplanStorage
import ServiceLifecycle

/// What a service does when one of its timers is due. Runs in the transaction that marks the
/// timer fired, so its effects (events in the outbox) and the firing commit together: a timer
/// fires exactly once, even with several replicas (`SKIP LOCKED`) or a crash halfway.
public protocol TimerHandler: Sendable {
    var kinds: Set<String> { get }
    func fire(_ timer: DueTimer, in context: EventContext) async throws
}

/// Fires due timers. "Due" is judged by the injected `WallClock`, so tests can move time.
public final class TimerService: Service, Sendable {
    let service: String
    let database: Database
    let handler: any TimerHandler
    let clock: any WallClock
    let logger: Logger
    let pollInterval: Duration

    public init(
        service: String, database: Database, handler: any TimerHandler, clock: any WallClock, logger: Logger,
        pollInterval: Duration = .seconds(1)
    ) {
        self.service = service
        self.database = database
        self.handler = handler
        self.clock = clock
        self.logger = logger
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        var backoff = Backoff(maximum: .seconds(30))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // Unstructured, so shutdown lets the timer in flight commit; bounded, so a
                // transaction that never returns (seen after PostgreSQL restarted, see
                // `EventConsumerService.transactionDeadline`) pauses the timers instead of
                // stopping them for good. The retry cannot fire a timer twice: the hung
                // transaction still holds its row, which the next claim skips (`SKIP LOCKED`).
                let fired = try await withinDeadline(Self.roundDeadline) { try await self.fireDue() }
                backoff.reset()
                if fired == 0 { try? await Task.sleep(for: pollInterval) }
            } catch {
                logger.warning("timers paused", metadata: ["error": "\(error)"])
                try? await backoff.wait()
            }
        }
    }

    /// How long one round of `fireDue` (up to 100 timers, one short transaction each) may take.
    static let roundDeadline = Duration.seconds(60)

    /// Fires every timer due now, one transaction each. Returns how many fired.
    @discardableResult
    public func fireDue(limit: Int = 100) async throws -> Int {
        var fired = 0
        while fired < limit, try await fireOne() {
            fired += 1
        }
        return fired
    }

    private func fireOne() async throws -> Bool {
        let now = clock.now()
        let kinds = Array(handler.kinds)
        let logger = self.logger
        var claimed: Int64?
        do {
            return try await database.transaction { connection in
                let rows = try await connection.query(
                    """
                    SELECT id, kind, subject, due_at, payload FROM timers
                    WHERE fired_at IS NULL AND due_at <= \(now) AND kind = ANY(\(kinds))
                    ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED
                    """, logger: logger
                ).collect()
                guard let row = rows.first else { return false }
                let (id, kind, subject, dueAt, payload) = try row.decode((Int64, String, String, Date, String).self)
                claimed = id
                let timer = DueTimer(
                    kind: kind, subject: subject, dueAt: dueAt,
                    payload: (try? JSONCoding.decoder.decode(JSON.self, from: Data(payload.utf8))) ?? .null)
                try await handler.fire(
                    timer, in: EventContext(connection: connection, logger: logger, source: EventSource.service(service)))
                try await connection.query("UPDATE timers SET fired_at = \(now) WHERE id = \(id)", logger: logger)
                Counter(label: "samenplan_timers_fired_total", dimensions: [("service", service), ("kind", kind)]).increment()
                return true
            }
        } catch where !DatabaseFault.isTransient(error) {
            // A timer whose handler fails for another reason must not block the others: it
            // is put back an hour and logged, to be looked into.
            guard let claimed else { throw error }
            logger.error("timer failed, retrying in an hour", metadata: ["error": "\(String(reflecting: error))"])
            try await database.client.query(
                "UPDATE timers SET due_at = \(now.addingTimeInterval(3600)) WHERE id = \(claimed) AND fired_at IS NULL",
                logger: logger)
            return true
        }
    }
}

/// Several timer handlers as one, each firing the kinds it knows (a service has one
/// `TimerService`).
public struct TimerHandlers: TimerHandler {
    let handlers: [any TimerHandler]

    public init(_ handlers: [any TimerHandler]) {
        self.handlers = handlers
    }

    public var kinds: Set<String> { handlers.reduce(into: []) { $0.formUnion($1.kinds) } }

    public func fire(_ timer: DueTimer, in context: EventContext) async throws {
        for handler in handlers where handler.kinds.contains(timer.kind) {
            try await handler.fire(timer, in: context)
        }
    }
}
