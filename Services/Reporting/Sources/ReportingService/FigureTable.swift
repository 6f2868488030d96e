import Foundation
import ReportingDomain
import SamenplanDomain

/// Figures as rows: an indicator, an optional breakdown (a phase, a reason), the value, how
/// many families it is about, and what kind of figure it is, which together decide whether an
/// external answer may show it (`DisclosureGrid`).
struct FigureTable: Sendable {
    typealias Kind = DisclosureGrid.Figure.Kind

    struct Row: Sendable {
        var indicator: String
        var breakdown: String = ""
        var value: Double?
        /// The number of families behind the value (for a count: the count itself).
        var families: Int
        var kind: Kind = .count
        /// Rows of one partition add up to a figure that can be worked out elsewhere.
        var partition: String? = nil
        /// The JSON key when it is not the indicator's name in camel case.
        var key: String? = nil

        /// The row's name in a disclosure grid: `indicator` or `indicator/breakdown`.
        var id: String { FigureTable.id(indicator, breakdown) }
    }

    var rows: [Row] = []

    static func id(_ indicator: String, _ breakdown: String = "") -> String {
        breakdown.isEmpty ? indicator : "\(indicator)/\(breakdown)"
    }

    /// A number of families (or their cases): adds up across areas.
    mutating func count(_ indicator: String, _ value: Int, breakdown: String = "", partition: String? = nil) {
        rows.append(Row(indicator: indicator, breakdown: breakdown, value: Double(value), families: value, partition: partition))
    }

    /// `value` events (goals reached, hours worked) of `families` families: adds up across areas.
    mutating func count(_ indicator: String, _ value: Double, families: Int, breakdown: String = "") {
        rows.append(Row(indicator: indicator, breakdown: breakdown, value: value, families: families))
    }

    /// A count of volunteers, who may serve several areas: it does not add up across areas.
    mutating func overlappingCount(_ indicator: String, _ value: Int) {
        rows.append(Row(indicator: indicator, value: Double(value), families: value, kind: .overlappingCount))
    }

    /// `value` (events, or families) about `families` families that are part of the count
    /// `whole` (evaluations on time of the evaluations held; families with a placement of the
    /// families whose case started).
    mutating func part(_ indicator: String, _ value: Double, families: Int, of whole: String, breakdown: String = "") {
        rows.append(Row(indicator: indicator, breakdown: breakdown, value: value, families: families, kind: .part(of: whole)))
    }

    /// A median, share or total over `families` families, worked out from the counts `basis`.
    mutating func measure(
        _ indicator: String, _ value: Double?, families: Int, basis: [String] = [], breakdown: String = "", key: String? = nil
    ) {
        rows.append(
            Row(
                indicator: indicator, breakdown: breakdown, value: value.map { ($0 * 10).rounded() / 10 }, families: families,
                kind: .statistic(basis: basis), key: key))
    }

    /// The rows as figures of a disclosure grid.
    var figures: [DisclosureGrid.Figure] {
        rows.map { DisclosureGrid.Figure(key: $0.id, families: $0.families, kind: $0.kind, partition: $0.partition) }
    }

    /// The table with the values of `hidden` rows left out.
    func hiding(_ hidden: Set<String>) -> FigureTable {
        FigureTable(rows: rows.map { row in
            var row = row
            if hidden.contains(row.id) { row.value = nil }
            return row
        })
    }

    func value(_ indicator: String, _ breakdown: String = "") -> Double? {
        rows.first { $0.indicator == indicator && $0.breakdown == breakdown }?.value
    }

    /// `{"indicator": value}`, or `{"indicator": {"breakdown": value}}` for broken-down ones.
    func json(into body: [String: JSON]) -> JSON {
        var body = body
        for row in rows {
            let key = row.key ?? camelCase(row.indicator)
            let value = row.value.map(JSON.number) ?? .null
            if row.breakdown.isEmpty {
                body[key] = value
            } else {
                var nested = body[key]?.objectValue ?? [:]
                nested[row.breakdown] = value
                body[key] = .object(nested)
            }
        }
        return .object(body)
    }

    func csv(period: ReportPeriod) -> String {
        var lines = ["period,indicator,phase,value"]
        for row in rows {
            lines.append("\(period),\(row.indicator),\(row.breakdown),\(Self.text(row.value))")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A CSV cell: a whole number without decimals, nothing for a hidden value.
    static func text(_ value: Double?) -> String {
        value.map { $0 == $0.rounded() ? String(Int($0)) : String($0) } ?? ""
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { ",\"\r\n".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func camelCase(_ text: String) -> String {
        let parts = text.split(separator: "-")
        return (parts.first.map(String.init) ?? "") + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
