import Foundation
import Logging
import PostgresNIO
import SamenplanDomain

/// The rhythm of support (docs/indicators.md, "Rhythm"): evaluations held within 8 weeks of
/// the previous one (or of entering support), and the cases in support whose evaluation is
/// overdue now. Aggregates only.
struct RhythmReport: Sendable {
    var period: ReportPeriod
    var evaluations = 0
    var evaluationsOnTime = 0
    var overdueNow = 0
    var inSupportNow = 0
    var followUpsDue = 0
    var followUpsOnTime = 0
    /// Due, not held yet, and still within the grace weeks: neither on time nor late yet.
    var followUpsOpen = 0

    /// The method's rhythm: an evaluation with everyone at least every 8 weeks.
    static let withinDays = 56
    /// A follow-up counts as on time when held at the latest 4 weeks after the day it was due.
    static let followUpGraceDays = 28

    static func compute(
        period: ReportPeriod, areas: [String]?, managerId: String?, team: String? = nil, now: Date, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> RhythmReport {
        let (from, to) = period.bounds
        let zone = CalendarDate.netherlands.identifier
        var report = RhythmReport(period: period)
        let rows = try await connection.query(
            """
            WITH c AS (
                SELECT case_id, phase FROM case_projection
                WHERE (\(areas)::text[] IS NULL OR area = ANY(\(areas)::text[]))
                  AND (\(team)::text IS NULL OR manager_id IN (SELECT manager_id FROM manager_facts WHERE team = \(team)::text))
                  AND (\(managerId)::text IS NULL OR manager_id = \(managerId)::text)),
            support AS (
                SELECT case_id, (max(entered_at) AT TIME ZONE \(zone))::date AS since
                FROM phase_entries WHERE phase = 'support' GROUP BY case_id),
            held AS (
                SELECT e.case_id, e.held_on, lag(e.held_on) OVER (PARTITION BY e.case_id ORDER BY e.held_on) AS previous
                FROM evaluation_facts e JOIN c USING (case_id)
                -- Only cases with an evaluation in the period count; their earlier ones are kept
                -- because the first in the period is measured from the one before it.
                WHERE e.case_id IN (SELECT case_id FROM evaluation_facts
                                    WHERE held_on >= (\(from) AT TIME ZONE \(zone))::date
                                      AND held_on < (\(to) AT TIME ZONE \(zone))::date)),
            last AS (SELECT case_id, max(held_on) AS held_on FROM evaluation_facts GROUP BY case_id),
            follow_ups AS (
                SELECT f.* FROM follow_up_facts f JOIN c USING (case_id)
                WHERE f.due_on >= (\(from) AT TIME ZONE \(zone))::date AND f.due_on < (\(to) AT TIME ZONE \(zone))::date)
            SELECT
                (SELECT count(*) FROM held WHERE held_on >= (\(from) AT TIME ZONE \(zone))::date AND held_on < (\(to) AT TIME ZONE \(zone))::date),
                (SELECT count(*) FROM held LEFT JOIN support USING (case_id)
                 WHERE held_on >= (\(from) AT TIME ZONE \(zone))::date AND held_on < (\(to) AT TIME ZONE \(zone))::date
                   AND held_on - COALESCE(previous, support.since, held_on) <= \(withinDays)),
                (SELECT count(*) FROM c JOIN support USING (case_id) LEFT JOIN last USING (case_id)
                 WHERE c.phase = 'support'
                   AND (\(now) AT TIME ZONE \(zone))::date - GREATEST(support.since, COALESCE(last.held_on, support.since)) > \(withinDays)),
                (SELECT count(*) FROM c WHERE c.phase = 'support'),
                (SELECT count(*) FROM follow_ups),
                (SELECT count(*) FROM follow_ups WHERE held_on <= due_on + \(followUpGraceDays)::int),
                (SELECT count(*) FROM follow_ups WHERE held_on IS NULL AND (\(now) AT TIME ZONE \(zone))::date <= due_on + \(followUpGraceDays)::int)
            """, logger: logger
        ).collect()
        if let row = rows.first {
            let (evaluations, onTime, overdue, inSupport, followUpsDue, followUpsOnTime, followUpsOpen) =
                try row.decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64).self)
            report.followUpsDue = Int(followUpsDue)
            report.followUpsOnTime = Int(followUpsOnTime)
            report.followUpsOpen = Int(followUpsOpen)
            report.evaluations = Int(evaluations)
            report.evaluationsOnTime = Int(onTime)
            report.overdueNow = Int(overdue)
            report.inSupportNow = Int(inSupport)
        }
        return report
    }

    /// The figures as rows, each with the families it is about (for suppression).
    var table: FigureTable {
        var table = FigureTable()
        table.count("evaluations", evaluations)
        table.part("evaluations-on-time", Double(evaluationsOnTime), families: evaluationsOnTime, of: "evaluations")
        table.measure(
            "evaluations-on-time-percent", onTimePercent, families: evaluations, basis: ["evaluations", "evaluations-on-time"],
            key: "onTimePercent")
        table.part("overdue-now", Double(overdueNow), families: overdueNow, of: "in-support-now")
        table.count("in-support-now", inSupportNow)
        table.count("follow-ups-due", followUpsDue)
        table.part("follow-ups-on-time", Double(followUpsOnTime), families: followUpsOnTime, of: "follow-ups-due")
        table.part("follow-ups-still-open", Double(followUpsOpen), families: followUpsOpen, of: "follow-ups-due")
        table.measure(
            "follow-ups-on-time-percent", followUpsOnTimePercent, families: followUpsDue,
            basis: ["follow-ups-due", "follow-ups-on-time", "follow-ups-still-open"], key: "followUpsOnTimePercent")
        return table
    }

    /// Follow-ups on time as a share of those due whose grace weeks are over or that were
    /// held, one decimal; nil when there are none.
    var followUpsOnTimePercent: Double? {
        let judged = followUpsDue - followUpsOpen
        return judged <= 0 ? nil : (Double(followUpsOnTime) * 1000 / Double(judged)).rounded() / 10
    }

    /// The share on time in percent, one decimal; nil without evaluations.
    var onTimePercent: Double? {
        evaluations == 0 ? nil : (Double(evaluationsOnTime) * 1000 / Double(evaluations)).rounded() / 10
    }
}
