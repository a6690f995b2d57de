import Testing
import DaxCore
import DaxFSFormat
import DaxFSTestSupport
@testable import DaxFS

/// Replay batches ALLOC records (`MetadataState.replayAll`): each is checked
/// when applied but leaves the free space later, with the others. A record
/// that does not fit must still fail the mount at that record, with the
/// error `apply` gives, whether the batch answers for it (the free run found
/// last time, the batch's own runs) or must go out first (an ALLOC below the
/// batch's last run, an EXTENT_MAP only partly in the batch). Transactions
/// are logged raw, behind the live path's back, as damage would leave them.
@Suite(.serialized) struct ReplayBatchTests {
    /// Logs `transactions` after a file of a few separate extents (the
    /// closure gets their region runs, the free runs and the file), unmounts
    /// without a checkpoint and mounts again. Returns the mount's error, or
    /// nil with the replayed state checked against the live invariants.
    func replay(_ transactions: (_ used: [BlockRange], _ free: [BlockRange], _ ino: InodeNumber) -> [[LogRecord]]) throws -> (DaxError?, firstSeq: UInt64) {
        let r = TempRegion()
        try r.format(size: 8 << 20, logSize: 1 << 20)
        var o = Filesystem.Options()
        o.checkpointOnUnmount = false
        let fs = try Filesystem.mount(r.path, options: o)
        let f = try fs.create("/f")
        for i in 0..<4 as Range<UInt64> { try fs.allocate(f, offset: i * 8192, length: 4096) }
        let used = try fs.extents(f).map(\.regionRange)
        let free = fs.state.allocator.checkpointRuns()
        let first = fs.logStatus.nextSeq
        fs.logLock.withLock {
            for t in transactions(used, free, f) {
                var tx = TransactionBuilder()
                for r in t { tx.append(r) }
                fs.journal.append(tx.records, size: tx.encodedSize, spaceRecords: tx.shape.spaceRecords, faults: [])
            }
        }
        try fs.unmount()
        do {
            let m = try Filesystem.mount(r.path, options: o)
            try m.checkInvariants()
            try m.unmount()
            return (nil, first)
        } catch let e as DaxError {
            return (e, first)
        }
    }

    func expectRefused(_ e: DaxError?, seq: UInt64, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(e?.code == .EFSCORRUPTED, sourceLocation: sourceLocation)
        #expect(e?.message.contains("log transaction \(seq) ") == true, "\(e?.message ?? "no error")", sourceLocation: sourceLocation)
        #expect(e?.message.contains(message) == true, "\(e?.message ?? "no error")", sourceLocation: sourceLocation)
    }

    @Test func allocOfBlocksInUseIsRefused() throws {
        // Blocks a file holds: the free run found last time does not answer for them.
        var run = BlockRange(0, 0)
        let (e, s) = try replay { used, _, _ in run = used[1]; return [[.alloc(used[1])]] }
        expectRefused(e, seq: s, "ALLOC of blocks \(run) that are not free")
        // After a good ALLOC has set the hint, blocks in use past its free run.
        let (e2, s2) = try replay { used, free, _ in
            let hole = free.first { $0.start.raw < used[1].start.raw }!
            run = used[1]
            return [[.alloc(BlockRange(hole.start.raw, 1))], [.alloc(run)]]
        }
        expectRefused(e2, seq: s2 + 1, "ALLOC of blocks \(run) that are not free")
    }

    @Test func allocOfABatchedRunIsRefused() throws {
        // The same free block twice, in consecutive transactions: the second
        // overlaps the batch, which goes out first; then the block is not free.
        var run = BlockRange(0, 0)
        let (e, s) = try replay { _, free, _ in
            run = BlockRange(free.last!.start.raw, 1)
            return [[.alloc(run)], [.alloc(run)]]
        }
        expectRefused(e, seq: s + 1, "ALLOC of blocks \(run) that are not free")
        // Below the batch's last run: part of an earlier run of the batch again.
        let (e2, s2) = try replay { _, free, _ in
            run = BlockRange(free.last!.start.raw + 1, 1)
            return [[.alloc(BlockRange(free.last!.start.raw, 2))], [.alloc(BlockRange(free.last!.start.raw + 10, 1))], [.alloc(run)]]
        }
        expectRefused(e2, seq: s2 + 2, "ALLOC of blocks \(run) that are not free")
    }

    @Test func extentMapPartlyInTheBatchIsRefused() throws {
        // Block x is in the batch, x+1 is still free: mapping both maps a free block.
        var run = BlockRange(0, 0)
        let (e, s) = try replay { _, free, ino in
            let x = free.last!.start.raw
            run = BlockRange(x, 2)
            return [[.alloc(BlockRange(x, 1)),
                     .extentMap(ExtentRecord(ino: ino, fileBlock: FileBlock(100), regionBlock: BlockNumber(x), count: BlockCount(2)))]]
        }
        expectRefused(e, seq: s, "EXTENT_MAP of free blocks \(run) into inode")
    }

    @Test func batchedRecordsThatFitReplay() throws {
        // ALLOC out of order, a FREE in between, EXTENT_MAP inside and
        // outside the batch: the mount succeeds and the invariants hold.
        let (e, _) = try replay { used, free, ino in
            let x = free.last!.start.raw
            func map(_ fb: UInt64, _ rb: UInt64, _ n: UInt64) -> LogRecord {
                .extentMap(ExtentRecord(ino: ino, fileBlock: FileBlock(fb), regionBlock: BlockNumber(rb), count: BlockCount(n)))
            }
            return [
                [.alloc(BlockRange(x + 8, 2)), map(100, x + 8, 2)],
                [.alloc(BlockRange(x, 2)), map(50, x, 1), map(60, x + 1, 1)],          // below the batch: it goes out first
                [.alloc(BlockRange(x + 4, 1)), .alloc(BlockRange(x + 5, 1)), map(70, x + 4, 2)],   // spans two batch runs
                [.extentUnmap(ino, FileBlock(100), BlockCount(2)), .free(BlockRange(x + 8, 2))],
                [.alloc(BlockRange(x + 8, 1)), map(200, x + 8, 1)],
                [.extentUnmap(ino, FileBlock(0), BlockCount(1)), .free(used[0])],
            ]
        }
        #expect(e == nil, "\(e?.message ?? "")")
    }

    /// An extent that is not aligned to its file's allocation unit (damage:
    /// no operation makes one) fails an allocate next to it with
    /// EFSCORRUPTED, and never traps on a partial unit.
    @Test func anUnalignedExtentIsCorruptionNotATrap() throws {
        let r = TempRegion()
        try r.format(size: 64 << 20)
        var o = Filesystem.Options()
        o.checkpointOnUnmount = false
        var ino = InodeNumber(0)
        do {
            let fs = try Filesystem.mount(r.path, options: o)
            let f = try fs.create("/f")
            try fs.setAllocUnit("/f", unit: 2 << 20)
            ino = f
            let free = fs.state.allocator.checkpointRuns().first { $0.count.raw >= 1024 }!
            let start = (free.start.raw + 511) / 512 * 512 + 8             // inside a unit, not at its start
            // Logged behind the live path's back, as damage would leave it.
            fs.logLock.withLock {
                var tx = TransactionBuilder()
                tx.append(.alloc(BlockRange(start, 8)))
                tx.append(.extentMap(ExtentRecord(ino: f, fileBlock: FileBlock(8), regionBlock: BlockNumber(start), count: BlockCount(8))))
                fs.journal.append(tx.records, size: tx.encodedSize, spaceRecords: tx.shape.spaceRecords, faults: [])
            }
            try fs.unmount()
        }
        try withMount(r, o) { fs in
            for attempt in [{ try fs.allocate(ino, offset: 0, length: 4 << 20) }, { try fs.write(ino, at: 0, [UInt8](repeating: 7, count: 4096)) }] {
                do {
                    try attempt()
                    Issue.record("an allocate over a partial unit succeeded")
                } catch let e as DaxError {
                    #expect(e.code == .EFSCORRUPTED)
                    #expect(e.message.contains("not aligned to its allocation unit"), "\(e.message)")
                }
            }
        }
    }
}
