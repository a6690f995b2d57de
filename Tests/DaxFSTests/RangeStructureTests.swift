import Testing
import DaxFSFormat
import DaxFSTestSupport
@testable import DaxFS

/// The bulk paths of the in-DRAM range structures against plain models:
/// `SortedChunks.removeSubrange`, `ExtentMap.unmap` over many extents and
/// `FreeSpace.insertAll` (both its one-by-one and its merge path),
/// `FreeSpace.remove` and `insert` against a block bitmap, through both of
/// its indexes, `ExtentMap.map` and `forEachHole` against a block model,
/// and replay's batch paths: `SortedChunks.merge` and `append`,
/// `ExtentMap.mapAfterLast` and `FreeSpace.removeAll` (both of its paths).
/// The free runs of a block bitmap (true = free), in order: the model the
/// free-space tests compare against.
func freeRuns(_ bits: [Bool]) -> [FreeRun] {
    var out: [FreeRun] = []
    var i = 0
    while i < bits.count {
        guard bits[i] else { i += 1; continue }
        var j = i
        while j < bits.count && bits[j] { j += 1 }
        out.append(FreeRun(start: UInt64(i), count: UInt64(j - i)))
        i = j
    }
    return out
}

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

    @Test(arguments: [1, 2, 3]) func insertRunMatchesAnArray(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<200 {
            let n = rng.below(3000)
            var chunks = SortedChunks(sorted: (0..<n).map { Item(key: $0 * 10_000) })
            var model = (0..<n).map { $0 * 10_000 }
            let gap = rng.below(n + 1)                              // before element `gap`
            let lo = gap == 0 ? -5_000_000 : model[gap - 1] + 1
            let k = rng.below(2) == 0 ? rng.below(4) : rng.below(9_000)  // runs past a leaf's capacity too
            let run = (0..<k).map { Item(key: lo + $0) }
            chunks.insertRun(run)
            model.insert(contentsOf: run.map(\.key), at: gap)
            #expect(chunks.map(\.key) == model)
            #expect(chunks.count == model.count)
            if let x = model.randomElement(using: &rng) { #expect(chunks.find(x) != nil && chunks.lastIndex(atOrBefore: x).map { chunks[$0].key } == x) }
        }
    }

    /// EXTENT_SWAP's exchange, on one map and on two, against a map of blocks.
    @Test(arguments: [1, 2, 3]) func exchangeMatchesABlockModel(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        func build(_ base: UInt64) -> (ExtentMap, [UInt64: UInt64]) {
            var map = ExtentMap(), model: [UInt64: UInt64] = [:]
            var fb: UInt64 = 0
            for i in 0..<rng.below(1500) {
                fb += UInt64(rng.below(3))                          // holes between some extents
                let len = UInt64(1 + rng.below(3)), rb = base + UInt64(i) * 8 + UInt64(rng.below(2)) * 3
                map.map(Extent(fileBlock: fb, regionBlock: rb, count: len))
                for b in 0..<len { model[fb + b] = rb + b }
                fb += len
            }
            return (map, model)
        }
        func blocks(_ m: ExtentMap) -> [UInt64: UInt64] {
            var out: [UInt64: UInt64] = [:]
            for e in m { for b in 0..<e.count { out[e.fileBlock + b] = e.regionBlock + b } }
            return out
        }
        func merged(_ m: ExtentMap) -> Bool {
            var prev: Extent?
            for e in m { if let p = prev, p.fileEnd > e.fileBlock || (p.fileEnd == e.fileBlock && p.regionEnd == e.regionBlock) { return false }; prev = e }
            return true
        }
        for _ in 0..<60 {
            var (a, ma) = build(1_000_000), (b, mb) = build(9_000_000)
            let span = UInt64(4000)
            let s1 = UInt64(rng.below(3000)), s2 = UInt64(rng.below(3000)), n = UInt64(1 + rng.below(Int(span) / 2))
            ExtentMap.exchange(&a, s1, &b, s2, count: n)
            var wa = ma, wb = mb
            for k in 0..<n { wa[s1 + k] = mb[s2 + k]; wb[s2 + k] = ma[s1 + k] }
            #expect(blocks(a) == wa.compactMapValues { $0 } && blocks(b) == wb.compactMapValues { $0 })
            #expect(merged(a) && merged(b))
            // Two disjoint ranges of one map.
            let t1 = UInt64(rng.below(1000)), m = UInt64(1 + rng.below(800)), t2 = t1 + m + UInt64(rng.below(1000))
            var one = a, mo = blocks(a)
            one.exchange(t1, t2, count: m)
            let before = mo
            for k in 0..<m { mo[t1 + k] = before[t2 + k]; mo[t2 + k] = before[t1 + k] }
            #expect(blocks(one) == mo.compactMapValues { $0 } && merged(one))
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
    @Test(arguments: [1, 2, 3]) func mergeAndAppendMatchAnArray(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<200 {
            let n = rng.below(3000)
            var chunks = SortedChunks(sorted: (0..<n).map { Item(key: $0 * 4) })
            var model = Set((0..<n).map { $0 * 4 })
            // Remove a random subset, insert a random set of new keys (some
            // replacing removed ones, some below and above everything).
            let dense = rng.below(2) == 0
            var removing: [Int] = [], inserting: [Int] = []
            for k in model.sorted() where rng.below(dense ? 2 : 200) == 0 { removing.append(k) }
            let removed = Set(removing)
            for k in stride(from: -40, to: 4 * n + 40, by: 1) where rng.below(dense ? 3 : 500) == 0 {
                if !model.contains(k) || removed.contains(k) { inserting.append(k) }
            }
            chunks.merge(removing: removing, inserting: inserting.map { Item(key: $0) })
            model.subtract(removing)
            model.formUnion(inserting)
            var expected = model.sorted()
            #expect(chunks.map(\.key) == expected)
            #expect(chunks.count == expected.count)
            if let x = expected.randomElement(using: &rng) { #expect(chunks.find(x) != nil && chunks.lastIndex(atOrBefore: x).map { chunks[$0].key } == x) }
            // Appends past the end, over more than a leaf, then ordinary inserts.
            var next = (expected.last ?? 0) + 1
            for _ in 0..<rng.below(600) { chunks.append(Item(key: next)); expected.append(next); next += 1 + rng.below(3) }
            for _ in 0..<rng.below(50) {
                let k = rng.below(next + 10)
                if !model.contains(k) && k < next - 1 && !expected.contains(k) { chunks.insert(Item(key: k)); expected.append(k); model.insert(k) }
            }
            expected.sort()
            #expect(chunks.map(\.key) == expected)
            #expect(chunks.count == expected.count)
        }
    }

    /// `insert(_:after:)` at every kind of place (inside a leaf, at the end
    /// of a leaf, in a full leaf, which splits) and `find` of keys present,
    /// absent and above the last, against a plain array.
    @Test(arguments: [1, 2, 3]) func insertAfterAndFindMatchAnArray(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var chunks = SortedChunks<Item>()
        var model: [Int] = []
        for k in stride(from: 0, to: 2_000_000, by: 1000) { chunks.append(Item(key: k)); model.append(k) }
        for step in 0..<4000 {
            // Mostly random places; every fifth, the last element of some leaf.
            var i = rng.below(model.count)
            if step % 5 == 0 {
                var at = chunks.startIndex, leafEnds: [Int] = [], n = 0
                while at < chunks.endIndex {
                    let next = chunks.index(after: at)
                    if next == chunks.endIndex || next.leaf != at.leaf { leafEnds.append(n) }
                    at = next; n += 1
                }
                i = leafEnds[rng.below(leafEnds.count)]
            }
            let next = i + 1 < model.count ? model[i + 1] : model[i] + 1000
            guard next - model[i] > 1 else { continue }
            let key = model[i] + 1 + rng.below(next - model[i] - 1)
            guard let at = chunks.find(model[i]) else { Issue.record("key \(model[i]) not found"); return }
            let put = chunks.insert(Item(key: key), after: at)
            model.insert(key, at: i + 1)
            #expect(chunks[put].key == key)
        }
        #expect(Array(chunks).map(\.key) == model)
        #expect(chunks.count == model.count)
        let present = Set(model)
        for _ in 0..<2000 {
            let k = rng.below(model.last! + 3000)
            let found = chunks.find(k)
            #expect((found != nil) == present.contains(k), "key \(k)")
            if let f = found { #expect(chunks[f].key == k) }
        }
        #expect(chunks.find(model.last! + 1) == nil)
        #expect(chunks.find(model.last!).map { chunks[$0].key } == model.last)
        #expect(chunks.find(model[0]).map { chunks[$0].key } == model[0])
    }

    /// `insert` and `lastIndex(atOrBefore:)` near the end, where both answer
    /// without a search: above the last element, between the last two, into
    /// a last leaf of one element (above and below it), into a last leaf
    /// that is full (it splits), and lookups above, at and between the last
    /// keys; each against a plain array.
    @Test func tailInsertsAndLookupsMatchAnArray() {
        var chunks = SortedChunks<Item>()
        var model: [Int] = []
        func check(_ what: String) {
            #expect(Array(chunks).map(\.key) == model, "\(what)")
            #expect(chunks.count == model.count, "\(what)")
            for k in [model.last! + 7, model.last!, model.last! - 1, model[max(0, model.count - 2)], model[0] - 1] {
                let want = model.last(where: { $0 <= k })
                #expect(chunks.lastIndex(atOrBefore: k).map { chunks[$0].key } == want, "\(what): lastIndex(atOrBefore: \(k))")
            }
        }
        func insert(_ k: Int, _ what: String) {
            let at = chunks.insert(Item(key: k))
            #expect(chunks[at].key == k, "\(what)")
            model.append(k); model.sort()
            check(what)
        }
        insert(1000, "into an empty sequence")
        insert(2000, "above the last")
        insert(1500, "between the last two")
        insert(500, "below all")
        // Fill the last leaf until it splits, always between the last two.
        var top = 1_000_000
        insert(top, "above the last")
        for k in 0..<(SortedChunks<Item>.leafCapacity + 2) { insert(top - 1 - k, "between the last two, step \(k)") }
        // A last leaf of one element: build leaves of full capacity by appends.
        chunks = SortedChunks<Item>()
        model = []
        for k in 0..<(SortedChunks<Item>.leafCapacity + 1) { chunks.append(Item(key: k * 10)); model.append(k * 10) }
        check("appends that leave one element in the last leaf")
        insert(model.last! - 5, "below the only element of the last leaf")
        chunks = SortedChunks<Item>()
        model = []
        for k in 0..<(SortedChunks<Item>.leafCapacity + 1) { chunks.append(Item(key: k * 10)); model.append(k * 10) }
        insert(model.last! + 5, "above the only element of the last leaf")
        top = model.last! + 1000
        insert(top, "above the last")
        insert(top - 1, "between the last two again")
    }

    /// `mapAfterLast` (and `map`, which takes it for an extent past the
    /// last one) builds the map a plain list builds by appending and merging
    /// with the last extent, and refuses (changing nothing) an extent that
    /// does not start after the last one.
    @Test(arguments: [1, 2, 3]) func mapAfterLastMatchesAList(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var a = ExtentMap(), b = ExtentMap()
        var model: [Extent] = []
        var fb: UInt64 = 0, rb: UInt64 = 1000
        for _ in 0..<3000 {
            fb += UInt64(rng.below(3))                 // contiguous in the file, or a hole
            rb += UInt64(rng.below(3))                 // contiguous in the region, or not
            let e = Extent(fileBlock: fb, regionBlock: rb, count: UInt64(1 + rng.below(4)))
            let appended = a.mapAfterLast(e)
            #expect(appended)
            b.map(e)
            if let l = model.last, l.fileEnd == e.fileBlock && l.regionEnd == e.regionBlock {
                model[model.count - 1].count += e.count
            } else {
                model.append(e)
            }
            fb += e.count; rb += e.count
            if rng.below(10) == 0, let l = a.last {
                let before = Array(a)
                let refused = !a.mapAfterLast(Extent(fileBlock: l.fileEnd - 1, regionBlock: 1, count: 5))
                #expect(refused)
                #expect(Array(a) == before)
            }
        }
        #expect(Array(a) == model)
        #expect(Array(b) == model)
        #expect(a.count == model.count && b.count == model.count)
    }

    /// `map` of extents in random order (the search path, merging with
    /// either neighbour or both) against a block model, and `forEachHole`
    /// (and `holes`) over random ranges against the same model: each hole
    /// is a maximal unmapped run inside the range, and comes with the
    /// extent that ends last at or before its start.
    @Test(arguments: [1, 2, 3]) func mapAndHolesMatchABlockModel(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let blocks = 3000
        var map = ExtentMap()
        var model = [UInt64?](repeating: nil, count: blocks)       // file block -> region block
        // Random pieces of a layout in which file block f lives at region
        // 5000 + f, or (every third piece) somewhere unrelated.
        for _ in 0..<700 {
            let f = rng.below(blocks - 8), n = 1 + rng.below(6)
            guard (f..<(f + n)).allSatisfy({ model[$0] == nil }) else { continue }
            let r = rng.below(3) == 0 ? UInt64(100_000 + rng.below(1_000_000)) : UInt64(5000 + f)
            map.map(Extent(fileBlock: UInt64(f), regionBlock: r, count: UInt64(n)))
            for k in 0..<n { model[f + k] = r + UInt64(k) }
        }
        var fromMap = [UInt64?](repeating: nil, count: blocks)
        var prev: Extent?
        for e in map {
            for k in 0..<e.count { fromMap[Int(e.fileBlock + k)] = e.regionBlock + k }
            if let p = prev { #expect(p.fileEnd < e.fileBlock || p.regionEnd != e.regionBlock, "unmerged neighbours \(p) \(e)") }
            prev = e
        }
        #expect(fromMap == model)
        let extents = Array(map)
        for _ in 0..<400 {
            let s = rng.below(blocks + 20), t = s + rng.below(200)
            var expected: [Range<UInt64>] = []
            var b = s
            while b < t {
                guard b >= blocks || model[b] == nil else { b += 1; continue }
                var c = b
                while c < t && (c >= blocks || model[c] == nil) { c += 1 }
                expected.append(UInt64(b)..<UInt64(c))
                b = c
            }
            var got: [Range<UInt64>] = []
            map.forEachHole(in: UInt64(s), UInt64(t)) { hole, before in
                got.append(hole)
                let nearest = extents.last { $0.fileEnd <= hole.lowerBound }
                #expect(before == nearest, "hole \(hole) of [\(s), \(t))")
            }
            #expect(got == expected, "[\(s), \(t))")
            #expect(map.holes(in: UInt64(s), UInt64(t)) == expected)
        }
    }

    /// `removeAll` of a sorted batch against a block bitmap and against
    /// `remove` one by one, on free space of many small runs (the one-by-one
    /// path) and of few large ones (the merge path); a batch with a block
    /// that is not free, an empty run, or runs out of order or overlapping
    /// is refused and changes nothing.
    @Test(arguments: [1, 2, 3]) func removeAllMatchesABitmap(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for round in 0..<150 {
            let n = 64 + rng.below(20_000)
            var free = [Bool](repeating: false, count: n)
            // Few large runs, or many small ones.
            let holeEvery = round % 3 == 0 ? 3 : 200 + rng.below(2000)
            for i in 0..<n where i % holeEvery != 0 { free[i] = true }
            let initial = freeRuns(free).map { BlockRange($0.start, $0.count) }
            var fs = FreeSpace(sorted: initial)!, one = FreeSpace(sorted: initial)!
            // A sorted batch of disjoint free runs; dense or sparse.
            var batch: [BlockRange] = []
            var i = 0
            let gap = round % 2 == 0 ? 4 : 400
            while i < n {
                i += rng.below(gap)
                guard i < n, free[i] else { i += 1; continue }
                var j = i + 1
                while j < n && free[j] && rng.below(4) > 0 { j += 1 }
                batch.append(BlockRange(UInt64(i), UInt64(j - i)))
                i = j
            }
            // Sometimes a bad batch.
            let bad = rng.below(4) == 0 && batch.count >= 2
            if bad {
                let k = rng.below(batch.count)
                switch rng.below(4) {
                case 0: batch[k] = BlockRange(batch[k].start.raw, batch[k].count.raw + UInt64(n))   // runs past the free run
                case 1: batch[k] = BlockRange(batch[k].start.raw, 0)                                 // empty
                case 2: batch.swapAt(0, batch.count - 1)                                             // out of order
                default: batch.insert(batch[k], at: k)                                               // overlaps itself
                }
            }
            let before = Array(fs.runs)
            let ok = fs.removeAll(batch)
            if bad {
                #expect(!ok, "round \(round)")
                #expect(Array(fs.runs) == before && fs.freeBlocks == one.freeBlocks)
                continue
            }
            #expect(ok, "round \(round)")
            for r in batch {
                let done = one.remove(r)
                #expect(done)
                for b in r.start.raw..<r.end { free[Int(b)] = false }
            }
            let model = freeRuns(free)
            #expect(Array(fs.runs) == model, "round \(round)")
            #expect(Array(one.runs) == model)
            #expect(fs.freeBlocks == UInt64(free.filter { $0 }.count))
            #expect(fs.runCount == model.count)
            let largest = model.max { ($0.count, $0.start) < ($1.count, $1.start) }
            #expect(fs.largest == largest, "round \(round)")
            for _ in 0..<8 {
                let need = 1 + UInt64(rng.below(64))
                let fit = model.filter { $0.count >= need }.min { ($0.count, $0.start) < ($1.count, $1.start) }
                #expect(fs.bestFit(need: need, align: 1, scan: Int.max) == fit, "round \(round)")
            }
            // Both indexes still work for the live path afterwards.
            if let r = model.first {
                let out = fs.remove(BlockRange(r.start, 1)), back = fs.insert(BlockRange(r.start, 1))
                #expect(out && back)
                #expect(Array(fs.runs) == model)
            }
        }
    }

    /// Random takes (whole runs, prefixes, suffixes, middles) and gives back,
    /// against a bitmap of free blocks. After every step the offset index
    /// must equal the bitmap's runs, and the size index must agree: the
    /// largest run, and best fit for random sizes, as the bitmap gives them.
    /// `remove` keeps the larger piece's size entry in place when it can and
    /// moves it when it cannot; both cases occur here.
    @Test(arguments: [1, 2, 3]) func removeAndInsertMatchABitmap(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let n = 4096
        var free = [Bool](repeating: true, count: n)
        var fs = FreeSpace(sorted: [BlockRange(0, UInt64(n))])!
        for step in 0..<3000 {
            let runs = freeRuns(free)
            if !runs.isEmpty && (rng.below(3) > 0 || runs.count < 4) {
                // Take part of a free run.
                let r = runs[rng.below(runs.count)]
                let off = UInt64(rng.below(Int(r.count))), len = 1 + UInt64(rng.below(Int(r.count - off)))
                let ok = fs.remove(BlockRange(r.start + off, len))
                #expect(ok, "step \(step)")
                for b in (r.start + off)..<(r.start + off + len) { free[Int(b)] = false }
            } else {
                // Give back a random run of used blocks.
                let used = (0..<n).filter { !free[$0] }
                guard let s = used.randomElement(using: &rng) else { continue }
                var e = s
                while e + 1 < n && !free[e + 1] && rng.below(8) > 0 { e += 1 }
                let ok = fs.insert(BlockRange(UInt64(s), UInt64(e - s + 1)))
                #expect(ok, "step \(step)")
                for b in s...e { free[b] = true }
            }
            let model = freeRuns(free)
            #expect(Array(fs.runs) == model, "step \(step)")
            #expect(fs.freeBlocks == UInt64(free.filter { $0 }.count))
            let largest = model.max { ($0.count, $0.start) < ($1.count, $1.start) }
            #expect(fs.largest == largest, "step \(step)")
            let need = 1 + UInt64(rng.below(64))
            let fit = model.filter { $0.count >= need }.min { ($0.count, $0.start) < ($1.count, $1.start) }
            #expect(fs.bestFit(need: need, align: 1, scan: Int.max) == fit, "step \(step)")
            // A block already free is refused and changes nothing.
            if let r = model.first {
                let refused = fs.remove(BlockRange(r.start, r.count + 1))
                #expect(!refused)
                let doubled = fs.insert(BlockRange(r.start, 1))
                #expect(!doubled)
            }
        }
    }
}

/// `ExtentList` (a reservation's extents, the first in place) against an
/// array: appends and truncations at random, including to and from empty,
/// compared after every step through count, subscript, iteration and last.
@Suite struct ExtentListTests {
    @Test(arguments: [1, 2, 3]) func matchesAnArray(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var list = ExtentList()
        var model: [Extent] = []
        for step in 0..<2_000 {
            if rng.below(4) == 0 {
                let keep = rng.below(model.count + 1)
                list.removeAll(from: keep)
                model.removeSubrange(keep...)
            } else {
                let e = Extent(fileBlock: UInt64(step), regionBlock: rng.next() >> 8, count: UInt64(1 + rng.below(9)))
                list.append(e)
                model.append(e)
            }
            #expect(list.count == model.count)
            #expect(Array(list) == model)
            #expect(list.last == model.last)
            if !model.isEmpty {
                let k = rng.below(model.count)
                #expect(list[k] == model[k])
            }
            if list.count != model.count || Array(list) != model { Issue.record("seed \(seed) diverged at step \(step)"); return }
        }
    }
}
