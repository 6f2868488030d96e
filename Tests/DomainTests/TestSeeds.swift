import Foundation

/// The seeds of the randomised tests (issue 19): a fixed set that every run tries, and one
/// that rotates, so that over time more cases are tried while every failure can be replayed.
/// The seed is a test argument, so Swift Testing names it in every failure
/// (`with 1 argument seed → 1734…`); replay one with `SAMENPLAN_TEST_SEED=<seed>`.
enum TestSeeds {
    static let fixed: [UInt64] = [1, 7, 42, 20_261_206]

    /// `SAMENPLAN_TEST_SEED` (scripts/test.sh sets it from the clock and prints it), or else
    /// the day, so a run without the script still tries a new case each day.
    static var rotating: UInt64 {
        if let text = ProcessInfo.processInfo.environment["SAMENPLAN_TEST_SEED"], let seed = UInt64(text) { return seed }
        return UInt64(Date().timeIntervalSince1970 / 86_400)
    }

    static var all: [UInt64] { fixed + [rotating] }
}
