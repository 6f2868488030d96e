import Foundation
import Logging
import PostgresNIO
import SamenplanDomain

/// Outcomes (docs/indicators.md, "Outcomes"): out-of-home placements started during support,
/// placements and nuisance reports in the 6 months before and after a case started, goals
/// reached. Aggregates only.
enum OutcomesReport {
    static func compute(
        period: ReportPeriod, areas: [String]?, managerId: String?, team: String? = nil, now: Date, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> FigureTable {
        let (from, to) = period.bounds
        let zone = CalendarDate.netherlands.identifier
        let rows = try await connection.query(
            """
            -- Not materialised: joined to each fact table by case id (an index lookup), where a
            -- materialised list of a few thousand cases made nested loops over every pair.
            WITH c AS NOT MATERIALIZED (
                SELECT case_id, opened_at, (opened_at AT TIME ZONE \(zone))::date AS started_on FROM case_projection
                WHERE (\(areas)::text[] IS NULL OR area = ANY(\(areas)::text[]))
                  AND (\(team)::text IS NULL OR manager_id IN (SELECT manager_id FROM manager_facts WHERE team = \(team)::text))
                  AND (\(managerId)::text IS NULL OR manager_id = \(managerId)::text)),
            started AS NOT MATERIALIZED (SELECT * FROM c WHERE opened_at >= \(from) AND opened_at < \(to)),
            period AS (SELECT (\(from) AT TIME ZONE \(zone))::date AS first, (\(to) AT TIME ZONE \(zone))::date AS next)
            SELECT
                -- During support: the phase the case entered last on or before that day.
                (SELECT count(*) FROM placement_facts p JOIN c USING (case_id), period
                 WHERE p.change = 'started' AND p.on_day >= period.first AND p.on_day < period.next
                   AND (SELECT e.phase FROM phase_entries e
                        WHERE e.case_id = p.case_id AND (e.entered_at AT TIME ZONE \(zone))::date <= p.on_day
                        ORDER BY e.entered_at DESC LIMIT 1) = 'support'),
                (SELECT count(*) FROM started),
                (SELECT count(*) FROM placement_facts p JOIN started USING (case_id)
                 WHERE p.change = 'started' AND p.on_day >= started.started_on - 183 AND p.on_day < started.started_on),
                (SELECT count(*) FROM placement_facts p JOIN started USING (case_id)
                 WHERE p.change = 'started' AND p.on_day >= started.started_on AND p.on_day < started.started_on + 183),
                (SELECT count(*) FROM nuisance_facts n JOIN started USING (case_id)
                 WHERE n.reported_on >= started.started_on - 183 AND n.reported_on < started.started_on),
                (SELECT count(*) FROM nuisance_facts n JOIN started USING (case_id)
                 WHERE n.reported_on >= started.started_on AND n.reported_on < started.started_on + 183),
                (SELECT count(*) FROM goal_facts g JOIN c USING (case_id) WHERE g.change = 'reached' AND g.at >= \(from) AND g.at < \(to)),
                (SELECT count(DISTINCT g.case_id) FROM goal_facts g JOIN c USING (case_id)
                 WHERE g.change = 'reached' AND g.at >= \(from) AND g.at < \(to)),
                (SELECT COALESCE(sum(t.moved_on), 0)::bigint FROM talent_facts t JOIN c USING (case_id)
                 WHERE t.approved_at >= \(from) AND t.approved_at < \(to)),
                (SELECT count(DISTINCT t.case_id) FROM talent_facts t JOIN c USING (case_id)
                 WHERE t.approved_at >= \(from) AND t.approved_at < \(to) AND t.moved_on > 0)
            """, logger: logger
        ).collect()
        var table = FigureTable()
        guard let row = rows.first else { return table }
        let (duringSupport, cases, placementsBefore, placementsAfter, nuisanceBefore, nuisanceAfter, goals, goalFamilies, talents,
             talentFamilies) =
            try row.decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self)
        table.count("placements-started-during-support", Int(duringSupport))
        table.count("cases-started", Int(cases))
        // Before and after are about the families whose case started in the period.
        table.measure("placements-started", Double(placementsBefore), families: Int(cases), breakdown: "before")
        table.measure("placements-started", Double(placementsAfter), families: Int(cases), breakdown: "after")
        table.measure("nuisance-reports", Double(nuisanceBefore), families: Int(cases), breakdown: "before")
        table.measure("nuisance-reports", Double(nuisanceAfter), families: Int(cases), breakdown: "after")
        table.measure("goals-reached", Double(goals), families: Int(goalFamilies))
        table.measure("talents-moved-on", Double(talents), families: Int(talentFamilies))
        return table
    }
}

/// Volunteers (docs/indicators.md, "Volunteers"): active volunteers now, help requests
/// matched in the period and the days to a match, assignments ended by reason.
enum VolunteersReport {
    static func compute(period: ReportPeriod, areas: [String]?, on connection: PostgresConnection, logger: Logger)
        async throws -> FigureTable
    {
        let (from, to) = period.bounds
        let zone = CalendarDate.netherlands.identifier
        var table = FigureTable()
        let rows = try await connection.query(
            """
            WITH r AS (SELECT * FROM help_request_facts WHERE (\(areas)::text[] IS NULL OR area = ANY(\(areas)::text[]))),
            period AS (SELECT (\(from) AT TIME ZONE \(zone))::date AS first, (\(to) AT TIME ZONE \(zone))::date AS next)
            SELECT
                (SELECT count(*) FROM volunteer_facts WHERE status = 'active' AND (\(areas)::text[] IS NULL OR areas && \(areas)::text[])),
                (SELECT count(*) FROM r WHERE raised_at >= \(from) AND raised_at < \(to)),
                (SELECT count(*) FROM r WHERE matched_at >= \(from) AND matched_at < \(to)),
                (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM matched_at - raised_at) / 86400)
                 FROM r WHERE matched_at >= \(from) AND matched_at < \(to) AND raised_at IS NOT NULL),
                (SELECT COALESCE(sum(hours), 0)::float8 FROM hours_facts, period
                 WHERE worked_on >= period.first AND worked_on < period.next AND (\(areas)::text[] IS NULL OR area = ANY(\(areas)::text[]))),
                (SELECT count(DISTINCT case_id) FROM hours_facts, period
                 WHERE worked_on >= period.first AND worked_on < period.next AND (\(areas)::text[] IS NULL OR area = ANY(\(areas)::text[])))
            """, logger: logger
        ).collect()
        if let row = rows.first {
            let (active, raised, matched, median, hours, hourFamilies) = try row.decode((Int64, Int64, Int64, Double?, Double, Int64).self)
            table.measure("hours", hours, families: Int(hourFamilies))
            table.count("active-volunteers", Int(active))
            table.count("help-requests-raised", Int(raised))
            table.count("help-requests-matched", Int(matched))
            table.measure("days-to-match-median", median, families: Int(matched))
        }
        for try await (reason, count) in try await connection.query(
            """
            SELECT a.end_reason, count(*) FROM assignment_facts a
            JOIN help_request_facts h USING (help_request_id)
            WHERE a.ended_at >= \(from) AND a.ended_at < \(to) AND (\(areas)::text[] IS NULL OR h.area = ANY(\(areas)::text[]))
            GROUP BY 1 ORDER BY 1
            """, logger: logger
        ).decode((String?, Int64).self) {
            table.count("assignments-ended", Int(count), breakdown: reason ?? "unknown")
        }
        return table
    }
}
