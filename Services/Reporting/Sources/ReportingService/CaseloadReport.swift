import Foundation
import Logging
import PostgresNIO
import ReportingDomain
import SamenplanDomain

/// The caseload now (docs/indicators.md, "Caseload"): open cases by area and phase, by
/// family manager, by team and by area and framework, and each area's queue. A snapshot of
/// now, so it takes no period.
struct CaseloadReport: Sendable {
    /// A count of open cases in one area, broken down by a phase or a framework.
    struct AreaCount: Sendable, Hashable {
        var area: String
        var breakdown: String
        var count: Int
    }

    struct Queue: Sendable, Hashable {
        var area: String
        var waiting: Int
        /// The wait of the family that has waited longest: always one family's figure.
        var longestWaitDays: Double
    }

    var byAreaAndPhase: [AreaCount] = []
    var byManager: [(manager: String, count: Int)] = []
    var byTeam: [(team: String, count: Int)] = []
    var byAreaAndFramework: [AreaCount] = []
    var queues: [Queue] = []

    static func compute(areas: [String]?, now: Date, on connection: PostgresConnection, logger: Logger) async throws -> CaseloadReport {
        var report = CaseloadReport()
        // A case whose phase event has not arrived yet is in `connect`: every case starts there.
        for try await (area, phase, count) in try await connection.query(
            """
            SELECT area, COALESCE(phase, 'connect') AS phase, count(*)::bigint
            FROM case_projection
            WHERE area IS NOT NULL AND COALESCE(phase, 'connect') <> 'closed'
              AND (\(areas)::text[] IS NULL OR area = ANY(\(areas)::text[]))
            GROUP BY 1, 2 ORDER BY 1, 2
            """, logger: logger
        ).decode((String, String, Int64).self) {
            report.byAreaAndPhase.append(AreaCount(area: area, breakdown: phase, count: Int(count)))
        }
        for try await (manager, count) in try await connection.query(
            """
            SELECT manager_id, count(*)::bigint FROM case_projection
            WHERE manager_id IS NOT NULL AND COALESCE(phase, 'connect') <> 'closed'
              AND (\(areas)::text[] IS NULL OR area = ANY(\(areas)::text[]))
            GROUP BY 1 ORDER BY 1
            """, logger: logger
        ).decode((String, Int64).self) {
            report.byManager.append((manager, Int(count)))
        }
        // Per team: the open cases of the team's managers (a manager's team comes from intake).
        for try await (team, count) in try await connection.query(
            """
            SELECT m.team, count(*)::bigint FROM case_projection p JOIN manager_facts m USING (manager_id)
            WHERE COALESCE(p.phase, 'connect') <> 'closed'
              AND (\(areas)::text[] IS NULL OR p.area = ANY(\(areas)::text[]))
            GROUP BY 1 ORDER BY 1
            """, logger: logger
        ).decode((String, Int64).self) {
            report.byTeam.append((team, Int(count)))
        }
        for try await (area, framework, count) in try await connection.query(
            """
            SELECT area, COALESCE(framework, 'unknown'), count(*)::bigint FROM case_projection
            WHERE area IS NOT NULL AND closed_at IS NULL AND COALESCE(phase, 'connect') <> 'closed'
              AND (\(areas)::text[] IS NULL OR area = ANY(\(areas)::text[]))
            GROUP BY 1, 2 ORDER BY 1, 2
            """, logger: logger
        ).decode((String, String, Int64).self) {
            report.byAreaAndFramework.append(AreaCount(area: area, breakdown: framework, count: Int(count)))
        }
        // The queue: families waiting for a manager now, and how long the longest has waited.
        for try await (area, waiting, longest) in try await connection.query(
            """
            SELECT area, count(*)::bigint, (max(extract(epoch FROM \(now) - queued_at)) / 86400)::float8
            FROM case_projection
            WHERE queued_at IS NOT NULL AND assigned_at IS NULL AND closed_at IS NULL
              AND (\(areas)::text[] IS NULL OR area = ANY(\(areas)::text[]))
            GROUP BY 1 ORDER BY 1
            """, logger: logger
        ).decode((String, Int64, Double).self) {
            report.queues.append(Queue(area: area, waiting: Int(waiting), longestWaitDays: (longest * 10).rounded() / 10))
        }
        return report
    }

    /// Every area the report names.
    var areas: [String] {
        Set(byAreaAndPhase.map(\.area) + byAreaAndFramework.map(\.area) + queues.map(\.area)).sorted()
    }

    /// The figures of one area (nil: every area together) as a disclosure grid sees them. The
    /// phases of an area add up to its open cases, and so do its frameworks: two partitions.
    /// The longest wait is one family's figure and is never published outside.
    func table(area: String?) -> FigureTable {
        func mine(_ counts: [AreaCount]) -> [String: Int] {
            counts.filter { area == nil || $0.area == area }.reduce(into: [:]) { $0[$1.breakdown, default: 0] += $1.count }
        }
        var table = FigureTable()
        for (phase, count) in mine(byAreaAndPhase).sorted(by: { $0.key < $1.key }) {
            table.count("open-cases", count, breakdown: phase, partition: "phase")
        }
        for (framework, count) in mine(byAreaAndFramework).sorted(by: { $0.key < $1.key }) {
            table.count("open-cases-by-framework", count, breakdown: framework, partition: "framework")
        }
        table.count("waiting", queues.filter { area == nil || $0.area == area }.reduce(0) { $0 + $1.waiting })
        return table
    }

    /// The JSON for inside the organisation: every figure.
    var json: JSON {
        .object([
            "byAreaAndPhase": .array(byAreaAndPhase.map { .object(["area": .string($0.area), "phase": .string($0.breakdown), "openCases": .number(Double($0.count))]) }),
            "byManager": .array(byManager.map { .object(["managerId": .string($0.manager), "openCases": .number(Double($0.count))]) }),
            "byTeam": .array(byTeam.map { .object(["team": .string($0.team), "openCases": .number(Double($0.count))]) }),
            "byAreaAndFramework": .array(
                byAreaAndFramework.map { .object(["area": .string($0.area), "framework": .string($0.breakdown), "openCases": .number(Double($0.count))]) }),
            "queues": .array(
                queues.map { .object(["area": .string($0.area), "waiting": .number(Double($0.waiting)), "longestWaitDays": .number($0.longestWaitDays)]) }),
        ])
    }

    /// The rows for inside the organisation, as CSV: `indicator,area,breakdown,value`.
    var csvRows: [(String, String, String, Double?)] {
        byAreaAndPhase.map { ("open-cases", $0.area, $0.breakdown, Double($0.count)) }
            + byManager.map { ("open-cases-by-manager", "", $0.manager, Double($0.count)) }
            + byTeam.map { ("open-cases-by-team", "", $0.team, Double($0.count)) }
            + byAreaAndFramework.map { ("open-cases-by-framework", $0.area, $0.breakdown, Double($0.count)) }
            + queues.flatMap { [("waiting", $0.area, "", Double($0.waiting)), ("longest-wait-days", $0.area, "", $0.longestWaitDays)] }
    }

    /// Every area's figures and the organisation's (key nil), protected together: the
    /// caseload's part of the published grid, which the dashboard shows as well.
    static func protectedTables(threshold: Int, now: Date, on connection: PostgresConnection, logger: Logger)
        async throws -> [String?: FigureTable]
    {
        let report = try await compute(areas: nil, now: now, on: connection, logger: logger)
        var units = PublishedGrid.Units(whole: report.table(area: nil))
        for area in report.areas { units.areas[area] = report.table(area: area) }
        return units.protected(threshold: threshold)
    }

    /// The external answer for `shownAreas` from each area's protected table: per area only
    /// (no figure per manager or team leaves the organisation), with hidden cells as null.
    static func external(_ tables: [String?: FigureTable], areas shownAreas: [String], threshold: Int)
        -> (json: JSON, csvRows: [(String, String, String, Double?)])
    {
        var phases: [JSON] = []
        var frameworks: [JSON] = []
        var queues: [JSON] = []
        var rows: [(String, String, String, Double?)] = []
        for area in shownAreas {
            guard let table = tables[area] else { continue }
            for row in table.rows {
                let value = row.value.map(JSON.number) ?? .null
                switch row.indicator {
                case "open-cases":
                    phases.append(.object(["area": .string(area), "phase": .string(row.breakdown), "openCases": value]))
                case "open-cases-by-framework":
                    frameworks.append(.object(["area": .string(area), "framework": .string(row.breakdown), "openCases": value]))
                case "waiting":
                    guard row.families > 0 else { continue }
                    queues.append(.object(["area": .string(area), "waiting": value, "longestWaitDays": .null]))
                default: continue
                }
                rows.append((row.indicator, area, row.breakdown, row.value))
            }
        }
        let json = JSON.object([
            "scope": "external", "suppressedBelow": .number(Double(threshold)),
            "byAreaAndPhase": .array(phases), "byAreaAndFramework": .array(frameworks), "queues": .array(queues),
        ])
        return (json, rows)
    }

    static func csv(_ rows: [(String, String, String, Double?)]) -> String {
        var lines = ["indicator,area,breakdown,value"]
        for (indicator, area, breakdown, value) in rows {
            lines.append([indicator, area, breakdown, FigureTable.text(value)].map(FigureTable.csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
