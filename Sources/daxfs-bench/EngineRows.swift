#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFS
import DaxFSFormat
import PMem

/// The engine: zero-on-allocate against `pmem_memset_persist` on the same
/// mapping, recovery time, and DRAM per extent. Every daxfs region here is a
/// sparse file on /dev/shm, mounted in this process; the persistence path
/// (msync, or flush+fence under PMEM_IS_PMEM_FORCE=1) is in the header.
enum EngineRows {
    static var group: BenchGroup {
        BenchGroup(
            title: "Engine",
            layout: .comparisons,
            caption: "In-process: a daxfs region on /dev/shm mounted by daxfs-bench itself. Warm: the pages were faulted in before timing.",
            rows: [zeroOnAllocate, replay, cleanMount, memoryPerExtent])
    }

    /// A fresh sparse region formatted with `options`, removed by the caller.
    static func region(_ ctx: BenchContext, size: UInt64, logSize: UInt64? = nil, checkpointSize: UInt64? = nil) throws -> String {
        let path = ctx.scratchPath("region")
        var o = Mkfs.Options()
        o.size = size
        o.sparse = true
        o.logSize = logSize
        o.checkpointSize = checkpointSize
        _ = try Mkfs.run(path, o)
        return path
    }

    /// Allocating 1 GiB into a file: the allocator zeroes it with
    /// non-temporal stores and the commit fences; the reference is
    /// `pmem_memset_persist` of the same number of bytes of the same mapping
    /// (the data area), both warm.
    static let zeroOnAllocate = BenchRow(
        name: "zero-on-allocate, warm", unit: .gigabytesPerSecond, goal: .speedupAtLeast(0.9),
        reference: "pmem_memset_persist, same bytes of the same mapping") { ctx in
        let bytes = ctx.pick(quick: 256 << 20, full: 1 << 30)
        let path = try region(ctx, size: UInt64(bytes) * 2)
        defer { unlink(path) }
        let fs = try Filesystem.mount(path)
        defer { try? fs.unmount() }
        guard let mapping = fs.media as? MappedRegion else { throw BenchSkip("the region is not a libpmem mapping") }
        let dataOffset = Int(fs.superblock.dataOffset)
        Calibration.prefault(mapping, offset: dataOffset, count: bytes)
        let f = try fs.create("/zero")
        let pair = try ctx.measurePair(warmup: 1, daxfs: {
            try fs.truncate(f, size: 0)
            let t0 = monotonicNanoseconds()
            try fs.allocate(f, offset: 0, length: UInt64(bytes))
            return Double(bytes) / Double(monotonicNanoseconds() - t0)
        }, reference: {
            try fs.truncate(f, size: 0)     // the blocks are free again: overwriting them harms nothing
            return try Calibration.time(.memsetPersist, on: mapping, offset: dataOffset, count: bytes).gigabytesPerSecond
        })
        return .compared(daxfs: pair.daxfs, reference: pair.reference)
    }

    /// Mounting a region whose log holds 1,000,000 records written since the
    /// last checkpoint (allocations of 4 KiB at every other block, three
    /// records each), against mounting the same state from a checkpoint.
    static let replay = BenchRow(
        name: "mount replaying 1,000,000 log records", unit: .milliseconds, goal: .atMost(500),
        reference: "mount of the same state from a checkpoint") { ctx in
        let path = try region(ctx, size: 16 << 30, logSize: 256 << 20, checkpointSize: 512 << 20)
        defer { unlink(path) }
        var o = Filesystem.Options()
        o.checkpointAfterRecords = 0
        o.condenseFactor = 0
        o.checkpointOnUnmount = false
        let fs = try Filesystem.mount(path, options: o)
        let f = try fs.create("/log")
        var i: UInt64 = 0
        while fs.logStatus.recordsSinceCheckpoint < 1_000_000 {
            try fs.allocate(f, offset: i * 8192, length: 4096)
            i += 1
        }
        try fs.unmount()
        let replayed = try ctx.measure(warmup: 1) {
            let t0 = monotonicNanoseconds()
            let m = try Filesystem.mount(path, options: o)
            let dt = monotonicNanoseconds() - t0
            guard m.recovery.recordsApplied >= 1_000_000 else { throw BenchSkip("replay applied only \(m.recovery.recordsApplied) records") }
            try m.unmount()
            return Double(dt) / 1e6
        }
        let m = try Filesystem.mount(path)
        try m.checkpoint()
        try m.unmount()
        let fromCheckpoint = try ctx.measure(warmup: 1) {
            let t0 = monotonicNanoseconds()
            let m = try Filesystem.mount(path, options: o)
            let dt = monotonicNanoseconds() - t0
            try m.unmount()
            return Double(dt) / 1e6
        }
        return .compared(daxfs: replayed, reference: fromCheckpoint)
    }

    /// Mounting after a clean unmount, 100,000 empty files in one directory.
    static let cleanMount = BenchRow(
        name: "mount after a clean unmount, 100,000 files", unit: .milliseconds, goal: .atMost(20),
        reference: "mount of an empty region of the same size") { ctx in
        let path = try region(ctx, size: 4 << 30)
        let empty = try region(ctx, size: 4 << 30)
        defer { unlink(path); unlink(empty) }
        let fs = try Filesystem.mount(path)
        for i in 0..<100_000 { try fs.create("/f\(i)") }
        try fs.unmount()
        func time(_ p: String) throws -> Double {
            let t0 = monotonicNanoseconds()
            let m = try Filesystem.mount(p)
            let dt = monotonicNanoseconds() - t0
            try m.unmount()
            return Double(dt) / 1e6
        }
        let pair = try ctx.measurePair(warmup: 1, daxfs: { try time(path) }, reference: { try time(empty) })
        return .compared(daxfs: pair.daxfs, reference: pair.reference)
    }

    /// DRAM per extent: anonymous resident memory added by mounting a region
    /// whose one file has N separate extents (every other block), in a fresh
    /// process (`MountMemory`), divided by N.
    static let memoryPerExtent = BenchRow(
        name: "DRAM per extent (anonymous resident memory of a mount, fresh process)", unit: BenchUnit(symbol: "B", higherIsBetter: false),
        goal: .atMost(100), reference: "the checkpoint's extent record (32 B)") { ctx in
        let extents = ctx.pick(quick: 200_000, full: 1_000_000)
        let path = try region(ctx, size: UInt64(extents) * 8192 + (1 << 30))
        defer { unlink(path) }
        var o = Filesystem.Options()
        o.checkpointAfterRecords = 0
        let fs = try Filesystem.mount(path, options: o)
        let f = try fs.create("/many")
        for i in 0..<UInt64(extents) { try fs.allocate(f, offset: i * 8192, length: 4096) }
        try fs.unmount()
        let check = try Filesystem.mount(path)
        let count = try check.extents(try check.lookup("/many")).count
        try check.unmount()
        let perExtent = try ctx.measure { try MountMemory.measure(path) / Double(count) }
        return .compared(daxfs: perExtent, reference: Stats([32, 32, 32, 32, 32]))
    }

}
