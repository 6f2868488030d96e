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
            period AS (SELECT (\(from) AT TIME ZONE \(zone))::date AS first, (\(to) AT TIME ZONE \(zone))::date AS next),
            -- Each figure is counted in events and in families: a cell about one family with
            -- five placements is still about one family.
            during_support AS (
                SELECT p.case_id FROM placement_facts p JOIN c USING (case_id), period
                WHERE p.change = 'started' AND p.on_day >= period.first AND p.on_day < period.next
                  AND (SELECT e.phase FROM phase_entries e
                       WHERE e.case_id = p.case_id AND (e.entered_at AT TIME ZONE \(zone))::date <= p.on_day
                       ORDER BY e.entered_at DESC LIMIT 1) = 'support'),
            placements_before AS (
                SELECT p.case_id FROM placement_facts p JOIN started USING (case_id)
                WHERE p.change = 'started' AND p.on_day >= started.started_on - 183 AND p.on_day < started.started_on),
            placements_after AS (
                SELECT p.case_id FROM placement_facts p JOIN started USING (case_id)
                WHERE p.change = 'started' AND p.on_day >= started.started_on AND p.on_day < started.started_on + 183),
            nuisance_before AS (
                SELECT n.case_id FROM nuisance_facts n JOIN started USING (case_id)
                WHERE n.reported_on >= started.started_on - 183 AND n.reported_on < started.started_on),
            nuisance_after AS (
                SELECT n.case_id FROM nuisance_facts n JOIN started USING (case_id)
                WHERE n.reported_on >= started.started_on AND n.reported_on < started.started_on + 183)
            SELECT
                -- During support: the phase the case entered last on or before that day.
                (SELECT count(*) FROM during_support),
                (SELECT count(DISTINCT case_id) FROM during_support),
                (SELECT count(*) FROM started),
                (SELECT count(*) FROM placements_before), (SELECT count(DISTINCT case_id) FROM placements_before),
                (SELECT count(*) FROM placements_after), (SELECT count(DISTINCT case_id) FROM placements_after),
                (SELECT count(*) FROM nuisance_before), (SELECT count(DISTINCT case_id) FROM nuisance_before),
                (SELECT count(*) FROM nuisance_after), (SELECT count(DISTINCT case_id) FROM nuisance_after),
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
        let counts = try row.decode(
            (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self)
        let (duringSupport, duringSupportFamilies, cases) = (counts.0, counts.1, counts.2)
        let (placementsBefore, placementsBeforeFamilies, placementsAfter, placementsAfterFamilies) = (counts.3, counts.4, counts.5, counts.6)
        let (nuisanceBefore, nuisanceBeforeFamilies, nuisanceAfter, nuisanceAfterFamilies) = (counts.7, counts.8, counts.9, counts.10)
        let (goals, goalFamilies, talents, talentFamilies) = (counts.11, counts.12, counts.13, counts.14)
        table.count("placements-started-during-support", Double(duringSupport), families: Int(duringSupportFamilies))
        table.count("cases-started", Int(cases))
        // Before and after are about the families whose case started in the period: the
        // families with a placement (or a report) are a part of them, and so are those without.
        table.part("placements-started", Double(placementsBefore), families: Int(placementsBeforeFamilies), of: "cases-started", breakdown: "before")
        table.part("placements-started", Double(placementsAfter), families: Int(placementsAfterFamilies), of: "cases-started", breakdown: "after")
        table.part("nuisance-reports", Double(nuisanceBefore), families: Int(nuisanceBeforeFamilies), of: "cases-started", breakdown: "before")
        table.part("nuisance-reports", Double(nuisanceAfter), families: Int(nuisanceAfterFamilies), of: "cases-started", breakdown: "after")
        table.count("goals-reached", Double(goals), families: Int(goalFamilies))
        table.count("talents-moved-on", Double(talents), families: Int(talentFamilies))
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
            table.count("hours", (hours * 10).rounded() / 10, families: Int(hourFamilies))
            // A volunteer may serve several areas: the organisation's count is no sum of the areas'.
            table.overlappingCount("active-volunteers", Int(active))
            table.count("help-requests-raised", Int(raised))
            table.count("help-requests-matched", Int(matched))
            table.measure("days-to-match-median", median, families: Int(matched), basis: ["help-requests-matched"])
        }
        for try await (reason, count) in try await connection.query(
            """
            SELECT a.end_reason, count(*) FROM assignment_facts a
            JOIN help_request_facts h USING (help_request_id)
            WHERE a.ended_at >= \(from) AND a.ended_at < \(to) AND (\(areas)::text[] IS NULL OR h.area = ANY(\(areas)::text[]))
            GROUP BY 1 ORDER BY 1
            """, logger: logger
        ).decode((String?, Int64).self) {
            table.count("assignments-ended", Int(count), breakdown: reason ?? "unknown", partition: "assignments-ended")
        }
        return table
    }
}
