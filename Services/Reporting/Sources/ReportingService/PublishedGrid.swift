import Foundation
import Logging
import PostgresNIO
import ReportingDomain

/// External figures are published on one grid only: the whole organisation and each area,
/// for one quarter (`ReportQuery` refuses other combinations). This computes a report for
/// every unit of that grid, lets `DisclosureGrid` decide what to hide across all of them, and
/// hands back the unit that was asked for, so no two external answers can be subtracted to
/// reveal a figure about fewer than `threshold` families.
enum PublishedGrid {
    /// The asked unit's table (`area` nil: the whole organisation), protected against the grid.
    static func table(
        area: String?, threshold: Int, on connection: PostgresConnection, logger: Logger,
        compute: ([String]?) async throws -> FigureTable
    ) async throws -> FigureTable {
        let units = try await grid(including: area, on: connection, logger: logger, compute: compute)
        return units.protected(threshold: threshold)[area] ?? FigureTable()
    }

    /// The tables of the organisation (key nil) and of every area, before protection.
    static func grid(
        including area: String?, on connection: PostgresConnection, logger: Logger,
        compute: ([String]?) async throws -> FigureTable
    ) async throws -> Units {
        var units = Units(whole: try await compute(nil))
        var areas = try await knownAreas(on: connection, logger: logger)
        if let area { areas.insert(area) }
        for name in areas.sorted() { units.areas[name] = try await compute([name]) }
        return units
    }

    struct Units {
        var whole: FigureTable
        var areas: [String: FigureTable] = [:]

        /// Every unit's table with the figures the grid must hide left out.
        func protected(threshold: Int) -> [String?: FigureTable] {
            let grid = DisclosureGrid(threshold: threshold, whole: whole.figures, areas: areas.mapValues(\.figures))
            let hidden = grid.hidden()
            var result: [String?: FigureTable] = [nil: whole.hiding(hidden[nil] ?? [])]
            for (name, table) in areas { result[name] = table.hiding(hidden[name] ?? []) }
            return result
        }
    }

    /// Every area any read model names: the areas of the grid.
    static func knownAreas(on connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        var areas = Set<String>()
        for try await area in try await connection.query(
            """
            SELECT area FROM case_projection WHERE area IS NOT NULL
            UNION SELECT area FROM help_request_facts WHERE area IS NOT NULL
            UNION SELECT area FROM nuisance_facts
            UNION SELECT area FROM hours_facts
            UNION SELECT unnest(areas) FROM volunteer_facts
            """, logger: logger
        ).decode(String.self) {
            areas.insert(area.lowercased())
        }
        return areas
    }
}
