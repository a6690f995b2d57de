/// An element kept in key order by `SortedChunks`. Keys are unique.
protocol SortedElement {
    associatedtype Key: Comparable
    var key: Key { get }
}

/// A sorted sequence of unique-keyed elements stored as a list of sorted
/// leaves of at most `leafCapacity` elements: a two-level B+ tree. It backs
/// extent maps and the free-space map.
///
/// - Complexity: lookups are O(log n) (a binary search over leaf first keys,
///   then one inside a leaf); insert and remove are O(log n + L + n/L) with
///   L = 256 (`leafCapacity`), which is a few thousand element moves at n = 10^6; in-order
///   iteration is O(1) per step. Memory is the elements plus one key per leaf.
struct SortedChunks<E: SortedElement>: Sequence {
    static var leafCapacity: Int { 256 }

    struct Index: Comparable {
        var leaf: Int
        var slot: Int
        static func < (a: Index, b: Index) -> Bool { (a.leaf, a.slot) < (b.leaf, b.slot) }
    }

    private var leaves: [[E]] = []
    /// The first key of each leaf, for the binary search over leaves.
    private var firstKeys: [E.Key] = []
    private(set) var count = 0

    init() {}

    /// Builds from elements already sorted by strictly increasing key. O(n).
    init<S: Sequence>(sorted elements: S) where S.Element == E {
        var leaf: [E] = []
        for e in elements {
            if let last = leaf.last { precondition(last.key < e.key, "SortedChunks(sorted:) needs increasing keys") }
            else if let lastLeaf = leaves.last, let l = lastLeaf.last { precondition(l.key < e.key, "SortedChunks(sorted:) needs increasing keys") }
            leaf.append(e)
            if leaf.count == Self.leafCapacity * 3 / 4 { appendLeaf(&leaf) }
        }
        if !leaf.isEmpty { appendLeaf(&leaf) }
    }

    private mutating func appendLeaf(_ leaf: inout [E]) {
        firstKeys.append(leaf[0].key)
        count += leaf.count
        leaves.append(leaf)
        leaf = []
    }

    var isEmpty: Bool { count == 0 }
    var startIndex: Index { Index(leaf: 0, slot: 0) }
    var endIndex: Index { Index(leaf: leaves.count, slot: 0) }
    var first: E? { leaves.first?.first }
    var last: E? { leaves.last?.last }

    subscript(i: Index) -> E { leaves[i.leaf][i.slot] }

    func index(after i: Index) -> Index {
        i.slot + 1 < leaves[i.leaf].count ? Index(leaf: i.leaf, slot: i.slot + 1) : Index(leaf: i.leaf + 1, slot: 0)
    }

    func index(before i: Index) -> Index? {
        if i.slot > 0 { return Index(leaf: i.leaf, slot: i.slot - 1) }
        if i.leaf == 0 { return nil }
        return Index(leaf: i.leaf - 1, slot: leaves[i.leaf - 1].count - 1)
    }

    /// The leaf that holds `key` if anything does: the last leaf whose first key is ≤ key, or leaf 0.
    private func leafFor(_ key: E.Key) -> Int {
        var lo = 0, hi = firstKeys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if firstKeys[mid] <= key { lo = mid + 1 } else { hi = mid }
        }
        return Swift.max(0, lo - 1)
    }

    private static func lowerBound(_ leaf: [E], _ key: E.Key) -> Int {
        leaf.withUnsafeBufferPointer { lowerBound($0, key) }
    }

    private static func lowerBound(_ leaf: UnsafeBufferPointer<E>, _ key: E.Key) -> Int {
        var lo = 0, hi = leaf.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if leaf[mid].key < key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// `lowerBound` in leaf `l`, read in place (no retain of the leaf).
    private func lowerBound(inLeaf l: Int, _ key: E.Key) -> Int {
        leaves[l].withUnsafeBufferPointer { Self.lowerBound($0, key) }
    }

    /// The first element whose key is ≥ `key`, or `endIndex`. O(log n).
    func firstIndex(atOrAfter key: E.Key) -> Index {
        guard !leaves.isEmpty else { return endIndex }
        let l = leafFor(key)
        let s = lowerBound(inLeaf: l, key)
        return s < leaves[l].count ? Index(leaf: l, slot: s) : Index(leaf: l + 1, slot: 0)
    }

    /// The last element whose key is ≤ `key`, or nil. O(log n); O(1) when
    /// that is the last element (a goal in the free-space map's last run,
    /// which holds the untouched end of the data area).
    func lastIndex(atOrBefore key: E.Key) -> Index? {
        guard let lastLeaf = leaves.last else { return nil }
        if let l = lastLeaf.last, l.key <= key { return Index(leaf: leaves.count - 1, slot: lastLeaf.count - 1) }
        let l = leafFor(key)
        let hit = leaves[l].withUnsafeBufferPointer { leaf -> (Int, Bool) in   // in place: no retain of the leaf
            let s = Self.lowerBound(leaf, key)
            return (s, s < leaf.count && leaf[s].key == key)
        }
        if hit.1 { return Index(leaf: l, slot: hit.0) }
        return index(before: Index(leaf: l, slot: hit.0))
    }

    /// The element with exactly `key`, if any. O(log n); O(1) for the last
    /// key (the free-space map's largest run, which most splits take from).
    func find(_ key: E.Key) -> Index? {
        if let leaf = leaves.last, let l = leaf.last, l.key <= key {
            return l.key == key ? Index(leaf: leaves.count - 1, slot: leaf.count - 1) : nil
        }
        let i = firstIndex(atOrAfter: key)
        return i < endIndex && self[i].key == key ? i : nil
    }

    /// Inserts an element whose key is not present. Returns its index.
    /// O(log n + L); no search when the key sorts above the last element, or
    /// between the last two of a last leaf that holds two or more (the
    /// free-space map's by-size index, where a split puts its small piece
    /// just below the largest run).
    @discardableResult
    mutating func insert(_ e: E) -> Index {
        count += 1
        if leaves.isEmpty {
            leaves.append([e])
            firstKeys.append(e.key)
            return Index(leaf: 0, slot: 0)
        }
        let (l, s) = placeFor(e.key)
        precondition(s == leaves[l].count || leaves[l][s].key != e.key, "SortedChunks.insert: duplicate key")
        insertInLeaf(e, leaf: l, slot: s)
        if s == 0 { firstKeys[l] = e.key }
        return splitIfFull(leaf: l, slot: s)
    }

    /// Where `key` goes: its leaf and slot (for a key that is present, the
    /// slot of that element, which `insert`'s precondition refuses). O(log
    /// n); O(1) above the second-to-last element of the last leaf.
    @inline(__always)
    private func placeFor(_ key: E.Key) -> (Int, Int) {
        let last = leaves.count - 1
        if firstKeys[last] < key {
            let n = leaves[last].count
            let tail = leaves[last].withUnsafeBufferPointer { b -> Int? in
                guard n >= 1 else { return nil }
                if b[n - 1].key < key { return n }
                if n >= 2 && b[n - 2].key < key { return n - 1 }
                return nil
            }
            if let t = tail { return (last, t) }
        }
        let l = leafFor(key)
        return (l, lowerBound(inLeaf: l, key))
    }

    /// Inserts `e` just after the element at `i`: its key must lie between
    /// that element's key and the next one's. No search: O(L), plus a leaf
    /// split when the leaf is full. Returns its index.
    @discardableResult
    mutating func insert(_ e: E, after i: Index) -> Index {
        precondition(self[i].key < e.key, "SortedChunks.insert(_:after:) breaks the order")
        let n = index(after: i)
        if n < endIndex { precondition(e.key < self[n].key, "SortedChunks.insert(_:after:) breaks the order") }
        count += 1
        let l = i.leaf, s = i.slot + 1
        insertInLeaf(e, leaf: l, slot: s)
        return splitIfFull(leaf: l, slot: s)
    }

    /// Puts `e` at `slot` of leaf `l`, moving the rest of the leaf up one:
    /// an append and a shift in place. `Array.insert(_:at:)` goes through
    /// the generic `replaceSubrange`, several times the cost for one element.
    @inline(__always)
    private mutating func insertInLeaf(_ e: E, leaf l: Int, slot s: Int) {
        leaves[l].append(e)
        leaves[l].withUnsafeMutableBufferPointer { b in
            var k = b.count - 1
            while k > s { b[k] = b[k - 1]; k -= 1 }
            b[s] = e
        }
    }

    /// After an insert at `slot` of leaf `l`: splits the leaf in two when it
    /// passed `leafCapacity`. Returns where the inserted element is now.
    private mutating func splitIfFull(leaf l: Int, slot s: Int) -> Index {
        guard leaves[l].count > Self.leafCapacity else { return Index(leaf: l, slot: s) }
        let half = leaves[l].count / 2
        let right = Array(leaves[l][half...])
        leaves[l].removeSubrange(half...)
        leaves.insert(right, at: l + 1)
        firstKeys.insert(right[0].key, at: l + 1)
        return s < half ? Index(leaf: l, slot: s) : Index(leaf: l + 1, slot: s - half)
    }

    /// Inserts `run`, whose keys increase strictly and all fall in one gap
    /// of the sequence (no present key lies between the first and the last
    /// of the run). O(L + k + leaves) for k elements: the leaf at the gap
    /// is split and the run goes in as whole leaves, never one element at
    /// a time.
    mutating func insertRun(_ run: [E]) {
        guard run.count > 1 else { if let e = run.first { insert(e) }; return }
        for i in 1..<run.count { precondition(run[i - 1].key < run[i].key, "SortedChunks.insertRun needs increasing keys") }
        let first = run[0].key, last = run[run.count - 1].key
        let l = leaves.isEmpty ? 0 : leafFor(first)
        let leaf = leaves.isEmpty ? [] : leaves[l]
        let s = Self.lowerBound(leaf, first)
        precondition(s == 0 || leaf[s - 1].key < first, "SortedChunks.insertRun: a key is present")
        precondition(s == leaf.count ? (l + 1 >= firstKeys.count || last < firstKeys[l + 1]) : last < leaf[s].key,
                     "SortedChunks.insertRun: the run does not fit one gap")
        var combined = Array(leaf[..<s])
        combined.reserveCapacity(leaf.count + run.count)
        combined.append(contentsOf: run)
        combined.append(contentsOf: leaf[s...])
        let per = Self.leafCapacity * 3 / 4
        var newLeaves: [[E]] = []
        var at = 0
        while at < combined.count {
            let n = combined.count - at <= Self.leafCapacity ? combined.count - at : per
            newLeaves.append(Array(combined[at..<(at + n)]))
            at += n
        }
        count += run.count
        if leaves.isEmpty {
            leaves = newLeaves
            firstKeys = newLeaves.map { $0[0].key }
        } else {
            leaves.replaceSubrange(l...l, with: newLeaves)
            firstKeys.replaceSubrange(l...l, with: newLeaves.map { $0[0].key })
        }
    }

    /// Removes and returns the element at `i`.
    @discardableResult
    mutating func remove(at i: Index) -> E {
        count -= 1
        let e = leaves[i.leaf].remove(at: i.slot)
        if leaves[i.leaf].isEmpty {
            leaves.remove(at: i.leaf)
            firstKeys.remove(at: i.leaf)
        } else if i.slot == 0 {
            firstKeys[i.leaf] = leaves[i.leaf][0].key
        }
        return e
    }

    /// Removes the elements of [i, j). O(L + leaves): whole leaves in
    /// between go at once, the two edge leaves are trimmed.
    mutating func removeSubrange(_ i: Index, _ j: Index) {
        guard i < j else { return }
        if i.leaf == j.leaf {
            count -= j.slot - i.slot
            leaves[i.leaf].removeSubrange(i.slot..<j.slot)
        } else {
            count -= leaves[i.leaf].count - i.slot
            leaves[i.leaf].removeSubrange(i.slot...)
            for l in (i.leaf + 1)..<j.leaf { count -= leaves[l].count }
            if j.leaf < leaves.count {
                count -= j.slot
                leaves[j.leaf].removeSubrange(0..<j.slot)
                if !leaves[j.leaf].isEmpty { firstKeys[j.leaf] = leaves[j.leaf][0].key }
            }
            if j.leaf > i.leaf + 1 {
                leaves.removeSubrange((i.leaf + 1)..<j.leaf)
                firstKeys.removeSubrange((i.leaf + 1)..<j.leaf)
            }
        }
        // Drop the edge leaves that emptied (at most two, adjacent now).
        for l in [i.leaf + 1, i.leaf] where l < leaves.count && leaves[l].isEmpty {
            leaves.remove(at: l)
            firstKeys.remove(at: l)
        }
        if i.leaf < leaves.count, !leaves[i.leaf].isEmpty { firstKeys[i.leaf] = leaves[i.leaf][0].key }
    }

    /// Replaces the element at `i`. The new key must keep the order
    /// (strictly between the neighbours' keys).
    mutating func replace(at i: Index, with e: E) {
        if let p = index(before: i) { precondition(self[p].key < e.key, "SortedChunks.replace breaks the order") }
        let n = index(after: i)
        if n < endIndex { precondition(e.key < self[n].key, "SortedChunks.replace breaks the order") }
        leaves[i.leaf][i.slot] = e
        if i.slot == 0 { firstKeys[i.leaf] = e.key }
    }

    /// Changes the element at `i` to `e`, whose key may differ: in place when
    /// `e` still sorts between the neighbours (no element moves), else by a
    /// remove and an insert. O(log n); O(1) in the in-place case.
    mutating func update(at i: Index, to e: E) {
        let p = index(before: i), n = index(after: i)
        if (p.map { self[$0].key < e.key } ?? true) && (n == endIndex || e.key < self[n].key) {
            leaves[i.leaf][i.slot] = e
            if i.slot == 0 { firstKeys[i.leaf] = e.key }
        } else {
            remove(at: i)
            insert(e)
        }
    }

    /// Applies `transform` to every element from `i` to the end. The
    /// transform must preserve the relative order of keys and keep the
    /// first transformed key above the key before `i`. O(n − i).
    mutating func transformSuffix(from i: Index, _ transform: (inout E) -> Void) {
        guard i < endIndex else { return }
        for l in i.leaf..<leaves.count {
            let start = l == i.leaf ? i.slot : 0
            for s in start..<leaves[l].count { transform(&leaves[l][s]) }
            firstKeys[l] = leaves[l][0].key
        }
        if let p = index(before: i) { precondition(self[p].key < self[i].key, "SortedChunks.transformSuffix breaks the order") }
    }

    /// Appends `e`, whose key is above every key present: at the end of
    /// the last leaf, or in a new leaf when that one is full. O(1)
    /// amortized; no search. Replay maps a file written front to back this way.
    mutating func append(_ e: E) {
        if let l = leaves.last?.last { precondition(l.key < e.key, "SortedChunks.append needs a key above the last") }
        count += 1
        if leaves.isEmpty || leaves[leaves.count - 1].count >= Self.leafCapacity {
            leaves.append([e])
            firstKeys.append(e.key)
        } else {
            leaves[leaves.count - 1].append(e)
        }
    }

    /// Removes the elements whose keys are `removing` (increasing, each
    /// present) and inserts `inserting` (strictly increasing keys, none
    /// present once the removals are done), in one pass over the leaves
    /// from the first to the last they fall in, rebuilding only those they
    /// fall in; every other leaf is kept as it is (a reference, not a copy).
    /// A key is removed before the insertions, so an element may be replaced
    /// by one with the same key.
    /// - Complexity: O(r + i + t·L + s + log n + leaves) for r removals, i
    ///   insertions, t touched leaves and s leaves between them; the last
    ///   term is one move of the leaf list (no reference counting).
    mutating func merge(removing: [E.Key], inserting: [E]) {
        for k in removing.indices.dropFirst() { precondition(removing[k - 1] < removing[k], "SortedChunks.merge needs increasing keys") }
        for k in inserting.indices.dropFirst() { precondition(inserting[k - 1].key < inserting[k].key, "SortedChunks.merge needs increasing keys") }
        if leaves.isEmpty {
            precondition(removing.isEmpty, "SortedChunks.merge: a key to remove is missing")
            self = SortedChunks(sorted: inserting)
            return
        }
        guard let low = [removing.first, inserting.first?.key].compactMap({ $0 }).min(),
              let high = [removing.last, inserting.last?.key].compactMap({ $0 }).max() else { return }
        // Every key lies in leaves first...last: leafFor(low) is leaf 0 for
        // a key below every leaf, and no key is above high.
        let first = leafFor(low), last = leafFor(high)
        let per = Self.leafCapacity * 3 / 4
        var newLeaves: [[E]] = []
        newLeaves.reserveCapacity(last - first + 1 + inserting.count / per + 1)
        var ri = 0, ii = 0
        for l in first...last {
            // Leaf l holds the keys below the next leaf's first key (leaf 0
            // also those below its own first key, the last leaf all above).
            let lastLeaf = l + 1 == leaves.count
            var rEnd = ri, iEnd = ii
            while rEnd < removing.count && (lastLeaf || removing[rEnd] < firstKeys[l + 1]) { rEnd += 1 }
            while iEnd < inserting.count && (lastLeaf || inserting[iEnd].key < firstKeys[l + 1]) { iEnd += 1 }
            if rEnd == ri && iEnd == ii {
                newLeaves.append(leaves[l])
                continue
            }
            var combined: [E] = []
            combined.reserveCapacity(leaves[l].count + (iEnd - ii))
            func push(_ e: E) {
                if let p = combined.last { precondition(p.key < e.key, "SortedChunks.merge: keys out of order or present twice") }
                combined.append(e)
            }
            for e in leaves[l] {
                if ri < rEnd && removing[ri] == e.key { ri += 1; continue }
                precondition(ri == rEnd || e.key < removing[ri], "SortedChunks.merge: a key to remove is missing")
                while ii < iEnd && inserting[ii].key < e.key { push(inserting[ii]); ii += 1 }
                push(e)
            }
            precondition(ri == rEnd, "SortedChunks.merge: a key to remove is missing")
            while ii < iEnd { push(inserting[ii]); ii += 1 }
            var at = 0
            while at < combined.count {
                let n = combined.count - at <= Self.leafCapacity ? combined.count - at : per
                newLeaves.append(Array(combined[at..<(at + n)]))
                at += n
            }
        }
        count += inserting.count - removing.count
        leaves.replaceSubrange(first...last, with: newLeaves)
        firstKeys.replaceSubrange(first...last, with: newLeaves.map { $0[0].key })
    }

    struct Iterator: IteratorProtocol {
        let chunks: SortedChunks
        var i: Index
        mutating func next() -> E? {
            guard i < chunks.endIndex else { return nil }
            defer { i = chunks.index(after: i) }
            return chunks[i]
        }
    }

    func makeIterator() -> Iterator { Iterator(chunks: self, i: startIndex) }
}
