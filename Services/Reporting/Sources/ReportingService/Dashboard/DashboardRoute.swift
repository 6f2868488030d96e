import Foundation
import Hummingbird
import PostgresNIO
import SamenplanDomain
import SamenplanServer

/// `GET /dashboard[?period=2026-Q4][&area=…]`: the page of charts (issue 7, item 4). It needs
/// no token because everything on it is suppressed below `REPORTING_SUPPRESS_BELOW`
/// families, like an external export: it can hang on a team room's screen.
enum DashboardRoute {
    static func add(to router: some RouterMethods<SamenplanRequestContext>, environment: ServiceEnvironment, suppressBelow: Int) {
        let database = environment.database
        let clock = environment.clock
        router.get("dashboard") { request, context -> Response in
            let query = request.uri.queryParameters
            let now = clock.now()
            guard let period = query.get("period").map(ReportPeriod.init) ?? ReportPeriod.quarter(containing: now) else {
                throw Problem.badRequest(
                    "No such period.",
                    problems: [.init(rule: "period", pointer: "period", detail: "a month (2026-11), quarter (2026-Q4) or year (2026)")])
            }
            let asked = query.getAll("area").map { $0.lowercased() }
            let areas = asked.isEmpty ? nil : asked
            let data = try await database.client.withConnection { connection in
                try await gather(period: period, areas: areas, now: now, suppressBelow: suppressBelow, on: connection, logger: context.logger)
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: DashboardPage.render(data))))
        }
    }

    /// The page's figures, every one about fewer than `suppressBelow` families left out.
    static func gather(
        period: ReportPeriod, areas: [String]?, now: Date, suppressBelow: Int, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> DashboardData {
        func shown(_ value: Double?, families: Int) -> Double? { families < suppressBelow ? nil : value }
        // Open cases now, by phase.
        var open: [String: Int] = [:]
        for try await (phase, count) in try await connection.query(
            """
            SELECT COALESCE(phase, 'connect'), count(*)::bigint FROM case_projection
            WHERE closed_at IS NULL AND COALESCE(phase, 'connect') <> 'closed'
              AND (\(areas)::text[] IS NULL OR area = ANY(\(areas)::text[]))
            GROUP BY 1
            """, logger: logger
        ).decode((String, Int64).self) {
            open[phase] = Int(count)
        }
        let caseload = FlowReport.phases.map { phase in
            DashboardData.Bar(label: phase, value: shown(Double(open[phase] ?? 0), families: open[phase] ?? 0))
        }
        // Days in phase for the cases that left it in the period.
        let flow = try await FlowReport.compute(period: period, areas: areas, managerId: nil, on: connection, logger: logger)
        let days = (FlowReport.phases + ["total"]).map { phase in
            let figures = phase == "total" ? flow.daysInTotal : flow.daysInPhase[phase] ?? .init(cases: 0)
            return DashboardData.Bar(label: phase, value: shown(figures.median.map { ($0 * 10).rounded() / 10 }, families: figures.cases))
        }
        // Evaluations on time, month by month.
        var onTime: [DashboardData.Bar] = []
        for month in period.months {
            let rhythm = try await RhythmReport.compute(
                period: month, areas: areas, managerId: nil, now: now, on: connection, logger: logger)
            onTime.append(.init(label: month.description, value: shown(rhythm.onTimePercent, families: rhythm.evaluations)))
        }
        // Before and after a case started.
        let outcomes = try await OutcomesReport.compute(
            period: period, areas: areas, managerId: nil, now: now, on: connection, logger: logger
        ).suppressed(below: suppressBelow)
        func value(_ indicator: String, _ breakdown: String) -> Double? {
            outcomes.rows.first { $0.indicator == indicator && $0.breakdown == breakdown }?.value
        }
        let beforeAfter = ["placements-started": "placements", "nuisance-reports": "nuisance-reports"]
            .sorted { $0.value > $1.value }
            .map { indicator, label in
                DashboardData.BeforeAfter(label: label, before: value(indicator, "before"), after: value(indicator, "after"))
            }
        return DashboardData(
            period: period.description, areas: areas ?? [], caseloadByPhase: caseload, daysInPhase: days,
            evaluationsOnTime: onTime, beforeAfter: beforeAfter, generatedAt: now)
    }
}
