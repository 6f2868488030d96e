import Foundation
import Logging
import PostgresNIO

/// One service's view of PostgreSQL: a connection pool whose sessions are confined to the
/// service's own schema.
///
/// `client.run()` must be running (it is a `Service` in the service group) before any query.
public struct Database: Sendable {
    public let client: PostgresClient
    /// The schema (and login role) this service owns, for example `intake`.
    public let schema: String
    public let logger: Logger

    public init(client: PostgresClient, schema: String, logger: Logger) {
        self.client = client
        self.schema = schema
        self.logger = logger
    }

    /// Runs `body` in one transaction: all its writes (state, outbox, inbox, audit) commit
    /// together or not at all. Throws the body's own error, not PostgresNIO's wrapper, so
    /// callers can tell a rule violation from a lost connection.
    public func transaction<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await body(connection)
            }
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError { throw closureError }
            throw error
        }
    }

    /// True when the database answers a trivial query.
    public func answers() async -> Bool {
        do {
            try await client.query("SELECT 1", logger: logger)
            return true
        } catch {
            return false
        }
    }
}

/// Tells faults that go away by themselves (the database restarting, a dropped connection,
/// a serialization conflict) from errors that will happen again on retry.
public enum DatabaseFault {
    /// SQLSTATE classes and codes worth retrying: connection exceptions (08), operator
    /// intervention such as shutdown (57P01–57P03), serialization failures and deadlocks
    /// (40001, 40P01), insufficient resources (53).
    private static let transientStates: Set<String> = ["40001", "40P01", "57P01", "57P02", "57P03", "55P03"]

    public static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? PostgresTransactionError {
            let inner = error.closureError ?? error.beginError ?? error.commitError
            return inner.map(isTransient) ?? true
        }
        if let error = error as? PSQLError {
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown,
                .poolClosed, .queryCancelled, .sslUnsupported, .failedToAddSSLHandler:
                return true
            case .server:
                guard let state = error.serverInfo?[.sqlState] else { return false }
                return state.hasPrefix("08") || state.hasPrefix("53") || transientStates.contains(state)
            default:
                return false
            }
        }
        // NIO channel errors (connection refused, reset) surface without a PSQLError wrapper.
        let name = String(reflecting: type(of: error))
        return name.contains("NIO") || name.contains("ChannelError") || name.contains("Connect")
    }
}

extension PostgresConnection {
    /// The first row of a prepared statement expected to return at most one, read to the end
    /// so the connection is ready for the next statement.
    public func one<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws
        -> Statement.Row?
    {
        var first: Statement.Row?
        for try await row in try await execute(statement, logger: logger) where first == nil {
            first = row
        }
        return first
    }
}

/// A prepared statement whose one parameter (`$1`) is an id, the most common kind: the row
/// of a case, its history, its latest plan version.
public protocol PreparedByID: PostgresPreparedStatement {
    var id: UUID { get }
}

extension PreparedByID {
    public func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id)
        return bindings
    }
}
