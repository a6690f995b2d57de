import Testing
import DaxCore
import DaxFS
import DaxFSFormat
import DaxFSTestSupport
import PMem

func format(_ r: TempRegion, size: UInt64 = 16 << 20, sparse: Bool = false, force: Bool = false) throws -> Superblock {
    var o = Mkfs.Options()
    o.size = size
    o.sparse = sparse
    o.force = force
    return try Mkfs.run(r.path, o).superblock
}

@Suite(.serialized) struct MountTests {
    @Test func mountMarksDirtyAndUnmountMarksClean() throws {
        let r = TempRegion()
        _ = try format(r)
        let fs = try Filesystem.mount(r.path)
        #expect(fs.stateAtMount == .clean)
        let word = r.read(at: Superblock.stateWordOffset, count: 8).withUnsafeBytes { $0.u64(0) }
        #expect(MountState(word: word) == .dirty)
        try fs.unmount()
        let after = r.read(at: Superblock.stateWordOffset, count: 8).withUnsafeBytes { $0.u64(0) }
        #expect(MountState(word: after) == .clean)
    }

    @Test func secondMountIsRefusedWhileTheFirstLives() throws {
        let r = TempRegion()
        _ = try format(r)
        let fs = try Filesystem.mount(r.path)
        do {
            _ = try Filesystem.mount(r.path)
            Issue.record("second read-write mount succeeded")
        } catch let e as DaxError {
            #expect(e.code == .EBUSY)
            #expect(e.message.contains("in use by"))
        }
        #expect(throws: DaxError.self) { try Filesystem.mount(r.path, options: .init(readOnly: true)) }
        try fs.unmount()
        let again = try Filesystem.mount(r.path)
        try again.unmount()
    }

    @Test func readOnlyMountsShareAndWriteNothing() throws {
        let r = TempRegion()
        _ = try format(r)
        let before = r.fingerprint
        let a = try Filesystem.mount(r.path, options: .init(readOnly: true))
        let b = try Filesystem.mount(r.path, options: .init(readOnly: true))
        #expect(a.isReadOnly && b.isReadOnly)
        #expect(throws: DaxError.self) { try Filesystem.mount(r.path) }
        try a.unmount(); try b.unmount()
        #expect(r.fingerprint == before)
    }

    @Test func unknownIncompatRefusesAndUnknownRoCompatForcesReadOnly() throws {
        let r = TempRegion()
        var sb = try format(r)
        sb.features.incompat = 1 << 40
        r.write(sb.encode(state: .clean), at: 0)
        do {
            _ = try Filesystem.mount(r.path)
            Issue.record("mounted with unknown incompat bits")
        } catch let e as DaxError {
            #expect(e.code == .EOPNOTSUPP)
            #expect(e.message.contains("bit 40"))
        }
        sb.features.incompat = 0
        sb.features.roCompat = 1 << 5
        r.write(sb.encode(state: .clean), at: 0)
        let before = r.fingerprint
        let fs = try Filesystem.mount(r.path)
        #expect(fs.isReadOnly)
        #expect(fs.readOnlyReason?.contains("bit 5") == true)
        try fs.unmount()
        #expect(r.fingerprint == before)
    }

    @Test func damagedPrimaryPointsAtTheBackup() throws {
        let r = TempRegion()
        _ = try format(r)
        r.write([0xFF], at: 100)
        do {
            _ = try Filesystem.mount(r.path)
            Issue.record("mounted a damaged superblock")
        } catch let e as DaxError {
            #expect(e.code == .EFSCORRUPTED)
            #expect(e.message.contains("backup superblock is intact"))
        }
    }

    @Test func notDaxfsIsReported() throws {
        let r = TempRegion()
        r.fill(size: 1 << 20)
        #expect(throws: DaxError.self) { try Filesystem.mount(r.path) }
        do { _ = try Filesystem.mount(r.path) } catch let e as DaxError { #expect(e.code == .ENODATA) }
    }

    /// mkfs writes only the metadata blocks: on a sparse file every data
    /// range SEEK_DATA finds lies inside the superblocks or checkpoint headers.
    @Test(arguments: [UInt64(1) << 30, UInt64(1) << 40])
    func mkfsWritesOnlyMetadata(size: UInt64) throws {
        let r = TempRegion()
        let sb = try format(r, size: size, sparse: true)
        let layout = Layout(sb)
        let allowed: [Range<UInt64>] = [
            0..<UInt64(sb.blockSize),
            UInt64(layout.slot(0).lowerBound)..<UInt64(layout.slot(0).lowerBound + 3 * 4096),
            UInt64(layout.slot(1).lowerBound)..<UInt64(layout.slot(1).lowerBound + 4096),
            sb.backupOffset..<sb.regionSize,
        ]
        let ranges = try RegionPath.dataRanges(r.path)
        #expect(!ranges.isEmpty)
        var written: UInt64 = 0
        for d in ranges {
            written += UInt64(d.count)
            #expect(allowed.contains { $0.lowerBound <= d.lowerBound && d.upperBound <= $0.upperBound }, "data at \(d) is not metadata")
        }
        #expect(written <= 6 * 4096)
        let fs = try Filesystem.mount(r.path, options: .init(readOnly: true))
        #expect(try fs.usage().freeBlocks == sb.dataBlockCount.raw)
        try fs.unmount()
    }

    @Test func infoReportsTheFreshFilesystem() throws {
        let r = TempRegion()
        let sb = try format(r)
        let report = try RegionReport.read(r.path)
        #expect(report.state == "clean")
        #expect(report.uuid == sb.uuidString)
        #expect(report.usage.freeBlocks == sb.dataBlockCount.raw)
        #expect(report.usage.inodes == 1)
        #expect(report.currentSlot == 0)
        #expect(report.checkpoint[1].valid == false)
        #expect(report.log.transactions == 0)
    }
}
