import Foundation

extension UUID {
    /// A random (version 4) UUID drawn from the standard library's system generator.
    ///
    /// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every id: a
    /// profile of intake, which makes five ids per referral (its case, its family and three
    /// events), showed those system calls at more than 5% of its time.
    /// `SystemRandomNumberGenerator` uses `getrandom(2)` instead, and Foundation's
    /// `UUID.random(using:)` makes the id of its bits.
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        return UUID.random(using: &generator)
    }
}
