import DaxCore
import DaxFSFormat

/// The `--if-unchanged` token of swap-extents: a file's generation and
/// change counter, as `stat` reports them ("generation:change"). The change
/// counter moves with every committed change to the inode or its data.
public struct ChangeToken: Sendable, Hashable, CustomStringConvertible {
    public var generation: UInt32
    public var change: UInt64
    public init(generation: UInt32, change: UInt64) {
        self.generation = generation
        self.change = change
    }
    /// Parses "generation:change"; nil when it is not two decimal numbers.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let g = UInt32(parts[0]), let c = UInt64(parts[1]) else { return nil }
        self.init(generation: g, change: c)
    }
    public var description: String { "\(generation):\(change)" }
}

/// What a swap moves (or, with `dryRun`, would move).
public struct SwapPlan: Sendable, Equatable, Codable {
    public var ino1: UInt64
    public var ino2: UInt64
    public var offset1: UInt64
    public var offset2: UInt64
    /// Bytes exchanged: whole blocks, the last one reaching EOF under to-eof.
    public var length: UInt64
    public var blocks: UInt64
    /// Extents of each range (after splitting at the range boundaries).
    public var extents1: Int
    public var extents2: Int
    /// Blocks mapped in each range (the rest are holes).
    public var mappedBlocks1: UInt64
    public var mappedBlocks2: UInt64
    public var sizeBefore1: UInt64
    public var sizeBefore2: UInt64
    public var sizeAfter1: UInt64
    public var sizeAfter2: UInt64
    /// True when the swap needs more than one transaction, so an intent
    /// logs it first and recovery finishes it.
    public var usesIntent: Bool
    /// The transactions it commits.
    public var transactions: Int
    public var dryRun: Bool
}

/// swap-extents: the atomic exchange of the block mappings of two file
/// ranges, without copying data (XFS_IOC_EXCHANGE_RANGE, and with
/// `ifUnchanged` XFS_IOC_COMMIT_RANGE).
///
/// ## Locks
/// The invalidate locks of both inodes exclusive, in inode-number order
/// (waiting for their mappings: EBUSY after `Options.mappingDrainTimeout`,
/// EDEADLK for a thread that holds one), then both metadata locks exclusive
/// in the same order, then the log and allocator locks inside `commit`. No
/// other operation holds two inode locks, so the order cannot invert.
///
/// ## Crash contract
/// A swap is all or nothing. Each step is one EXTENT_SWAP record, a
/// logical record that exchanges the mappings of a stretch of both ranges
/// as the maps stand (replay applies it the same way), so a step costs
/// O(1) log bytes whatever its extent count. When each range has at most
/// `swapStepExtents` extents the swap is one transaction: EXTENT_SWAP and
/// both INODE_ATTRs. Otherwise the first transaction logs a swap-extents
/// INTENT (both ranges, the block count, the sizes to set) with the first
/// step and an INTENT_PROGRESS; each later step adds its EXTENT_SWAP and
/// INTENT_PROGRESS; the last one sets the sizes and times and logs
/// INTENT_DONE. Recovery always rolls a pending swap forward from `done`
/// with the same steps, so once mounted read-write both files are exactly
/// in the after state (a read-only mount refuses to read them while the
/// intent is pending). No data byte is written, so no step fences data.
///
/// Whole maps: when both ranges start at offset 0 and hold every extent of
/// both files (whole files to EOF, no preallocation past the range), and no
/// `stepExtents` was asked for, the swap is one transaction whatever the
/// extent count: one EXTENT_SWAP, which exchanges the two maps themselves
/// in O(1), live and in replay (as XFS swaps inode forks), and both
/// INODE_ATTRs.
///
/// - Complexity: O((e1 + e2) + L) DRAM work per step for e1, e2 extents
///   (a bulk unmap and a bulk insert of sorted runs, `ExtentMap.exchange`),
///   ⌈max(e1, e2) / swapStepExtents⌉ transactions of a few hundred bytes
///   each; never in bytes of data. Whole maps: O(1) DRAM work in one
///   transaction, plus O(e1 + e2) to count the extents for the plan.
extension Filesystem {
    /// Exchanges the mappings of file `ino1` from `offset1` and of `ino2`
    /// from `offset2`, `length` bytes (see the type's contract).
    ///
    /// - `length` nil and `toEOF`: from the offsets to the end of both files
    ///   (the longer remainder), and the sizes are exchanged to match:
    ///   file 1 ends at offset1 + (size2 − offset2) and file 2 at
    ///   offset2 + (size1 − offset1). Whole files: offsets 0 and `toEOF`.
    /// - `length` given: both ranges must lie inside their files; the sizes
    ///   do not change.
    /// - `ifUnchanged`: fail with EBUSY, changing nothing, unless file 2's
    ///   generation and change counter still equal the token.
    /// - `dryRun`: check everything and return the plan; change nothing
    ///   (it also works on a read-only mount).
    /// - `stepExtents`: the extents of each range one step moves, instead of
    ///   `swapStepExtents` (tests use small steps to crash between them).
    ///   Given, it also turns off the whole-map exchange.
    ///
    /// Errors: EISDIR (a directory), ENOENT, EINVAL (offsets, or a length
    /// that does not reach EOF of both files, not multiples of the
    /// allocation unit; different allocation units; a range outside its
    /// file; overlapping ranges of one file; to-eof within one file; a
    /// length of 0), EFBIG, EBUSY
    /// (the token, or mappings that are not released), EDEADLK, EROFS, and
    /// ENOSPC when the metadata has no room for the split extents.
    @discardableResult
    public func swapExtents(_ ino1: InodeNumber, _ ino2: InodeNumber, offset1: UInt64 = 0, offset2: UInt64 = 0,
                            length: UInt64? = nil, toEOF: Bool = false, ifUnchanged: ChangeToken? = nil,
                            dryRun: Bool = false, stepExtents: Int? = nil) throws -> SwapPlan {
        if dryRun { try checkMounted() } else { try checkWritable() }
        let a = try fileNode(ino1), b = try fileNode(ino2)
        return try withBothExclusive(a, b) {
            try checkAlive(a)
            try checkAlive(b)
            if let t = ifUnchanged, t != ChangeToken(generation: b.record.generation, change: b.record.change) {
                throw DaxError(.EBUSY, "inode \(b.ino) changed since token \(t) was taken (it is now \(b.record.generation):\(b.record.change)); nothing was swapped")
                    .with("ino", b.ino)
            }
            let per = max(1, stepExtents ?? swapStepExtents)
            var plan = try swapPlan(a, b, offset1: offset1, offset2: offset2, length: length, toEOF: toEOF, per: per)
            let wholeMaps = stepExtents == nil && a !== b && plan.blocks > 0
                && ExtentMap.exchangesWholeMaps(a.extents, plan.offset1 / blockSize, b.extents, plan.offset2 / blockSize, count: plan.blocks)
            if wholeMaps { plan.usesIntent = false; plan.transactions = 1 }
            plan.dryRun = dryRun
            if dryRun || plan.blocks == 0 { return plan }
            try admitSwap(plan)
            plan.transactions = try runSwap(a, b, plan, per: per, wholeMaps: wholeMaps)
            return plan
        }
    }

    /// Runs `body` with the invalidate locks of `a` and `b` exclusive, then
    /// their metadata locks exclusive, each pair in inode-number order (as
    /// xfs_lock_two_inodes). One inode is locked once.
    private func withBothExclusive<T>(_ a: Inode, _ b: Inode, _ body: () throws -> T) throws -> T {
        if isReadOnly { return try withBothWriteLocks(a, b, body) }   // a dry run: no mapping can change blocks
        let (lo, hi) = a.ino.raw <= b.ino.raw ? (a, b) : (b, a)
        let t = options.mappingDrainTimeout
        return try lo.withInvalidateExclusive(timeout: t) {
            if lo === hi { return try lo.withWriteLock(body) }
            return try hi.withInvalidateExclusive(timeout: t) {
                try withBothWriteLocks(lo, hi, body)
            }
        }
    }

    /// Runs `body` with the metadata locks of `a` and `b` exclusive, in
    /// inode-number order.
    private func withBothWriteLocks<T>(_ a: Inode, _ b: Inode, _ body: () throws -> T) rethrows -> T {
        let (lo, hi) = a.ino.raw <= b.ino.raw ? (a, b) : (b, a)
        if lo === hi { return try lo.withWriteLock(body) }
        return try lo.withWriteLock { try hi.withWriteLock(body) }
    }

    /// Checks a request against both files and works out the ranges, the
    /// new sizes and the extents that move. Holds both inode locks.
    private func swapPlan(_ a: Inode, _ b: Inode, offset1: UInt64, offset2: UInt64, length: UInt64?, toEOF: Bool, per: Int) throws -> SwapPlan {
        let bs = blockSize
        let u = a.unitBlocks(blockSize: bs), ub = u * bs
        guard a.record.allocShift == b.record.allocShift else {
            throw DaxError(.EINVAL, "inodes \(a.ino) and \(b.ino) have different allocation units (\(ByteSize.human(ub)) and \(ByteSize.human(b.unitBlocks(blockSize: bs) * bs))); swap-extents needs the same unit")
        }
        if offset1 % ub != 0 || offset2 % ub != 0 {
            throw DaxError(.EINVAL, "offsets \(offset1) and \(offset2) must be multiples of the files' allocation unit (\(ub) bytes)")
        }
        let size1 = a.record.size, size2 = b.record.size
        var len: UInt64
        var newSize1 = size1, newSize2 = size2
        if toEOF {
            guard a !== b else { throw DaxError(.EINVAL, "--to-eof exchanges two files' tails and sizes; it needs two different files").with("ino", a.ino) }
            guard offset1 <= size1, offset2 <= size2 else {
                throw DaxError(.EINVAL, "with --to-eof the offsets must not pass the ends of the files (offset1 \(offset1) of size \(size1), offset2 \(offset2) of size \(size2))")
            }
            let rest1 = size1 - offset1, rest2 = size2 - offset2
            len = max(rest1, rest2)
            if let l = length, l != len {
                throw DaxError(.EINVAL, "--to-eof exchanges \(len) bytes; a length of \(l) contradicts it")
            }
            newSize1 = offset1 + rest2
            newSize2 = offset2 + rest1
        } else {
            guard let l = length else { preconditionFailure("swapExtents: a length or toEOF is required") }
            len = l
            guard len > 0 else { throw DaxError(.EINVAL, "length must be greater than 0") }
            let (e1, o1) = offset1.addingReportingOverflow(len), (e2, o2) = offset2.addingReportingOverflow(len)
            if o1 || o2 || e1 > size1 || e2 > size2 {
                throw DaxError(.EINVAL, "range [\(offset1), +\(len)) of inode \(a.ino) (size \(size1)) or [\(offset2), +\(len)) of inode \(b.ino) (size \(size2)) passes the end of its file")
            }
            if len % ub != 0 && !(e1 == size1 && e2 == size2) {
                throw DaxError(.EINVAL, "length \(len) must be a multiple of the files' allocation unit (\(ub) bytes) unless it reaches the end of both files")
            }
        }
        let blocks = (len + ub - 1) / ub * u
        let b1 = offset1 / bs, b2 = offset2 / bs
        if blocks > 0 && a === b && b1 < b2 + blocks && b2 < b1 + blocks {
            throw DaxError(.EINVAL, "ranges [\(offset1), +\(len)) and [\(offset2), +\(len)) of inode \(a.ino) overlap").with("ino", a.ino)
        }
        let limit = state.maxFileBlocks
        if b1 + blocks > limit || b2 + blocks > limit || newSize1 > Geometry.maximumFileSize || newSize2 > Geometry.maximumFileSize {
            throw DaxError(.EFBIG, "the exchange passes the maximum file size \(Geometry.maximumFileSize)")
        }
        var plan = SwapPlan(ino1: a.ino.raw, ino2: b.ino.raw, offset1: offset1, offset2: offset2, length: len, blocks: blocks,
                            extents1: 0, extents2: 0, mappedBlocks1: 0, mappedBlocks2: 0, sizeBefore1: size1, sizeBefore2: size2,
                            sizeAfter1: newSize1, sizeAfter2: newSize2, usesIntent: false, transactions: 0, dryRun: false)
        a.extents.forEachExtent(overlapping: b1, b1 + blocks) { plan.extents1 += 1; plan.mappedBlocks1 += $0.count }
        b.extents.forEachExtent(overlapping: b2, b2 + blocks) { plan.extents2 += 1; plan.mappedBlocks2 += $0.count }
        plan.usesIntent = plan.extents1 > per || plan.extents2 > per
        plan.transactions = blocks == 0 ? 0 : max(1, (max(plan.extents1, plan.extents2) + per - 1) / per)
        return plan
    }

    /// Refuses with ENOSPC, before anything is logged, a swap whose split
    /// extents would not fit the checkpoint: each file may gain two
    /// extents, split at the range boundaries. The steps only move extents
    /// between the files (EXTENT_SWAP), which `commit`'s admission does
    /// not count.
    /// Holds the log lock: the counts it reads change in every commit.
    private func admitSwap(_ plan: SwapPlan) throws {
        let capacity = layout.slotCapacity
        let needed = logLock.withLock { state.checkpointChunks(extraExtents: 4) }
        if needed > capacity - max(2, capacity / 10) {
            throw DaxError(.ENOSPC, "no room for more metadata: a checkpoint slot holds \(capacity) chunks and this swap needs \(needed) with 10% kept free for removals")
        }
    }

    /// The extents of each range one swap step exchanges: 1/128 of the
    /// transaction limit's bytes (8,192 with the default 1 MiB). A step is
    /// one EXTENT_SWAP record whatever its size; the bound keeps the DRAM
    /// work under the inode and log locks short and gives the progress
    /// records their meaning.
    var swapStepExtents: Int { max(1, journal.maxTransactionBytes / 128) }

    /// Commits the swap: one transaction, or an intent and steps. Returns
    /// the transactions committed.
    private func runSwap(_ a: Inode, _ b: Inode, _ plan: SwapPlan, per: Int, wholeMaps: Bool) throws -> Int {
        let bs = blockSize
        let flags = plan.sizeAfter1 != plan.sizeBefore1 || plan.sizeAfter2 != plan.sizeBefore2 ? IntentRecord.swapSizesFlag : 0
        let intent = IntentRecord(id: plan.usesIntent ? reserveIntentID() : 0, kind: .swapExtents, flags: flags,
                                  ino1: a.ino, block1: FileBlock(plan.offset1 / bs), ino2: b.ino, block2: FileBlock(plan.offset2 / bs),
                                  count: BlockCount(plan.blocks), done: 0, size1: plan.sizeAfter1, size2: plan.sizeAfter2)
        if wholeMaps {
            var tx = TransactionBuilder()
            tx.append(.extentSwap(ino1: a.ino, block1: FileBlock(0), ino2: b.ino, block2: FileBlock(0), count: BlockCount(plan.blocks)))
            swapFinalRecords(a, b, intent, into: &tx)
            try commit(&tx)
            return 1
        }
        if !plan.usesIntent {
            var tx = TransactionBuilder()
            let end = swapStepRecords(a, b, intent, from: 0, per: per, into: &tx)
            precondition(end == plan.blocks, "swap plan said one transaction, the step stopped at block \(end) of \(plan.blocks)")
            swapFinalRecords(a, b, intent, into: &tx)
            try commit(&tx)
            return 1
        }
        var transactions = 0
        try finishingIntent(intent) {
            transactions = try continueSwap(a, b, intent, logIntent: true, per: per)
        }
        return transactions
    }

    /// Runs the steps of swap intent `intent` from `intent.done` to the end,
    /// with both inode locks held. With `logIntent` the first transaction
    /// also logs the INTENT itself. Idempotent from any committed step: it
    /// is also how recovery finishes a pending swap.
    func continueSwap(_ a: Inode, _ b: Inode, _ intent: IntentRecord, logIntent: Bool, per: Int) throws -> Int {
        var done = intent.done.raw
        var transactions = 0
        var first = logIntent
        repeat {
            var tx = TransactionBuilder()
            if first { tx.append(.intent(intent)) }
            done = swapStepRecords(a, b, intent, from: done, per: per, into: &tx)
            if done == intent.count.raw {
                swapFinalRecords(a, b, intent, into: &tx)
                tx.append(.intentDone(id: intent.id))
            } else {
                tx.append(.intentProgress(id: intent.id, done: BlockCount(done)))
            }
            try commit(&tx)
            transactions += 1
            if first && options.faults.contains(.intentStepsFail) { throw DaxError(.EIO, "injected failure after intent \(intent.id)") }
            first = false
        } while done < intent.count.raw
        return transactions
    }

    /// Appends to `tx` the EXTENT_SWAP of one step of a swap from block
    /// `from` of the ranges: as many blocks as keep each range's extents
    /// within `per`. Returns where the step ends (relative to
    /// the ranges' starts). O(k) for k extents, to find the boundary.
    private func swapStepRecords(_ a: Inode, _ b: Inode, _ i: IntentRecord, from d: UInt64, per: Int,
                                 into tx: inout TransactionBuilder) -> UInt64 {
        let b1 = i.block1.raw, b2 = i.block2.raw, count = i.count.raw
        var end = count
        let e1 = a.extents.extents(overlapping: b1 + d, b1 + count, limit: per + 1)
        if e1.count > per { end = min(end, e1[per - 1].fileEnd - b1) }
        let e2 = b.extents.extents(overlapping: b2 + d, b2 + count, limit: per + 1)
        if e2.count > per { end = min(end, e2[per - 1].fileEnd - b2) }
        tx.append(.extentSwap(ino1: a.ino, block1: FileBlock(b1 + d), ino2: b.ino, block2: FileBlock(b2 + d), count: BlockCount(end - d)))
        return end
    }

    /// The last step's size and time records: both files' change counters
    /// move, and their sizes become size1 and size2 when the intent says so.
    private func swapFinalRecords(_ a: Inode, _ b: Inode, _ i: IntentRecord, into tx: inout TransactionBuilder) {
        let now = inodeTimeNanoseconds()
        let sizes = i.flags & IntentRecord.swapSizesFlag != 0
        tx.append(.inodeAttr(touched(a, size: sizes ? i.size1 : nil, now: now)))
        if a !== b { tx.append(.inodeAttr(touched(b, size: sizes ? i.size2 : nil, now: now))) }
    }

    /// Recovery: finishes a pending swap intent, rolling it forward from its
    /// recorded progress. Both files exist (replay checked the intent's
    /// targets).
    func finishSwapIntent(_ i: IntentRecord) throws {
        guard let a = state.inodes[i.ino1], let b = state.inodes[i.ino2] else {
            throw DaxError(.EFSCORRUPTED, "swap intent \(i.id) names inodes \(i.ino1) and \(i.ino2), which do not both exist; run 'daxfs fsck'")
        }
        _ = try withBothWriteLocks(a, b) { try continueSwap(a, b, i, logIntent: false, per: swapStepExtents) }
    }
}
