import DaxCore
import DaxFSFormat
import PMem

/// Direct access: mappings of file ranges, and the allocation unit of a file.
///
/// ## Locks
/// `map` takes the file's invalidate lock shared (kept by the mapping),
/// then the metadata lock (shared for a read mapping, exclusive for a write
/// mapping that has holes to fill), then inside `commit` the log and
/// allocator locks; the order `Filesystem` documents.
///
/// ## Crash contract
/// A write mapping over holes allocates zeroed blocks through the allocator
/// (zeroes durable before the commit that maps them) and grows the size to
/// cover the range, in transactions of bounded size, the size last; a crash
/// leaves either the old size (and maybe some of the new zeroed blocks, which
/// read as zeroes) or the new one. Stores through a mapping are durable only
/// after `Mapping.persist` or `syncFile`. Under `Durability.deferred` the
/// transactions that mapped new blocks may still be staged in DRAM
/// (`Journal.stage`): `Mapping.persist` makes the stored bytes durable, but
/// only `syncFile` (or `sync`) also makes the blocks' mapping durable.
extension Filesystem {
    /// Maps bytes [offset, offset+length) of file `ino` for direct access.
    ///
    /// A read mapping must lie inside the file (EINVAL otherwise). A write
    /// mapping allocates zeroed blocks for every hole of the range first (all
    /// or nothing on ENOSPC) and grows the file to cover it; two threads that
    /// write-map the same hole at once get the same blocks, zeroed once,
    /// before either sees a pointer. Errors: EINVAL (length 0), EFBIG, EISDIR,
    /// ENOENT, ENOSPC, EROFS (write on a read-only mount).
    /// - Complexity: O(log n + extents in the range), plus the allocation of
    ///   the holes for a write mapping.
    public func map(_ ino: InodeNumber, offset: UInt64, length: UInt64, for access: MapAccess) throws -> Mapping {
        try map(try fileNode(ino), offset: offset, length: length, for: access)
    }

    /// `map` of an inode already looked up (a `DaxFile`'s).
    func map(_ n: Inode, offset: UInt64, length: UInt64, for access: MapAccess) throws -> Mapping {
        let ino = n.ino
        if access == .write { try checkWritable() }
        guard length > 0 else { throw DaxError(.EINVAL, "cannot map 0 bytes").with("ino", ino) }
        let (end, o) = offset.addingReportingOverflow(length)
        if o || end > Geometry.maximumFileSize || length > UInt64(Int.max) {
            throw DaxError(.EFBIG, "range [\(offset), +\(length)) passes the maximum file size \(Geometry.maximumFileSize)").with("ino", ino)
        }
        let owner = n.lockInvalidateShared(mapping: true)
        do {
            let segments: Mapping.Segments
            if access == .read {
                segments = try n.withReadLock {
                    try checkAlive(n)
                    try checkNoPendingRangeIntent(n)
                    if end > n.record.size {
                        throw DaxError(.EINVAL, "read mapping [\(offset), \(end)) passes the end of the file (size \(n.record.size))").with("ino", ino)
                    }
                    return mappingSegments(n, offset, end, mutable: false)
                }
            } else {
                segments = try n.withWriteLock {
                    try checkAlive(n)
                    if hasHoles(n, offset, end) || end > n.record.size {
                        let reservation = try reserveHoles(n, from: offset, to: end)
                        let newSize = max(n.record.size, end)
                        try commitPlaced(n, reservation) { tx in
                            if newSize > n.record.size { zeroTail(n, from: n.record.size, to: newSize) }
                            tx.append(.inodeAttr(touched(n, size: newSize, now: inodeTimeNanoseconds())))
                            tx.dataPending = true
                        }
                    }
                    return mappingSegments(n, offset, end, mutable: true)
                }
            }
            return Mapping(node: n, owner: owner, media: media, offset: offset, length: length, access: access, segments: segments)
        } catch {
            n.unlockInvalidateShared(owner: owner)
            throw error
        }
    }

    /// A handle on the file at `path` (or inode `ino`) for direct access:
    /// it keeps the inode, so that mapping it again costs no lookup.
    public func open(_ path: String) throws -> DaxFile {
        DaxFile(fs: self, node: try fileNode(try lookup(path)))
    }

    public func open(_ ino: InodeNumber) throws -> DaxFile {
        DaxFile(fs: self, node: try fileNode(ino))
    }

    /// Runs `body` with a mapping, released when it returns or throws.
    public func withMapping<T>(_ ino: InodeNumber, offset: UInt64, length: UInt64, for access: MapAccess,
                               _ body: (Mapping) throws -> T) throws -> T {
        let m = try map(ino, offset: offset, length: length, for: access)
        defer { m.release() }
        return try body(m)
    }

    /// Makes every store through mappings of file `ino` durable (its mapped
    /// blocks are flushed, then one fence), and with deferred durability the
    /// log too. O(mapped bytes / cache line) on the flush+fence path.
    public func syncFile(_ ino: InodeNumber) throws {
        let n = try fileNode(ino)
        try n.withReadLock {
            try checkAlive(n)
            let bs = blockSize
            for e in n.extents { media.flush(at: Int(e.regionBlock * bs), count: Int(e.count * bs)) }
        }
        media.fence()
        sync()
    }

    private func hasHoles(_ n: Inode, _ from: UInt64, _ to: UInt64) -> Bool {
        let bs = blockSize
        return !n.extents.holes(in: from / bs, (to + bs - 1) / bs).isEmpty
    }

    /// The segments of bytes [from, to): the first one apart, so that the
    /// common single-segment mapping allocates no array.
    private func mappingSegments(_ n: Inode, _ from: UInt64, _ to: UInt64, mutable: Bool) -> Mapping.Segments {
        let bs = blockSize
        let base = UnsafeMutableRawPointer(mutating: media.bytes.baseAddress!)
        var out = Mapping.Segments()
        var at = from
        n.extents.forEachExtent(overlapping: from / bs, (to + bs - 1) / bs) { e in
            let s = max(e.fileBlock * bs, from), t = min(e.fileEnd * bs, to)
            if s > at { out.append(Mapping.Segment(fileOffset: at, count: Int(s - at), base: nil, regionOffset: 0)) }
            let r = Int(e.regionBlock * bs + (s - e.fileBlock * bs))
            out.append(Mapping.Segment(fileOffset: s, count: Int(t - s), base: base + r, regionOffset: r))
            at = t
        }
        if at < to { out.append(Mapping.Segment(fileOffset: at, count: Int(to - at), base: nil, regionOffset: 0)) }
        precondition(!mutable || out.all.allSatisfy { $0.base != nil }, "a write mapping with a hole")
        return out
    }

    // MARK: allocation unit

    /// Sets the allocation unit of a file or directory (4096, 2 MiB or
    /// 1 GiB): new children of a directory inherit it; a file's later
    /// extents are aligned to it. A file may change it only while it has no
    /// blocks and no mappings (EBUSY otherwise, as seed 004 demands). One
    /// transaction. Errors: EINVAL (another unit), EBUSY, ENOENT, EROFS.
    public func setAllocUnit(_ path: String, unit: UInt64) throws {
        try checkWritable()
        let shift: UInt8
        switch unit {
        case 4096: shift = 12
        case 2 << 20: shift = 21
        case 1 << 30: shift = 30
        default: throw DaxError(.EINVAL, "allocation unit \(unit) is not 4K, 2M or 1G").with("path", path)
        }
        if UInt64(1) << shift < blockSize {
            throw DaxError(.EINVAL, "allocation unit \(unit) is smaller than the block size \(blockSize)").with("path", path)
        }
        let n = try node(try lookup(path))
        if n.invalidateSharedCount > 0 {
            throw DaxError(.EBUSY, "\(path) has live mappings or I/O in flight; release them before changing its allocation unit").with("path", path)
        }
        try n.withInvalidateExclusive(timeout: 0) { try n.withWriteLock {
            try checkAlive(n)
            if !n.isDirectory && !n.extents.isEmpty {
                throw DaxError(.EBUSY, "\(path) has blocks; the allocation unit of a file can change only while it has none").with("path", path)
            }
            guard n.record.allocShift != shift else { return }
            var r = n.record
            r.allocShift = shift
            r.change += 1
            r.ctime = inodeTimeNanoseconds()
            var tx = TransactionBuilder()
            tx.append(.inode(r))
            try commit(&tx)
        } }
    }
}
