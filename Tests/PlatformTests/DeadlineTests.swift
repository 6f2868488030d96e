import SamenplanEventing
import Synchronization
import Testing

/// `withinDeadline`, which keeps the outbox relay, the event consumer and the timers going
/// when a transaction never returns. No I/O: the work is a sleep or a throw.
struct DeadlineTests {
    struct Refused: Error {}

    @Test func workDoneInTimeGivesItsResultAndItsError() async throws {
        #expect(try await withinDeadline(.seconds(10)) { 42 } == 42)
        await #expect(throws: Refused.self) {
            try await withinDeadline(.seconds(10)) { () async throws -> Int in throw Refused() }
        }
    }

    @Test func workPastItsDeadlineIsGivenUpAndCancelled() async throws {
        let cancelled = Mutex(false)
        let started = ContinuousClock.now
        await #expect(throws: DeadlinePassed.self) {
            try await withinDeadline(.milliseconds(200)) { () async throws -> Int in
                // Hangs for an hour unless cancelled.
                do {
                    try await Task.sleep(for: .seconds(3600))
                } catch {
                    cancelled.withLock { $0 = true }
                    throw error
                }
                return 1
            }
        }
        // Given up at the deadline, not when the work would have ended.
        #expect(ContinuousClock.now - started < .seconds(30))
        // The work was told to stop (it notices at its next suspension point).
        for _ in 0..<100 where !cancelled.withLock({ $0 }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(cancelled.withLock { $0 })
    }
}
