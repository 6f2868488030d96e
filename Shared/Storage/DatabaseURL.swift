import Foundation
import NIOSSL
import PostgresNIO

/// Reads a `DATABASE_URL` (`postgres://user:password@host:port/database?sslmode=…`) into the
/// settings `PostgresClient` needs.
///
/// `sslmode` follows libpq's names: `disable` (default for loopback), `require` (encrypt, do
/// not verify) and `verify-full` (encrypt and verify the server's certificate and name).
public struct DatabaseURL: Sendable, CustomStringConvertible {
    public enum SSLMode: String, Sendable {
        case disable
        case require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ text: String) throws(Invalid) {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw Invalid(description: "expected postgres://user:password@host:port/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw Invalid(description: "the URL names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Invalid(description: "the URL names no user")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw Invalid(description: "the URL names no database")
        }
        let modeText = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable"
        guard let mode = SSLMode(rawValue: modeText) else {
            throw Invalid(description: "sslmode must be disable, require or verify-full, not \(modeText)")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database
        self.sslMode = mode
    }

    /// The URL without its password, for logs and error messages.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    /// Client settings; `schema` becomes the session's `search_path`, so a service's SQL
    /// names its own tables without a schema prefix and cannot reach another's by accident.
    public func clientConfiguration(schema: String?, maximumConnections: Int = 20) throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case .disable:
            tls = .disable
        case .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            tls = .require(configuration)
        case .verifyFull:
            tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        if let schema {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}
