import DaxFSFormat

/// The allocator's reserved runs (handed out, ALLOC record not committed
/// yet), keyed by first block: an open-addressing hash table with linear
/// probing and backward-shift deletion, plus the running total of their
/// blocks.
///
/// It replaces a `Dictionary`, whose seeded SipHash cost more than the rest
/// of a reservation's bookkeeping on the 4 KiB allocate path: each run is
/// inserted once and looked up and removed once, so hashing is on the hot
/// path of every allocation. Keys are region block numbers, spread by a
/// Fibonacci multiply, which needs no seed: the keys are chosen by the
/// allocator, not by an adversary.
///
/// - Complexity: insert, lookup and remove O(1) amortized expected (the
///   load factor stays between 1/8 and 1/2 once past 16 slots); `runs`
///   O(capacity), so O(count) too. Memory: 24 bytes per slot.
///
/// Not thread-safe: the allocator lock guards it.
struct ReservedRuns {
    private var slots: [BlockRange?]
    private var mask: Int
    private(set) var count = 0
    /// The sum of the reserved runs' lengths.
    private(set) var blocks: UInt64 = 0

    init() {
        slots = Array(repeating: nil, count: 16)
        mask = 15
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always) private func home(_ start: UInt64) -> Int {
        Int(truncatingIfNeeded: (start &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The run reserved at `start`, if any.
    subscript(start: UInt64) -> BlockRange? {
        var i = home(start)
        while let r = slots[i] {
            if r.start.raw == start { return r }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Records `run`, whose start must not be reserved already.
    mutating func insert(_ run: BlockRange) {
        if (count + 1) * 2 > slots.count { grow() }
        var i = home(run.start.raw)
        while let r = slots[i] {
            precondition(r.start != run.start, "run \(run) is reserved twice")
            i = (i + 1) & mask
        }
        slots[i] = run
        count += 1
        blocks += run.count.raw
    }

    /// Removes the run at `start` when it equals `run`. Returns whether it did.
    @discardableResult
    mutating func remove(_ run: BlockRange) -> Bool {
        var i = home(run.start.raw)
        while let r = slots[i] {
            if r.start == run.start {
                guard r == run else { return false }
                slots[i] = nil
                count -= 1
                blocks -= run.count.raw
                // Backward shift: pull later members of the probe chain into
                // the gap when their home is not between the gap and them.
                var gap = i, j = (i + 1) & mask
                while let s = slots[j] {
                    let h = home(s.start.raw)
                    if (j - h) & mask >= (j - gap) & mask {
                        slots[gap] = s
                        slots[j] = nil
                        gap = j
                    }
                    j = (j + 1) & mask
                }
                if slots.count > 16 && count * 8 < slots.count { resize(slots.count / 4) }
                return true
            }
            i = (i + 1) & mask
        }
        return false
    }

    /// Every reserved run, in no particular order.
    var runs: [BlockRange] { slots.compactMap { $0 } }

    private mutating func grow() { resize(slots.count * 2) }

    /// Rehashes into `capacity` slots (a power of two, more than twice `count`).
    private mutating func resize(_ capacity: Int) {
        let old = slots
        slots = Array(repeating: nil, count: capacity)
        mask = slots.count - 1
        count = 0
        blocks = 0
        for case let r? in old { insert(r) }
    }
}
