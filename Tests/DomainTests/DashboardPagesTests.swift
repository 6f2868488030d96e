import Foundation
import Synchronization
import Testing

@testable import ReportingService

/// Issue 18, finding 8: eight clients asking the public dashboard for 4,000 areas slowed an
/// analyst's report from 0.03 s to 2–3 s. A page is now computed once a minute per quarter
/// and area, however many ask at once, and at most two pages are computed at the same time.
@Suite struct DashboardPagesTests {
    final class Counter: Sendable {
        let computed = Mutex(0)
        let running = Mutex(0)
        let mostAtOnce = Mutex(0)

        func compute(_ name: String) async throws -> String {
            computed.withLock { $0 += 1 }
            let now = running.withLock { $0 += 1; return $0 }
            mostAtOnce.withLock { $0 = max($0, now) }
            try await Task.sleep(for: .milliseconds(50))
            running.withLock { $0 -= 1 }
            return "<html>\(name)</html>"
        }
    }

    @Test func onePageIsComputedOnceHoweverManyAskAtOnce() async throws {
        let pages = DashboardPages()
        let counter = Counter()
        let key = DashboardPages.Key(period: "2026-Q4", area: nil)
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 {
                group.addTask { try await pages.page(for: key) { try await counter.compute("all") } }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 20 && Set(answers) == ["<html>all</html>"])
        #expect(counter.computed.withLock { $0 } == 1)
        // Asked again within the minute: the kept page.
        _ = try await pages.page(for: key) { try await counter.compute("again") }
        #expect(counter.computed.withLock { $0 } == 1)
    }

    @Test func atMostTwoPagesAreComputedAtOnce() async throws {
        let pages = DashboardPages()
        let counter = Counter()
        try await withThrowingTaskGroup(of: String.self) { group in
            for area in 0..<8 {
                let key = DashboardPages.Key(period: "2026-Q4", area: "area-\(area)")
                group.addTask { try await pages.page(for: key) { try await counter.compute("\(area)") } }
            }
            for try await _ in group {}
        }
        #expect(counter.computed.withLock { $0 } == 8)
        #expect((1...DashboardPages.concurrentComputations).contains(counter.mostAtOnce.withLock { $0 }))
    }
}
