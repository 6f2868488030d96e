import Foundation
import Hummingbird
import PostgresNIO
import SamenplanDomain
import SamenplanServer

/// The areas Samenplan serves (issue 18, finding 4): a managed list, each with the team that
/// serves it. An area is known when `INTAKE_AREAS` names it, when an admin registers it
/// (`PUT /v1/areas/{area}`), or when an admin or the area's team lead registers a family
/// manager there. A referral to any other area is rejected (`unknown-area`), naming the
/// known ones. Area names are identifiers: Unicode compatibility forms folded (NFKC: a
/// full-width "ｇｏｅｓ" is "goes", "ſ" is "s"), lowercased, then only `a-z`, `0-9` and single
/// hyphens, so a look-alike (a Cyrillic "а", a Unicode hyphen, a zero-width space) is no
/// known area and never a new one.
struct Areas: Sendable {
    /// From `INTAKE_AREAS`: known without being stored.
    let configured: [String: String]

    init(configured: [String: String] = [:]) {
        self.configured = configured
    }

    /// `INTAKE_AREAS`: `area[:team],…`; without a team the area names its own.
    init(configuration text: String?) throws(ConfigurationError) {
        var configured: [String: String] = [:]
        for entry in (text ?? "").split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = parts.first.map(Self.normalised), Self.isIdentifier(name) else {
                throw ConfigurationError(
                    variable: "INTAKE_AREAS", problem: "must be area[:team],… with areas of a-z, 0-9 and hyphens, got \(entry)")
            }
            configured[name] = parts.count > 1 ? parts[1].lowercased() : name
        }
        self.configured = configured
    }

    /// The compatibility-folded, lowercased, trimmed form every area is compared in.
    static func normalised(_ text: String) -> String {
        text.precomposedStringWithCompatibilityMapping.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    static func isIdentifier(_ name: String) -> Bool {
        name.utf8.count <= 64 && name.wholeMatch(of: /[a-z0-9]+(-[a-z0-9]+)*/) != nil
    }

    /// Which of `names` (normalised) are known.
    func known(_ names: Set<String>, on connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        let unconfigured = names.filter { configured[$0] == nil }
        var known = names.subtracting(unconfigured)
        guard !unconfigured.isEmpty else { return known }
        for try await id in try await connection.query(
            "SELECT id FROM areas WHERE id = ANY(\(Array(unconfigured))::text[])", logger: logger
        ).decode(String.self) {
            known.insert(id)
        }
        return known
    }

    /// Every known area and its team, sorted.
    func all(on client: PostgresClient, logger: Logger) async throws -> [(area: String, team: String)] {
        var teams = configured
        for try await (id, team) in try await client.query("SELECT id, team FROM areas", logger: logger).decode((String, String).self) {
            teams[id] = teams[id] ?? team
        }
        return teams.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The problem a referral to an unknown area gets: the known areas named (at most 50).
    func unknownAreaProblem(on connection: PostgresConnection, logger: Logger) async throws -> ReferralRejected.Problem {
        var names = Set(configured.keys)
        for try await id in try await connection.query("SELECT id FROM areas ORDER BY id LIMIT 50", logger: logger).decode(String.self) {
            names.insert(id)
        }
        let listed = names.sorted().prefix(50).joined(separator: ", ")
        return ReferralRejected.Problem(
            rule: "unknown-area", pointer: "/area",
            detail: names.isEmpty ? "Samenplan serves no areas yet" : "one of the areas Samenplan serves: \(listed)")
    }

    /// Registers `names` (normalised identifiers) with `team` where they are not known yet.
    static func register(_ names: [String], team: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO areas (id, team) SELECT unnest(\(names)::text[]), \(team)
            ON CONFLICT (id) DO NOTHING
            """, logger: logger)
    }

    func addRoutes(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment) {
        let database = environment.database
        let areas = self

        group.get("areas") { _, context -> Response in
            _ = try context.require(.admin, .teamLead, .analyst)
            let list = try await areas.all(on: database.client, logger: context.logger)
            return try IntakeRoutes.jsonResponse(
                .ok, .object(["items": .array(list.map { .object(["area": .string($0.area), "team": .string($0.team)]) })]))
        }

        group.put("areas/:area") { request, context -> Response in
            _ = try context.require(.admin)
            struct Body: Decodable { var team: String }
            let name = Self.normalised(context.parameters.get("area") ?? "")
            let body = try await request.decode(as: Body.self, context: context)
            let team = body.team.trimmingCharacters(in: .whitespaces).lowercased()
            var problems: [Problem.Item] = []
            if !Self.isIdentifier(name) {
                problems.append(.init(rule: "pattern", pointer: "area", detail: "1–64 of a-z, 0-9 and single hyphens"))
            }
            if team.wholeMatch(of: /[a-z0-9._-]{1,64}/) == nil {
                problems.append(.init(rule: "pattern", pointer: "/team", detail: "1–64 letters, digits, '.', '_' or '-'"))
            }
            guard problems.isEmpty else { throw Problem.badRequest("The area breaks \(problems.count) rule(s).", problems: problems) }
            _ = try await database.transaction { connection in
                try await connection.query(
                    """
                    INSERT INTO areas (id, team) VALUES (\(name), \(team))
                    ON CONFLICT (id) DO UPDATE SET team = excluded.team
                    """, logger: context.logger)
            }
            return try IntakeRoutes.jsonResponse(.ok, .object(["area": .string(name), "team": .string(team)]))
        }
    }
}
