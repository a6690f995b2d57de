import DaxFSFormat

/// One mapped run of a file: file blocks [fileBlock, fileBlock+count) live in
/// region blocks [regionBlock, regionBlock+count). 24 bytes in DRAM.
public struct Extent: Equatable, Sendable, SortedElement, CustomStringConvertible {
    public var fileBlock: UInt64
    public var regionBlock: UInt64
    public var count: UInt64
    public init(fileBlock: UInt64, regionBlock: UInt64, count: UInt64) {
        self.fileBlock = fileBlock; self.regionBlock = regionBlock; self.count = count
    }
    var key: UInt64 { fileBlock }
    public var fileEnd: UInt64 { fileBlock + count }
    public var regionEnd: UInt64 { regionBlock + count }
    public var regionRange: BlockRange { BlockRange(regionBlock, count) }
    public var description: String { "file [\(fileBlock), +\(count)) -> region \(regionBlock)" }
}

/// A file's extent map: disjoint extents sorted by file block, with every
/// pair of extents that is contiguous both in the file and in the region
/// merged into one.
///
/// Not thread-safe: the owning inode's lock guards it (see `Filesystem`).
/// - Complexity: lookup of a file block O(log n); map, unmap and merge
///   O(log n) plus the container's insert cost; shift O(n) in the extents
///   moved. Memory is about 24 bytes per extent.
struct ExtentMap: Sequence {
    private var tree = SortedChunks<Extent>()

    init() {}

    /// Builds from extents sorted by file block, merging contiguous ones.
    /// Returns nil when two extents overlap or are out of order.
    init?(sorted extents: [Extent]) {
        var merged: [Extent] = []
        merged.reserveCapacity(extents.count)
        for e in extents {
            guard e.count > 0 else { return nil }
            if let last = merged.last {
                if e.fileBlock < last.fileEnd { return nil }
                if last.fileEnd == e.fileBlock && last.regionEnd == e.regionBlock {
                    merged[merged.count - 1].count += e.count
                    continue
                }
            }
            merged.append(e)
        }
        tree = SortedChunks(sorted: merged)
    }

    var count: Int { tree.count }
    var isEmpty: Bool { tree.isEmpty }
    var first: Extent? { tree.first }
    var last: Extent? { tree.last }
    func makeIterator() -> SortedChunks<Extent>.Iterator { tree.makeIterator() }

    /// Mapped blocks in total. O(n).
    var mappedBlocks: UInt64 { tree.reduce(0) { $0 + $1.count } }

    /// The extent that maps `block`, if any.
    func extent(containing block: UInt64) -> Extent? {
        guard let i = tree.lastIndex(atOrBefore: block) else { return nil }
        let e = tree[i]
        return block < e.fileEnd ? e : nil
    }

    /// The extent at or before `block` (the one a new neighbour would follow).
    func extent(atOrBefore block: UInt64) -> Extent? {
        tree.lastIndex(atOrBefore: block).map { tree[$0] }
    }

    /// The first extent that starts at or after `block`.
    func extent(atOrAfter block: UInt64) -> Extent? {
        let i = tree.firstIndex(atOrAfter: block)
        return i < tree.endIndex ? tree[i] : nil
    }

    /// The extents overlapping file blocks [start, end), clipped to it, in
    /// order; at most `limit` of them.
    func extents(overlapping start: UInt64, _ end: UInt64, limit: Int = Int.max) -> [Extent] {
        guard start < end else { return [] }
        var out: [Extent] = []
        var i = tree.lastIndex(atOrBefore: start) ?? tree.startIndex
        while i < tree.endIndex && out.count < limit {
            let e = tree[i]
            if e.fileBlock >= end { break }
            if e.fileEnd > start {
                let s = Swift.max(e.fileBlock, start), t = Swift.min(e.fileEnd, end)
                out.append(Extent(fileBlock: s, regionBlock: e.regionBlock + (s - e.fileBlock), count: t - s))
            }
            i = tree.index(after: i)
        }
        return out
    }

    /// Calls `body` with each extent overlapping file blocks [start, end),
    /// clipped to it, in order, without building an array.
    @inline(__always)
    func forEachExtent(overlapping start: UInt64, _ end: UInt64, _ body: (Extent) -> Void) {
        guard start < end else { return }
        var i = tree.lastIndex(atOrBefore: start) ?? tree.startIndex
        while i < tree.endIndex {
            let e = tree[i]
            if e.fileBlock >= end { break }
            if e.fileEnd > start {
                let s = Swift.max(e.fileBlock, start), t = Swift.min(e.fileEnd, end)
                body(Extent(fileBlock: s, regionBlock: e.regionBlock + (s - e.fileBlock), count: t - s))
            }
            i = tree.index(after: i)
        }
    }

    /// The holes (unmapped runs) in file blocks [start, end), in order.
    func holes(in start: UInt64, _ end: UInt64) -> [Range<UInt64>] {
        var out: [Range<UInt64>] = []
        forEachHole(in: start, end) { hole, _ in out.append(hole) }
        return out
    }

    /// Calls `body` with each hole (unmapped run) of file blocks [start,
    /// end), in order, and the extent that ends nearest before the hole
    /// (nil when none does): the one whose blocks a new run in the hole
    /// would best continue. One search, then a walk; builds nothing.
    /// - Complexity: O(log n + extents in the range).
    @inline(__always)
    func forEachHole(in start: UInt64, _ end: UInt64, _ body: (_ hole: Range<UInt64>, _ before: Extent?) throws -> Void) rethrows {
        if let l = tree.last, l.fileEnd <= start {
            // Past the last extent (a file growing at its end): no search.
            if start < end { try body(start..<end, l) }
            return
        }
        var at = start
        var i = tree.lastIndex(atOrBefore: start) ?? tree.startIndex
        var before: Extent?
        while i < tree.endIndex && at < end {
            let e = tree[i]
            if e.fileBlock >= end { break }
            if e.fileEnd > at {
                if e.fileBlock > at { try body(at..<e.fileBlock, before) }
                at = Swift.min(e.fileEnd, end)
            }
            if e.fileEnd <= end { before = e }
            i = tree.index(after: i)
        }
        if at < end { try body(at..<end, before) }
    }

    /// True when no block of [start, start+count) is mapped.
    func isHole(_ start: UInt64, _ count: UInt64) -> Bool {
        let end = start + count
        if let e = extent(atOrBefore: start), e.fileEnd > start { return false }
        if let e = extent(atOrAfter: start), e.fileBlock < end { return false }
        return true
    }

    /// Maps a run that must lie in a hole (checked with `isHole` first),
    /// merging with contiguous neighbours.
    mutating func map(_ new: Extent) {
        assert(new.count > 0 && isHole(new.fileBlock, new.count), "ExtentMap.map over mapped blocks")
        // A file that grows at its end (appends, allocate past the last
        // extent) needs no search.
        if mapAfterLast(new) { return }
        var e = new
        if let pi = tree.lastIndex(atOrBefore: e.fileBlock) {
            let p = tree[pi]
            if p.fileEnd == e.fileBlock && p.regionEnd == e.regionBlock {
                e = Extent(fileBlock: p.fileBlock, regionBlock: p.regionBlock, count: p.count + e.count)
                tree.remove(at: pi)
            }
        }
        let ni = tree.firstIndex(atOrAfter: e.fileEnd)
        if ni < tree.endIndex {
            let n = tree[ni]
            if n.fileBlock == e.fileEnd && n.regionBlock == e.regionEnd {
                e.count += n.count
                tree.remove(at: ni)
            }
        }
        tree.insert(e)
    }

    /// Maps `new` when it starts at or after the end of the last extent, as
    /// `map` would (merging with the last extent when contiguous), without a
    /// search: O(1) amortized. Replay of a file written front to back takes
    /// this path. Returns false, changing nothing, when some extent ends
    /// after `new.fileBlock`; `map` applies then.
    mutating func mapAfterLast(_ new: Extent) -> Bool {
        guard let li = tree.index(before: tree.endIndex) else {
            tree.append(new)
            return true
        }
        let l = tree[li]
        guard l.fileEnd <= new.fileBlock else { return false }
        if l.fileEnd == new.fileBlock && l.regionEnd == new.regionBlock {
            tree.replace(at: li, with: Extent(fileBlock: l.fileBlock, regionBlock: l.regionBlock, count: l.count + new.count))
        } else {
            tree.append(new)
        }
        return true
    }

    /// Maps `run`, extents sorted by file block that lie in one hole of
    /// the map, merging contiguous ones among them and with the neighbours
    /// at both edges. O(k + L + n/L) for k extents: one `insertRun`.
    mutating func mapRun(_ run: [Extent]) {
        guard var first = run.first else { return }
        var merged: [Extent] = []
        merged.reserveCapacity(run.count)
        if let pi = tree.lastIndex(atOrBefore: first.fileBlock) {
            let p = tree[pi]
            precondition(p.fileEnd <= first.fileBlock, "ExtentMap.mapRun over mapped blocks")
            if p.fileEnd == first.fileBlock && p.regionEnd == first.regionBlock {
                first = Extent(fileBlock: p.fileBlock, regionBlock: p.regionBlock, count: p.count + first.count)
                tree.remove(at: pi)
            }
        }
        merged.append(first)
        for e in run.dropFirst() {
            let l = merged[merged.count - 1]
            precondition(l.fileEnd <= e.fileBlock, "ExtentMap.mapRun needs sorted, disjoint extents")
            if l.fileEnd == e.fileBlock && l.regionEnd == e.regionBlock { merged[merged.count - 1].count += e.count }
            else { merged.append(e) }
        }
        let ni = tree.firstIndex(atOrAfter: merged[merged.count - 1].fileBlock)
        if ni < tree.endIndex {
            let n = tree[ni], l = merged[merged.count - 1]
            precondition(n.fileBlock >= l.fileEnd, "ExtentMap.mapRun over mapped blocks")
            if n.fileBlock == l.fileEnd && n.regionBlock == l.regionEnd {
                merged[merged.count - 1].count += n.count
                tree.remove(at: ni)
            }
        }
        tree.insertRun(merged)
    }

    /// Exchanges the mappings of [start1, start1+count) of `a` and
    /// [start2, start2+count) of `b` (which may be the same map, with
    /// disjoint ranges): EXTENT_SWAP. O(k + L + n/L) for k extents moved.
    ///
    /// When both ranges start at block 0 and hold every extent of their
    /// maps, the maps themselves are exchanged: O(1), the same result (both
    /// maps are already merged), as XFS swaps inode forks.
    static func exchange(_ a: inout ExtentMap, _ start1: UInt64, _ b: inout ExtentMap, _ start2: UInt64, count: UInt64) {
        if exchangesWholeMaps(a, start1, b, start2, count: count) {
            swap(&a, &b)
            return
        }
        let e1 = a.extents(overlapping: start1, start1 + count), e2 = b.extents(overlapping: start2, start2 + count)
        if !e1.isEmpty { a.unmap(start1, count) }
        if !e2.isEmpty { b.unmap(start2, count) }
        a.mapRun(e2.map { Extent(fileBlock: $0.fileBlock - start2 + start1, regionBlock: $0.regionBlock, count: $0.count) })
        b.mapRun(e1.map { Extent(fileBlock: $0.fileBlock - start1 + start2, regionBlock: $0.regionBlock, count: $0.count) })
    }

    /// True when exchanging [start1, start1+count) of `a` with
    /// [start2, start2+count) of `b` moves every extent of both: both ranges
    /// start at block 0 and no extent reaches `count`. O(1).
    static func exchangesWholeMaps(_ a: ExtentMap, _ start1: UInt64, _ b: ExtentMap, _ start2: UInt64, count: UInt64) -> Bool {
        start1 == 0 && start2 == 0 && (a.last?.fileEnd ?? 0) <= count && (b.last?.fileEnd ?? 0) <= count
    }

    /// Exchanges two disjoint ranges of one map (see the other `exchange`).
    mutating func exchange(_ start1: UInt64, _ start2: UInt64, count: UInt64) {
        let e1 = extents(overlapping: start1, start1 + count), e2 = extents(overlapping: start2, start2 + count)
        if !e1.isEmpty { unmap(start1, count) }
        if !e2.isEmpty { unmap(start2, count) }
        mapRun(e2.map { Extent(fileBlock: $0.fileBlock - start2 + start1, regionBlock: $0.regionBlock, count: $0.count) })
        mapRun(e1.map { Extent(fileBlock: $0.fileBlock - start1 + start2, regionBlock: $0.regionBlock, count: $0.count) })
    }

    /// Unmaps file blocks [start, start+count), splitting extents at the
    /// edges. Returns the region runs that were mapped there, in file order.
    /// O(log n + k + L + n/L) for k extents in the range: the extents in
    /// between go in one `removeSubrange`.
    @discardableResult
    mutating func unmap(_ start: UInt64, _ count: UInt64) -> [BlockRange] {
        let end = start + count
        var removed: [BlockRange] = []
        var i = tree.lastIndex(atOrBefore: start) ?? tree.startIndex
        if i < tree.endIndex && tree[i].fileEnd <= start { i = tree.index(after: i) }
        var j = i
        var left: Extent?, right: Extent?
        while j < tree.endIndex {
            let e = tree[j]
            if e.fileBlock >= end { break }
            let s = Swift.max(e.fileBlock, start), t = Swift.min(e.fileEnd, end)
            removed.append(BlockRange(e.regionBlock + (s - e.fileBlock), t - s))
            if e.fileBlock < s { left = Extent(fileBlock: e.fileBlock, regionBlock: e.regionBlock, count: s - e.fileBlock) }
            if t < e.fileEnd { right = Extent(fileBlock: t, regionBlock: e.regionBlock + (t - e.fileBlock), count: e.fileEnd - t) }
            j = tree.index(after: j)
        }
        tree.removeSubrange(i, j)
        if let l = left { tree.insert(l) }
        if let r = right { tree.insert(r) }
        return removed
    }

    /// Moves every mapped block at file block ≥ `from` by `delta` blocks,
    /// splitting an extent that straddles `from` (possible only when
    /// delta > 0: a collapse needs a hole below `from`), and merges the seam.
    /// The caller has checked `canShift`.
    mutating func shift(from: UInt64, by delta: Int64) {
        precondition(canShift(from: from, by: delta), "ExtentMap.shift would collide")
        if let e = extent(containing: from), e.fileBlock < from {
            unmap(from, e.fileEnd - from)
            tree.insert(Extent(fileBlock: from, regionBlock: e.regionBlock + (from - e.fileBlock), count: e.fileEnd - from))
        }
        let i = tree.firstIndex(atOrAfter: from)
        guard i < tree.endIndex else { return }
        tree.transformSuffix(from: i) { e in
            e.fileBlock = delta < 0 ? e.fileBlock - UInt64(-delta) : e.fileBlock + UInt64(delta)
        }
        // Merge the seam, where the first moved extent now meets its predecessor.
        let first = tree.firstIndex(atOrAfter: delta < 0 ? from - UInt64(-delta) : from + UInt64(delta))
        if first < tree.endIndex, let pi = tree.index(before: first) {
            let p = tree[pi], n = tree[first]
            if p.fileEnd == n.fileBlock && p.regionEnd == n.regionBlock {
                tree.remove(at: first)
                tree.replace(at: pi, with: Extent(fileBlock: p.fileBlock, regionBlock: p.regionBlock, count: p.count + n.count))
            }
        }
    }

    /// Whether `shift(from:by:)` is valid: a collapse (delta < 0) needs
    /// [from+delta, from) to be a hole, and no block may move below 0 or
    /// past `limit` blocks.
    func canShift(from: UInt64, by delta: Int64, limit: UInt64 = UInt64.max) -> Bool {
        if delta == 0 || delta == Int64.min { return false }
        if delta < 0 {
            let d = UInt64(-delta)
            if d > from || !isHole(from - d, d) { return false }
        } else if let l = last, l.fileEnd > from {
            let (end, o) = l.fileEnd.addingReportingOverflow(UInt64(delta))
            if o || end > limit { return false }
        }
        return true
    }
}
