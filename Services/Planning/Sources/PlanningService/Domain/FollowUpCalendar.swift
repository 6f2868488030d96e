import Foundation
import SamenplanDomain

/// When a follow-up agreed in the continuation plan is due: `months` after the case closed,
/// counted in the Dutch calendar, at the same time of day (a day the month does not have
/// becomes its last: closed on 31 August, the 6-month follow-up is due on the last day of
/// February). Pure, and the one computation of it: the `follow-up` timer fires at `dueAt`,
/// and a held follow-up is published against `dueOn`, so "on time" means the day the
/// reminder went out.
public enum FollowUpCalendar {
    public static func dueAt(closedAt: Date, months: Int) -> Date {
        // Adding whole months to a real instant always has an answer in the Gregorian calendar.
        Calendar.netherlands.date(byAdding: .month, value: months, to: closedAt) ?? closedAt
    }

    /// The day (Europe/Amsterdam) the follow-up is due: the closing day plus `months`.
    public static func dueOn(closedAt: Date, months: Int) -> CalendarDate {
        CalendarDate(dueAt(closedAt: closedAt, months: months), in: CalendarDate.netherlands)
    }
}
