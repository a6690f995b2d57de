import Testing
import DaxFSFormat
import DaxFSTestSupport
@testable import DaxFS

/// The bulk paths of the in-DRAM range structures against plain models:
/// `SortedChunks.removeSubrange`, `ExtentMap.unmap` over many extents and
/// `FreeSpace.insertAll` (both its one-by-one and its merge path).
@Suite struct RangeStructureTests {
    struct Item: SortedElement, Equatable { var key: Int }

    @Test(arguments: [1, 2, 3]) func removeSubrangeMatchesAnArray(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<200 {
            let n = rng.below(3000)
            var chunks = SortedChunks(sorted: (0..<n).map { Item(key: $0 * 2) })
            var model = (0..<n).map { $0 * 2 }
            for _ in 0..<rng.below(40) { let k = rng.below(2 * n + 1) | 1; if model.contains(k) { continue }; chunks.insert(Item(key: k)); model.append(k) }
            model.sort()
            let a = rng.below(model.count + 1), b = a + rng.below(model.count - a + 1)
            let i = a < model.count ? chunks.firstIndex(atOrAfter: model[a]) : chunks.endIndex
            let j = b < model.count ? chunks.firstIndex(atOrAfter: model[b]) : chunks.endIndex
            chunks.removeSubrange(i, j)

            model.removeSubrange(a..<b)
            #expect(chunks.map(\.key) == model)
            #expect(chunks.count == model.count)
            if let k = model.randomElement(using: &rng) { #expect(chunks.find(k) != nil) }
        }
    }

    @Test func unmapOfManyExtentsMatchesABlockModel() {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<100 {
            var map = ExtentMap()
            var model: [Int: UInt64] = [:]                          // file block -> region block
            for i in 0..<rng.below(2000) {
                let len = UInt64(1 + rng.below(3))
                map.map(Extent(fileBlock: UInt64(i) * 4, regionBlock: 100_000 + UInt64(i) * 7, count: len))
                for b in 0..<len { model[i * 4 + Int(b)] = 100_000 + UInt64(i) * 7 + b }
            }
            let start = UInt64(rng.below(9000)), count = UInt64(1 + rng.below(4000))
            let removed = map.unmap(start, count)
            var removedBlocks = 0
            for b in Int(start)..<Int(start + count) where model[b] != nil { model[b] = nil; removedBlocks += 1 }
            #expect(removed.reduce(0) { $0 + Int($1.count.raw) } == removedBlocks)
            var got: [Int: UInt64] = [:]
            for e in map { for b in 0..<e.count { got[Int(e.fileBlock + b)] = e.regionBlock + b } }
            #expect(got == model)
        }
    }

    @Test func insertAllMatchesInsertingOneByOne() {
        var rng = SeededRandom(seed: 11)
        for round in 0..<100 {
            // Free every third block of [1000, 1000+n), then give back a random subset of the rest.
            let n = 3 * (10 + rng.below(3000))
            let base = (0..<n / 3).map { BlockRange(1000 + UInt64($0) * 3, 1) }
            var a = FreeSpace(sorted: base)!, b = FreeSpace(sorted: base)!
            var back: [BlockRange] = []
            for i in 0..<n where i % 3 != 0 && rng.below(round % 2 == 0 ? 2 : 40) == 0 { back.append(BlockRange(1000 + UInt64(i), 1)) }
            let merged = a.insertAll(back)
            #expect(merged)
            for r in back { let ok = b.insert(r); #expect(ok) }
            #expect(Array(a.runs) == Array(b.runs))
            #expect(a.freeBlocks == b.freeBlocks && a.largest == b.largest)
            // Giving back a block that is already free changes nothing.
            let before = Array(a.runs)
            let again = a.insertAll(back.isEmpty ? base : back)
            #expect(!again)
            #expect(Array(a.runs) == before)
        }
    }
}
