/// A seeded pseudo-random generator (SplitMix64) whose streams are the same
/// on every platform and toolchain, so that a seed printed by a failing test
/// replays it exactly.
///
/// Use `below(_:)` rather than the standard library's `random(in:using:)`:
/// the standard library does not promise how it maps generator output to a
/// range, and a replay must not depend on the toolchain.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits. O(1).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound` (Lemire's multiply-and-reject). `bound` must be positive.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "SeededRandom.below needs a positive bound")
        let b = UInt64(bound)
        let threshold = (0 &- b) % b
        while true {
            let m = next().multipliedFullWidth(by: b)
            if m.low >= threshold { return Int(m.high) }
        }
    }

    /// `count` distinct integers of `0..<population`, ascending (Floyd's
    /// algorithm). O(count log count) time, O(count) memory, whatever the population.
    public mutating func sample(_ count: Int, of population: Int) -> [Int] {
        precondition(count >= 0 && count <= population, "cannot sample \(count) of \(population)")
        var chosen = Set<Int>(minimumCapacity: count)
        for j in (population - count)..<population {
            let t = below(j + 1)
            chosen.insert(chosen.contains(t) ? j : t)
        }
        return chosen.sorted()
    }

    /// `n` random bytes, none of them equal to `avoid` (the stale-data
    /// sentinel 0xCD by default), so that reading the sentinel is always a bug.
    public mutating func bytes(_ n: Int, avoiding avoid: UInt8 = 0xCD) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: (n + 7) / 8 * 8)
        out.withUnsafeMutableBytes { p in
            for w in 0..<(p.count / 8) { p.storeBytes(of: next(), toByteOffset: w * 8, as: UInt64.self) }
            var i = 0
            while let j = UnsafeRawBufferPointer(rebasing: p[i...]).firstIndex(of: avoid) {
                p[i + j] = avoid &+ 1
                i += j + 1
            }
        }
        out.removeLast(out.count - n)
        return out
    }
}
