/// A small, fast, seeded random number generator (SplitMix64), so that every
/// randomised test is reproducible from the seed it prints.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `n` random bytes, none of them equal to `avoid` (the stale-data
    /// sentinel 0xCD by default), so that a sentinel read is always a bug.
    public mutating func bytes(_ n: Int, avoiding avoid: UInt8 = 0xCD) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        var i = 0
        while i < n {
            var w = next()
            for _ in 0..<8 where i < n {
                let b = UInt8(truncatingIfNeeded: w)
                out[i] = b == avoid ? b &+ 1 : b
                w >>= 8
                i += 1
            }
        }
        return out
    }
}
