#if canImport(Glibc)
import Glibc
#endif
import CPMem
import DaxCore
import Synchronization

/// A region mapped into this process: the real implementation of the
/// persistence choke point.
///
/// Read-write mappings come from `pmem_map_file`. Persistence follows
/// `pmem_is_pmem` on the mapping: true (device-DAX, or any file when
/// `PMEM_IS_PMEM_FORCE=1`) gives cache-line flushes plus a fence
/// (`pmem_flush`/`pmem_drain`, non-temporal `pmem_memset`/`pmem_memcpy`);
/// false (a file on tmpfs or a disk) gives `pmem_msync` of spans that hold
/// the flushed pages at each fence, after a store fence (`fill` uses
/// non-temporal stores on both paths). Read-only mappings use mmap(2) with
/// PROT_READ, so a read-only user can never write.
///
/// A region that is a regular file on the msync path (tmpfs, a disk file)
/// also keeps a descriptor of the file, so that copies between it and a host
/// file go through the kernel's page cache (copy_file_range(2), as cp does)
/// instead of through the mapping: a store through a mapping of a tmpfs page
/// that fallocate reserved but never wrote first clears the page, and a copy
/// out of the mapping takes a page fault per 64 KiB; the descriptor does
/// neither. Both views are the same page cache, so they stay coherent, and
/// msync of a range writes back every dirty page in it however it was
/// dirtied, so the persistence rules do not change.
///
/// Thread safety: stores to disjoint ranges may run concurrently. The msync
/// path keeps a few spans of its pending pages under a mutex; a fence msyncs
/// each span in one call, and fences on that path run one at a time (see
/// `fence` and `PendingSpans`).
public final class MappedRegion: PersistentMedia, @unchecked Sendable {
    public let info: RegionInfo
    public let isReadOnly: Bool
    public let persistencePath: PersistencePath
    public let size: Int
    private let base: UnsafeMutableRawPointer
    private let mappedByLibpmem: Bool
    /// The page-aligned spans flushed but not yet msync'd (msync path only).
    /// Under a pthread mutex rather than `Synchronization.Mutex`, whose futex
    /// ThreadSanitizer does not see (it reports false races through it).
    private let pending = PendingSpans()
    /// How many spans of pages wait for the next fence (msync path; tests).
    var pendingSpanCount: Int { pending.spanCount }
    private let pageMask = Int(RegionPath.pageSize) - 1
    /// A descriptor of the region file for kernel copies (msync path,
    /// regular files only), or -1. Closed with the mapping.
    private let fileDescriptor: Int32

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// Maps an existing region (a regular file or a device-DAX) whole.
    ///
    /// Throws ENOENT, EISDIR, ENODEV (a character device that is not a
    /// device-DAX), EINVAL (an empty file, or an alignment the mapping cannot
    /// honour), or the error of the failed system call.
    ///
    /// Mapping opens and closes a descriptor of the region, which drops this
    /// process's POSIX record locks on it; pass the caller's `lock` so that
    /// its owner record ("in use by pid N") is taken again afterwards.
    public static func map(_ path: String, readOnly: Bool, lock: RegionLock? = nil) throws -> MappedRegion {
        defer { lock?.publishOwner() }
        let info = try RegionPath.inspect(path)
        guard info.size > 0 else {
            throw DaxError(.EINVAL, "\(path) is empty (0 bytes); create it with 'daxfs mkfs --size'").with("region", path)
        }
        guard info.size <= UInt64(Int.max) else { throw DaxError(.EFBIG, "\(path) is too large to map").with("region", path) }
        if info.kind == .deviceDAX {
            guard info.alignment.isPowerOfTwo, info.size % info.alignment == 0 else {
                throw DaxError(.EINVAL, "\(path): size \(info.size) is not a multiple of the device alignment \(ByteSize.exact(info.alignment)); the mapping cannot honour it")
                    .with("region", path)
            }
        }
        return readOnly ? try mapReadOnly(info) : try mapReadWrite(info)
    }

    private static func mapReadWrite(_ info: RegionInfo) throws -> MappedRegion {
        var mappedLen = 0
        var isPmem: Int32 = 0
        let fd = info.kind == .file ? try Sys.open(info.path, O_RDWR) : -1
        errno = 0
        guard let addr = daxfs_pmem_map_file(info.path, 0, 0, 0, &mappedLen, &isPmem) else {
            if fd >= 0 { Glibc.close(fd) }
            let e = Errno.current
            let why = String(cString: daxfs_pmem_errormsg())
            var msg = "cannot map \(info.path): \(why.isEmpty ? e.strerror : why)"
            if info.kind == .deviceDAX {
                msg += " (device alignment \(ByteSize.exact(info.alignment)), size \(info.size))"
            }
            throw DaxError(e == Errno(rawValue: 0) ? .EIO : e, msg).with("region", info.path)
        }
        if isPmem != 0 && fd >= 0 { Glibc.close(fd) }
        let region = MappedRegion(info: info, base: addr, size: mappedLen, readOnly: false,
                                  path: isPmem != 0 ? .flushAndFence : .msync, libpmem: true,
                                  fileDescriptor: isPmem != 0 ? -1 : fd)
        try region.checkGeometry()
        return region
    }

    private static func mapReadOnly(_ info: RegionInfo) throws -> MappedRegion {
        let fd = try Sys.open(info.path, O_RDONLY)
        let addr = mmap(nil, Int(info.size), PROT_READ, MAP_SHARED, fd, 0)
        guard let addr, addr != MAP_FAILED else {
            let e = Errno.current
            Glibc.close(fd)
            throw DaxError(e, "cannot map \(info.path) read-only: \(e.strerror)" +
                           (info.kind == .deviceDAX ? " (device alignment \(ByteSize.exact(info.alignment)))" : ""))
                .with("region", info.path)
        }
        let isPmem = pmem_is_pmem(addr, Int(info.size)) != 0
        let keep = !isPmem && info.kind == .file
        if !keep { Glibc.close(fd) }
        let region = MappedRegion(info: info, base: addr, size: Int(info.size), readOnly: true,
                                  path: isPmem ? .flushAndFence : .msync, libpmem: false, fileDescriptor: keep ? fd : -1)
        try region.checkGeometry()
        return region
    }

    private init(info: RegionInfo, base: UnsafeMutableRawPointer, size: Int, readOnly: Bool,
                 path: PersistencePath, libpmem: Bool, fileDescriptor: Int32) {
        self.info = info
        self.fileDescriptor = fileDescriptor
        self.base = base
        self.size = size
        self.isReadOnly = readOnly
        self.persistencePath = path
        self.mappedByLibpmem = libpmem
    }

    /// The mapping must cover the whole region and start on the device alignment.
    private func checkGeometry() throws {
        if UInt64(size) != info.size {
            throw DaxError(.EIO, "\(info.path): mapped \(size) bytes but the region has \(info.size)").with("region", info.path)
        }
        if info.kind == .deviceDAX && UInt(bitPattern: base) % UInt(info.alignment) != 0 {
            throw DaxError(.EINVAL, "\(info.path): the mapping at \(base) does not honour the device alignment \(ByteSize.exact(info.alignment))")
                .with("region", info.path)
        }
    }

    deinit {
        if mappedByLibpmem { _ = pmem_unmap(base, size) } else { _ = munmap(base, size) }
        if fileDescriptor >= 0 { Glibc.close(fileDescriptor) }
    }

    /// A writable pointer into the mapping, for direct-access mappings of file
    /// data. Stores through it bypass the choke point; whoever stores through it
    /// makes the range durable with `flush` + `fence` (or `persist`).
    public func directPointer(at offset: Int) -> UnsafeMutableRawPointer {
        precondition(!isReadOnly && offset >= 0 && offset <= size)
        return base + offset
    }

    /// The address of `count` bytes at `offset`, for the physical-limit
    /// measurements in `Calibration.swift`, which call libpmem on the mapping
    /// directly instead of going through the choke point. Bounds-checked;
    /// read-write mappings only. Internal: nothing outside PMem sees it.
    func calibrationAddress(at offset: Int, count: Int) -> UnsafeMutableRawPointer {
        check(offset, count)
        return base + offset
    }

    // MARK: PersistentMedia

    @inline(__always) private func check(_ offset: Int, _ count: Int) {
        precondition(!isReadOnly, "store to a read-only mapping")
        precondition(offset >= 0 && count >= 0 && offset <= size - count, "store out of bounds")
    }

    public func store(_ src: UnsafeRawBufferPointer, at offset: Int, site: CallSite) {
        check(offset, src.count)
        guard let s = src.baseAddress else { return }
        memcpy(base + offset, s, src.count)
    }

    public func storeFlushed(_ src: UnsafeRawBufferPointer, at offset: Int, site: CallSite) {
        check(offset, src.count)
        guard let s = src.baseAddress else { return }
        if persistencePath == .flushAndFence {
            _ = pmem_memcpy(base + offset, s, src.count, daxfs_PMEM_F_MEM_NODRAIN)
        } else {
            memcpy(base + offset, s, src.count)
            addPending(offset, src.count)
        }
    }

    /// Non-temporal stores on both paths: the bytes go to memory without
    /// first reading each line into the cache, which matters for the
    /// allocator's zeroing of blocks nobody has touched for a while. On the
    /// msync path the pages still become dirty and the next fence msyncs them.
    public func fill(_ byte: UInt8, at offset: Int, count: Int, site: CallSite) {
        fill(byte, at: offset, count: count, site: site, overlapping: {})
    }

    /// On the msync path the pages join the pending spans only after
    /// `body`: the spans' mutex is a locked instruction, which would wait
    /// for the stores first. A fence by another thread in between does not
    /// cover them; any fence after this returns does.
    public func fill(_ byte: UInt8, at offset: Int, count: Int, site: CallSite, overlapping body: () throws -> Void) rethrows {
        check(offset, count)
        _ = pmem_memset(base + offset, Int32(byte), count, daxfs_PMEM_F_MEM_NODRAIN | daxfs_PMEM_F_MEM_NONTEMPORAL)
        defer { if persistencePath == .msync { addPending(offset, count) } }
        try body()
    }

    /// One copy done by the kernel, with no bounce buffer, then a flush of
    /// what it wrote: copy_file_range(2) from `fd` into the region file when
    /// the region has a descriptor (no page of the mapping is touched), else
    /// pread(2) straight into the mapping.
    public func storeFromFile(_ fd: Int32, fileOffset: UInt64, at offset: Int, count: Int, site: CallSite) throws -> Int {
        check(offset, count)
        var got = 0
        if fileDescriptor >= 0 {
            got = try Sys.copyFileRange(from: fd, at: fileOffset, to: fileDescriptor, at: UInt64(offset), count: count) ?? 0
        }
        if got < count {
            got += try Sys.pread(fd, into: UnsafeMutableRawBufferPointer(start: base + offset + got, count: count - got),
                                 at: fileOffset + UInt64(got))
        }
        flush(at: offset, count: got, site: site)
        return got
    }

    /// copy_file_range(2) from the region file to `fd` at its position when
    /// the region has a descriptor and the kernel can (a regular file
    /// destination), else write(2) from the mapping.
    public func copyToFile(_ fd: Int32, from offset: Int, count: Int) throws {
        precondition(offset >= 0 && count >= 0 && offset <= size - count, "copy out of bounds")
        var done = 0
        if fileDescriptor >= 0 {
            done = try Sys.copyFileRange(from: fileDescriptor, at: UInt64(offset), to: fd, at: nil, count: count) ?? 0
        }
        if done < count {
            try Sys.write(fd, UnsafeRawBufferPointer(start: base + offset + done, count: count - done))
        }
    }

    public func flush(at offset: Int, count: Int, site: CallSite) {
        check(offset, count)
        if persistencePath == .flushAndFence { pmem_flush(base + offset, count) } else { addPending(offset, count) }
    }

    public func fence(site: CallSite) {
        precondition(!isReadOnly, "fence on a read-only mapping")
        // Both paths start with a store fence: `fill` uses non-temporal
        // stores on the msync path too, and those are weakly ordered, so they
        // must be globally visible before msync writes the pages back.
        pmem_drain()
        if persistencePath == .flushAndFence { return }
        // One fence msyncs at a time (the writeback lock), from taking the
        // spans to the last msync: a fence that finds none because
        // another fence just took them must still wait until those pages are
        // written back, or it would return before the stores it orders are
        // durable. Stores and addPending only take the spans' own mutex, so
        // they never wait for an msync.
        pending.withWriteback {
            withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: PendingSpans.maxSpans) { buffer in
                guard let out = buffer.baseAddress else { return }
                let n = pending.take(into: out)
                for r in buffer[0..<n] { _ = pmem_msync(base + r.lowerBound, r.count) }
            }
        }
    }

    /// A store fence (`pmem_drain`) and nothing else: on the flush+fence
    /// path that is the persistence fence of this thread's flushes; on the
    /// msync path the pending pages wait for the next `fence`.
    public func drain(site: CallSite) {
        precondition(!isReadOnly, "drain on a read-only mapping")
        pmem_drain()
    }

    private func addPending(_ offset: Int, _ count: Int) {
        guard count > 0 else { return }
        let lo = offset & ~pageMask
        let hi = min(size, (offset + count + pageMask) & ~pageMask)
        pending.add(lo..<hi)
    }
}

/// The pages flushed since the last fence on the msync path, kept as at
/// most `maxSpans` spans, under a mutex, and the writeback lock that makes
/// fences wait for one another's msyncs. Both are DaxCore's `Lock`. Lock
/// order: writeback, then the spans' mutex.
///
/// Why spans and not a list of ranges: a fence costs one msync(2) per span,
/// however scattered the pages in it. A group commit of small allocations
/// dirties a few hundred pages that are not adjacent, and one msync each
/// cost more than the allocations themselves. A page joins a span when it
/// lies within `joinGap` of it. msync writes back every dirty page in a
/// span, pending or not: the pages between pending ones that are clean cost
/// nothing (tmpfs has no writeback at all), and those dirtied by stores not
/// flushed yet (through a `Mapping`, or by another thread) are written back
/// early, which is harmless. `joinGap` bounds that extra work per gap; the
/// spans keep far-apart areas (the log's tail, the data) apart. Only when
/// more than `maxSpans` far-apart areas are pending does the nearest span
/// grow to take the next one. O(maxSpans) per add and per take; allocates
/// nothing after init.
final class PendingSpans: @unchecked Sendable {
    static let maxSpans = 4
    static let joinGap = 1 << 20
    private let m = Lock()
    private let writeback = Lock()
    private let spans = UnsafeMutablePointer<Range<Int>>.allocate(capacity: PendingSpans.maxSpans)
    private var count = 0

    init() { spans.initialize(repeating: 0..<0, count: Self.maxSpans) }
    deinit { spans.deallocate() }

    /// Runs `body` (a fence's take-and-msync) holding the writeback lock.
    func withWriteback<T>(_ body: () throws -> T) rethrows -> T {
        try writeback.withLock(body)
    }

    /// Adds `r` (not empty) to the span it lies within `joinGap` of, else
    /// to a new span, else (all taken) to the span it widens least.
    func add(_ r: Range<Int>) {
        m.withLock {
            for i in 0..<count {
                let s = spans[i]
                if r.lowerBound <= s.upperBound + Self.joinGap && s.lowerBound <= r.upperBound + Self.joinGap {
                    spans[i] = Self.union(s, r)
                    return
                }
            }
            if count < Self.maxSpans {
                spans[count] = r
                count += 1
                return
            }
            var best = 0, least = Int.max
            for i in 0..<count {
                let growth = Self.union(spans[i], r).count - spans[i].count
                if growth < least { best = i; least = growth }
            }
            spans[best] = Self.union(spans[best], r)
        }
    }

    /// The smallest range holding both `a` and `b` (and any gap between them).
    @inline(__always)
    private static func union(_ a: Range<Int>, _ b: Range<Int>) -> Range<Int> {
        Swift.min(a.lowerBound, b.lowerBound)..<Swift.max(a.upperBound, b.upperBound)
    }

    /// The pending spans now (tests).
    var spanCount: Int { m.withLock { count } }

    /// Moves the spans into `out` (uninitialized room for `maxSpans`) and
    /// empties the set; returns how many there were.
    func take(into out: UnsafeMutablePointer<Range<Int>>) -> Int {
        m.withLock {
            let n = count
            out.initialize(from: spans, count: n)
            count = 0
            return n
        }
    }
}
