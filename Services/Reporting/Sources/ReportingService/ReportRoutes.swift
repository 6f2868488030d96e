import Foundation
import Hummingbird
import SamenplanDomain
import SamenplanServer

/// Reporting's HTTP API (docs/openapi/reporting.yaml): aggregates only, never a family.
enum ReportRoutes {
    static func add(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, suppressBelow: Int) {
        let database = environment.database
        let clock = environment.clock

        /// The flow of a period (docs/indicators.md): JSON, or CSV with `Accept: text/csv`.
        /// `scope=external` suppresses every cell of fewer than `REPORTING_SUPPRESS_BELOW`
        /// families, for figures that leave the organisation.
        group.get("reports/flow") { request, context -> Response in
            let asked = try ReportQuery(request, caller: try context.require(.analyst, .teamLead, .admin))
            let (period, areas) = (asked.period, asked.areas)
            let report = try await database.client.withConnection { connection in
                try await FlowReport.compute(
                    period: period, areas: areas, managerId: asked.managerId, team: asked.team, on: connection, logger: context.logger)
            }
            let threshold = asked.external ? suppressBelow : nil
            let shown = threshold.map { report.suppressed(below: $0) } ?? report
            return try ReportQuery.answer(request, json: shown.json(suppressedBelow: threshold), csv: shown.csv())
        }

        /// Outcomes (docs/indicators.md, "Outcomes").
        group.get("reports/outcomes") { request, context -> Response in
            let asked = try ReportQuery(request, caller: try context.require(.analyst, .teamLead, .admin))
            let table = try await database.client.withConnection { connection in
                try await OutcomesReport.compute(
                    period: asked.period, areas: asked.areas, managerId: asked.managerId, team: asked.team, now: clock.now(), on: connection,
                    logger: context.logger)
            }
            return try asked.answer(request, table, suppressBelow: suppressBelow)
        }

        /// Volunteers (docs/indicators.md, "Volunteers"); per area, not per manager.
        group.get("reports/volunteers") { request, context -> Response in
            let asked = try ReportQuery(request, caller: try context.require(.analyst, .teamLead, .admin))
            let table = try await database.client.withConnection { connection in
                try await VolunteersReport.compute(period: asked.period, areas: asked.areas, on: connection, logger: context.logger)
            }
            return try asked.answer(request, table, suppressBelow: suppressBelow)
        }

        /// The rhythm of support (docs/indicators.md, "Rhythm").
        group.get("reports/rhythm") { request, context -> Response in
            let asked = try ReportQuery(request, caller: try context.require(.analyst, .teamLead, .admin))
            let report = try await database.client.withConnection { connection in
                try await RhythmReport.compute(
                    period: asked.period, areas: asked.areas, managerId: asked.managerId, team: asked.team, now: clock.now(), on: connection,
                    logger: context.logger)
            }
            return try asked.answer(request, report.table, suppressBelow: suppressBelow)
        }

        /// Open cases by area and phase, and per family manager. A team lead sees their own
        /// areas; analysts and admins see all.
        group.get("reports/caseload") { _, context -> Response in
            let caller = try context.require(.analyst, .teamLead, .admin)
            let areaFilter: [String]? = caller.role == .teamLead ? caller.areas : nil
            var byAreaAndPhase: [JSON] = []
            // A case whose phase event has not arrived yet is in `connect`: every case starts there.
            let phases = try await database.client.query(
                """
                SELECT area, COALESCE(phase, 'connect') AS phase, count(*)::bigint
                FROM case_projection
                WHERE area IS NOT NULL AND COALESCE(phase, 'connect') <> 'closed'
                  AND (\(areaFilter)::text[] IS NULL OR area = ANY(\(areaFilter)::text[]))
                GROUP BY 1, 2 ORDER BY 1, 2
                """, logger: context.logger)
            for try await (area, phase, count) in phases.decode((String, String, Int64).self) {
                byAreaAndPhase.append(
                    .object(["area": .string(area), "phase": .string(phase), "openCases": .number(Double(count))]))
            }
            var byManager: [JSON] = []
            let managers = try await database.client.query(
                """
                SELECT manager_id, count(*)::bigint FROM case_projection
                WHERE manager_id IS NOT NULL AND COALESCE(phase, 'connect') <> 'closed'
                  AND (\(areaFilter)::text[] IS NULL OR area = ANY(\(areaFilter)::text[]))
                GROUP BY 1 ORDER BY 1
                """, logger: context.logger)
            for try await (manager, count) in managers.decode((String, Int64).self) {
                byManager.append(.object(["managerId": .string(manager), "openCases": .number(Double(count))]))
            }
            // Per team: the open cases of the team's managers (a manager's team comes from intake).
            var byTeam: [JSON] = []
            for try await (team, count) in try await database.client.query(
                """
                SELECT m.team, count(*)::bigint FROM case_projection p JOIN manager_facts m USING (manager_id)
                WHERE COALESCE(p.phase, 'connect') <> 'closed'
                  AND (\(areaFilter)::text[] IS NULL OR p.area = ANY(\(areaFilter)::text[]))
                GROUP BY 1 ORDER BY 1
                """, logger: context.logger
            ).decode((String, Int64).self) {
                byTeam.append(.object(["team": .string(team), "openCases": .number(Double(count))]))
            }
            var byFramework: [JSON] = []
            for try await (area, framework, count) in try await database.client.query(
                """
                SELECT area, COALESCE(framework, 'unknown'), count(*)::bigint FROM case_projection
                WHERE area IS NOT NULL AND closed_at IS NULL AND COALESCE(phase, 'connect') <> 'closed'
                  AND (\(areaFilter)::text[] IS NULL OR area = ANY(\(areaFilter)::text[]))
                GROUP BY 1, 2 ORDER BY 1, 2
                """, logger: context.logger
            ).decode((String, String, Int64).self) {
                byFramework.append(
                    .object(["area": .string(area), "framework": .string(framework), "openCases": .number(Double(count))]))
            }
            // The queue: families waiting for a manager now, and how long the longest has waited.
            var queues: [JSON] = []
            for try await (area, waiting, longest) in try await database.client.query(
                """
                SELECT area, count(*)::bigint, (max(extract(epoch FROM \(clock.now()) - queued_at)) / 86400)::float8
                FROM case_projection
                WHERE queued_at IS NOT NULL AND assigned_at IS NULL AND closed_at IS NULL
                  AND (\(areaFilter)::text[] IS NULL OR area = ANY(\(areaFilter)::text[]))
                GROUP BY 1 ORDER BY 1
                """, logger: context.logger
            ).decode((String, Int64, Double).self) {
                queues.append(
                    .object([
                        "area": .string(area), "waiting": .number(Double(waiting)),
                        "longestWaitDays": .number((longest * 10).rounded() / 10),
                    ]))
            }
            let body = JSON.object([
                "byAreaAndPhase": .array(byAreaAndPhase), "byManager": .array(byManager), "byTeam": .array(byTeam),
                "byAreaAndFramework": .array(byFramework), "queues": .array(queues),
            ])
            return try .json(body)
        }
    }
}

/// What a report is asked for: `period` (required), `area` (repeatable), `managerId`, `team`
/// and `scope` (`internal`, or `external` for figures that leave the organisation).
struct ReportQuery {
    var period: ReportPeriod
    var areas: [String]?
    var managerId: String?
    /// The team of the managers whose cases count (intake's `manager.registered`).
    var team: String?
    var external: Bool

    init(_ request: Request, caller: Identity) throws {
        let query = request.uri.queryParameters
        var problems: [Problem.Item] = []
        let period = query.get("period").flatMap(ReportPeriod.init)
        if period == nil {
            problems.append(.init(rule: "period", pointer: "period", detail: "a month (2026-11), quarter (2026-Q4) or year (2026)"))
        }
        let scope = query.get("scope") ?? "internal"
        if !["internal", "external"].contains(scope) {
            problems.append(.init(rule: "enum", pointer: "scope", detail: "internal or external"))
        }
        guard problems.isEmpty, let period else {
            throw Problem.badRequest("The report's parameters break \(problems.count) rule(s).", problems: problems)
        }
        let asked = query.getAll("area").map { $0.lowercased() }
        var areas: [String]? = asked.isEmpty ? nil : asked
        if caller.role == .teamLead {
            // A team lead's figures are their own areas'.
            let own = caller.areas.map { $0.lowercased() }
            guard Set(asked).isSubset(of: own) else { throw Problem.forbidden("A team lead sees the figures of their own areas.") }
            areas = areas ?? own
        }
        self.period = period
        self.areas = areas
        self.managerId = query.get("managerId")
        self.team = query.get("team")?.lowercased()
        self.external = scope == "external"
    }

    /// A table of figures, suppressed for external use, as JSON or CSV.
    func answer(_ request: Request, _ table: FigureTable, suppressBelow: Int) throws -> Response {
        let threshold = external ? suppressBelow : nil
        let shown = table.suppressed(below: threshold)
        let json = shown.json(into: [
            "period": .string(period.description), "areas": areas.map { .array($0.map(JSON.string)) } ?? .null,
            "managerId": managerId.map(JSON.string) ?? .null, "team": team.map(JSON.string) ?? .null, "suppressedBelow": threshold.map { .number(Double($0)) } ?? .null,
        ])
        return try Self.answer(request, json: json, csv: shown.csv(period: period))
    }

    /// JSON, or CSV when the caller asks for it (`Accept: text/csv`).
    static func answer(_ request: Request, json: JSON, csv: String) throws -> Response {
        guard request.headers[.accept]?.contains("text/csv") == true else { return try .json(json) }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
    }
}
