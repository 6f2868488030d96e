import ArgumentParser
import CaseHistories
import Foundation
import Synchronization
import Logging
import ReportingService
import SamenplanKafka
import SamenplanDomain
import SamenplanEventing
import SamenplanServer
import SamenplanStorage

/// Operator commands: the one-time database setup, local bearer tokens, and rebuilding
/// reporting's figures from the topics.
@main
struct SamenplanCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samenplanctl",
        abstract: "Operate a Samenplan installation.",
        subcommands: [SetupDatabase.self, MintToken.self, RebuildReporting.self, GenerateHistory.self, DeadLetters.self])
}

struct SetupDatabase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup-database",
        abstract: "Create the database, and one login role and schema per service (idempotent).",
        discussion: """
            Each service's password is read from SAMENPLAN_DB_PASSWORD_<SERVICE> (for example
            SAMENPLAN_DB_PASSWORD_INTAKE). Without it the password is the service's name, which
            is meant for a local machine only.
            """)

    @Option(help: "An administrator's connection, e.g. postgres://postgres@127.0.0.1:5432/postgres")
    var adminURL: String

    @Option(help: "The database the suite uses.")
    var database = "samenplan"

    func run() async throws {
        let logger = Logger(label: "samenplanctl")
        let url = try DatabaseURL(adminURL)
        let environment = ProcessInfo.processInfo.environment
        let logins = Topic.serviceNames.map { service in
            DatabaseSetup.ServiceLogin(
                service: service, password: environment["SAMENPLAN_DB_PASSWORD_\(service.uppercased())"] ?? service)
        }
        try await DatabaseSetup.run(adminURL: url, database: database, logins: logins, logger: logger)
        print("database \(database) ready with roles and schemas: \(Topic.serviceNames.joined(separator: ", "))")
    }
}

struct MintToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mint-token",
        abstract: "Print a signed bearer token for local use (JWT_SECRET and JWT_ISSUER from the environment).")

    @Option(help: "One of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
    var role: String

    @Option(help: "Who the token is for, e.g. a family manager's id.")
    var subject: String

    @Option(help: "Comma-separated areas, e.g. borsele,goes.")
    var areas = ""

    @Option(help: "Lifetime in seconds.")
    var ttl = 3600

    func validate() throws {
        guard Role(rawValue: role) != nil else {
            throw ValidationError("unknown role \(role); one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let secret = environment["JWT_SECRET"], secret.utf8.count >= 32 else {
            throw ValidationError("JWT_SECRET must be set (at least 32 characters), the same as the services'")
        }
        let authority = await TokenAuthority(secret: secret, issuer: environment["JWT_ISSUER"] ?? "samenplan")
        let areaList = areas.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        print(
            try await authority.sign(
                subject: subject, role: Role(rawValue: role)!, areas: areaList, lifetime: .seconds(ttl)))
    }
}

struct RebuildReporting: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild-reporting",
        abstract: "Rebuild reporting's figures by replaying every topic from the start.",
        discussion: """
            Reads the reporting service's own environment (DATABASE_URL with the reporting role,
            KAFKA_BOOTSTRAP_SERVERS, …), so run it where the service runs, e.g.
            `docker compose exec reporting samenplanctl rebuild-reporting`. The new tables are
            built beside the old ones, which stay served until the new ones are complete; then
            they swap in one transaction. Safe to run while the service runs, and again after a
            failure.
            """)

    func run() async throws {
        var logger = Logger(label: "samenplanctl.rebuild")
        logger.logLevel = .warning
        let configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration.load(service: "reporting", defaultPort: 8085)
        } catch {
            throw ValidationError("\(error)")
        }
        let bar = ProgressBar(label: "replaying topics")
        let summary = try await ProjectionRebuild.run(configuration: configuration, logger: logger) { progress in
            bar.show(done: progress.read, of: progress.total)
        }
        bar.finish()
        print(summary)
    }
}

/// A progress bar on standard error: redrawn in place on a terminal, a line per tenth
/// otherwise (a log file or CI keeps a readable record).
final class ProgressBar: Sendable {
    let label: String
    let onTerminal = isatty(STDERR_FILENO) == 1
    let lastTenth = Mutex(-1)

    init(label: String) { self.label = label }

    func show(done: Int64, of total: Int64) {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let line = "\(label) [\(String(repeating: "#", count: filled))\(String(repeating: "-", count: width - filled))] "
            + "\(Int(fraction * 100))% \(done)/\(total) messages"
        if onTerminal {
            FileHandle.standardError.write(Data("\r\(line)".utf8))
        } else {
            let tenth = Int(fraction * 10)
            let isNew = lastTenth.withLock { last in
                defer { last = max(last, tenth) }
                return tenth > last
            }
            if isNew { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
        }
    }

    func finish() {
        if onTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

struct GenerateHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-history",
        abstract: "Print a synthetic, seeded history of the suite's events, one per line: topic, a tab, the CloudEvent.",
        discussion: """
            For benchmarks and demonstrations (scripts/bench_reporting.py): families referred,
            assigned, through their phases, with placements, nuisance reports, goals and
            volunteers. The same seed prints the same lines.
            """)

    @Option(help: "The seed.")
    var seed: UInt64 = 1

    @Option(help: "How many events: the history of as many families as it takes, cut at this count.")
    var events = 100_000

    @Option(help: "Exactly this many families instead (every event of their history; --events is then ignored).")
    var families: Int?

    @Option(help: "Publish the events to this Kafka cluster (host:port,…) instead of printing them; waits until every one is acknowledged.")
    var publishTo: String?

    @Option(help: "The first day of the history (yyyy-MM-dd).")
    var start = "2025-01-06"

    @Option(help: "The last moment of the history (RFC 3339).")
    var now = "2026-12-15T12:00:00Z"

    func run() async throws {
        guard let from = CalendarDate(start)?.start(), let until = Timestamp.parse(now), from < until else {
            throw ValidationError("--start must be a day before --now")
        }
        var history: [CaseHistories.Published] = []
        var count = events
        if let families {
            history = try CaseHistories(seed: seed, families: families, now: until, start: from).events()
            count = history.count
        } else {
            // About 15 events a family: ask for enough families, then cut.
            var families = max(1, events / 12)
            while history.count < events {
                history = try CaseHistories(seed: seed, families: families, now: until, start: from).events()
                families *= 2
            }
        }
        if let publishTo {
            try await publish(Array(history.prefix(count)), to: publishTo)
            return
        }
        var output = ""
        for item in history.prefix(count) {
            output += item.topic + "\t" + String(decoding: try item.event.structuredBytes(), as: UTF8.self) + "\n"
            if output.utf8.count > 1 << 20 {
                FileHandle.standardOutput.write(Data(output.utf8))
                output = ""
            }
        }
        FileHandle.standardOutput.write(Data(output.utf8))
    }

    /// Publishes in the history's order, in chunks that librdkafka batches; every message is
    /// acknowledged (a failure stops with an error) before the command returns.
    private func publish(_ history: [CaseHistories.Published], to servers: String) async throws {
        var logger = Logger(label: "samenplanctl.generate-history")
        logger.logLevel = .warning
        let producer = try KafkaProducer(properties: ["bootstrap.servers": servers], logger: logger)
        var published = 0
        do {
            for start in stride(from: 0, to: history.count, by: 5_000) {
                let chunk = try history[start..<min(history.count, start + 5_000)].map { item in
                    OutgoingMessage(topic: item.topic, key: nil, value: try item.event.structuredBytes())
                }
                for result in await producer.sendInOrder(chunk) { try result.get() }
                published += chunk.count
            }
        } catch {
            await producer.close(timeout: .seconds(5))
            throw error
        }
        await producer.close(timeout: .seconds(5))
        print("published \(published) events")
    }
}

struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List a service's dead letters with their reasons, and re-drive chosen ones after a fix.",
        subcommands: [List.self, Redrive.self])

    struct Target: ParsableArguments {
        @Option(help: "The service whose dead-letter topic (samenplan.<service>.dlq): \(Topic.serviceNames.joined(separator: ", ")).")
        var service: String

        @Option(help: "host:port,… of the Kafka cluster (default: KAFKA_BOOTSTRAP_SERVERS; other KAFKA_* variables pass through).")
        var bootstrapServers: String?

        func validate() throws {
            guard Topic.serviceNames.contains(service) else {
                throw ValidationError("unknown service \(service); one of \(Topic.serviceNames.joined(separator: ", "))")
            }
            guard servers != nil else { throw ValidationError("--bootstrap-servers or KAFKA_BOOTSTRAP_SERVERS must be set") }
        }

        var servers: String? { bootstrapServers ?? ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP_SERVERS"] }

        var properties: [String: String] {
            var properties = ServiceConfiguration.kafkaPassThrough(ProcessInfo.processInfo.environment)
            properties["bootstrap.servers"] = servers
            return properties
        }

        var logger: Logger {
            var logger = Logger(label: "samenplanctl.dlq")
            logger.logLevel = .warning
            return logger
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every dead letter: its id (partition:offset), reason, origin, event and detail.")

        @OptionGroup var target: Target

        @Flag(help: "One JSON object a line instead of a table.")
        var json = false

        func run() async throws {
            let letters = try await DeadLetterQueue.list(service: target.service, kafka: target.properties, logger: target.logger)
            for letter in letters {
                if json {
                    let line: JSON = [
                        "id": .string(letter.id), "reason": .string(letter.reason), "detail": .string(letter.detail),
                        "originalTopic": letter.originalTopic.map(JSON.string) ?? .null,
                        "originalPosition": letter.originalPosition.map(JSON.string) ?? .null,
                        "eventType": letter.eventType.map(JSON.string) ?? .null, "eventId": letter.eventID.map(JSON.string) ?? .null,
                    ]
                    print(String(decoding: try JSONCoding.encoder.encode(line), as: UTF8.self))
                } else {
                    let origin = "\(letter.originalTopic ?? "?")/\(letter.originalPosition ?? "?")"
                    let event = letter.eventType.map { "\($0) \(letter.eventID ?? "")" } ?? "(no CloudEvent)"
                    print("\(letter.id)\t\(letter.reason)\t\(origin)\t\(event)\t\(letter.detail.prefix(200))")
                }
            }
            if !json { FileHandle.standardError.write(Data("\(letters.count) dead letter(s) on \(Topic.deadLetter(service: target.service))\n".utf8)) }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish chosen dead letters again to the topic they came from.",
            discussion: """
                Choose by id (--entry 0:15, repeatable), by reason (--reason schema) or --all. A
                re-driven event keeps its source and id, so the consumer's inbox handles it at most
                once however often it is re-driven; one that still fails is dead-lettered again.
                """)

        @OptionGroup var target: Target

        @Option(help: "A dead letter's id (partition:offset), as `dlq list` prints it. Repeatable.")
        var entry: [String] = []

        @Option(help: "Every dead letter with this reason.")
        var reason: String?

        @Flag(help: "Every dead letter.")
        var all = false

        @Flag(help: "Only print what would be re-driven.")
        var dryRun = false

        func validate() throws {
            guard all || reason != nil || !entry.isEmpty else { throw ValidationError("choose with --entry, --reason or --all") }
        }

        func run() async throws {
            let letters = try await DeadLetterQueue.list(service: target.service, kafka: target.properties, logger: target.logger)
            let known = Set(letters.map(\.id))
            if let unknown = entry.first(where: { !known.contains($0) }) {
                throw ValidationError("no dead letter \(unknown) on \(Topic.deadLetter(service: target.service))")
            }
            let chosen = letters.filter { all || $0.reason == reason || entry.contains($0.id) }
            for letter in chosen { print("\(dryRun ? "would re-drive" : "re-driving") \(letter.id) to \(letter.originalTopic ?? "?")") }
            guard !dryRun else { return }
            let producer = try KafkaProducer(properties: target.properties, logger: target.logger)
            do {
                let count = try await DeadLetterQueue.redrive(chosen, with: producer)
                await producer.close(timeout: .seconds(5))
                print("re-drove \(count) dead letter(s)")
            } catch {
                await producer.close(timeout: .seconds(5))
                throw error
            }
        }
    }
}
