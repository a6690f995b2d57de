import Foundation
import Testing
import DaxCore
import DaxFS
import DaxFSFormat
import DaxFSTestSupport
import PMem

/// Mounts `r`, runs `body`, and unmounts cleanly.
func withMount<T>(_ r: TempRegion, _ options: Filesystem.Options = .init(), _ body: (Filesystem) throws -> T) throws -> T {
    let fs = try Filesystem.mount(r.path, options: options)
    defer { try? fs.unmount() }
    return try body(fs)
}

@Suite(.serialized) struct EngineTests {
    @Test func filesLiveAcrossUnmountAndMount() throws {
        let r = TempRegion()
        try r.format()
        let data = Array("hello, persistent memory".utf8)
        try withMount(r) { fs in
            let ino = try fs.create("/greeting")
            try fs.write(ino, at: 0, data)
            try fs.write(ino, at: 10_000, data)
            #expect(try fs.stat(ino: ino).size == 10_000 + UInt64(data.count))
            #expect(try fs.read(ino, at: 0, count: data.count) == data)
            #expect(try fs.read(ino, at: 5000, count: 8) == [UInt8](repeating: 0, count: 8))
            try fs.checkInvariants()
        }
        try withMount(r) { fs in
            #expect(fs.recovery.recordsApplied == 0, "a clean unmount checkpoints, so nothing is replayed")
            let ino = try fs.lookup("/greeting")
            #expect(try fs.read(ino, at: 10_000, count: 100) == data)
            try fs.truncate(ino, size: 3)
            #expect(try fs.read(ino, at: 0, count: 100) == Array(data[0..<3]))
            try fs.remove("/greeting")
            #expect(throws: DaxError.self) { try fs.lookup("/greeting") }
            #expect(try fs.usage().usedBlocks == 0)
            try fs.checkInvariants()
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func replayReachesTheLiveState(seed: UInt64) throws {
        // Three ways the log is left at a crash: never checkpointed, checkpointed
        // by hand in the middle, and a tiny log that checkpoints whenever it fills.
        for variant in 0..<3 {
            let r = TempRegion()
            try r.format(size: 8 << 20, logSize: variant == 2 ? 64 << 10 : 1 << 20)
            var ops = RandomOps(seed: seed * 10 + UInt64(variant))
            var options = Filesystem.Options()
            options.checkpointOnUnmount = false
            let fs = try Filesystem.mount(r.path, options: options)
            for i in 0..<(variant == 2 ? 900 : 300) {
                try ops.step(fs)
                if variant == 1 && i == 150 { try fs.checkpoint() }
            }
            let live = fs.stateDigest()
            let generations = fs.logStatus.checkpointGeneration
            try fs.unmount()              // no checkpoint: the next mount replays the log
            if variant == 2 { #expect(generations > 1, "a 64 KiB log must have filled and checkpointed") }
            let again = try Filesystem.mount(r.path)
            #expect(again.recovery.recordsApplied > 0)
            #expect(again.recovery.transactionsDropped == 0)
            #expect(again.stateDigest() == live, "seed \(seed) variant \(variant): replay differs from the live state")
            #expect(ops.model.mismatch(in: again) == nil)
            try again.checkInvariants()
            try again.unmount()
        }
    }

    @Test func aTornTailAtEveryByteRecoversThePreviousState() throws {
        let r = TempRegion()
        let sb = try r.format(size: 1 << 20, logSize: 64 << 10, checkpointSize: 64 << 10)
        var options = Filesystem.Options()
        options.checkpointOnUnmount = false
        var fs = try Filesystem.mount(r.path, options: options)
        let a = try fs.create("/a")
        try fs.write(a, at: 0, [UInt8](repeating: 7, count: 5000))
        try fs.unmount()
        let before = r.bytes
        fs = try Filesystem.mount(r.path, options: options)
        let beforeDigest = fs.stateDigest()
        let t0 = fs.logStatus.tail
        // The last transaction: a write that allocates, maps and grows the file.
        try fs.write(try fs.lookup("/a"), at: 9000, [UInt8](repeating: 9, count: 3000))
        let t1 = fs.logStatus.tail
        let afterDigest = fs.stateDigest()
        try fs.unmount()
        let after = r.bytes
        #expect(t1 > t0)
        let logStart = Int(sb.logOffset)
        var checked = 0
        for k in 0...(t1 - t0) {
            var image = after
            let cut = logStart + t0 + k
            image.replaceSubrange(cut..<(logStart + t1), with: before[cut..<(logStart + t1)])
            let torn = TempRegion()
            torn.fill(size: image.count, byte: 0)
            torn.write(image, at: 0)
            let m = try Filesystem.mount(torn.path, options: .init(readOnly: true))
            if k < t1 - t0 {
                #expect(m.stateDigest() == beforeDigest, "torn at byte \(k) of \(t1 - t0)")
                #expect(m.recovery.transactionsDropped == (k == 0 ? 0 : 1) || k < TransactionHeader.size)
            } else {
                #expect(m.stateDigest() == afterDigest)
            }
            try m.unmount()
            checked += 1
        }
        #expect(checked == t1 - t0 + 1)
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func invariantsHoldAfterEveryOperation(seed: UInt64) throws {
        let r = TempRegion()
        try r.format(size: 4 << 20, logSize: 128 << 10)
        var ops = RandomOps(seed: seed, maxOffset: 512 << 10, maxWrite: 128 << 10)
        let fs = try Filesystem.mount(r.path)
        for i in 0..<400 {
            try ops.step(fs)
            do { try fs.checkInvariants() } catch {
                Issue.record("seed \(seed) op \(i) (\(ops.log.last ?? "")): \(error)")
                break
            }
            if i % 50 == 0, let m = ops.model.mismatch(in: fs) { Issue.record("seed \(seed) op \(i): \(m)"); break }
        }
        #expect(ops.model.mismatch(in: fs) == nil)
        try fs.unmount()
    }

    @Test func noFileEverReadsStaleMedia() throws {
        // A region too small for the working set, so blocks are freed and
        // handed out again many times.
        let r = TempRegion()
        try r.format(size: 2 << 20, logSize: 64 << 10)
        var ops = RandomOps(seed: 99, maxOffset: 384 << 10, maxWrite: 96 << 10, fileCount: 6)
        let fs = try Filesystem.mount(r.path)
        for i in 0..<600 {
            try ops.step(fs)
            if i % 20 == 0, let m = ops.model.mismatch(in: fs) { Issue.record("op \(i): \(m)"); break }
        }
        #expect(ops.model.mismatch(in: fs) == nil)
        try fs.unmount()
    }

    @Test func enospcTakesNothingAndLeaksNothing() throws {
        let r = TempRegion()
        try r.format(size: 2 << 20, logSize: 64 << 10)
        try withMount(r) { fs in
            let f = try fs.create("/big")
            let free0 = try fs.usage().freeBlocks
            let tooMuch = [UInt8](repeating: 1, count: Int(free0 + 1) * 4096)
            #expect { try fs.write(f, at: 0, tooMuch) } throws: { ($0 as? DaxError)?.code == .ENOSPC }
            #expect(try fs.usage().freeBlocks == free0)
            #expect(try fs.stat(ino: f).size == 0)
            #expect(try fs.extents(f).isEmpty)
            // Fill it exactly, then one more block fails and leaves the rest intact.
            let exact = [UInt8](repeating: 2, count: Int(free0) * 4096)
            try fs.write(f, at: 0, exact)
            #expect(try fs.usage().freeBlocks == 0)
            #expect { try fs.write(f, at: UInt64(exact.count), [1]) } throws: { ($0 as? DaxError)?.code == .ENOSPC }
            #expect(try fs.stat(ino: f).size == UInt64(exact.count))
            try fs.checkInvariants()
        }
        try withMount(r) { fs in
            #expect(try fs.usage().freeBlocks == 0)
            try fs.remove("/big")
            try fs.checkInvariants()
        }
        let fs = try Filesystem.mount(r.path)
        let free = try fs.usage().freeBlocks
        try fs.unmount()
        let again = try Filesystem.mount(r.path)
        #expect(try again.usage().freeBlocks == free)
        #expect(free == again.superblock.dataBlockCount.raw)
        try again.unmount()
    }

    @Test func namespaceFollowsPosix() throws {
        let r = TempRegion()
        try r.format()
        try withMount(r) { fs in
            try fs.mkdir("/a/b/c", parents: true)
            try fs.create("/a/b/c/file")
            #expect { try fs.create("/a/b/c/file") } throws: { ($0 as? DaxError)?.code == .EEXIST }
            #expect { try fs.remove("/a/b") } throws: { ($0 as? DaxError)?.code == .ENOTEMPTY }
            #expect { try fs.create("/a/b/c/file/x") } throws: { ($0 as? DaxError)?.code == .ENOTDIR }
            #expect { try fs.lookup("/missing/x") } throws: { ($0 as? DaxError)?.code == .ENOENT }
            #expect { try fs.create("/" + String(repeating: "n", count: 256)) } throws: { ($0 as? DaxError)?.code == .ENAMETOOLONG }
            #expect { try fs.rename("/a", to: "/a/b/c/a") } throws: { ($0 as? DaxError)?.code == .EINVAL }
            #expect(try fs.lookup("/a/b/../b/./c/file") == (try fs.lookup("/a/b/c/file")))
            try fs.rename("/a/b/c/file", to: "/top")
            try fs.create("/other")
            try fs.write(try fs.lookup("/other"), at: 0, [1, 2, 3])
            let topIno = try fs.lookup("/top")
            try fs.rename("/top", to: "/other")            // replaces /other, freeing its block
            #expect(try fs.lookup("/other") == topIno)
            #expect(try fs.usage().usedBlocks == 0)
            #expect(try fs.readdir("/").map(\.name) == ["a", "other"])
            try fs.remove("/a/b/c")
            try fs.rename("/a/b", to: "/b")
            #expect(try fs.readdir("/a").isEmpty)
            try fs.checkInvariants()
        }
        try withMount(r) { fs in
            #expect(try fs.readdir("/").map(\.name) == ["a", "b", "other"])
            try fs.checkInvariants()
        }
    }

    @Test func removingAHeavilyFragmentedFileUsesAnIntent() throws {
        // A 64 KiB log holds transactions of at most 16 KiB, about 600 FREE
        // records; a file of 1500 separate extents needs the intent path.
        let r = TempRegion()
        try r.format(size: 16 << 20, logSize: 64 << 10)
        try withMount(r) { fs in
            let f = try fs.create("/frag")
            for i in 0..<1500 { try fs.write(f, at: UInt64(i) * 8192, [UInt8(i & 0x7F)]) }
            #expect(try fs.extents(f).count == 1500)
            try fs.truncate(f, size: 500 * 8192)
            #expect(try fs.extents(f).count == 500)
            try fs.checkInvariants()
            for i in 500..<1500 { try fs.write(f, at: UInt64(i) * 8192, [1]) }
            try fs.remove("/frag")
            #expect(try fs.usage().usedBlocks == 0)
            try fs.checkInvariants()
        }
    }

    @Test func aFileWithA2MUnitGets2MAlignedExtents() throws {
        let r = TempRegion()
        try r.format(size: 64 << 20, allocUnit: 2 << 20)
        try withMount(r) { fs in
            let f = try fs.create("/huge")
            try fs.write(f, at: 4096 * 3, [1, 2, 3])
            let e = try fs.extents(f)
            #expect(e.count == 1)
            #expect(e[0].fileBlock == 0 && e[0].count == 512 && e[0].regionBlock % 512 == 0)
            #expect(try fs.read(f, at: 0, count: 4096 * 3 + 3).suffix(3) == [1, 2, 3])
            try fs.truncate(f, size: 10)
            try fs.truncate(f, size: 4096 * 4)
            #expect(try fs.read(f, at: 0, count: 4096 * 4) == [UInt8](repeating: 0, count: 4096 * 4), "bytes past an old EOF read as zeroes")
            try fs.checkInvariants()
        }
    }

    @Test func theSpaceMapCondensesIntoACheckpoint() throws {
        let r = TempRegion()
        try r.format(size: 8 << 20, logSize: 1 << 20)
        var o = Filesystem.Options()
        o.condenseMinimumRecords = 64
        o.condenseFactor = 4
        try withMount(r, o) { fs in
            let f = try fs.create("/churn")
            let g0 = fs.logStatus.checkpointGeneration
            for i in 0..<200 {
                try fs.write(f, at: 0, [UInt8](repeating: UInt8(i & 0x7F), count: 8192))
                try fs.truncate(f, size: 0)
            }
            #expect(fs.logStatus.checkpointGeneration > g0)
            #expect(fs.logStatus.spaceRecordsSinceCheckpoint < 64 * 2)
            try fs.checkInvariants()
        }
    }

    @Test func aLogRecordThatDoesNotFitTheStateFailsTheMount() throws {
        let r = TempRegion()
        let sb = try r.format(size: 1 << 20, logSize: 64 << 10, checkpointSize: 64 << 10)
        // A well-formed transaction that frees blocks that are already free.
        let tx = Transaction.encoded([.free(BlockRange(start: sb.dataStartBlock, count: 1))], seq: LogSequence(1),
                                     salt: sb.logSalt, seed: sb.recordSeed)
        r.write(tx, at: Int(sb.logOffset))
        #expect { try Filesystem.mount(r.path) } throws: { ($0 as? DaxError)?.code == .EFSCORRUPTED }
    }

    /// Numbers at the top of their range (found by fsck's field fuzzing,
    /// where they trapped on `+ 1`): each is EFSCORRUPTED at mount, never a
    /// trap. A sequence of 2^64 − 1 wraps and ends replay cleanly.
    @Test(arguments: ["inode", "intent", "sequence"]) func numbersAtTheTopOfTheirRangeNeverTrap(_ what: String) throws {
        let r = TempRegion()
        let sb = try r.format(size: 1 << 20, logSize: 64 << 10, checkpointSize: 64 << 10)
        let huge = UInt64.max
        let records: [LogRecord] = switch what {
        case "inode": [.inode(InodeRecord(ino: InodeNumber(huge), parent: .root, kind: .file, name: Array("x".utf8), mode: 0o644))]
        case "intent": [.inode(InodeRecord(ino: 2, parent: .root, kind: .file, name: Array("x".utf8), mode: 0o644)),
                        .intent(IntentRecord(id: huge, kind: .truncate, flags: 0, ino1: 2, block1: 0, ino2: 0, block2: 0,
                                             count: 0, done: 0, size1: 0, size2: 0))]
        default: [.inode(InodeRecord(ino: 2, parent: .root, kind: .file, name: Array("x".utf8), mode: 0o644))]
        }
        let seq = what == "sequence" ? LogSequence(huge) : LogSequence(1)
        r.write(Transaction.encoded(records, seq: seq, salt: sb.logSalt, seed: sb.recordSeed), at: Int(sb.logOffset))
        if what == "sequence" {
            // Not the sequence replay expects: a stale transaction, ignored.
            let fs = try Filesystem.mount(r.path, options: .init(readOnly: true))
            #expect(fs.recovery.transactionsApplied == 0)
            try fs.unmount()
        } else {
            #expect { try Filesystem.mount(r.path) } throws: { ($0 as? DaxError)?.code == .EFSCORRUPTED }
        }
    }

    @Test(arguments: ["none", "duplicate name", "missing parent", "file as parent", "overlapping extents", "extents of a directory"])
    func anInconsistentCheckpointFailsTheMount(_ damage: String) throws {
        let r = TempRegion()
        let sb = try r.format(size: 1 << 20, logSize: 64 << 10, checkpointSize: 64 << 10)
        let media = try MappedRegion.map(r.path, readOnly: false)
        let layout = Layout(sb)
        var c = CheckpointContent()
        c.inodes = [InodeRecord(ino: .root, parent: .root, kind: .directory, name: [], mode: 0o755, nlink: 2),
                    InodeRecord(ino: 2, parent: .root, kind: .file, name: Array("a".utf8), mode: 0o644),
                    InodeRecord(ino: 3, parent: .root, kind: .file, name: Array("b".utf8), mode: 0o644)]
        let d = sb.dataStartBlock.raw
        var free = [BlockRange(start: sb.dataStartBlock, count: sb.dataBlockCount)]
        switch damage {
        case "none": break
        case "duplicate name": c.inodes[2].name = Array("a".utf8)
        case "missing parent": c.inodes[2].parent = 9
        case "file as parent": c.inodes[2].parent = 2
        case "overlapping extents":
            c.extents = [ExtentRecord(ino: 2, fileBlock: 0, regionBlock: BlockNumber(d), count: 4),
                         ExtentRecord(ino: 2, fileBlock: 2, regionBlock: BlockNumber(d + 4), count: 4)]
            free = [BlockRange(d + 8, sb.dataBlockCount.raw - 8)]
        default:
            c.extents = [ExtentRecord(ino: 1, fileBlock: 0, regionBlock: BlockNumber(d), count: 1)]
            free = [BlockRange(d + 1, sb.dataBlockCount.raw - 1)]
        }
        c.free = free
        let header = CheckpointHeader(generation: 2, replaySeq: LogSequence(1), nextIno: 10, nextIntentID: 1, inodeCount: 0,
                                      extentCount: 0, freeExtentCount: 0, intentCount: 0,
                                      freeBlocks: free.reduce(0) { $0 + $1.count.raw }, chunkCount: 0, salt: sb.logSalt, time: 1)
        try CheckpointIO.write(c, header: header, slot: 1, media: media, layout: layout)
        if damage == "none" {
            let fs = try Filesystem.mount(r.path)     // the same checkpoint undamaged mounts: the damage is what fails
            #expect(try fs.readdir("/").map(\.name) == ["a", "b"])
            try fs.unmount()
        } else {
            #expect { try Filesystem.mount(r.path) } throws: { ($0 as? DaxError)?.code == .EFSCORRUPTED }
        }
    }

    @Test func metadataGrowthStopsBeforeTheCheckpointSlotIsFull() throws {
        // A 64 KiB slot holds 15 chunks: a few hundred inodes. Creating past
        // 90% of it fails with ENOSPC; removals still work and checkpoint.
        let r = TempRegion()
        try r.format(size: 4 << 20, logSize: 64 << 10, checkpointSize: 64 << 10)
        try withMount(r) { fs in
            var created = 0
            do {
                while created < 10_000 { try fs.create("/file-with-a-longish-name-\(created)"); created += 1 }
                Issue.record("no ENOSPC after \(created) files")
            } catch let e as DaxError {
                #expect(e.code == .ENOSPC, "\(e)")
            }
            #expect(created > 100)
            for i in 0..<created { try fs.remove("/file-with-a-longish-name-\(i)") }
            try fs.checkpoint()
            try fs.create("/after")
            try fs.checkInvariants()
        }
        let names = try withMount(r) { fs in try fs.readdir("/").map(\.name) }
        #expect(names == ["after"])
    }
}
