#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFS
import PMem

/// Direct access: stores through a mapping, and the cost of taking and
/// releasing one.
enum DirectAccessRows {
    static var group: BenchGroup {
        BenchGroup(
            title: "Direct access",
            layout: .comparisons,
            caption: "In-process, a warm file-backed region on /dev/shm. Without PMEM_IS_PMEM_FORCE=1 persist is msync (libpmem's path for a file that is not pmem); with it, cache-line flushes and a fence (the device-DAX path). The report's header says which.",
            rows: [mappedStores(nonTemporal: false), mappedStores(nonTemporal: true), mapRelease])
    }

    /// Sequential stores through a write mapping of a 1 GiB file, made
    /// durable, against `pmem_memset_persist` of the same number of bytes of
    /// the same mapping: cached stores (memset through the pointer) plus
    /// `Mapping.persist`, or non-temporal ones (`Mapping.fill`, which fences).
    static func mappedStores(nonTemporal: Bool) -> BenchRow {
        BenchRow(
            name: nonTemporal ? "non-temporal stores through a write mapping (Mapping.fill)" : "stores through a write mapping (memset) + persist",
            unit: .gigabytesPerSecond, goal: .speedupAtLeast(0.9),
            reference: "pmem_memset_persist, same bytes of the same mapping") { ctx in
            let bytes = ctx.pick(quick: 256 << 20, full: 1 << 30)
            let path = try EngineRows.region(ctx, size: UInt64(bytes) * 2)
            defer { unlink(path) }
            let fs = try Filesystem.mount(path)
            defer { try? fs.unmount() }
            guard let region = fs.media as? MappedRegion else { throw BenchSkip("the region is not a libpmem mapping") }
            let f = try fs.create("/mapped")
            try fs.withMapping(f, offset: 0, length: UInt64(bytes), for: .write) { _ in }    // allocate (zeroed), untimed
            let extents = try fs.extents(f)
            guard extents.count == 1 else { throw BenchSkip("the file got \(extents.count) extents, not one") }
            let regionOffset = Int(extents[0].regionBlock * UInt64(fs.superblock.blockSize))
            var byte: UInt8 = 1
            let pair = try ctx.measurePair(warmup: 1, daxfs: {
                byte &+= 1
                let t0 = monotonicNanoseconds()
                let m = try fs.map(f, offset: 0, length: UInt64(bytes), for: .write)
                if nonTemporal {
                    m.fill(byte)
                } else {
                    for s in m.segments { memset(s.base!, Int32(byte), s.count) }
                    m.persist()
                }
                m.release()
                return Double(bytes) / Double(monotonicNanoseconds() - t0)
            }, reference: {
                try Calibration.time(.memsetPersist, on: region, offset: regionOffset, count: bytes).gigabytesPerSecond
            })
            return .compared(daxfs: pair.daxfs, reference: pair.reference)
        }
    }

    /// Taking and releasing a read mapping of 4 KiB of an open `DaxFile`,
    /// uncontended: the mean of 100,000 pairs per sample. The reference is a copy-style read of
    /// the same 4 KiB (`Filesystem.read`).
    static let mapRelease = BenchRow(
        name: "take and release a 4 KiB read mapping", unit: .nanoseconds, goal: .atMost(200),
        reference: "Filesystem.read of the same 4 KiB (a copy)") { ctx in
        let path = try EngineRows.region(ctx, size: 64 << 20)
        defer { unlink(path) }
        let fs = try Filesystem.mount(path)
        defer { try? fs.unmount() }
        let f = try fs.create("/small")
        try fs.write(f, at: 0, [UInt8](repeating: 7, count: 1 << 20))
        let file = try fs.open("/small")
        let n = 100_000
        var buffer = [UInt8](repeating: 0, count: 4096)
        let pair = try ctx.measurePair(warmup: 1, daxfs: {
            let t0 = monotonicNanoseconds()
            for i in 0..<n {
                let m = try file.map(UInt64(i & 255) * 4096, 4096, for: .read)
                m.release()
            }
            return Double(monotonicNanoseconds() - t0) / Double(n)
        }, reference: {
            let t0 = monotonicNanoseconds()
            for i in 0..<n {
                _ = try buffer.withUnsafeMutableBytes { try fs.read(f, at: UInt64(i & 255) * 4096, into: $0) }
            }
            return Double(monotonicNanoseconds() - t0) / Double(n)
        })
        return .compared(daxfs: pair.daxfs, reference: pair.reference)
    }
}
