import Testing
import DaxFSFormat
import DaxFSTestSupport
@testable import DaxFS

/// `ReservedRuns`, the allocator's open-addressing table of reserved runs,
/// against a `Dictionary` model: random inserts and removes (including
/// removes of a run that is absent or differs from the one reserved at its
/// start), over keys that collide in the table, through growth and
/// shrinking. After every step every key answers as the model does, and the
/// count, block total and run list agree.
@Suite struct ReservedRunsTests {
    @Test(arguments: [1, 2, 3]) func matchesADictionary(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var table = ReservedRuns()
        var model: [UInt64: BlockRange] = [:]
        // Few distinct keys, so chains form and backward shifts run; blocks
        // are multiples of 64, so several keys share a home slot when the
        // table is small.
        let keys = (0..<300).map { UInt64($0) * 64 }
        for step in 0..<6000 {
            // Grow toward ~250 entries, then drain, then grow again: both
            // resizes happen.
            let phase = (step / 1500) % 2
            let k = keys[rng.below(keys.count)]
            let insert = phase == 0 ? rng.below(4) > 0 : rng.below(4) == 0
            if insert {
                if model[k] == nil {
                    let r = BlockRange(k, UInt64(1 + rng.below(40)))
                    table.insert(r)
                    model[k] = r
                }
            } else {
                // Sometimes a run that differs from the reserved one at k.
                let existing = model[k]
                let probe = existing.map { rng.below(5) == 0 ? BlockRange(k, $0.count.raw + 1) : $0 } ?? BlockRange(k, 1)
                let removed = table.remove(probe)
                #expect(removed == (existing == probe), "step \(step)")
                if removed { model[k] = nil }
            }
            #expect(table.count == model.count, "step \(step)")
            #expect(table.blocks == model.values.reduce(0) { $0 + $1.count.raw }, "step \(step)")
            if step % 50 == 0 {
                for key in keys { #expect(table[key] == model[key], "step \(step) key \(key)") }
                #expect(Set(table.runs.map(\.start.raw)) == Set(model.keys), "step \(step)")
            }
        }
        for key in keys { #expect(table[key] == model[key]) }
    }
}
