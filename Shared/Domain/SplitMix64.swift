/// SplitMix64: a tiny, well-known generator whose sequence is the same on every platform and
/// Swift version (the standard library's generator is neither seedable nor stable). The
/// synthetic case histories and the load generator draw from it, so a seed replays a run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`, the same everywhere (no rejection sampling that differs by
    /// platform; the tiny bias is irrelevant here).
    public mutating func next(upTo bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    public mutating func chance(percent: Int) -> Bool { next(upTo: 100) < percent }
}
