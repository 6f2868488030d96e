import ArgumentParser
import Foundation
import SamenplanDomain
import SamenplanLoad
import SamenplanServer

/// Where the suite runs: the broker, the services' HTTP addresses and the token secret.
/// The defaults are `scripts/run.sh`'s.
struct SuiteOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers (scripts/run.sh writes them to .local/kafka.bootstrap).")
    var bootstrap: String

    @Option(help: "Intake's base URL.")
    var intake = "http://127.0.0.1:8081"

    @Option(help: "Planning's base URL.")
    var planning = "http://127.0.0.1:8082"

    @Option(help: "Reporting's base URL.")
    var reporting = "http://127.0.0.1:8085"

    /// Tokens signed with the services' own secret (JWT_SECRET, JWT_ISSUER from the environment).
    func tokens(for manifest: LoadManifest) async throws -> SuiteTokens {
        let areas = manifest.areas
        let environment = ProcessInfo.processInfo.environment
        guard let secret = environment["JWT_SECRET"], secret.utf8.count >= 32 else {
            throw ValidationError("JWT_SECRET must be set (at least 32 characters), the same as the services'")
        }
        let authority = await TokenAuthority(secret: secret, issuer: environment["JWT_ISSUER"] ?? "samenplan")
        let lifetime = Duration.seconds(6 * 3600)
        var managers: [String: String] = [:]
        for (id, area) in manifest.managers {
            managers[id] = try await authority.sign(subject: id, role: .familyManager, areas: [area], lifetime: lifetime)
        }
        return SuiteTokens(
            admin: try await authority.sign(subject: "samenplan-load", role: .admin, lifetime: lifetime),
            teamLead: try await authority.sign(subject: "tl-samenplan-load", role: .teamLead, areas: areas, lifetime: lifetime),
            analyst: try await authority.sign(subject: "an-samenplan-load", role: .analyst, areas: areas, lifetime: lifetime),
            managers: managers)
    }
}

struct SuiteTokens: Sendable {
    var admin: String
    var teamLead: String
    var analyst: String
    /// Per family manager id: the manager's token.
    var managers: [String: String]
}
