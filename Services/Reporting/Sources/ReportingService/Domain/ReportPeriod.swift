import Foundation
import SamenplanDomain

/// The period a figure is about: a month (`2026-11`), a quarter (`2026-Q4`) or a year
/// (`2026`), from its first day 00:00 to the next period's, in Dutch time, like the rest of
/// the suite's calendar.
public struct ReportPeriod: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable { case month, quarter, year }

    public let kind: Kind
    public let year: Int
    /// 1–12 for a month, 1–4 for a quarter, 1 for a year.
    public let number: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, first.count == 4, first.allSatisfy({ $0.isASCII && $0.isNumber }), let year = Int(first),
            (2000...2999).contains(year)
        else { return nil }
        switch parts.count {
        case 1:
            self.init(kind: .year, year: year, number: 1)
        case 2 where parts[1].count == 2 && parts[1].first == "Q":
            guard let quarter = Int(parts[1].dropFirst()), (1...4).contains(quarter) else { return nil }
            self.init(kind: .quarter, year: year, number: quarter)
        case 2 where parts[1].count == 2 && parts[1].allSatisfy({ $0.isASCII && $0.isNumber }):
            guard let month = Int(parts[1]), (1...12).contains(month) else { return nil }
            self.init(kind: .month, year: year, number: month)
        default:
            return nil
        }
    }

    public init(kind: Kind, year: Int, number: Int) {
        self.kind = kind
        self.year = year
        self.number = number
    }

    public var description: String {
        switch kind {
        case .year: "\(year)"
        case .quarter: "\(year)-Q\(number)"
        case .month: "\(year)-" + (number < 10 ? "0" : "") + "\(number)"
        }
    }

    /// The first month of the period and the number of months it spans.
    private var monthSpan: (first: Int, count: Int) {
        switch kind {
        case .year: (1, 12)
        case .quarter: ((number - 1) * 3 + 1, 3)
        case .month: (number, 1)
        }
    }

    /// The moment the period starts, and the moment the next one does.
    public var bounds: (from: Date, to: Date) {
        let calendar = Calendar.netherlands
        let (first, count) = monthSpan
        let from = calendar.date(from: DateComponents(year: year, month: first, day: 1)) ?? .distantPast
        let to = calendar.date(byAdding: .month, value: count, to: from) ?? .distantFuture
        return (from, to)
    }
}

extension ReportPeriod {
    /// The quarter `date` falls in, in Dutch time.
    public static func quarter(containing date: Date) -> ReportPeriod? {
        let calendar = Calendar.netherlands
        let parts = calendar.dateComponents([.year, .month], from: date)
        guard let year = parts.year, let month = parts.month else { return nil }
        return ReportPeriod(kind: .quarter, year: year, number: (month - 1) / 3 + 1)
    }

    /// The months of the period, in order.
    public var months: [ReportPeriod] {
        switch kind {
        case .month: [self]
        case .quarter: (0..<3).map { ReportPeriod(kind: .month, year: year, number: (number - 1) * 3 + 1 + $0) }
        case .year: (1...12).map { ReportPeriod(kind: .month, year: year, number: $0) }
        }
    }
}
