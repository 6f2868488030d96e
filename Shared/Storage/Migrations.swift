import Foundation
import Logging
import PostgresNIO

/// One SQL file of a service, applied once and recorded in `<schema>.schema_migrations`.
public struct Migration: Sendable, Hashable {
    /// The file name without `.sql`, for example `0001_referrals`. Sorted to get the order.
    public var version: String
    public var sql: String

    public init(version: String, sql: String) {
        self.version = version
        self.sql = sql
    }

    /// The file as one statement. PostgresNIO speaks only the extended query protocol, which
    /// takes one command at a time; PL/pgSQL's `EXECUTE` of a string without parameters runs
    /// several. The dollar-quote tags are unusual enough that a file containing them is refused.
    public func executableStatement() throws -> PostgresQuery {
        let outer = "$samenplan_migration$"
        let inner = "$samenplan_migration_sql$"
        guard !sql.contains(outer), !sql.contains(inner) else { throw MigrationError.reservedQuote(version) }
        return PostgresQuery(unsafeSQL: "DO \(outer) BEGIN EXECUTE \(inner)\(sql)\(inner); END \(outer)")
    }

    /// Loads `NNNN_name.sql` files from a folder (a service's bundled `Migrations`).
    public static func load(from directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        return try files
            .filter { $0.pathExtension == "sql" }
            .map { url in
                let version = url.deletingPathExtension().lastPathComponent
                guard version.wholeMatch(of: /[0-9]{4}_[a-z0-9_]+/) != nil else {
                    throw MigrationError.badFileName(url.lastPathComponent)
                }
                return Migration(version: version, sql: try String(contentsOf: url, encoding: .utf8))
            }
            .sorted { $0.version < $1.version }
    }
}

public enum MigrationError: Error, CustomStringConvertible {
    case badFileName(String)
    case reservedQuote(String)

    public var description: String {
        switch self {
        case .badFileName(let name): "migration file \(name) must be named NNNN_lowercase_name.sql"
        case .reservedQuote(let version):
            "migration \(version) contains a dollar-quote tag reserved for running migrations ($samenplan_migration…$)"
        }
    }
}

/// Applies migrations at start-up. Several replicas may start at once: an advisory lock
/// keyed by the schema lets one apply while the others wait, then find nothing to do.
public struct MigrationRunner: Sendable {
    public let database: Database
    /// The platform's own tables (outbox, inbox, audit log) come first, then the service's.
    public let migrations: [Migration]

    public init(database: Database, serviceMigrations: [Migration]) {
        self.database = database
        self.migrations = PlatformMigrations.all + serviceMigrations
    }

    public func apply() async throws {
        let logger = database.logger
        let schema = database.schema
        let migrations = self.migrations
        try await database.client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(hashtext(\(schema)))", logger: logger)
            do {
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version text PRIMARY KEY,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """, logger: logger)
                let applied = try await Self.appliedVersions(connection, logger: logger)
                for migration in migrations where !applied.contains(migration.version) {
                    try await connection.withTransaction(logger: logger) { connection in
                        try await connection.query(try migration.executableStatement(), logger: logger)
                        try await connection.query(
                            "INSERT INTO schema_migrations (version) VALUES (\(migration.version))", logger: logger)
                    }
                    logger.info("applied migration", metadata: ["schema": "\(schema)", "version": "\(migration.version)"])
                }
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(hashtext(\(schema)))", logger: logger)
                throw error
            }
            try await connection.query("SELECT pg_advisory_unlock(hashtext(\(schema)))", logger: logger)
        }
    }

    /// True when every migration this build knows is recorded (part of `/health/ready`).
    public func isCurrent() async throws -> Bool {
        let applied = try await database.client.withConnection { connection -> Set<String> in
            // Before the first start the table does not exist: nothing is applied.
            let exists = try await connection.query(
                "SELECT to_regclass('schema_migrations') IS NOT NULL", logger: database.logger
            ).collect().first?.decode(Bool.self) ?? false
            return exists ? try await Self.appliedVersions(connection, logger: database.logger) : []
        }
        return migrations.allSatisfy { applied.contains($0.version) }
    }

    private static func appliedVersions(_ connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        var versions: Set<String> = []
        let rows = try await connection.query("SELECT version FROM schema_migrations", logger: logger)
        for try await version in rows.decode(String.self) {
            versions.insert(version)
        }
        return versions
    }
}
