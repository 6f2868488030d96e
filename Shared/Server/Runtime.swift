import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOPosix
import PostgresNIO
import SamenplanDomain
import SamenplanEventing
import SamenplanKafka
import SamenplanStorage
import ServiceLifecycle
import Synchronization

/// What a service is made of; `ServiceRuntime` turns it into a running application.
public struct ServiceDefinition: Sendable {
    public struct Consumer: Sendable {
        public var topics: [String]
        public var handler: any EventHandler
        /// At most this many fetched messages share one transaction. Larger batches pay off
        /// for a handler that works set-based (`EventHandler.handle(batch:)`).
        public var batchSize: Int

        public init(topics: [String], handler: any EventHandler, batchSize: Int = 100) {
            self.topics = topics
            self.handler = handler
            self.batchSize = batchSize
        }
    }

    /// The service's name: its schema, login role, Kafka group and `source`.
    public var name: String
    public var defaultPort: Int
    public var migrations: [Migration]
    public var consumer: (@Sendable (ServiceEnvironment) throws -> Consumer)?
    /// What the service's durable timers do when due.
    public var timers: (@Sendable (ServiceEnvironment) throws -> any TimerHandler)?
    /// Adds the service's `/v1` routes (already behind authentication).
    public var routes: @Sendable (RouterGroup<SamenplanRequestContext>, ServiceEnvironment) -> Void
    /// Adds pages outside `/v1` that need no token (reporting's dashboard of suppressed
    /// figures); they answer 503 until the schema is migrated.
    public var publicRoutes: @Sendable (RouterGroup<SamenplanRequestContext>, ServiceEnvironment) -> Void
    /// Background work of the service's own (timers, delivery workers).
    public var backgroundServices: @Sendable (ServiceEnvironment) throws -> [any Service]

    public init(
        name: String, defaultPort: Int, migrations: [Migration],
        consumer: (@Sendable (ServiceEnvironment) throws -> Consumer)? = nil,
        timers: (@Sendable (ServiceEnvironment) throws -> any TimerHandler)? = nil,
        routes: @escaping @Sendable (RouterGroup<SamenplanRequestContext>, ServiceEnvironment) -> Void = { _, _ in },
        publicRoutes: @escaping @Sendable (RouterGroup<SamenplanRequestContext>, ServiceEnvironment) -> Void = { _, _ in },
        backgroundServices: @escaping @Sendable (ServiceEnvironment) throws -> [any Service] = { _ in [] }
    ) {
        self.name = name
        self.defaultPort = defaultPort
        self.migrations = migrations
        self.consumer = consumer
        self.timers = timers
        self.routes = routes
        self.publicRoutes = publicRoutes
        self.backgroundServices = backgroundServices
    }
}

/// What a service's routes, handlers and background work share.
public struct ServiceEnvironment: Sendable {
    public let configuration: ServiceConfiguration
    public let database: Database
    public let producer: KafkaProducer
    public let tokens: TokenAuthority
    public let logger: Logger
    /// Resolves when the schema is migrated; work that touches the tables awaits it.
    public let migrator: Migrator
    /// What time it is for the workflow (timers, "today"); a manual clock in tests.
    public let clock: any WallClock

    /// The `source` of the events this service emits.
    public var source: String { EventSource.service(configuration.service) }
}

public enum ServiceRuntime {
    /// Builds the application: HTTP server with health, metrics and `/v1`, plus the services
    /// that run beside it, in start order (they stop in reverse): the PostgreSQL pool first
    /// so it closes last, then the producer (flushed after everyone who produces has
    /// stopped), migrations, the outbox relay, the consumer and the service's own work.
    public static func buildApplication(
        _ definition: ServiceDefinition, configuration: ServiceConfiguration, logger: Logger? = nil,
        clock: any WallClock = SystemWallClock()
    ) async throws -> some ApplicationProtocol {
        var logger = logger ?? Logger(label: "samenplan.\(definition.name)")
        logger.logLevel = configuration.logLevel
        logger[metadataKey: "service"] = "\(definition.name)"
        _ = Observability.registry

        let postgres = PostgresClient(
            configuration: try configuration.databaseURL.clientConfiguration(schema: definition.name),
            backgroundLogger: logger)
        let database = Database(client: postgres, schema: definition.name, logger: logger)
        var clientProperties = configuration.kafkaClientProperties
        // Small requests (a relay batch of a few events, a fetch) go out at once. With
        // librdkafka's default (Nagle on), a small write waited for the broker's delayed ACK:
        // the relay took ~50 ms to have 10 events confirmed, 1,500 took 20 ms.
        clientProperties["socket.nagle.disable"] = clientProperties["socket.nagle.disable"] ?? "true"
        var producerProperties = clientProperties
        // A delivery that cannot complete in 30 s is reported failed; the outbox keeps the
        // row and tries again, so nothing is lost by giving up early.
        producerProperties["message.timeout.ms"] = producerProperties["message.timeout.ms"] ?? "30000"
        let producer = try KafkaProducer(properties: producerProperties, logger: logger)
        let migrator = Migrator(runner: MigrationRunner(database: database, serviceMigrations: definition.migrations), logger: logger)
        let tokens = await TokenAuthority(secret: configuration.jwtSecret, issuer: configuration.jwtIssuer, policy: configuration.tokenPolicy)
        let environment = ServiceEnvironment(
            configuration: configuration, database: database, producer: producer, tokens: tokens, logger: logger,
            migrator: migrator, clock: clock)

        var checks = [
            HealthCheck(name: "database") {
                await database.answers() ? .up : .down("PostgreSQL does not answer")
            },
            HealthCheck(name: "migrations") {
                await migrator.isCurrent() ? .up : .down("migrations are not applied yet")
            },
            HealthCheck(name: "kafka") {
                await producer.clusterAnswers(timeout: .milliseconds(1500)) ? .up : .down("the Kafka cluster does not answer")
            },
        ]
        var services: [any Service] = [
            postgres,
            ProducerService(producer: producer),
            MigrationService(migrator: migrator),
            AfterMigrations(migrator: migrator, service: OutboxRelay(database: database, producer: producer, logger: logger)),
        ]
        if let makeConsumer = definition.consumer {
            let consumerDefinition = try makeConsumer(environment)
            var consumerProperties = clientProperties
            // An event crosses up to three services on its way (referral → case → message): a
            // broker that holds an empty fetch for librdkafka's default 500 ms would add that at
            // every hop. 100 ms keeps a referral's whole journey well under 2 s.
            consumerProperties["fetch.wait.max.ms"] = consumerProperties["fetch.wait.max.ms"] ?? "100"
            let consumer = try KafkaConsumer(
                properties: consumerProperties, groupID: "samenplan-\(definition.name)",
                topics: consumerDefinition.topics, logger: logger)
            checks.append(
                HealthCheck(name: "consumer-group") {
                    consumer.hasJoinedGroup() ? .up : .down("not yet a member of its consumer group")
                })
            services.append(
                AfterMigrations(
                    migrator: migrator,
                    service: EventConsumerService(
                        service: definition.name, consumer: consumer, producer: producer, database: database,
                        handler: consumerDefinition.handler, logger: logger, batchSize: consumerDefinition.batchSize)))
        }
        if let makeTimers = definition.timers {
            services.append(
                AfterMigrations(
                    migrator: migrator,
                    service: TimerService(
                        service: definition.name, database: database, handler: try makeTimers(environment), clock: clock,
                        logger: logger, pollInterval: .milliseconds(500))))
        }
        services += try definition.backgroundServices(environment).map {
            AfterMigrations(migrator: migrator, service: $0) as any Service
        }

        let router = Router(context: SamenplanRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: MetricsMiddleware())
        // Health and metrics read no text from the request, so they carry no NUL guard: a probe
        // answers the same whatever its query string says.
        HealthRoutes.add(to: router, service: definition.name, checks: checks)
        let v1 = router.group("v1")
            .add(middleware: TextGuardMiddleware())
            .add(middleware: AuthMiddleware(authority: tokens))
            .add(middleware: StartingUpMiddleware(migrator: migrator))
        definition.routes(v1, environment)
        definition.publicRoutes(
            router.group().add(middleware: TextGuardMiddleware()).add(middleware: StartingUpMiddleware(migrator: migrator)),
            environment)
        // Last, so it wraps only the not-found responder: a known path with another method is a 405.
        router.add(middleware: MethodNotAllowedMiddleware(routesOf: router))

        // Slow clients are cut off (issue 18, finding 9): a connection that has not sent a
        // whole request head within the idle timeout, or waits that long between requests, is
        // closed; past the connection limit the server stops accepting until one closes.
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.http.idleTimeoutSeconds)))),
            configuration: .init(
                address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: definition.name,
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.http.maxConnections, logger: logger)),
            services: services,
            logger: logger)
    }

    /// The `main` of every executable: configuration from the environment (a clear message
    /// and exit 1 when it is wrong), logging, then run until SIGTERM or SIGINT. Never returns:
    /// once every service has stopped (offsets committed, producer flushed, pool closed) the
    /// process exits 0 at once. Returning into the top-level async `main` instead crashed
    /// now and then while librdkafka's and NIO's threads were still winding down.
    /// Makes NIO's event loops Swift concurrency's global executor, so a request's `await`s
    /// on PostgreSQL and Kafka resume on the loop that did the I/O instead of hopping to a
    /// separate thread pool and back (about two thread switches per statement otherwise).
    /// Safe here because nothing in the suite blocks a task: librdkafka's blocking calls run
    /// on their own threads and queues (SamenplanKafka). Call it first thing in `main.swift`,
    /// on the main thread, once; tests keep the default executor.
    public static func runTasksOnEventLoops() {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    public static func main(_ makeDefinition: () throws -> ServiceDefinition) async -> Never {
        let definition: ServiceDefinition
        do {
            definition = try makeDefinition()
        } catch {
            FileHandle.standardError.write(Data("cannot start: \(error)\n".utf8))
            exit(1)
        }
        let configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration.load(service: definition.name, defaultPort: definition.defaultPort)
        } catch {
            FileHandle.standardError.write(Data("\(definition.name): \(error.description)\n".utf8))
            exit(1)
        }
        Observability.bootstrapLogging(level: configuration.logLevel)
        let logger = Logger(label: "samenplan.\(definition.name)")
        do {
            let app = try await buildApplication(definition, configuration: configuration, logger: logger)
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            logger.notice("stopped")
            exit(0)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(definition.name): \(error.description)\n".utf8))
            exit(1)
        } catch {
            logger.critical("stopped by an error", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}

/// Applies the schema's migrations, retrying while the database is away, and remembers that
/// it did so (`/health/ready` reports "migrations" until then).
public final class Migrator: Sendable {
    let runner: MigrationRunner
    let logger: Logger
    private let applied = Atomic<Bool>(false)

    init(runner: MigrationRunner, logger: Logger) {
        self.runner = runner
        self.logger = logger
    }

    /// Returns once the schema is current. Several callers may race: the runner's advisory
    /// lock makes that harmless.
    public func ensureApplied() async throws {
        var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5))
        while !applied.load(ordering: .acquiring) {
            do {
                try await runner.apply()
                applied.store(true, ordering: .releasing)
            } catch {
                logger.warning("migrations not applied yet, retrying", metadata: ["error": "\(error)"])
                try await backoff.wait()
            }
        }
    }

    /// True once this process has seen the schema current (cheap: no query).
    public var isApplied: Bool { applied.load(ordering: .acquiring) }

    public func isCurrent() async -> Bool {
        guard applied.load(ordering: .acquiring) else { return false }
        return (try? await runner.isCurrent()) ?? false
    }
}

/// Until the schema is migrated the API answers 503 with `Retry-After`, instead of failing on
/// a missing table.
struct StartingUpMiddleware: RouterMiddleware {
    typealias Context = SamenplanRequestContext
    let migrator: Migrator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard migrator.isApplied else {
            throw Problem(
                .serviceUnavailable, type: "starting", title: "The service is starting",
                detail: "Its database schema is not ready yet; try again shortly.", headers: [.retryAfter: "2"])
        }
        return try await next(request, context)
    }
}

/// Runs the migrations at start-up, then stays until shutdown (a service that returns would
/// end the whole group).
struct MigrationService: Service {
    let migrator: Migrator

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await migrator.ensureApplied() }
        } catch is CancellationError {
            return
        }
        try? await gracefulShutdown()
    }
}

/// Starts `service` only once the schema is migrated, so no handler meets a missing table.
struct AfterMigrations: Service {
    let migrator: Migrator
    let service: any Service

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await migrator.ensureApplied() }
        } catch is CancellationError {
            return
        }
        guard !Task.isShuttingDownGracefully else { return }
        try await service.run()
    }
}

/// Owns the producer's lifetime: on shutdown, after the relay and consumer have stopped,
/// flushes what is in flight and closes the handle.
struct ProducerService: Service {
    let producer: KafkaProducer

    func run() async throws {
        await producer.warmUp(topics: Topic.all)
        try? await gracefulShutdown()
        await producer.close(timeout: .seconds(5))
    }
}
