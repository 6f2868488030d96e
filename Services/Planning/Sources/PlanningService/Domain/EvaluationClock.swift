import Foundation
import SamenplanDomain

/// The rhythm of the support phase: an evaluation with everyone every 6–8 weeks. A reminder
/// is due `dueAfterWeeks` after the last evaluation (or after the case entered support), an
/// escalation `overdueAfterWeeks` after it. Pure: planning keeps the two moments as durable
/// timers and moves them whenever an evaluation is recorded.
public struct EvaluationClock: Sendable, Equatable {
    public var dueAfterWeeks: Int
    public var overdueAfterWeeks: Int

    public init(dueAfterWeeks: Int = 6, overdueAfterWeeks: Int = 8) {
        self.dueAfterWeeks = dueAfterWeeks
        self.overdueAfterWeeks = overdueAfterWeeks
    }

    /// When the next evaluation is due, and when it is overdue, counted from `since`.
    public func moments(since: Date) -> (due: Date, overdue: Date) {
        (since.addingTimeInterval(Self.week * Double(dueAfterWeeks)),
         since.addingTimeInterval(Self.week * Double(overdueAfterWeeks)))
    }

    /// The start of an evaluation's day in the Netherlands: what the next one is counted from.
    public static func start(of day: CalendarDate) -> Date { day.start(in: timeZone) }

    public static let timeZone = CalendarDate.netherlands
    static let week: TimeInterval = 7 * 24 * 3600
}
