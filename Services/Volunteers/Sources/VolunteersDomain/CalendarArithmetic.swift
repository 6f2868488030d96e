import SamenplanDomain

/// Day and month arithmetic on ``CalendarDate``, the little the volunteer centre's rules need:
/// a certificate runs out a number of months after its issue date, a warning goes out a number
/// of days before that, a consultation comes back every few weeks.
///
/// Plain integer arithmetic on the proleptic Gregorian calendar (no `Calendar`, no time zone):
/// a calendar date has neither, and matching thousands of volunteers asks for these many times.
/// Results saturate at the ends of ``CalendarDate``'s range (0001-01-01 … 9999-12-31) instead of
/// failing, so a mistyped year 9999 never crashes a service.
extension CalendarDate {
    /// The date `days` days later (earlier when negative).
    public func addingDays(_ days: Int) -> CalendarDate {
        CalendarDate(dayNumber: dayNumber + days)
    }

    /// The date `months` calendar months later (earlier when negative). A day that the target
    /// month lacks becomes its last day: 2024-01-31 + 1 month is 2024-02-29, 2024-02-29 + 12
    /// months is 2025-02-28.
    public func addingMonths(_ months: Int) -> CalendarDate {
        let (quotient, remainder) = (year * 12 + (month - 1) + months).quotientAndRemainder(dividingBy: 12)
        // Floor division, so that months before year 0 still land in 1...12 (then saturate).
        let (targetYear, targetMonth) = remainder < 0 ? (quotient - 1, remainder + 13) : (quotient, remainder + 1)
        guard targetYear >= 1 else { return .earliest }
        guard targetYear <= 9999 else { return .latest }
        let targetDay = Swift.min(day, Self.length(ofMonth: targetMonth, year: targetYear))
        return CalendarDate(year: targetYear, month: targetMonth, day: targetDay) ?? .earliest
    }

    /// The number of days from this date to `later`: 1 from a day to the next, negative when
    /// `later` is earlier.
    public func days(until later: CalendarDate) -> Int {
        later.dayNumber - dayNumber
    }

    /// Days since 1970-01-01 (negative before it).
    var dayNumber: Int {
        // Howard Hinnant's days_from_civil: years start on 1 March, so the leap day comes last.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `dayNumber` days after 1970-01-01, saturating at the ends of the range.
    init(dayNumber: Int) {
        let clamped = Swift.min(Swift.max(dayNumber, Self.earliest.dayNumber), Self.latest.dayNumber)
        // Howard Hinnant's civil_from_days.
        let shifted = clamped + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self = CalendarDate(year: year, month: month, day: day) ?? .earliest
    }

    static let earliest = CalendarDate(year: 1, month: 1, day: 1)!
    static let latest = CalendarDate(year: 9999, month: 12, day: 31)!

    private static func length(ofMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
