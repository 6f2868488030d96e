/// Exponential backoff with full jitter, for transient faults (database or broker away).
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    private(set) var attempt = 0

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(10)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before the next try: a random share of min(maximum, initial · 2^attempt), so
    /// that replicas retrying the same fault do not stampede together.
    public mutating func nextDelay() -> Duration {
        let factor = 1 << min(attempt, 20)
        attempt += 1
        let ceiling = min(maximum, initial * factor)
        let millis = max(1, Int(ceiling / .milliseconds(1)))
        return .milliseconds(Int.random(in: (millis / 2)...millis))
    }

    public mutating func wait() async throws {
        try await Task.sleep(for: nextDelay())
    }

    public mutating func reset() { attempt = 0 }
}
