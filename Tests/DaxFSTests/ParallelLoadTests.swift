import Testing
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFSFormat
import DaxFSTestSupport
import PMem
@testable import DaxFS

/// A large checkpoint is loaded on two threads (a precheck beside the
/// decoding, then the inode table beside the directory indexes). These
/// tests hold that load to the one-thread load, which is the definition:
/// the same state from a good checkpoint, and the same error, word for
/// word, from a damaged one, wherever the damage lies.
@Suite(.serialized) struct ParallelLoadTests {
    /// Inodes in the test checkpoint: above both thresholds, so the
    /// two-thread paths run (checked below, so that the test fails rather
    /// than passes vacuously if a threshold grows past it).
    static let files = 20_000

    /// Writes a checkpoint of `files` files in four directories (children
    /// interleaved, so that the load's runs of one parent are short), every
    /// 97th file with two extents, after `damage` is done to its content;
    /// returns the region's superblock.
    func writeCheckpoint(_ r: TempRegion, damage: String) throws -> Superblock {
        let sb = try r.format(size: 64 << 20, logSize: 1 << 20, checkpointSize: 8 << 20)
        let media = try MappedRegion.map(r.path, readOnly: false)
        let layout = Layout(sb)
        var c = CheckpointContent()
        c.inodes = [InodeRecord(ino: .root, parent: .root, kind: .directory, name: [], mode: 0o755, nlink: 6)]
        for d in 0..<4 {
            c.inodes.append(InodeRecord(ino: InodeNumber(UInt64(2 + d)), parent: .root, kind: .directory, name: Array("d\(d)".utf8), mode: 0o755, nlink: 2))
        }
        var next = sb.dataStartBlock.raw
        for i in 0..<Self.files {
            let ino = InodeNumber(UInt64(6 + i))
            c.inodes.append(InodeRecord(ino: ino, parent: InodeNumber(UInt64(2 + i % 4)), kind: .file,
                                        name: Array("file-\(i)".utf8), mode: 0o644, size: i % 97 == 0 ? 3 * 4096 : 0))
            if i % 97 == 0 {
                c.extents.append(ExtentRecord(ino: ino, fileBlock: 0, regionBlock: BlockNumber(next), count: 1))
                c.extents.append(ExtentRecord(ino: ino, fileBlock: 2, regionBlock: BlockNumber(next + 5), count: 1))
                next += 10
            }
        }
        let last = c.inodes.count - 1, middle = c.inodes.count / 2
        switch damage {
        case "bad name in the middle": c.inodes[middle].name = Array("a/b".utf8)
        case "bad name at the end": c.inodes[last].name = Array("..".utf8)
        case "duplicate name far apart": c.inodes[last].name = c.inodes[8].name; c.inodes[last].parent = c.inodes[8].parent
        case "missing parent at the end": c.inodes[last].parent = 99_999_999
        case "file as parent": c.inodes[middle].parent = c.inodes[last].ino
        case "inode above next_ino": c.inodes[last].ino = InodeNumber(UInt64(50_000_000))
        case "numbers out of order": c.inodes.swapAt(middle, middle + 1)
        case "duplicate name and an extent of a directory":     // two errors: the extent's must win
            c.inodes[last].name = c.inodes[8].name; c.inodes[last].parent = c.inodes[8].parent
            c.extents.insert(ExtentRecord(ino: 2, fileBlock: 0, regionBlock: BlockNumber(next), count: 1), at: 0)
            next += 10
        case "no root, so missing parents":                     // two errors: the root's must win
            c.inodes.removeFirst()
        default: break
        }
        let end = sb.dataStartBlock.raw + sb.dataBlockCount.raw
        var free: [BlockRange] = []
        var at = sb.dataStartBlock.raw
        for e in c.extents.sorted(by: { $0.regionBlock < $1.regionBlock }) {
            if e.regionBlock.raw > at { free.append(BlockRange(at, e.regionBlock.raw - at)) }
            at = e.regionBlock.raw + e.count.raw
        }
        free.append(BlockRange(at, end - at))
        c.free = free
        let header = CheckpointHeader(generation: 2, replaySeq: LogSequence(1), nextIno: InodeNumber(UInt64(6 + Self.files)),
                                      nextIntentID: 1, inodeCount: 0, extentCount: 0, freeExtentCount: 0, intentCount: 0,
                                      freeBlocks: free.reduce(0) { $0 + $1.count.raw }, chunkCount: 0, salt: sb.logSalt, time: 1)
        try CheckpointIO.write(c, header: header, slot: 1, media: media, layout: layout)
        let (slot, h) = try CheckpointIO.current(media: media, layout: layout)
        #expect(slot == 1)
        let chunk = { (i: Int) in layout.slot(1).lowerBound + CheckpointHeader.chunksOffset + i * CheckpointChunk.size }
        switch damage {
        case "checksum of the first chunk": media.store([media.bytes[chunk(0) + 100] ^ 0x10], at: chunk(0) + 100)
        case "checksum of a middle chunk":
            let k = Int(h.chunkCount) / 2 + 3
            media.store([media.bytes[chunk(k) + 2000] ^ 0x01], at: chunk(k) + 2000)
        case "checksum of the last chunk":
            let k = Int(h.chunkCount) - 1
            media.store([media.bytes[chunk(k) + 40] ^ 0x80], at: chunk(k) + 40)
        case "kind of an inode in the last inode chunk":       // the unchecked read fails too, differently: the CRC error must win
            let k = (0..<Int(h.chunkCount)).last { media.bytes.u16(chunk($0) + CheckpointChunk.F.kind.offset) == CheckpointChunk.Kind.inodes.rawValue }!
            #expect(k > Int(h.chunkCount) / 2)
            media.store([0x7F], at: chunk(k) + CheckpointChunk.headerSize + InodeRecord.F.kind.offset)
        case "inode count one too many":
            var bad = h
            bad.inodeCount += 1
            media.store(bad.encode(seed: sb.recordSeed), at: layout.slot(1).lowerBound)
        default: break
        }
        media.persist(at: 0, count: media.size)
        return sb
    }

    /// The state as text: every inode's record, extents and directory
    /// entries (sorted), in number order; then the free runs.
    func describe(_ s: MetadataState) -> [String] {
        var lines: [String] = []
        for n in s.inodes.sortedByNumber() {
            lines.append("\(n.ino) \(n.record) \(Array(n.extents)) removing=\(n.removing)")
            lines.append("  entries " + n.entries.map { "\(String(decoding: $0.name, as: UTF8.self))=\($0.ino)" }.sorted().joined(separator: " "))
        }
        lines.append("free \(s.allocator.freeBlocks)")
        return lines
    }

    /// Loads the current checkpoint both ways: the one-thread read into a
    /// `CheckpointContent` and a one-thread state build, and the mount's
    /// two-thread load and build.
    func loadBothWays(_ r: TempRegion, _ sb: Superblock) throws -> (sequential: Result<[String], DaxError>, parallel: Result<[String], DaxError>, chunks: Int) {
        let media = try MappedRegion.map(r.path, readOnly: true)
        let layout = Layout(sb)
        let (slot, h) = try CheckpointIO.current(media: media, layout: layout)
        func attempt(_ body: () throws -> MetadataState) -> Result<[String], DaxError> {
            do { return .success(describe(try body())) } catch let e as DaxError { return .failure(e) } catch { return .failure(DaxError(.EIO, "\(error)")) }
        }
        let sequential = attempt {
            try MetadataState(checkpoint: CheckpointIO.read(header: h, slot: slot, media: media, layout: layout), header: h, sb: sb,
                              twoThreads: false)
        }
        let parallel = attempt {
            try MetadataState(loaded: MetadataState.LoadedCheckpoint.load(header: h, slot: slot, media: media, layout: layout), header: h, sb: sb)
        }
        return (sequential, parallel, Int(h.chunkCount))
    }

    @Test(arguments: ["none", "checksum of the first chunk", "checksum of a middle chunk", "checksum of the last chunk",
                      "bad name in the middle", "bad name at the end", "duplicate name far apart", "missing parent at the end",
                      "file as parent", "inode above next_ino", "numbers out of order", "inode count one too many",
                      "kind of an inode in the last inode chunk", "duplicate name and an extent of a directory",
                      "no root, so missing parents"])
    func aLargeCheckpointLoadsAsTheOneThreadReadDoes(_ damage: String) throws {
        let r = TempRegion()
        let sb = try writeCheckpoint(r, damage: damage)
        let (sequential, parallel, chunks) = try loadBothWays(r, sb)
        #expect(chunks >= MetadataState.LoadedCheckpoint.precheckChunks, "the checkpoint must be large enough for the precheck thread")
        #expect(Self.files >= MetadataState.parallelInodes, "the checkpoint must be large enough for the two-thread index build")
        switch (sequential, parallel) {
        case (.success(let a), .success(let b)):
            #expect(damage == "none" || damage == "numbers out of order", "damage '\(damage)' must fail the load")
            #expect(a == b, "the two loads reach different states")
            #expect(a.contains { $0.contains("entries") && $0.contains("file-19999=") }, "the last file is in its directory")
        case (.failure(let a), .failure(let b)):
            #expect(damage != "none")
            #expect(a.code == .EFSCORRUPTED && b.code == .EFSCORRUPTED)
            #expect(a.message == b.message, "the two loads report different errors")
        default:
            Issue.record("one load failed and the other did not: one thread \(sequential), two threads \(parallel)")
        }
    }

    /// The whole mount takes the two-thread path and serves the namespace.
    @Test func aMountOfALargeCheckpointServesEveryName() throws {
        let r = TempRegion()
        _ = try writeCheckpoint(r, damage: "none")
        let fs = try Filesystem.mount(r.path)
        defer { try? fs.unmount() }
        for d in 0..<4 { #expect(try fs.readdir("/d\(d)").count == Self.files / 4) }
        #expect(try fs.stat("/d3/file-19999").size == 0)
        #expect(try fs.extents(try fs.lookup("/d0/file-0")).count == 2)
        #expect(throws: DaxError.self) { try fs.stat("/d0/file-1") }      // file-1 lives in d1
        try fs.create("/d0/file-1")
        #expect(throws: DaxError.self) { try fs.create("/d0/file-4") }   // taken since the checkpoint
    }

    @Test func forkJoinRunsBothSidesAndKeepsEachError() throws {
        struct Boom: Error {}
        let (a, b) = forkJoin({ 6 * 7 }, { "second" })
        #expect(try a.get() == 42 && b.get() == "second")
        let (c, d) = forkJoin({ () throws -> Int in throw Boom() }, { () throws -> Int in throw DaxError(.EIO, "second failed") })
        #expect(throws: Boom.self) { try c.get() }
        #expect(throws: DaxError.self) { try d.get() }
        // The two sides overlap: the first waits for the second's flag (the
        // fallback, when no thread can be made, runs the second first).
        let flag = Atomic<Bool>(false)
        let (e, _) = forkJoin({ () -> Bool in
            for _ in 0..<10_000_000 where !flag.load(ordering: .acquiring) { sched_yield() }
            return flag.load(ordering: .acquiring)
        }, { flag.store(true, ordering: .releasing) })
        #expect(try e.get())
    }
}
