import DaxCore
import DaxFSFormat
import PMem
import Synchronization

/// Blocks taken out of the free space for an operation whose ALLOC records
/// have not committed yet, with the file blocks each run is for. They
/// belong to nobody on media: a crash before the commit leaves them free,
/// because the ALLOC records are in the lost transaction. Each run settles
/// when its ALLOC record commits.
///
/// One operation keeps one reservation, and every `Allocator.allocate` it
/// makes adds its runs to it. It is also the list of extents the operation
/// maps: one value, so that an allocation costs one list and no object.
struct Reservation {
    /// The extents, in the order their runs were handed out (file order
    /// for every caller, which allocates its holes front to back).
    fileprivate(set) var extents = ExtentList()
    /// True when the runs are not zeroed yet: a small allocation
    /// (`Allocator.zeroAtCommitBytes`) leaves its zeroing to the commit
    /// that logs its ALLOC records, which zeroes them under the log lock
    /// just before it encodes the transaction (`Filesystem.commit`).
    fileprivate(set) var zeroAtCommit = false
    var blocks: UInt64 { extents.reduce(0) { $0 + $1.count } }
    init() {}

    /// Zeroes the runs now, if the commit was to (a caller that splits the
    /// reservation over several transactions).
    mutating func zeroNow(_ allocator: Allocator, media: PersistentMedia, faults: FaultInjection) {
        allocator.zeroLeftToCommit(self, media: media, faults: faults)
        zeroAtCommit = false
    }
}

/// The log-structured extent allocator, in the style of ZFS space maps.
///
/// Free space lives only in DRAM (`FreeSpace`); on media it is the
/// checkpoint's free-space chunks plus the ALLOC and FREE records logged
/// since, which mount replays into the same structure. The checkpoint
/// condenses them: see `Filesystem.shouldCondense`.
///
/// **Policy.** Contiguous where possible, near a goal block (the region
/// block that would continue the file's previous extent), aligned to the
/// file's allocation unit: every run handed out starts on a multiple of
/// `align` region blocks and is a multiple of `align` long, so 2 MiB and
/// 1 GiB files can be mapped with huge pages. In order: the free run at the
/// goal, the first run after the goal that holds the whole request, the
/// best fit by length, and finally the largest runs, piece by piece.
///
/// **Zeroing.** Every run handed out is zeroed with non-temporal stores
/// through the persistence choke point (`fill`), never under the allocator
/// lock. `allocate` zeroes it at once, so other threads keep allocating
/// while a gigabyte is cleared; a request of at most `zeroAtCommitBytes`
/// may instead leave it to the commit that maps it (`zeroAtCommit`), which
/// zeroes it under the log lock and encodes its transaction while the
/// stores drain. Either way the zeroes are durable before the transaction
/// that maps the runs can be (`Filesystem.commit`).
///
/// **ENOSPC** is all-or-nothing: a request that cannot be met takes nothing.
///
/// **Locks.** The allocator lock is the innermost lock of daxfs; nothing
/// is called with it held. Reservations are tracked so that a checkpoint
/// taken while a transaction is being built still records their blocks as
/// free (its ALLOC records will be logged after the checkpoint).
final class Allocator: @unchecked Sendable {
    private let lock = Lock()
    private var free: FreeSpace
    /// Reserved runs whose ALLOC records have not committed, by first block.
    private var outstanding = ReservedRuns()
    /// `freeBlocks` and `freeRunCount` as of the last change, stored under
    /// the lock and read without it: the commit path asks for them on every
    /// transaction, and each question cost a lock round trip.
    private let publishedFreeBlocks = Atomic<UInt64>(0)
    private let publishedRunCount = Atomic<Int>(0)
    let dataStart: UInt64
    let dataEnd: UInt64
    let blockSize: Int

    init(free: FreeSpace, sb: Superblock) {
        self.free = free
        dataStart = sb.dataStartBlock.raw
        dataEnd = sb.dataEndBlock
        blockSize = Int(sb.blockSize)
        publish()
    }

    /// Free blocks, counting reserved runs whose ALLOC records have not
    /// committed. Takes no lock: exact when no other thread is changing the
    /// allocator (allocate, cancel, settle, release), else the value before
    /// or after that change. O(1).
    var freeBlocks: UInt64 { publishedFreeBlocks.load(ordering: .relaxed) }
    /// Free runs (reservations not counted), read as `freeBlocks` is. O(1).
    var freeRunCount: Int { publishedRunCount.load(ordering: .relaxed) }
    var largestFreeRun: UInt64 { lock.withLock { free.largest?.count ?? 0 } }

    /// Runs `body` under the lock and publishes the counts it changed.
    private func mutating<T>(_ body: () throws -> T) rethrows -> T {
        try lock.withLock {
            defer { publish() }
            return try body()
        }
    }

    /// Called with the lock held.
    private func publish() {
        publishedFreeBlocks.store(free.freeBlocks + outstanding.blocks, ordering: .relaxed)
        publishedRunCount.store(free.runCount, ordering: .relaxed)
    }

    /// Takes `count` blocks (a multiple of `align`) from the free space for
    /// file blocks [fileBlock, fileBlock + count), zeroes them and adds them
    /// to `r` as extents, in file order. Returns how many extents it added:
    /// 0 only when `partial` and nothing at all could be taken within
    /// `maxRuns`. Throws ENOSPC when the whole request cannot be met and
    /// `partial` is false (nothing is taken then).
    ///
    /// With `partial`, at most `maxRuns` runs are taken and the result may
    /// hold fewer blocks than asked (a write proceeds with what it got).
    /// The zeroes are *not* fenced here: the commit fences before it logs.
    ///
    /// With `callerFills`, the runs are not zeroed here: the caller (a write
    /// that covers them) takes over the duty and stores into every byte of
    /// every run before the commit's first fence — its data, and `zero` for
    /// the parts it does not write. Either way no run ever reaches a file with
    /// bytes it had before.
    ///
    /// With `zeroAtCommit`, the runs are not zeroed here either: the
    /// reservation is marked, and the commit that logs it zeroes them
    /// (`Filesystem.commit`). Every call into one reservation must pass the
    /// same value, and with it `count` blocks hold at most
    /// `zeroAtCommitBytes` (the zeroing then runs under the log lock).
    ///
    /// - Complexity: O(r log n) for r runs handed out, plus the zeroing.
    @discardableResult
    func allocate(count: UInt64, align: UInt64, goal: UInt64?, for fileBlock: UInt64, into r: inout Reservation,
                  media: PersistentMedia, faults: FaultInjection = [], maxRuns: Int = Int.max, partial: Bool = false,
                  callerFills: Bool = false, zeroAtCommit: Bool = false) throws -> Int {
        precondition(count > 0 && align > 0 && count % align == 0)
        let first = r.extents.count
        precondition(!(zeroAtCommit && callerFills) && (first == 0 || zeroAtCommit == r.zeroAtCommit)
                     && (!zeroAtCommit || Int(r.blocks + count) * blockSize <= Self.zeroAtCommitBytes),
                     "Allocator.allocate: zeroAtCommit mixed with other zeroing, or too large")
        r.zeroAtCommit = zeroAtCommit
        try mutating {
            var need = count
            func taken(_ start: UInt64, _ n: UInt64) {
                r.extents.append(Extent(fileBlock: fileBlock + (count - need), regionBlock: start, count: n))
                need -= n
            }
            func take(_ start: UInt64, _ n: UInt64) {
                let ok = free.remove(BlockRange(start, n))
                precondition(ok, "allocator took blocks that are not free")
                taken(start, n)
            }
            if let g = goal, g >= dataStart, g < dataEnd, g % align == 0, let p = free.position(containing: g) {
                let usable = (p.run.end - g) / align * align
                if usable > 0 {
                    // The run is found already: take from it without a second search.
                    free.remove(BlockRange(g, min(need, usable)), from: p)
                    taken(g, min(need, usable))
                }
            }
            if need > 0, r.extents.count == first, let g = goal, let run = free.firstFit(after: g, need: need, align: align) {
                take(FreeSpace.aligned(run, align: align).start, need)
            }
            while need > 0 && r.extents.count - first < maxRuns {
                if let run = free.bestFit(need: need, align: align) {
                    take(FreeSpace.aligned(run, align: align).start, need)
                } else if let run = free.largestAligned(align: align) {
                    let a = FreeSpace.aligned(run, align: align)
                    take(a.start, min(need, a.count))
                } else {
                    break
                }
            }
            if need > 0 && !partial {
                for k in first..<r.extents.count { free.insert(r.extents[k].regionRange) }
                r.extents.removeAll(from: first)
                throw DaxError(.ENOSPC, "no space left: \(count) blocks wanted, \(free.freeBlocks) free" +
                               (align > 1 ? " (in runs aligned to \(align) blocks)" : ""))
            }
            for k in first..<r.extents.count { outstanding.insert(r.extents[k].regionRange) }
        }
        if !callerFills && !zeroAtCommit {
            for k in first..<r.extents.count {
                let e = r.extents[k]
                zero(at: Int(e.regionBlock) * blockSize, count: Int(e.count) * blockSize, media: media, faults: faults)
            }
        }
        return r.extents.count - first
    }

    /// The most a request may leave to its commit to zero (`zeroAtCommit`):
    /// 64 KiB, a few microseconds of stores under the log lock.
    static let zeroAtCommitBytes = 64 << 10

    /// Zeroes the runs of `r` if their zeroing was left to its commit
    /// (`zeroAtCommit`), the last one with `body` overlapping the drain of
    /// its stores (`PersistentMedia.fill(_:at:count:site:overlapping:)`);
    /// otherwise only runs `body`. Takes no lock of its own; the commit
    /// calls it under the log lock.
    func zeroLeftToCommit(_ r: Reservation, media: PersistentMedia, faults: FaultInjection, overlapping body: () -> Void = {}) {
        guard r.zeroAtCommit else { return body() }
        let n = r.extents.count
        for k in 0..<n {
            let e = r.extents[k]
            let at = Int(e.regionBlock) * blockSize, count = Int(e.count) * blockSize
            if k == n - 1 && !faults.contains(.zeroesNotFlushed) {
                media.fill(0, at: at, count: count, site: CallSite(#fileID, #line), overlapping: body)
                return
            }
            zero(at: at, count: count, media: media, faults: faults)
        }
        body()
    }

    /// Zeroes `count` bytes at region offset `at` of freshly allocated blocks
    /// with non-temporal stores; durable at the next fence. Takes no lock.
    func zero(at: Int, count: Int, media: PersistentMedia, faults: FaultInjection) {
        guard count > 0 else { return }
        if faults.contains(.zeroesNotFlushed) {
            // Injected bug: cached stores that nothing flushes.
            let zeroes = [UInt8](repeating: 0, count: count)
            zeroes.withUnsafeBytes { media.store($0, at: at, site: CallSite(#fileID, #line)) }
        } else {
            media.fill(0, at: at, count: count)
        }
    }

    /// Gives back the runs of a reservation whose ALLOC records did not
    /// commit (runs that did commit are left alone).
    func cancel(_ r: Reservation) {
        mutating {
            for e in r.extents where outstanding.remove(e.regionRange) {
                let run = e.regionRange
                let ok = free.insert(run)
                precondition(ok, "cancelled reservation overlaps free space")
            }
        }
    }

    /// The ALLOC record of a reserved run has committed: the run is owned now.
    func settle(_ run: BlockRange) {
        mutating {
            let wasReserved = outstanding.remove(run)
            precondition(wasReserved, "ALLOC committed for \(run), which was not reserved")
        }
    }

    /// Returns blocks to the free space after the FREE records that name them
    /// have committed. Returns false when some block is already free.
    func release(_ run: BlockRange) -> Bool {
        mutating { free.insert(run) }
    }

    /// `release` of many runs at once (a transaction's FREE records).
    /// Returns false, changing nothing, when some block is already free or
    /// the runs overlap one another.
    func releaseAll(_ runs: [BlockRange]) -> Bool {
        mutating { free.insertAll(runs) }
    }

    /// Replay of an ALLOC record: the run must be wholly free.
    func replayAlloc(_ run: BlockRange) -> Bool {
        mutating { free.remove(run) }
    }

    /// Replay: the free run that holds every block of `run`, or nil when
    /// some block of it is not free (or it is empty). Changes nothing.
    func freeRun(holding run: BlockRange) -> FreeRun? {
        lock.withLock {
            guard run.count.raw > 0, let f = free.run(containing: run.start.raw), run.end <= f.end else { return nil }
            return f
        }
    }

    /// Replay of a batch of ALLOC records (`FreeSpace.removeAll`): runs
    /// sorted by start and disjoint, each wholly free. Returns false,
    /// changing nothing, otherwise.
    func replayAllocAll(_ runs: [BlockRange]) -> Bool {
        mutating { free.removeAll(runs) }
    }

    /// True when any block of `run` is free (not counting reservations).
    func isAnyFree(_ run: BlockRange) -> Bool {
        lock.withLock { free.overlaps(run) }
    }

    /// The free space as a checkpoint records it: free runs plus the runs
    /// of reservations whose ALLOC records have not committed, merged and
    /// sorted by start. O(n + r log r).
    func checkpointRuns() -> [BlockRange] {
        lock.withLock {
            var extra = outstanding.runs
            if extra.isEmpty { return free.runs.map { BlockRange($0.start, $0.count) } }
            extra.sort { $0.start < $1.start }
            var out: [BlockRange] = []
            out.reserveCapacity(free.runCount + extra.count)
            var it = free.runs.makeIterator()
            var next = it.next()
            var j = 0
            func push(_ r: BlockRange) {
                if let l = out.last, l.end == r.start.raw { out[out.count - 1].count = BlockCount(l.count.raw + r.count.raw) }
                else { out.append(r) }
            }
            while next != nil || j < extra.count {
                if let n = next, j == extra.count || n.start < extra[j].start.raw {
                    push(BlockRange(n.start, n.count)); next = it.next()
                } else {
                    push(extra[j]); j += 1
                }
            }
            return out
        }
    }

}
