#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import PMem

/// Reference workloads on the kernel's file systems, one run per call, for
/// rows to measure side by side with their daxfs counterparts (use
/// `BenchContext.measurePair` so both sides share the machine's noise).
enum References {
    // MARK: Small allocations

    /// One run of the small-allocation reference: `calls` calls of
    /// `fallocate(fd, 0, offset, 4096)` at every other 4 KiB block (offsets
    /// 0, 8192, 16384, ...) on one new file in `directory`, the mount point
    /// of a `LoopPeer` (ext4 is the reference of record; XFS works alike).
    /// Returns calls per second.
    ///
    /// Only the loop is timed: creating and removing the file are not. Each
    /// call allocates an unwritten extent that cannot merge with its
    /// neighbours, so the file ends with `calls` extents. Caveat: the peer
    /// makes the allocations durable later, in its journal commit; the
    /// figure holds no fsync.
    static func fallocateRate(directory: String, calls: Int) throws -> Double {
        let path = "\(directory)/fallocate-\(getpid())-\(monotonicNow())"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DaxError.syscall("open", path) }
        defer { close(fd); unlink(path) }
        var failure: Errno?
        let t0 = monotonicNow()
        for i in 0..<calls where linuxFallocate(fd, 0, Int64(i) * 8192, 4096) != 0 {
            failure = Errno.current
            break
        }
        let t1 = monotonicNow()
        if let failure { throw DaxError.syscall("fallocate", path, errno: failure) }
        return Double(calls) / (Double(t1 - t0) / 1e9)
    }

    /// The number of fallocate calls of one run: 100,000, or 10,000 in --quick mode.
    static func fallocateCalls(_ ctx: BenchContext) -> Int { ctx.pick(quick: 10_000, full: 100_000) }

    // MARK: Copying a file

    /// One run of the copy reference: `cp source destination` as a whole
    /// process, destination removed first (untimed), so every run writes
    /// fresh tmpfs pages as a new daxfs file would. Returns GB/s (10^9 bytes
    /// per second) of `bytes`, the source's size.
    ///
    /// Caveat: the source's pages are in memory (it lives on /dev/shm), so
    /// this is memory-to-memory through the kernel (copy_file_range or
    /// read/write), process start included.
    static func cpRate(source: String, destination: String, bytes: Int) throws -> Double {
        unlink(destination)
        let r = try Subprocess.run(["cp", source, destination])
        return Double(bytes) / Double(max(r.nanoseconds, 1))
    }

    /// The size of the file copied by the copy reference: 1 GiB, or 256 MiB in --quick mode.
    static func cpBytes(_ ctx: BenchContext) -> Int { ctx.pick(quick: 256 << 20, full: 1 << 30) }
}
