import ArgumentParser
import Foundation
import Synchronization
import Logging
import ReportingService
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// Operator commands: the one-time database setup, local bearer tokens, and rebuilding
/// reporting's figures from the topics.
@main
struct SamenplanCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samenplanctl",
        abstract: "Operate a Samenplan installation.",
        subcommands: [SetupDatabase.self, MintToken.self, RebuildReporting.self])
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
