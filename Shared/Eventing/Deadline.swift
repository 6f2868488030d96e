import Synchronization

/// What `withinDeadline` throws when the work did not finish in time.
public struct DeadlinePassed: Error, CustomStringConvertible {
    public var limit: Duration
    public var description: String { "not finished within \(limit); left to finish on its own" }
}

/// Runs `operation` in a task of its own and returns its result; when it has not finished
/// within `limit`, cancels it, leaves it to finish on its own and throws `DeadlinePassed`.
/// For a loop that must go on even when a dependency never answers (the chaos run once saw
/// the outbox relay wait for good after PostgreSQL and the broker had both been restarted).
/// Like a plain `Task { … }.value`, it does not cancel the work when the caller is cancelled,
/// so a shutdown lets work in flight finish.
public func withinDeadline<T: Sendable>(
    _ limit: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let work = Task { try await operation() }
    let answer = AnswerOnce<T>()
    return try await withCheckedThrowingContinuation { continuation in
        answer.set(continuation)
        let timer = Task {
            try await Task.sleep(for: limit)
            if answer.give(.failure(DeadlinePassed(limit: limit))) { work.cancel() }
        }
        Task {
            let result = await work.result
            timer.cancel()
            answer.give(result)
        }
    }
}

/// A continuation resumed by whichever answer comes first.
private final class AnswerOnce<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func set(_ waiting: CheckedContinuation<T, any Error>) {
        continuation.withLock { $0 = waiting }
    }

    /// True when this answer was the first.
    @discardableResult
    func give(_ result: Result<T, any Error>) -> Bool {
        guard let waiting = continuation.withLock({ $0.take() }) else { return false }
        waiting.resume(with: result)
        return true
    }
}
