#if canImport(Glibc)
import Glibc
#endif
import CPMem
import DaxCore

/// Physical limits of a mapping: the reference figures that daxfs speeds are
/// read against (shared/GUIDE.md, section 5). They live in PMem because PMem
/// is the only module that may call libpmem or map memory.
///
/// Every figure is taken on a `MappedRegion` of a fresh sparse file in a
/// directory the caller names (normally /dev/shm), and says which
/// persistence path the mapping took (`PersistencePath`): "flush+fence" when
/// `pmem_is_pmem` is true (device-DAX, or any file under
/// `PMEM_IS_PMEM_FORCE=1`), "msync" otherwise (a plain file on tmpfs).
///
/// Cold and warm are measured separately, because on tmpfs the first touch
/// of a page costs a page fault (a hypervisor fault in a VM, about 1-2 GB/s)
/// that dwarfs the stores themselves:
/// - cold: every run maps a fresh sparse file and times the first touch of
///   its pages, fault included;
/// - warm: the pages are faulted in (one byte stored per page) before the
///   clock starts, and the same region is measured run after run.
///
/// Figures are wall-clock times on one thread; a busy machine makes them
/// slower, never faster, which is why callers take several runs.
public enum Calibration {
    /// A bandwidth figure over a byte range of the mapping.
    public enum Bandwidth: String, Sendable, CaseIterable {
        /// `pmem_memset_persist` of the range: libpmem's memset (non-temporal
        /// stores above its threshold) and a drain. On the msync path it is
        /// followed by `pmem_msync` of the range, which is what makes the
        /// range durable there; on tmpfs that msync costs almost nothing.
        case memsetPersist = "memset_persist"
        /// Non-temporal stores: `pmem_memset` with
        /// `PMEM_F_MEM_NONTEMPORAL | PMEM_F_MEM_NODRAIN`, then one `pmem_drain`.
        /// A store-bandwidth figure: no msync on either path.
        case ntStore = "NT store"
        /// Plain `memcpy` into the mapping from a pre-faulted DRAM buffer:
        /// cached stores, not durable, no flush and no msync.
        case memcpy
    }

    /// Whether the measured pages were touched before the clock started.
    public enum Warmth: String, Sendable, CaseIterable {
        /// First touch of freshly mapped pages of a new sparse file, fault included.
        case cold
        /// Pages faulted in before timing.
        case warm
    }

    /// One timed run.
    public struct Timing: Sendable {
        /// Bytes written (bandwidth), or stores made (latency) times 8.
        public var bytes: Int
        /// Operations timed: 1 for a bandwidth run, the number of stores for a latency run.
        public var operations: Int
        public var nanoseconds: UInt64
        /// The persistence path of the mapping that was measured.
        public var path: PersistencePath

        /// Decimal gigabytes (10^9 bytes) per second.
        public var gigabytesPerSecond: Double { Double(bytes) / Double(max(nanoseconds, 1)) }
        public var nanosecondsPerOperation: Double { Double(nanoseconds) / Double(max(operations, 1)) }
    }

    // MARK: Measurements on fresh scratch regions

    /// `runs` timings of `kind` over `bytes` bytes of a scratch region in `directory`.
    ///
    /// Cold: each run maps a fresh sparse file of `bytes` bytes and times the
    /// first touch. Warm: one file is mapped and faulted in once, then every
    /// run writes the whole range again.
    public static func bandwidth(_ kind: Bandwidth, _ warmth: Warmth, bytes: Int, runs: Int,
                                 directory: String) throws -> [Timing] {
        precondition(bytes > 0 && runs > 0)
        let source = sourceBuffer(kind == .memcpy ? bytes : 0)
        defer { source?.deallocate() }
        var out: [Timing] = []
        switch warmth {
        case .cold:
            for _ in 0..<runs {
                let scratch = try ScratchRegion(directory: directory, size: bytes)
                out.append(try time(kind, on: scratch.region, offset: 0, count: bytes, source: source))
            }
        case .warm:
            let scratch = try ScratchRegion(directory: directory, size: bytes)
            prefault(scratch.region, offset: 0, count: bytes)
            for _ in 0..<runs {
                out.append(try time(kind, on: scratch.region, offset: 0, count: bytes, source: source))
            }
        }
        return out
    }

    /// `runs` timings of `stores` 8-byte stores, each followed by a persist of
    /// those 8 bytes before the next store: `pmem_persist` (a cache-line flush,
    /// clwb or clflushopt, and an sfence) on the flush+fence path,
    /// `pmem_msync` of the page on the msync path.
    ///
    /// The stores are one page apart, so a cold run faults in one fresh page
    /// per store and a warm run touches no line twice; `nanosecondsPerOperation`
    /// is the latency of one store+persist.
    public static func storePersistLatency(_ warmth: Warmth, stores: Int, runs: Int,
                                           directory: String) throws -> [Timing] {
        precondition(stores > 0 && runs > 0)
        let stride = Int(RegionPath.pageSize)
        let size = stores * stride
        var out: [Timing] = []
        switch warmth {
        case .cold:
            for _ in 0..<runs {
                let scratch = try ScratchRegion(directory: directory, size: size)
                out.append(try timeStorePersist(on: scratch.region, offset: 0, stride: stride, stores: stores))
            }
        case .warm:
            let scratch = try ScratchRegion(directory: directory, size: size)
            prefault(scratch.region, offset: 0, count: size)
            for _ in 0..<runs {
                out.append(try timeStorePersist(on: scratch.region, offset: 0, stride: stride, stores: stores))
            }
        }
        return out
    }

    /// `runs` timings of `blocks` block zeroings, `blockSize` bytes each and
    /// one block apart (every other block, as the small-allocation bench
    /// allocates), on one warm scratch region: the zeroing that the
    /// allocator does for each 4 KiB allocation, and nothing else.
    public static func zeroBlockLatency(blocks: Int, blockSize: Int = 4096, runs: Int,
                                        directory: String) throws -> [Timing] {
        precondition(blocks > 0 && runs > 0 && blockSize > 0)
        let size = blocks * 2 * blockSize
        let scratch = try ScratchRegion(directory: directory, size: size)
        prefault(scratch.region, offset: 0, count: size)
        return (0..<runs).map { _ in timeZeroBlocks(on: scratch.region, offset: 0, blockSize: blockSize, blocks: blocks) }
    }

    /// The persistence path a mapping of a file in `directory` takes in this
    /// process (it depends on the file system and on `PMEM_IS_PMEM_FORCE`).
    public static func persistencePath(directory: String) throws -> PersistencePath {
        try ScratchRegion(directory: directory, size: Int(RegionPath.pageSize)).region.persistencePath
    }

    // MARK: Measurements on a given mapping

    /// Times one `kind` over `count` bytes at `offset` of `region`. For
    /// `.memcpy`, `source` must hold `count` bytes; it is ignored otherwise.
    public static func time(_ kind: Bandwidth, on region: MappedRegion, offset: Int, count: Int,
                            source: UnsafeRawPointer? = nil) throws -> Timing {
        let p = region.calibrationAddress(at: offset, count: count)
        let msyncPath = region.persistencePath != .flushAndFence
        var msyncFailed = false
        let t0 = monotonicNow()
        switch kind {
        case .memsetPersist:
            _ = pmem_memset_persist(p, 0x5A, count)
            if msyncPath { msyncFailed = pmem_msync(p, count) != 0 }
        case .ntStore:
            _ = pmem_memset(p, 0xA5, count, daxfs_PMEM_F_MEM_NONTEMPORAL | daxfs_PMEM_F_MEM_NODRAIN)
            pmem_drain()
        case .memcpy:
            guard let source else { preconditionFailure("memcpy calibration needs a source buffer") }
            Glibc.memcpy(p, source, count)
        }
        let t1 = monotonicNow()
        if msyncFailed { throw DaxError.syscall("pmem_msync", region.info.path).with("region", region.info.path) }
        return Timing(bytes: count, operations: 1, nanoseconds: t1 - t0, path: region.persistencePath)
    }

    /// Times `stores` 8-byte store+persist pairs, `stride` bytes apart, from `offset`.
    public static func timeStorePersist(on region: MappedRegion, offset: Int, stride: Int,
                                        stores: Int) throws -> Timing {
        precondition(stride >= 8 && stride % 8 == 0 && offset % 8 == 0)
        let p = region.calibrationAddress(at: offset, count: (stores - 1) * stride + 8)
        let flushFence = region.persistencePath == .flushAndFence
        var failures = 0
        let t0 = monotonicNow()
        for i in 0..<stores {
            let word = p + i * stride
            word.storeBytes(of: UInt64(truncatingIfNeeded: i) | 1, as: UInt64.self)
            if flushFence {
                pmem_persist(word, 8)
            } else if pmem_msync(word, 8) != 0 {
                failures += 1
            }
        }
        let t1 = monotonicNow()
        if failures > 0 { throw DaxError.syscall("pmem_msync", region.info.path).with("region", region.info.path) }
        return Timing(bytes: stores * 8, operations: stores, nanoseconds: t1 - t0, path: region.persistencePath)
    }

    /// Times `blocks` zeroings of `blockSize` bytes, `2 × blockSize` apart
    /// from `offset`, each as the allocator zeroes a block it hands out:
    /// `pmem_memset` with `PMEM_F_MEM_NONTEMPORAL | PMEM_F_MEM_NODRAIN`,
    /// then `pmem_drain` (the drain a commit issues before it logs). On the
    /// msync path the zeroes are not msynced here (the allocator's fence
    /// msyncs many at once), so both paths time the same stores.
    public static func timeZeroBlocks(on region: MappedRegion, offset: Int, blockSize: Int, blocks: Int) -> Timing {
        let p = region.calibrationAddress(at: offset, count: (2 * blocks - 1) * blockSize)
        let t0 = monotonicNow()
        for i in 0..<blocks {
            _ = pmem_memset(p + 2 * i * blockSize, 0, blockSize, daxfs_PMEM_F_MEM_NODRAIN | daxfs_PMEM_F_MEM_NONTEMPORAL)
            pmem_drain()
        }
        let t1 = monotonicNow()
        return Timing(bytes: blocks * blockSize, operations: blocks, nanoseconds: t1 - t0, path: region.persistencePath)
    }

    /// Faults in every page of the range by storing one byte per page (a
    /// cached store, so at most one line per page is left in the cache).
    public static func prefault(_ region: MappedRegion, offset: Int, count: Int) {
        let p = region.calibrationAddress(at: offset, count: count)
        let page = Int(RegionPath.pageSize)
        var o = 0
        while o < count {
            p.storeBytes(of: 1, toByteOffset: o, as: UInt8.self)
            o += page
        }
    }

    // MARK: Helpers

    /// A DRAM buffer of `count` bytes, written once so that its pages are resident.
    private static func sourceBuffer(_ count: Int) -> UnsafeMutableRawPointer? {
        guard count > 0 else { return nil }
        let b = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        Glibc.memset(b, 0x3C, count)
        return b
    }

    private static func monotonicNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// A fresh sparse file of `size` bytes in `directory`, mapped read-write;
/// the file is removed when the value is released (the mapping goes with it).
public final class ScratchRegion: @unchecked Sendable {
    public let path: String
    public let region: MappedRegion

    public init(directory: String, size: Int) throws {
        path = "\(directory)/daxfs-scratch-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).img"
        try RegionPath.createFile(path, size: UInt64(size), sparse: true)
        do {
            region = try MappedRegion.map(path, readOnly: false)
        } catch {
            unlink(path)
            throw error
        }
    }

    deinit { unlink(path) }
}
