import Logging
import PostgresNIO

/// The one-time setup an operator runs from an admin connection: one database, and one
/// login role and schema per service, each role owning its schema and nothing else.
public enum DatabaseSetup {
    public struct ServiceLogin: Sendable {
        public var service: String
        public var password: String

        public init(service: String, password: String) {
            self.service = service
            self.password = password
        }
    }

    /// Idempotent: roles, database and schemas that exist are left as they are, except that
    /// passwords are set again and rights on other schemas are revoked.
    public static func run(
        adminURL: DatabaseURL, database: String, logins: [ServiceLogin], logger: Logger
    ) async throws {
        try await createLogins(adminURL: adminURL, logins: logins, logger: logger)
        try await prepareDatabase(
            adminURL: adminURL, database: database, services: logins.map(\.service), logger: logger)
    }

    /// Roles are cluster-wide: created (or given their password again) from the admin's own
    /// database.
    public static func createLogins(adminURL: DatabaseURL, logins: [ServiceLogin], logger: Logger) async throws {
        try await withClient(adminURL, logger: logger) { client in
            for login in logins {
                let role = try identifier(login.service)
                let exists = try await client.query(
                    "SELECT 1 FROM pg_roles WHERE rolname = \(login.service)", logger: logger
                ).collect().count > 0
                let verb = exists ? "ALTER" : "CREATE"
                try await client.query(
                    PostgresQuery(unsafeSQL: "\(verb) ROLE \(role) LOGIN PASSWORD \(literal(login.password))"),
                    logger: logger)
            }
        }
    }

    /// Creates `database` if needed and, in it, one schema per service owned by the service's
    /// role. Nobody else gets rights: not PUBLIC, not the other services.
    public static func prepareDatabase(
        adminURL: DatabaseURL, database: String, services: [String], logger: Logger
    ) async throws {
        let databaseName = try identifier(database)
        try await withClient(adminURL, logger: logger) { client in
            let exists = try await client.query(
                "SELECT 1 FROM pg_database WHERE datname = \(database)", logger: logger
            ).collect().count > 0
            if !exists {
                try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(databaseName)"), logger: logger)
            }
        }
        var target = adminURL
        target.database = database
        try await withClient(target, logger: logger) { client in
            try await client.query("REVOKE ALL ON SCHEMA public FROM PUBLIC", logger: logger)
            try await client.query(PostgresQuery(unsafeSQL: "REVOKE ALL ON DATABASE \(databaseName) FROM PUBLIC"), logger: logger)
            for service in services {
                let role = try identifier(service)
                try await client.query(
                    PostgresQuery(unsafeSQL: "GRANT CONNECT ON DATABASE \(databaseName) TO \(role)"), logger: logger)
                try await client.query(
                    PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(role) AUTHORIZATION \(role)"), logger: logger)
                try await client.query(PostgresQuery(unsafeSQL: "ALTER SCHEMA \(role) OWNER TO \(role)"), logger: logger)
                for spare in spareSchemas(of: service) {
                    let name = try identifier(spare)
                    try await client.query(
                        PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(name) AUTHORIZATION \(role)"), logger: logger)
                    try await client.query(PostgresQuery(unsafeSQL: "ALTER SCHEMA \(name) OWNER TO \(role)"), logger: logger)
                }
            }
        }
    }

    /// Services whose read models can be rebuilt from the topics (reporting) get two more
    /// schemas of their own: `<service>_next`, where a rebuild fills new tables while the old
    /// ones stay served, and `<service>_previous`, where the old ones go when the new are
    /// swapped in. A service role cannot create schemas itself.
    public static let rebuildableServices: Set<String> = ["reporting"]

    public static func spareSchemas(of service: String) -> [String] {
        rebuildableServices.contains(service) ? ["\(service)_next", "\(service)_previous"] : []
    }

    /// Runs `body` with a short-lived client on `url`.
    public static func withClient<T: Sendable>(
        _ url: DatabaseURL, logger: Logger, _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: try url.clientConfiguration(schema: nil, maximumConnections: 2))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    struct BadName: Error, CustomStringConvertible {
        var name: String
        var description: String { "\(name) is not a plain lowercase SQL identifier" }
    }

    /// Role, schema and database names are written into DDL, which takes no bind parameters:
    /// only plain lowercase identifiers are allowed.
    static func identifier(_ name: String) throws -> String {
        guard name.wholeMatch(of: /[a-z_][a-z0-9_]{0,62}/) != nil else { throw BadName(name: name) }
        return "\"\(name)\""
    }

    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
