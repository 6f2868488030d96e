import Foundation
import PlanningService
import SamenplanDomain
import Testing

// When a follow-up is due (issue 7): the closing day plus the agreed months in the Dutch
// calendar, the moment the `follow-up` timer fires and the day `follow-up.recorded` names.

private func instant(_ text: String) -> Date { Timestamp.parse(text)! }

@Suite("Follow-up calendar")
struct FollowUpCalendarTests {
    @Test("due the closing day plus the months, at the same Dutch time of day across summer time")
    func sameTimeOfDay() {
        let closedAt = instant("2027-03-01T10:00:00+01:00")
        #expect(FollowUpCalendar.dueAt(closedAt: closedAt, months: 6) == instant("2027-09-01T10:00:00+02:00"))
        #expect(FollowUpCalendar.dueOn(closedAt: closedAt, months: 6).description == "2027-09-01")
        #expect(FollowUpCalendar.dueOn(closedAt: closedAt, months: 12).description == "2028-03-01")
    }

    @Test("a day the month lacks becomes its last day")
    func monthEnd() {
        let closedAt = instant("2027-08-31T14:00:00+02:00")
        #expect(FollowUpCalendar.dueOn(closedAt: closedAt, months: 6).description == "2028-02-29")
        #expect(FollowUpCalendar.dueOn(closedAt: closedAt, months: 18).description == "2029-02-28")
    }

    @Test("the day is the Dutch day: closed just after midnight in Amsterdam, the UTC day before")
    func dutchDay() {
        // 23:30 UTC on 15 January is 00:30 on 16 January in Amsterdam.
        let closedAt = instant("2027-01-15T23:30:00Z")
        #expect(FollowUpCalendar.dueOn(closedAt: closedAt, months: 6).description == "2027-07-16")
    }
}
