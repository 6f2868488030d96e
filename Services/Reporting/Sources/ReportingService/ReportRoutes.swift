import Foundation
import Hummingbird
import SamenplanDomain
import Logging
import PostgresNIO
import SamenplanServer
import SamenplanStorage

/// Reporting's HTTP API (docs/openapi/reporting.yaml): aggregates only, never a family.
/// Every report answers JSON, or CSV with `Accept: text/csv`, and takes `scope=external` for
/// figures that leave the organisation: those are published on one grid only (the whole
/// organisation or one area, for a quarter) and protected across it (`PublishedGrid`).
enum ReportRoutes {
    static func add(to group: RouterGroup<SamenplanRequestContext>, environment: ServiceEnvironment, suppressBelow: Int) {
        let database = environment.database
        let clock = environment.clock

        /// The flow of a period (docs/indicators.md, "Flow").
        group.get("reports/flow") { request, context -> Response in
            let asked = try ReportQuery(request, caller: try context.require(.analyst, .teamLead, .admin))
            let table = try await asked.table(threshold: suppressBelow, database: database, logger: context.logger) { period, areas, connection in
                try await FlowReport.compute(
                    period: period, areas: areas, managerId: asked.managerId, team: asked.team, on: connection, logger: context.logger
                ).table
            }
            let threshold = asked.external ? suppressBelow : nil
            return try ReportQuery.answer(
                request, json: FlowReport.json(table, asked: asked, suppressedBelow: threshold), csv: table.csv(period: asked.period!))
        }

        /// Outcomes (docs/indicators.md, "Outcomes").
        group.get("reports/outcomes") { request, context -> Response in
            let asked = try ReportQuery(request, caller: try context.require(.analyst, .teamLead, .admin))
            let now = clock.now()
            let table = try await asked.table(threshold: suppressBelow, database: database, logger: context.logger) { period, areas, connection in
                try await OutcomesReport.compute(
                    period: period, areas: areas, managerId: asked.managerId, team: asked.team, now: now, on: connection,
                    logger: context.logger)
            }
            return try asked.answer(request, table, suppressBelow: suppressBelow)
        }

        /// Volunteers (docs/indicators.md, "Volunteers"); per area, not per manager.
        group.get("reports/volunteers") { request, context -> Response in
            let asked = try ReportQuery(request, caller: try context.require(.analyst, .teamLead, .admin))
            let table = try await asked.table(threshold: suppressBelow, database: database, logger: context.logger) { period, areas, connection in
                try await VolunteersReport.compute(period: period, areas: areas, on: connection, logger: context.logger)
            }
            return try asked.answer(request, table, suppressBelow: suppressBelow)
        }

        /// The rhythm of support (docs/indicators.md, "Rhythm").
        group.get("reports/rhythm") { request, context -> Response in
            let asked = try ReportQuery(request, caller: try context.require(.analyst, .teamLead, .admin))
            let now = clock.now()
            let table = try await asked.table(threshold: suppressBelow, database: database, logger: context.logger) { period, areas, connection in
                try await RhythmReport.compute(
                    period: period, areas: areas, managerId: asked.managerId, team: asked.team, now: now, on: connection,
                    logger: context.logger
                ).table
            }
            return try asked.answer(request, table, suppressBelow: suppressBelow)
        }

        /// Open cases now by area and phase, per family manager, per team and per framework,
        /// and the queues (docs/indicators.md, "Caseload"). A team lead sees their own areas;
        /// analysts and admins see all. A snapshot, so no period.
        group.get("reports/caseload") { request, context -> Response in
            let asked = try ReportQuery(request, caller: try context.require(.analyst, .teamLead, .admin), takesPeriod: false)
            let now = clock.now()
            guard asked.external else {
                let report = try await database.client.withConnection { connection in
                    try await CaseloadReport.compute(areas: asked.areas, now: now, on: connection, logger: context.logger)
                }
                return try ReportQuery.answer(request, json: report.json, csv: CaseloadReport.csv(report.csvRows))
            }
            // Outside the organisation: every area's figures, protected together, then the
            // asked area's (or every area's) rows.
            let tables = try await database.client.withConnection { connection in
                try await CaseloadReport.protectedTables(threshold: suppressBelow, now: now, on: connection, logger: context.logger)
            }
            let shown = asked.areas ?? tables.keys.compactMap { $0 }.sorted()
            let (json, rows) = CaseloadReport.external(tables, areas: shown, threshold: suppressBelow)
            return try ReportQuery.answer(request, json: json, csv: CaseloadReport.csv(rows))
        }
    }
}

/// What a report is asked for: `period` (required, except for the caseload), `area`
/// (repeatable), `managerId`, `team` and `scope` (`internal`, or `external` for figures that
/// leave the organisation).
struct ReportQuery: Sendable {
    /// Nil only for the caseload, a snapshot of now.
    var period: ReportPeriod?
    var areas: [String]?
    var managerId: String?
    /// The team of the managers whose cases count (intake's `manager.registered`).
    var team: String?
    var external: Bool

    /// At most this many `area` parameters: every area of a large region, not a cost lever.
    static let maxAreas = 50

    init(_ request: Request, caller: Identity, takesPeriod: Bool = true) throws {
        let query = request.uri.queryParameters
        var problems: [Problem.Item] = []
        let periodText = query.get("period")
        let period = periodText.flatMap(ReportPeriod.init)
        if takesPeriod && period == nil {
            problems.append(.init(rule: "period", pointer: "period", detail: "a month (2026-11), quarter (2026-Q4) or year (2026)"))
        } else if !takesPeriod && periodText != nil {
            problems.append(.init(rule: "unexpected", pointer: "period", detail: "the caseload is a snapshot of now: leave the period out"))
        }
        let scope = query.get("scope") ?? "internal"
        if !["internal", "external"].contains(scope) {
            problems.append(.init(rule: "enum", pointer: "scope", detail: "internal or external"))
        }
        let asked = Array(Set(query.getAll("area").map { $0.lowercased() })).sorted()
        if asked.count > Self.maxAreas {
            problems.append(.init(rule: "maxItems", pointer: "area", detail: "at most \(Self.maxAreas) areas"))
        }
        let managerId = query.get("managerId")
        let team = query.get("team")?.lowercased()
        var areas: [String]? = asked.isEmpty ? nil : asked
        if caller.role == .teamLead {
            // A team lead's figures are their own areas'.
            let own = caller.areas.map { $0.lowercased() }
            guard Set(asked).isSubset(of: own) else { throw Problem.forbidden("A team lead sees the figures of their own areas.") }
            areas = areas ?? own.sorted()
        }
        if scope == "external" {
            // The published grid: one area or the whole organisation, a quarter, no filter by
            // manager or team. Anything else could be subtracted from a published answer.
            if takesPeriod, let period, period.kind != .quarter {
                problems.append(
                    .init(rule: "external-period", pointer: "period", detail: "external figures are published per quarter (2026-Q4)"))
            }
            if (areas?.count ?? 0) > 1 {
                problems.append(
                    .init(rule: "external-areas", pointer: "area", detail: "external figures cover one area or the whole organisation"))
            }
            if managerId != nil || team != nil {
                problems.append(
                    .init(
                        rule: "external-filter", pointer: managerId != nil ? "managerId" : "team",
                        detail: "external figures are per area, never per manager or team"))
            }
        }
        guard problems.isEmpty else {
            throw Problem.badRequest("The report's parameters break \(problems.count) rule(s).", problems: problems)
        }
        self.period = period
        self.areas = areas
        self.managerId = managerId
        self.team = team
        self.external = scope == "external"
    }

    /// The report's table: as computed inside the organisation, or the asked unit of the
    /// protected published grid for an external answer.
    func table(
        threshold: Int, database: Database, logger: Logger,
        compute: @escaping @Sendable (ReportPeriod, [String]?, PostgresConnection) async throws -> FigureTable
    ) async throws -> FigureTable {
        let period = self.period!
        let areas = self.areas
        let external = self.external
        return try await database.client.withConnection { connection in
            guard external else { return try await compute(period, areas, connection) }
            return try await PublishedGrid.table(area: areas?.first, threshold: threshold, on: connection, logger: logger) { unit in
                try await compute(period, unit, connection)
            }
        }
    }

    /// A table of figures (already protected when external), as JSON or CSV.
    func answer(_ request: Request, _ table: FigureTable, suppressBelow: Int) throws -> Response {
        let threshold = external ? suppressBelow : nil
        let json = table.json(into: [
            "period": period.map { .string($0.description) } ?? .null, "areas": areas.map { .array($0.map(JSON.string)) } ?? .null,
            "managerId": managerId.map(JSON.string) ?? .null, "team": team.map(JSON.string) ?? .null, "suppressedBelow": threshold.map { .number(Double($0)) } ?? .null,
        ])
        return try Self.answer(request, json: json, csv: table.csv(period: period!))
    }

    /// JSON, or CSV when the caller asks for it (`Accept: text/csv`).
    static func answer(_ request: Request, json: JSON, csv: String) throws -> Response {
        guard request.headers[.accept]?.contains("text/csv") == true else { return try .json(json) }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
    }
}
