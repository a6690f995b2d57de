import Testing
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
