import Foundation

/// A calendar date (`yyyy-MM-dd`) without a time of day or a time zone: a birth date, the day
/// a court decided, the day a court order ends.
///
/// Only real dates of the proleptic Gregorian calendar in the years 0001–9999 exist:
/// `2026-02-30` and `2025-02-29` do not, `2024-02-29` does. The text form is exactly ten
/// characters, zero-padded (`2026-1-5` is not a date), and it is also the `Codable` form, so
/// a `CalendarDate` travels in JSON as `"2026-01-05"`. Comparison is chronological.
public struct CalendarDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    LosslessStringConvertible
{
    public let year: Int
    public let month: Int
    public let day: Int

    /// The date with these parts, or nil when there is no such day (`2026-02-30`).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...Self.numberOfDays(inMonth: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Reads `yyyy-MM-dd` (ASCII digits, zero-padded). Anything else, including a timestamp
    /// or surrounding whitespace, is not a date.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The calendar date an instant falls on in a time zone, for example "today" in
    /// `Europe/Amsterdam`. The caller supplies the instant, so code that uses it stays testable.
    public init(_ instant: Date, in timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        self.year = parts.year ?? 1
        self.month = parts.month ?? 1
        self.day = parts.day ?? 1
    }

    /// `yyyy-MM-dd`.
    public var description: String {
        Self.padded(year, to: 4) + "-" + Self.padded(month, to: 2) + "-" + Self.padded(day, to: 2)
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = CalendarDate(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "not a calendar date in the form yyyy-MM-dd")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    static func numberOfDays(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func padded(_ value: Int, to width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension CalendarDate {
    /// The suite's calendar is the Netherlands': "today", the start of a day, a report's period.
    public static let netherlands = TimeZone(identifier: "Europe/Amsterdam") ?? .gmt

    /// 00:00 of this day in `timeZone`: the moment a day's timer is due, or a period starts.
    public func start(in timeZone: TimeZone = CalendarDate.netherlands) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar.date(from: DateComponents(year: year, month: month, day: day)) ?? Date(timeIntervalSince1970: 0)
    }
}

extension Calendar {
    /// The Gregorian calendar in Dutch time (`CalendarDate.netherlands`): the one the
    /// workflow counts its days, months and periods in.
    public static let netherlands: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = CalendarDate.netherlands
        return calendar
    }()
}
