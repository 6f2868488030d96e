import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ReportingDomain
import SamenplanDomain
import SamenplanServer

/// `GET /dashboard[?period=2026-Q4][&area=…]`: the page of charts (issue 7, item 4). It needs
/// no token because every figure on it is published as an external answer is: on the grid of
/// the whole organisation and each area, for a quarter, protected across that grid
/// (`PublishedGrid`), so it can hang on a team room's screen and no two pages can be
/// subtracted. It is public, so what one page may cost is bounded (`DashboardPages`).
enum DashboardRoute {
    static func add(to router: some RouterMethods<SamenplanRequestContext>, environment: ServiceEnvironment, suppressBelow: Int) {
        let database = environment.database
        let clock = environment.clock
        let pages = DashboardPages()
        router.get("dashboard") { request, context -> Response in
            let query = request.uri.queryParameters
            let now = clock.now()
            var problems: [Problem.Item] = []
            let period = query.get("period").map(ReportPeriod.init) ?? ReportPeriod.quarter(containing: now)
            if period == nil || period?.kind != .quarter {
                problems.append(.init(rule: "external-period", pointer: "period", detail: "a quarter (2026-Q4): the page is published per quarter"))
            }
            let asked = Array(Set(query.getAll("area").map { $0.lowercased() }))
            if asked.count > 1 {
                problems.append(.init(rule: "external-areas", pointer: "area", detail: "one area or none (the whole organisation)"))
            }
            guard problems.isEmpty, let period else {
                throw Problem.badRequest("The page's parameters break \(problems.count) rule(s).", problems: problems)
            }
            let area = asked.first
            let html = try await pages.page(for: DashboardPages.Key(period: period.description, area: area)) {
                let data = try await database.client.withConnection { connection in
                    try await gather(period: period, area: area, now: now, suppressBelow: suppressBelow, on: connection, logger: context.logger)
                }
                return DashboardPage.render(data)
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        }
    }

    /// The page's figures for the organisation (`area` nil) or one area, every one protected
    /// as an external answer is.
    static func gather(
        period: ReportPeriod, area: String?, now: Date, suppressBelow: Int, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> DashboardData {
        // Open cases now, by phase: the caseload's grid.
        let caseload = try await CaseloadReport.protectedTables(threshold: suppressBelow, now: now, on: connection, logger: logger)[area]
            ?? FigureTable()
        let byPhase = FlowReport.phases.map { phase in DashboardData.Bar(label: phase, value: caseload.value("open-cases", phase)) }
        // Days in phase for the cases that left it in the period.
        let flow = try await PublishedGrid.table(area: area, threshold: suppressBelow, on: connection, logger: logger) { areas in
            try await FlowReport.compute(period: period, areas: areas, managerId: nil, on: connection, logger: logger).table
        }
        let days = (FlowReport.phases + ["total"]).map { phase in
            DashboardData.Bar(label: phase, value: flow.value("days-median", phase))
        }
        // Evaluations on time, month by month: shares only (their counts are published per
        // quarter, in the rhythm report), each hidden by its own rules.
        var onTime: [DashboardData.Bar] = []
        for month in period.months {
            let rhythm = try await RhythmReport.compute(
                period: month, areas: area.map { [$0] }, managerId: nil, now: now, on: connection, logger: logger
            ).table
            let hidden = DisclosureGrid(threshold: suppressBelow, whole: rhythm.figures, areas: [:]).hidden()[nil] ?? []
            onTime.append(.init(label: month.description, value: rhythm.hiding(hidden).value("evaluations-on-time-percent")))
        }
        // Before and after a case started.
        let outcomes = try await PublishedGrid.table(area: area, threshold: suppressBelow, on: connection, logger: logger) { areas in
            try await OutcomesReport.compute(period: period, areas: areas, managerId: nil, now: now, on: connection, logger: logger)
        }
        let beforeAfter = ["placements-started": "placements", "nuisance-reports": "nuisance-reports"]
            .sorted { $0.value > $1.value }
            .map { indicator, label in
                DashboardData.BeforeAfter(label: label, before: outcomes.value(indicator, "before"), after: outcomes.value(indicator, "after"))
            }
        return DashboardData(
            period: period.description, areas: area.map { [$0] } ?? [], caseloadByPhase: byPhase, daysInPhase: days,
            evaluationsOnTime: onTime, beforeAfter: beforeAfter, generatedAt: now)
    }
}

/// The dashboard's pages, each kept for a minute and computed once however many ask for it
/// at the same time, with at most two computed at once: a public page must not let anyone
/// make the service do unbounded work (an analyst's report waits behind at most two).
actor DashboardPages {
    struct Key: Hashable, Sendable {
        var period: String
        var area: String?
    }

    /// How long a page is served as it was computed.
    static let keepFor: Duration = .seconds(60)
    static let concurrentComputations = 2

    private var pages: [Key: (html: String, at: ContinuousClock.Instant)] = [:]
    private var computing: [Key: Task<String, any Error>] = [:]
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func page(for key: Key, compute: @escaping @Sendable () async throws -> String) async throws -> String {
        let instant = ContinuousClock.now
        if let kept = pages[key], kept.at.duration(to: instant) < Self.keepFor { return kept.html }
        if let task = computing[key] { return try await task.value }
        let task = Task { try await self.limited(compute) }
        computing[key] = task
        defer { computing[key] = nil }
        let html = try await task.value
        // Forget pages past their minute, so the memory stays bounded by what is asked now.
        pages = pages.filter { $0.value.at.duration(to: instant) < Self.keepFor }
        pages[key] = (html, ContinuousClock.now)
        return html
    }

    private func limited(_ compute: @Sendable () async throws -> String) async throws -> String {
        // A slot is handed from the one that finishes to the first that waits, so no newcomer
        // can slip in between.
        if running >= Self.concurrentComputations {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            running += 1
        }
        defer {
            if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
        }
        return try await compute()
    }
}
