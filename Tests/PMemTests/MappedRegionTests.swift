import Testing
#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFSTestSupport
import PMem

@Suite(.serialized) struct MappedRegionTests {
    @Test func readWriteMappingStoresAndPersists() throws {
        let r = TempRegion()
        r.fill(size: 1 << 20, byte: 0)
        let m = try MappedRegion.map(r.path, readOnly: false)
        #expect(m.size == 1 << 20)
        #expect(!m.isReadOnly)
        // A file on tmpfs is not pmem unless PMEM_IS_PMEM_FORCE=1 was set at start-up.
        #expect(m.persistencePath == .msync || m.persistencePath == .flushAndFence)
        m.store([1, 2, 3, 4], at: 4096)
        m.persist(at: 4096, count: 4)
        m.fill(0xAB, at: 8192, count: 8192)
        m.storeFlushed([9, 9], at: 70000)
        m.fence()
        #expect(m.read(at: 4096, count: 4) == [1, 2, 3, 4])
        #expect(r.read(at: 4096, count: 4) == [1, 2, 3, 4])
        #expect(r.read(at: 8192, count: 8192) == [UInt8](repeating: 0xAB, count: 8192))
        #expect(r.read(at: 70000, count: 2) == [9, 9])
    }

    /// storeFromFile and copyToFile copy through the region file's page cache
    /// (copy_file_range) or the mapping (a pipe, which copy_file_range
    /// refuses), and either way the mapping and the file agree.
    @Test func copiesBetweenHostFilesAndTheRegion() throws {
        let r = TempRegion()
        r.fill(size: 1 << 20, byte: 0)
        let src = TempRegion()
        let pattern = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        src.fill(size: 0)
        let sfd = open(src.path, O_RDWR)
        #expect(sfd >= 0)
        defer { close(sfd) }
        _ = pattern.withUnsafeBytes { pwrite(sfd, $0.baseAddress, $0.count, 0) }
        let m = try MappedRegion.map(r.path, readOnly: false)
        // Into the region at an unaligned offset, from an unaligned source offset; short at the end.
        #expect(try m.storeFromFile(sfd, fileOffset: 1000, at: 12345, count: 200_000, site: CallSite(#fileID, #line)) == 200_000)
        #expect(try m.storeFromFile(sfd, fileOffset: 250_000, at: 500_000, count: 100_000, site: CallSite(#fileID, #line)) == 50_000)
        m.fence()
        #expect(m.read(at: 12345, count: 200_000) == Array(pattern[1000..<201_000]))
        #expect(r.read(at: 12345, count: 200_000) == Array(pattern[1000..<201_000]))
        #expect(m.read(at: 500_000, count: 50_000) == Array(pattern[250_000...]))
        // Out of the region to a regular file at its position, twice in a row.
        let out = TempRegion()
        out.fill(size: 0)
        let ofd = open(out.path, O_WRONLY)
        #expect(ofd >= 0)
        try m.copyToFile(ofd, from: 12345, count: 100_000)
        try m.copyToFile(ofd, from: 112_345, count: 100_000)
        close(ofd)
        #expect(out.bytes == Array(pattern[1000..<201_000]))
        // Out to a pipe: copy_file_range refuses it, the mapping serves.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        try m.copyToFile(fds[1], from: 12345, count: 1000)
        close(fds[1])
        var got = [UInt8](repeating: 0, count: 2000)
        let n = got.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
        close(fds[0])
        #expect(Array(got[0..<max(0, n)]) == Array(pattern[1000..<2000]))
    }

    @Test func readOnlyMappingSeesTheFile() throws {
        let r = TempRegion()
        r.fill(size: 64 << 10, byte: 0x5A)
        let m = try MappedRegion.map(r.path, readOnly: true)
        #expect(m.isReadOnly)
        #expect(m.read(at: 100, count: 3) == [0x5A, 0x5A, 0x5A])
    }

    @Test func classifiesRegions() throws {
        #expect(throws: DaxError.self) { try RegionPath.inspect("/nonexistent/daxfs") }
        do { _ = try RegionPath.inspect("/tmp") } catch let e as DaxError { #expect(e.code == .EISDIR) }
        do { _ = try RegionPath.inspect("/dev/null") } catch let e as DaxError { #expect(e.code == .ENODEV) }
        let r = TempRegion()
        r.fill(size: 8192)
        let info = try RegionPath.inspect(r.path)
        #expect(info.kind == .file && info.size == 8192)
        let empty = TempRegion()
        empty.fill(size: 0)
        do { _ = try MappedRegion.map(empty.path, readOnly: false); Issue.record("mapped an empty file") }
        catch let e as DaxError { #expect(e.code == .EINVAL) }
    }

    @Test func regionLockExcludesWithinTheProcess() throws {
        let r = TempRegion()
        r.fill(size: 8192)
        let a = try RegionLock(path: r.path, exclusive: true)
        do {
            _ = try RegionLock(path: r.path, exclusive: false)
            Issue.record("shared lock granted over an exclusive one")
        } catch let e as DaxError {
            #expect(e.code == .EBUSY)
            #expect(e.message.contains("this process"))
        }
        a.release()
        let s1 = try RegionLock(path: r.path, exclusive: false)
        let s2 = try RegionLock(path: r.path, exclusive: false)
        #expect(throws: DaxError.self) { try RegionLock(path: r.path, exclusive: true) }
        s1.release(); s2.release()
        _ = try RegionLock(path: r.path, exclusive: true)
    }

    @Test func createFilePreallocatesOrStaysSparse() throws {
        let r = TempRegion()
        try RegionPath.createFile(r.path, size: 4 << 20, sparse: true)
        #expect(try RegionPath.dataRanges(r.path).isEmpty)
        #expect(throws: DaxError.self) { try RegionPath.createFile(r.path, size: 4 << 20, sparse: true) }
        let p = TempRegion("pre")
        try RegionPath.createFile(p.path, size: 4 << 20, sparse: false)
        #expect(try RegionPath.inspect(p.path).size == 4 << 20)
    }

    @Test func devicesListNeverFails() {
        // Real devices appear in the VM test; here the list may be empty, but every entry must be sane.
        for d in DaxDevices.list() {
            #expect(d.chardev.hasPrefix("/dev/dax"))
            #expect(d.align.isPowerOfTwo)
        }
    }
}
