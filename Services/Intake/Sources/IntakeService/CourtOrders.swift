import Foundation
import SamenplanDomain
import SamenplanEventing
import SamenplanStorage

/// Court orders (OTS, juvenile probation) end on a date; the family manager is warned some
/// months before (`INTAKE_COURT_ORDER_NOTICE_MONTHS`, default 3) so an extension can be asked
/// for in time. The warning is a durable timer: it survives restarts and fires once.
enum CourtOrderTimers {
    static let kind = "court-order-ending"

    /// 00:00 in the Netherlands, `monthsBefore` months before the order ends (or now, if that
    /// has passed: the timer then fires at once).
    static func noticeDate(endsOn: CalendarDate, monthsBefore: Int) -> Date {
        let calendar = Calendar.netherlands  // the desk counts in Dutch time (ReferralDesk.timeZone)
        let end = calendar.date(from: DateComponents(year: endsOn.year, month: endsOn.month, day: endsOn.day))!
        return calendar.date(byAdding: .month, value: -monthsBefore, to: end)!
    }
}

struct CourtOrderTimerHandler: TimerHandler {
    var kinds: Set<String> { [CourtOrderTimers.kind] }

    func fire(_ timer: DueTimer, in context: EventContext) async throws {
        guard let caseId = UUID(uuidString: timer.subject) else { return }
        let rows = try await context.connection.query(
            """
            SELECT framework, court_order_ends_on::text, manager_id, area FROM cases
            WHERE id = \(caseId) AND status = 'open' AND court_order_ends_on IS NOT NULL
            """, logger: context.logger
        ).collect()
        // A case closed meanwhile needs no warning.
        guard let row = rows.first else { return }
        let (framework, endsOn, managerId, area) = try row.decode((String, String, String?, String).self)
        try await context.emit(
            .courtOrderEnding,
            payload: CourtOrderEnding(
                caseId: caseId, framework: Framework(rawValue: framework) ?? .childProtection, endsOn: endsOn,
                managerId: managerId, area: area),
            on: Topic.intake, key: caseId.uuidString.lowercased(), traceparent: nil)
    }
}
