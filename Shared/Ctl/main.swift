import ArgumentParser
import Foundation
import Logging
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// Operator commands: the one-time database setup and local bearer tokens.
@main
struct SamenplanCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samenplanctl",
        abstract: "Operate a Samenplan installation.",
        subcommands: [SetupDatabase.self, MintToken.self])
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
