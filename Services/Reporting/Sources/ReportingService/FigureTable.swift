import Foundation
import SamenplanDomain

/// Figures as rows: an indicator, an optional breakdown (a phase, a reason), the value, and
/// how many families it is about, which decides whether an external answer may show it.
struct FigureTable: Sendable {
    struct Row: Sendable {
        var indicator: String
        var breakdown: String = ""
        var value: Double?
        /// The number of families behind the value (for a count: the count itself).
        var families: Int
        /// The JSON key when it is not the indicator's name in camel case.
        var key: String? = nil
    }

    var rows: [Row] = []

    mutating func count(_ indicator: String, _ value: Int, breakdown: String = "") {
        rows.append(Row(indicator: indicator, breakdown: breakdown, value: Double(value), families: value))
    }

    mutating func measure(_ indicator: String, _ value: Double?, families: Int, breakdown: String = "", key: String? = nil) {
        rows.append(
            Row(
                indicator: indicator, breakdown: breakdown, value: value.map { ($0 * 10).rounded() / 10 }, families: families,
                key: key))
    }

    /// Every value about fewer than `threshold` families left out.
    func suppressed(below threshold: Int?) -> FigureTable {
        guard let threshold else { return self }
        return FigureTable(rows: rows.map { row in
            var row = row
            if row.families < threshold { row.value = nil }
            return row
        })
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
            let text = row.value.map { $0 == $0.rounded() ? String(Int($0)) : String($0) } ?? ""
            lines.append("\(period),\(row.indicator),\(row.breakdown),\(text)")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    private func camelCase(_ text: String) -> String {
        let parts = text.split(separator: "-")
        return (parts.first.map(String.init) ?? "") + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
