import Foundation
import Hummingbird
import Logging
import PostgresNIO
import SamenplanDomain
import SamenplanServer
import SamenplanStorage

/// The flow of one period (docs/indicators.md, "Flow"): referrals, re-referrals, closures
/// with a handover, and the days cases spent in each phase and in total. Aggregates only.
struct FlowReport: Sendable {
    struct Days: Sendable {
        var cases: Int
        var median: Double?
        var p90: Double?
    }

    var period: ReportPeriod
    var areas: [String]?
    var managerId: String?
    var team: String?
    var referrals = 0
    var reReferrals = 0
    var closures = 0
    var closuresWithHandover = 0
    var daysInPhase: [String: Days] = [:]
    var daysInTotal = Days(cases: 0)
    /// Families whose wait in an area's queue ended in the period: how many days they waited.
    var waitedInQueue = Days(cases: 0)

    static let phases = ["connect", "support", "secure"]

    static func compute(
        period: ReportPeriod, areas: [String]?, managerId: String?, team: String? = nil, on connection: PostgresConnection, logger: Logger
    ) async throws -> FlowReport {
        let (from, to) = period.bounds
        var report = FlowReport(period: period, areas: areas, managerId: managerId, team: team)
        // One filter for every figure: the case's area and its (latest) manager.
        let counts = try await connection.query(
            """
            WITH c AS (
                SELECT * FROM case_projection
                WHERE (\(areas)::text[] IS NULL OR area = ANY(\(areas)::text[]))
                  AND (\(team)::text IS NULL OR manager_id IN (SELECT manager_id FROM manager_facts WHERE team = \(team)::text))
                  AND (\(managerId)::text IS NULL OR manager_id = \(managerId)::text))
            -- One pass over the cases for the three counts of cases.
            SELECT
                (SELECT count(*) FROM referral_facts r JOIN c USING (case_id) WHERE r.accepted_at >= \(from) AND r.accepted_at < \(to)),
                count(*) FILTER (WHERE c.re_referral AND c.opened_at >= \(from) AND c.opened_at < \(to)),
                count(*) FILTER (WHERE c.closed_at >= \(from) AND c.closed_at < \(to)),
                count(*) FILTER (WHERE c.closed_at >= \(from) AND c.closed_at < \(to) AND c.handover_accepted_at IS NOT NULL)
            FROM c
            """, logger: logger
        ).collect()
        if let row = counts.first {
            let (referrals, reReferrals, closures, handovers) = try row.decode((Int64, Int64, Int64, Int64).self)
            report.referrals = Int(referrals)
            report.reReferrals = Int(reReferrals)
            report.closures = Int(closures)
            report.closuresWithHandover = Int(handovers)
        }
        // A phase's days count for the period in which the case left it. The chosen cases are
        // an inlined filter on case_projection rather than a materialised list joined in:
        // PostgreSQL plans this one-off statement with its parameters' values, so for every
        // case (`everyone`, the year's report for the whole organisation) the conditions fold
        // away and no join remains.
        let everyone = areas == nil && team == nil && managerId == nil
        for try await (phase, cases, median, p90) in try await connection.query(
            """
            -- case_projection first: a rebuild moves the tables in ProjectionWriter.tables
            -- order, which starts with it, so a report that locks it first cannot deadlock with
            -- the swap (whoever has it first, the other waits holding nothing). The other order
            -- once made PostgreSQL abort a report during a rebuild (deadlock detected).
            WITH chosen AS NOT MATERIALIZED (
                SELECT * FROM case_projection p
                WHERE (\(areas)::text[] IS NULL OR p.area = ANY(\(areas)::text[]))
                  AND (\(team)::text IS NULL OR p.manager_id IN (SELECT manager_id FROM manager_facts WHERE team = \(team)::text))
                  AND (\(managerId)::text IS NULL OR p.manager_id = \(managerId)::text)),
            spans AS (
                SELECT e.phase, e.entered_at,
                       lead(e.entered_at) OVER (PARTITION BY e.case_id ORDER BY e.entered_at) AS left_at
                FROM phase_entries e
                -- A phase left in the period was left by entering the next one then: only
                -- cases with an entry from the period's start on can have one.
                WHERE e.case_id IN (SELECT case_id FROM phase_entries WHERE entered_at >= \(from))
                  AND (\(everyone) OR e.case_id IN (SELECT case_id FROM chosen))),
            days AS (
                SELECT phase, extract(epoch FROM left_at - entered_at) / 86400 AS days FROM spans
                WHERE left_at >= \(from) AND left_at < \(to)
                UNION ALL
                SELECT 'total', extract(epoch FROM closed_at - opened_at) / 86400 FROM chosen
                WHERE closed_at >= \(from) AND closed_at < \(to) AND opened_at IS NOT NULL
                UNION ALL
                SELECT 'queue', waited_seconds / 86400.0 FROM chosen
                WHERE queued_at IS NOT NULL AND assigned_at >= \(from) AND assigned_at < \(to))
            SELECT phase, count(*)::bigint, percentile_cont(0.5) WITHIN GROUP (ORDER BY days),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY days)
            FROM days GROUP BY phase
            """, logger: logger
        ).decode((String, Int64, Double?, Double?).self) {
            let days = Days(cases: Int(cases), median: median, p90: p90)
            switch phase {
            case "total": report.daysInTotal = days
            case "queue": report.waitedInQueue = days
            default: report.daysInPhase[phase] = days
            }
        }
        return report
    }

    /// The figures as rows of (indicator, phase, value), each with what a disclosure grid
    /// needs to know of it: a day count is a statistic over the cases that left the phase.
    var table: FigureTable {
        var table = FigureTable()
        table.count("referrals", referrals)
        table.count("re-referrals", reReferrals)
        table.count("closures", closures)
        table.part("closures-with-handover", Double(closuresWithHandover), families: closuresWithHandover, of: "closures")
        for phase in Self.phases + ["total"] {
            let days = phase == "total" ? daysInTotal : daysInPhase[phase] ?? Days(cases: 0)
            let basis = [FigureTable.id("cases-leaving", phase)]
            table.count("cases-leaving", days.cases, breakdown: phase)
            table.measure("days-median", days.median, families: days.cases, basis: basis, breakdown: phase)
            table.measure("days-p90", days.p90, families: days.cases, basis: basis, breakdown: phase)
        }
        table.count("served-from-queue", waitedInQueue.cases)
        table.measure("waited-days-median", waitedInQueue.median, families: waitedInQueue.cases, basis: ["served-from-queue"])
        table.measure("waited-days-p90", waitedInQueue.p90, families: waitedInQueue.cases, basis: ["served-from-queue"])
        return table
    }

    /// The flow's JSON from its (possibly protected) table.
    static func json(_ table: FigureTable, asked: ReportQuery, suppressedBelow threshold: Int?) -> JSON {
        func find(_ indicator: String, _ phase: String = "") -> JSON { table.value(indicator, phase).map(JSON.number) ?? .null }
        var days: [String: JSON] = [:]
        for phase in Self.phases + ["total"] {
            days[phase] = .object([
                "cases": find("cases-leaving", phase), "median": find("days-median", phase), "p90": find("days-p90", phase),
            ])
        }
        return .object([
            "period": asked.period.map { .string($0.description) } ?? .null,
            "areas": asked.areas.map { .array($0.map(JSON.string)) } ?? .null,
            "managerId": asked.managerId.map(JSON.string) ?? .null, "team": asked.team.map(JSON.string) ?? .null,
            "suppressedBelow": threshold.map { .number(Double($0)) } ?? .null,
            "referrals": find("referrals"), "reReferrals": find("re-referrals"), "closures": find("closures"),
            "closuresWithHandover": find("closures-with-handover"), "days": .object(days),
            "servedFromQueue": .object([
                "cases": find("served-from-queue"), "waitedDaysMedian": find("waited-days-median"),
                "waitedDaysP90": find("waited-days-p90"),
            ]),
        ])
    }
}
