import Testing
import DaxFSFormat
import DaxFSTestSupport
@testable import DaxFS

/// `ProbeTable` (the inode table and directory indexes) against a
/// Dictionary: random inserts, replacements and removals (backward shift,
/// also across the end of the table), and `build` with and without a
/// duplicate key, with hashes that collide on purpose.
@Suite struct ProbeTableTests {
    /// A key whose hash takes only a few values when `narrow` (half of them
    /// home in the last slot), so runs are long, wrap past the end, and
    /// different keys share a hash.
    struct Item: ProbeEntry, Equatable {
        var key: Int
        var value: Int
        var narrow: Bool
        var hash: UInt64 {
            guard narrow else { return probeMix(UInt64(bitPattern: Int64(key))) }
            return key % 2 == 0 ? UInt64.max - UInt64(abs(key) % 3) : UInt64(abs(key) % 5) << 60
        }
        func sameKey(as other: Item) -> Bool { key == other.key }
    }

    func check(_ t: ProbeTable<Item>, _ model: [Int: Int], narrow: Bool, probe: Int) {
        #expect(t.count == model.count)
        #expect(Dictionary(uniqueKeysWithValues: t.map { ($0.key, $0.value) }) == model)
        for k in 0..<probe {
            let h = Item(key: k, value: 0, narrow: narrow).hash
            let found = t.find(hash: h) { $0.key == k }.map { t[slot: $0].value }
            #expect(found == model[k])
        }
    }

    @Test(arguments: [(1, false), (2, false), (3, true), (4, true)])
    func randomOperationsMatchADictionary(seed: UInt64, narrow: Bool) {
        var rng = SeededRandom(seed: seed)
        var t = ProbeTable<Item>()
        var model: [Int: Int] = [:]
        let keys = narrow ? 60 : 3000
        for step in 0..<6000 {
            let k = rng.below(keys)
            let h = Item(key: k, value: 0, narrow: narrow).hash
            let slot = t.find(hash: h) { $0.key == k }
            switch rng.below(3) {
            case 0, 1:
                if let slot { t[slot: slot].value = step } else { t.insertNew(Item(key: k, value: step, narrow: narrow)) }
                model[k] = step
            default:
                if let slot { t.remove(at: slot) }
                model[k] = nil
            }
            if step % 500 == 0 { check(t, model, narrow: narrow, probe: keys) }
        }
        check(t, model, narrow: narrow, probe: keys)
        for k in model.keys { t.remove(at: t.find(hash: Item(key: k, value: 0, narrow: narrow).hash) { $0.key == k }!) }
        check(t, [:], narrow: narrow, probe: keys)
    }

    @Test(arguments: [0, 1, 5, 6, 7, 100, 3000, 70_000])
    func buildMatchesInsertingOneByOne(count: Int) {
        for narrow in [false, true] where !narrow || count <= 3000 {
            var rng = SeededRandom(seed: UInt64(count))
            var keys = Array(Set((0..<count).map { _ in rng.below(10 * count + 10) }))
            keys.shuffle(using: &rng)
            var t = ProbeTable<Item>()
            #expect(t.build(count: keys.count, hash: { Item(key: keys[$0], value: 0, narrow: narrow).hash }) {
                Item(key: keys[$0], value: $0, narrow: narrow)
            } == nil)
            var model: [Int: Int] = [:]
            for (i, k) in keys.enumerated() { model[k] = i }
            check(t, model, narrow: narrow, probe: Swift.min(10 * count + 10, 5000))
            // Still a working table afterwards: remove half, insert others.
            for k in keys.prefix(keys.count / 2) {
                t.remove(at: t.find(hash: Item(key: k, value: 0, narrow: narrow).hash) { $0.key == k }!)
                model[k] = nil
            }
            for k in 0..<50 where model[-1 - k] == nil {
                t.insertNew(Item(key: -1 - k, value: k, narrow: narrow))
                model[-1 - k] = k
            }
            check(t, model, narrow: narrow, probe: Swift.min(10 * count + 10, 5000))
        }
    }

    @Test func buildReportsADuplicateKey() {
        for narrow in [false, true] {
            let keys = [5, 9, 12, 40, 9, 77]
            var t = ProbeTable<Item>()
            let dup = t.build(count: keys.count, hash: { Item(key: keys[$0], value: 0, narrow: narrow).hash }) {
                Item(key: keys[$0], value: $0, narrow: narrow)
            }
            #expect(dup.map { [$0.0.key, $0.1.key] } == [9, 9])
            #expect(Set([dup?.0.value, dup?.1.value]) == [1, 4])
            #expect(t.isEmpty)
        }
    }
}
