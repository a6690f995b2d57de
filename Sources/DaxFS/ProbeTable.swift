/// An entry of a `ProbeTable`: it carries its own key and a well-mixed
/// 64-bit hash of it (the table takes the home slot from the top bits).
protocol ProbeEntry {
    var hash: UInt64 { get }
    func sameKey(as other: Self) -> Bool
}

/// Fibonacci hashing: spreads a key over all 64 bits, the top ones best.
@inline(__always) func probeMix(_ x: UInt64) -> UInt64 { x &* 0x9E37_79B9_7F4A_7C15 }

/// An open-addressing hash table: linear probing, a power-of-two capacity
/// at most 3/4 full, deletion by backward shift (no tombstones). It backs
/// the inode table and directory indexes.
///
/// The home slot of an entry is the top bits of its hash, so slots are in
/// hash order: a resize, and `insertAll` (which inserts a batch in
/// home-slot order), sweep the table once instead of writing it at random.
/// That is what makes loading 100,000 inodes at mount cheap: random writes
/// into a table of megabytes cost a cache miss each. Probing reads a
/// compact array of 32-bit tags first and touches an entry only on a tag
/// match. Not thread-safe; the owner's lock guards it.
/// - Complexity: find, insert and remove O(1) expected; `insertAll` O(n).
struct ProbeTable<E: ProbeEntry> {
    /// 0: empty; else a tag of the entry's hash (never 0).
    private var tags: [UInt32] = []
    private var entries: [E?] = []
    private(set) var count = 0
    /// log2 of the capacity (0 when nothing is allocated).
    private var bits = 0

    init() {}

    var isEmpty: Bool { count == 0 }
    var capacity: Int { tags.count }

    @inline(__always) private static func tag(_ h: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: h ^ (h >> 32)) | 1 }
    @inline(__always) private func home(_ h: UInt64) -> Int { bits == 0 ? 0 : Int(truncatingIfNeeded: h >> UInt64(64 - bits)) }

    /// The slot of the entry with hash `h` for which `matches` is true, or nil.
    @inline(__always) func find(hash h: UInt64, _ matches: (borrowing E) -> Bool) -> Int? {
        guard count > 0 else { return nil }
        let mask = tags.count - 1
        let t = Self.tag(h)
        var i = home(h)
        while true {
            let s = tags[i]
            if s == 0 { return nil }
            if s == t && matches(entries[i]!) { return i }
            i = (i + 1) & mask
        }
    }

    /// Runs `body` over the slots (nil where empty), in slot order, without
    /// copying the entries.
    func withSlots<R>(_ body: (UnsafeBufferPointer<E?>) throws -> R) rethrows -> R {
        try entries.withUnsafeBufferPointer(body)
    }

    /// The entry in slot `i` (from `find`).
    subscript(slot i: Int) -> E {
        get { entries[i]! }
        _modify { yield &entries[i]! }
    }

    /// Room for `n` entries without a resize.
    mutating func reserveCapacity(_ n: Int) {
        var b = Swift.max(bits, 3)
        while n > (1 << b) / 4 * 3 { b += 1 }
        if b != bits { resize(bits: b) }
    }

    /// Inserts `e`, whose key is not in the table (the caller has looked).
    mutating func insertNew(_ e: consuming E) {
        if (count + 1) > capacity / 4 * 3 { resize(bits: Swift.max(3, bits + 1)) }
        let h = e.hash
        place(consume e, hash: h)
    }

    @inline(__always) private mutating func place(_ e: consuming E, hash h: UInt64) {
        let mask = tags.count - 1
        var i = home(h)
        while tags[i] != 0 { i = (i + 1) & mask }
        tags[i] = Self.tag(h)
        entries[i] = consume e                  // moved: a copy would retain a cold object
        count += 1
    }

    private mutating func resize(bits b: Int) {
        var oldEntries: [E?] = []
        swap(&oldEntries, &entries)             // usually unique (else the buffer access copies it once), so entries move out
        tags = [UInt32](repeating: 0, count: 1 << b)
        entries = [E?](repeating: nil, count: 1 << b)
        bits = b
        count = 0
        // Old slots are in home order, so this fills the new table front to
        // back. Each entry is moved, not copied: no reference count changes.
        oldEntries.withUnsafeMutableBufferPointer { old in
            for i in old.indices {
                if let e = (old.baseAddress! + i).move() {
                    let h = e.hash
                    place(consume e, hash: h)
                }
                (old.baseAddress! + i).initialize(to: nil)
            }
        }
    }

    /// Removes the entry in slot `i` and shifts later entries of its run
    /// back, so that every entry stays reachable from its home slot.
    mutating func remove(at slot: Int) {
        let mask = tags.count - 1
        var hole = slot
        var j = slot
        while true {
            j = (j + 1) & mask
            if tags[j] == 0 { break }
            let k = home(entries[j]!.hash)
            // The entry at j may move to the hole unless its home lies cyclically in (hole, j].
            let stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j)
            if !stays {
                tags[hole] = tags[j]
                entries.swapAt(hole, j)
                hole = j
            }
        }
        tags[hole] = 0
        entries[hole] = nil
        count -= 1
    }

    /// Fills an empty table with `n` entries: `make(i)` is called for i =
    /// 0, 1, ... n-1 in order (so a caller that makes entries from objects
    /// in memory order reads them front to back), and `hash(i)` must be the
    /// hash of `make(i)`, computed without making it (from a compact array:
    /// it is called twice for each i, in a counting pass before any entry
    /// is made and again just before `make(i)`). One
    /// counting-sort pass groups the entries by the top 6 bits of their home
    /// slot: the hashes are counted first, so that each entry is made
    /// straight into its place among 64 sequential streams (whose open cache
    /// lines fit in L1; 1,024 streams thrashed it), with no other buffer in
    /// between. The table is then written front to back, one window of 1/64
    /// of it per group: the window is cleared just before its group goes in,
    /// so the probes stay in cache and each slot is written from cold memory
    /// once (not cleared by a resize first and probed at random later). An
    /// entry whose key is already in the table is found by the probe that
    /// would place it (same key, same hash, same home). Returns the first two
    /// entries found with the same key; the table is then left empty. A
    /// `hash` that disagrees with `make` costs speed (probes out of window
    /// order), never correctness.
    /// Inlined into its callers, so that `hash` and `make` are too (called
    /// through closure contexts they cost a tenth of the build).
    /// - Complexity: O(n + capacity).
    @inline(__always)
    mutating func build(count n: Int, hash: (Int) -> UInt64, make: (Int) -> E) -> (E, E)? {
        precondition(count == 0, "ProbeTable.build needs an empty table")
        var bits = Swift.max(self.bits, 3)
        while n > (1 << bits) / 4 * 3 { bits += 1 }
        guard n > 0 else {
            reserveCapacity(0)
            return nil
        }
        let b = UnsafeMutablePointer<E>.allocate(capacity: n)
        defer { b.deallocate() }
        // Group by the top `d` bits of the hash (the top bits of the home).
        let d = Swift.min(bits, 6)
        let shift = UInt64(64 - d)
        let start = UnsafeMutablePointer<Int>.allocate(capacity: (1 << d) + 1)
        defer { start.deallocate() }
        start.initialize(repeating: 0, count: (1 << d) + 1)
        @inline(__always) func group(_ h: UInt64) -> Int { Int(truncatingIfNeeded: h >> shift) }
        for i in 0..<n { start[group(hash(i)) + 1] += 1 }
        for g in 0..<(1 << d) { start[g + 1] += start[g] }
        for i in 0..<n {
            let g = group(hash(i))
            let to = start[g]
            start[g] = to + 1
            (b + to).initialize(to: make(i))
            assert(group(b[to].hash) == g, "ProbeTable.build: hash(i) is not make(i).hash")
        }
        // Insert in group order (b), each probe from the entry's home: in
        // the current window, or just past it where the group runs over,
        // or (the last group only) wrapped round to the front. Slots below
        // `ready` are initialised; every slot a probe reaches is.
        let capacity = 1 << bits
        let mask = capacity - 1
        let homeShift = UInt64(64 - bits)
        let windowShift = bits - d
        var found: (slot: Int, at: Int)? = nil
        var newEntries: [E?] = []
        let newTags = [UInt32](unsafeUninitializedCapacity: capacity) { tags, tagsCount in
            newEntries = [E?](unsafeUninitializedCapacity: capacity) { slots, slotsCount in
                var ready = 0
                @inline(__always) func clear(upTo end: Int) {
                    while ready < end {
                        tags[ready] = 0
                        (slots.baseAddress! + ready).initialize(to: nil)
                        ready += 1
                    }
                }
                var g = -1
                for k in 0..<n {
                    let h = b[k].hash
                    if group(h) != g {
                        g = group(h)
                        clear(upTo: (g + 1) << windowShift)
                    }
                    let t = Self.tag(h)
                    var i = Int(truncatingIfNeeded: h >> homeShift)
                    while true {
                        if i >= ready { clear(upTo: i + 1) }
                        if tags[i] == 0 { break }
                        if tags[i] == t && slots[i]!.sameKey(as: b[k]) {
                            found = (i, k)
                            break
                        }
                        i = (i + 1) & mask
                    }
                    if found != nil { break }
                    tags[i] = t
                    slots[i] = (b + k).move()
                }
                clear(upTo: capacity)
                slotsCount = capacity
            }
            tagsCount = capacity
        }
        tags = newTags
        entries = newEntries
        self.bits = bits
        guard let (slot, k) = found else {
            count = n
            return nil
        }
        let pair = (entries[slot]!, b[k])
        (b + k).deinitialize(count: n - k)
        self = ProbeTable()
        return pair
    }
}

extension ProbeTable: Sequence {
    struct Iterator: IteratorProtocol {
        fileprivate let entries: [E?]
        fileprivate var i = 0
        mutating func next() -> E? {
            while i < entries.count {
                defer { i += 1 }
                if let e = entries[i] { return e }
            }
            return nil
        }
    }
    func makeIterator() -> Iterator { Iterator(entries: entries) }
    var underestimatedCount: Int { count }
}
