import DaxFSFormat

/// A run of free region blocks, keyed by its first block.
struct FreeRun: SortedElement, Equatable {
    var start: UInt64
    var count: UInt64
    var key: UInt64 { start }
    var end: UInt64 { start + count }
}

/// The same run keyed by (length, start), for best-fit searches.
struct SizedRun: SortedElement {
    struct Key: Comparable {
        var count: UInt64
        var start: UInt64
        static func < (a: Key, b: Key) -> Bool { (a.count, a.start) < (b.count, b.start) }
    }
    var key: Key
    init(_ r: FreeRun) { key = Key(count: r.count, start: r.start) }
    var run: FreeRun { FreeRun(start: key.start, count: key.count) }
}

/// The free space of the data area in DRAM: a range tree kept twice, keyed
/// by offset (for merging and goal searches) and by length (for best fit),
/// as ZFS keeps a metaslab's ms_allocatable. Adjacent free runs are always
/// merged, so the map is the optimal encoding of the free space.
///
/// Not thread-safe: `Allocator` guards it with its lock.
/// - Complexity: insert, remove and lookups are O(log n) in the number of
///   free runs (plus the container's move cost, see `SortedChunks`).
struct FreeSpace {
    private(set) var byOffset = SortedChunks<FreeRun>()
    private var bySize = SortedChunks<SizedRun>()
    private(set) var freeBlocks: UInt64 = 0

    init() {}

    /// Builds from runs sorted by start, disjoint and not adjacent (the
    /// checkpoint form). Returns nil when they are not.
    init?(sorted runs: [BlockRange]) {
        var prevEnd: UInt64?
        var total: UInt64 = 0
        for r in runs {
            if let p = prevEnd, r.start.raw <= p { return nil }
            prevEnd = r.end
            total += r.count.raw
        }
        byOffset = SortedChunks(sorted: runs.lazy.map { FreeRun(start: $0.start.raw, count: $0.count.raw) })
        bySize = SortedChunks(sorted: runs.map { SizedRun(FreeRun(start: $0.start.raw, count: $0.count.raw)) }
            .sorted { $0.key < $1.key })
        freeBlocks = total
    }

    var runCount: Int { byOffset.count }
    var runs: SortedChunks<FreeRun> { byOffset }
    var largest: FreeRun? { bySize.last?.run }

    /// The free run that contains `block`, if any.
    func run(containing block: UInt64) -> FreeRun? {
        position(containing: block)?.run
    }

    /// Where a free run sits in the offset index, for `remove(_:from:)`.
    typealias Position = (index: SortedChunks<FreeRun>.Index, run: FreeRun)

    /// The free run that contains `block` and its place, if any. O(log n).
    func position(containing block: UInt64) -> Position? {
        guard let i = byOffset.lastIndex(atOrBefore: block) else { return nil }
        let r = byOffset[i]
        return block < r.end ? (i, r) : nil
    }

    /// True when every block of `r` is free.
    func contains(_ r: BlockRange) -> Bool {
        guard let f = run(containing: r.start.raw) else { return false }
        return r.end <= f.end
    }

    /// True when any block of `r` is free.
    func overlaps(_ r: BlockRange) -> Bool {
        if let i = byOffset.lastIndex(atOrBefore: r.start.raw), byOffset[i].end > r.start.raw { return true }
        let n = byOffset.firstIndex(atOrAfter: r.start.raw)
        return n < byOffset.endIndex && byOffset[n].start < r.end
    }

    /// Adds a run none of whose blocks is free, merging with its neighbours.
    /// Returns false (and changes nothing) when some block is already free.
    @discardableResult
    mutating func insert(_ r: BlockRange) -> Bool {
        guard r.count.raw > 0, !overlaps(r) else { return false }
        var run = FreeRun(start: r.start.raw, count: r.count.raw)
        if let pi = byOffset.lastIndex(atOrBefore: run.start), byOffset[pi].end == run.start {
            let p = byOffset.remove(at: pi)
            removeSized(p)
            run = FreeRun(start: p.start, count: p.count + run.count)
        }
        if let ni = byOffset.find(run.end) {
            let n = byOffset.remove(at: ni)
            removeSized(n)
            run.count += n.count
        }
        byOffset.insert(run)
        bySize.insert(SizedRun(run))
        freeBlocks += r.count.raw
        return true
    }

    /// Adds many runs, none of whose blocks is free, merging neighbours.
    /// Returns false (and changes nothing) when some block is already free
    /// or two of the runs overlap.
    /// - Complexity: a few runs against many free runs go one by one,
    ///   O(r log n); otherwise one sorted merge and a rebuild of both
    ///   indexes, O(r log r + n + m log m) for m runs after merging.
    mutating func insertAll(_ runs: [BlockRange]) -> Bool {
        if runs.count * 16 < runCount {
            var done: [BlockRange] = []
            for r in runs {
                guard insert(r) else {
                    for d in done { _ = remove(d) }
                    return false
                }
                done.append(r)
            }
            return true
        }
        var added = runs.map { FreeRun(start: $0.start.raw, count: $0.count.raw) }
        if !added.indices.dropFirst().allSatisfy({ added[$0 - 1].start < added[$0].start }) { added.sort { $0.start < $1.start } }
        var merged: [FreeRun] = []
        merged.reserveCapacity(byOffset.count + added.count)
        var total: UInt64 = 0
        func push(_ r: FreeRun) -> Bool {
            guard r.count > 0 else { return false }
            if let l = merged.last {
                if r.start < l.end { return false }                 // overlap
                if r.start == l.end { merged[merged.count - 1].count += r.count; return true }
            }
            merged.append(r)
            return true
        }
        var it = byOffset.makeIterator()
        var nextOld = it.next()
        for a in added {
            while let o = nextOld, o.start < a.start {
                guard push(o) else { return false }
                nextOld = it.next()
            }
            guard push(a) else { return false }
            total += a.count
        }
        while let o = nextOld {
            guard push(o) else { return false }
            nextOld = it.next()
        }
        byOffset = SortedChunks(sorted: merged)
        bySize = SortedChunks(sorted: merged.map(SizedRun.init).sorted { $0.key < $1.key })
        freeBlocks += total
        return true
    }

    /// Removes many runs, sorted by start and disjoint, each of which lies
    /// wholly in free space, splitting the free runs that hold them: replay's
    /// ALLOC records, applied in one batch. Returns false (and changes
    /// nothing) when some block is not free, a run is empty, or the runs are
    /// out of order or overlap.
    /// - Complexity: O(r + h log n) to check r runs held by h free runs;
    ///   then a few runs against many free runs go one by one, O(r log n);
    ///   otherwise one `SortedChunks.merge` of each index, which rebuilds
    ///   only the leaves the runs touch: O(p log p + t·L + n/L) for p pieces
    ///   left over and t touched leaves.
    mutating func removeAll(_ runs: [BlockRange]) -> Bool {
        var split: [FreeRun] = []             // the free runs that hold the runs, in order
        var pieces: [FreeRun] = []            // what is left of them, in order
        pieces.reserveCapacity(runs.count + 1)
        var total: UInt64 = 0
        var prevEnd: UInt64 = 0
        var i = 0
        while i < runs.count {
            let r = runs[i]
            guard r.count.raw > 0, i == 0 || r.start.raw >= prevEnd,
                  let fi = byOffset.lastIndex(atOrBefore: r.start.raw) else { return false }
            let f = byOffset[fi]
            var at = f.start
            // Every run that starts inside f must end inside it.
            while i < runs.count && runs[i].start.raw < f.end {
                let s = runs[i]
                guard s.count.raw > 0, s.start.raw >= at, s.end <= f.end else { return false }
                if s.start.raw > at { pieces.append(FreeRun(start: at, count: s.start.raw - at)) }
                at = s.end
                total += s.count.raw
                i += 1
            }
            guard at > f.start else { return false }          // r starts past the end of f: not free
            if at < f.end { pieces.append(FreeRun(start: at, count: f.end - at)) }
            split.append(f)
            prevEnd = at
        }
        if runs.count * 64 < runCount {
            for r in runs {
                let ok = remove(r)
                precondition(ok, "FreeSpace.removeAll: a checked run did not come out")
            }
            return true
        }
        byOffset.merge(removing: split.map(\.start), inserting: pieces)
        var sizedOut = split.map { SizedRun($0).key }
        sizedOut.sort()
        var sizedIn = pieces.map(SizedRun.init)
        // Often sorted already: a batch that splits one large run leaves
        // equal small pieces in order, and the large remainder last.
        if !sizedIn.indices.dropFirst().allSatisfy({ sizedIn[$0 - 1].key < sizedIn[$0].key }) { sizedIn.sort { $0.key < $1.key } }
        bySize.merge(removing: sizedOut, inserting: sizedIn)
        freeBlocks -= total
        return true
    }

    /// Removes a run all of whose blocks are free, splitting the run that
    /// holds it. Returns false (and changes nothing) otherwise.
    @discardableResult
    mutating func remove(_ r: BlockRange) -> Bool {
        guard r.count.raw > 0, let p = position(containing: r.start.raw), r.end <= p.run.end else { return false }
        remove(r, from: p)
        return true
    }

    /// Removes `r` from the free run at `p` (`position(containing:)`, with
    /// nothing changed since), which holds all of it: the allocator's goal
    /// path, which has found the run already. O(log n) plus the
    /// container's move cost (see `SortedChunks`), like `remove(_:)`, with
    /// one search fewer.
    mutating func remove(_ r: BlockRange, from p: Position) {
        let i = p.index, f = p.run
        precondition(r.count.raw > 0 && r.start.raw >= f.start && r.end <= f.end && byOffset[i] == f,
                     "FreeSpace.remove(_:from:) of \(r) outside the free run [\(f.start), +\(f.count))")
        guard let si = bySize.find(SizedRun(f).key) else { preconditionFailure("free-space indexes disagree") }
        let left = FreeRun(start: f.start, count: r.start.raw - f.start)
        let right = FreeRun(start: r.end, count: f.end - r.end)
        // By offset, either part still lies between the run's neighbours, so
        // it replaces the run in place. By size, the larger part takes the
        // run's entry (usually in place: a large run stays near the top) and
        // the smaller one, if any, is inserted.
        switch (left.count > 0, right.count > 0) {
        case (true, true):
            byOffset.replace(at: i, with: left)
            byOffset.insert(right, after: i)
            let (big, small) = left.count >= right.count ? (left, right) : (right, left)
            bySize.update(at: si, to: SizedRun(big))
            bySize.insert(SizedRun(small))
        case (true, false):
            byOffset.replace(at: i, with: left)
            bySize.update(at: si, to: SizedRun(left))
        case (false, true):
            byOffset.replace(at: i, with: right)
            bySize.update(at: si, to: SizedRun(right))
        case (false, false):
            byOffset.remove(at: i)
            bySize.remove(at: si)
        }
        freeBlocks -= r.count.raw
    }

    private mutating func removeSized(_ run: FreeRun) {
        guard let i = bySize.find(SizedRun(run).key) else { preconditionFailure("free-space indexes disagree") }
        bySize.remove(at: i)
    }

    /// The first blocks of `run` that an allocation aligned to `align`
    /// blocks may use: (start, usable count, a multiple of align).
    static func aligned(_ run: FreeRun, align: UInt64) -> (start: UInt64, count: UInt64) {
        let a = (run.start + align - 1) / align * align
        guard a < run.end else { return (a, 0) }
        return (a, (run.end - a) / align * align)
    }

    /// The smallest run whose aligned part holds `need` blocks, looking at
    /// no more than `scan` candidates above the exact size. O(log n + scan).
    func bestFit(need: UInt64, align: UInt64, scan: Int = 32) -> FreeRun? {
        var i = bySize.firstIndex(atOrAfter: SizedRun.Key(count: need, start: 0))
        var looked = 0
        while i < bySize.endIndex && looked < scan {
            let run = bySize[i].run
            if Self.aligned(run, align: align).count >= need { return run }
            i = bySize.index(after: i)
            looked += 1
        }
        return nil
    }

    /// Runs from the largest down whose aligned part is non-empty, at most `limit`.
    func largestAligned(align: UInt64, limit: Int = 64) -> FreeRun? {
        var i = bySize.endIndex
        var looked = 0
        while looked < limit, let p = bySize.index(before: i) {
            let run = bySize[p].run
            if Self.aligned(run, align: align).count > 0 { return run }
            i = p
            looked += 1
        }
        return nil
    }

    /// The first run starting at or after `block` whose aligned part holds
    /// `need` blocks, looking at no more than `scan` runs.
    func firstFit(after block: UInt64, need: UInt64, align: UInt64, scan: Int = 16) -> FreeRun? {
        var i = byOffset.firstIndex(atOrAfter: block)
        var looked = 0
        while i < byOffset.endIndex && looked < scan {
            let run = byOffset[i]
            if Self.aligned(run, align: align).count >= need { return run }
            i = byOffset.index(after: i)
            looked += 1
        }
        return nil
    }
}
