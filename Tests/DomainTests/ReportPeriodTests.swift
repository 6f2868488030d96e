import Foundation
import ReportingService
import SamenplanDomain
import Testing

// The periods figures are about (issue 7): a month, a quarter or a year, in Dutch time.

@Suite("Report periods")
struct ReportPeriodTests {
    @Test func monthsQuartersAndYearsParseAndPrintTheSame() {
        for text in ["2026-11", "2026-01", "2026-Q4", "2026-Q1", "2026"] {
            #expect(ReportPeriod(text)?.description == text)
        }
        #expect(ReportPeriod("2026-Q3")?.kind == .quarter)
        #expect(ReportPeriod("2026-07")?.number == 7)
    }

    @Test func whatIsNoPeriodIsRefused() {
        for text in ["", "2026-13", "2026-00", "2026-Q5", "2026-Q0", "26-11", "2026-1", "2026-11-01", "abcd", "2026-q4", "+026"] {
            #expect(ReportPeriod(text) == nil, "\(text)")
        }
    }

    @Test func boundsAreMidnightInTheNetherlandsAcrossTheClockChange() {
        // Q4 starts in summer time (UTC+2) and ends in winter time (UTC+1).
        let quarter = ReportPeriod("2026-Q4")!.bounds
        #expect(quarter.from == Timestamp.parse("2026-09-30T22:00:00Z"))
        #expect(quarter.to == Timestamp.parse("2026-12-31T23:00:00Z"))
        let february = ReportPeriod("2028-02")!.bounds
        #expect(february.to.timeIntervalSince(february.from) == 29 * 86_400)
        let year = ReportPeriod("2026")!.bounds
        #expect(year.from == Timestamp.parse("2025-12-31T23:00:00Z"))
        #expect(year.to == Timestamp.parse("2026-12-31T23:00:00Z"))
    }
}
