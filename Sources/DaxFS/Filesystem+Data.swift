import DaxCore
import DaxFSFormat
import PMem

/// File data: read, write, truncate, and the extent map.
///
/// ## Crash contracts
/// - **write** commits in steps of at most `maxWriteStep` bytes and of as
///   many new extents as fit one transaction. In each step every byte of the
///   new blocks is stored — the data, and zeroes for the rest (the allocator
///   hands them over unzeroed to a write that fills them) — and the data into
///   existing blocks; one fence makes all of it durable, then one transaction
///   maps the new blocks and sets the size and times. After a crash, every step before the
///   one in flight is complete; in the step in flight, bytes over blocks that
///   were already mapped inside the old size may each be old or new (as on
///   ext4 and XFS, an overwrite is not atomic), and everything else — new
///   blocks, the size — is as before the step. A write that fits one step
///   (no more than 16 MiB, in a file that is not badly fragmented) is therefore
///   all-or-nothing for its allocations and size.
/// - **truncate** is one transaction, or for a file whose freed blocks do not
///   fit one, a truncate intent logged with the new size and finished in
///   bounded steps (by recovery, after a crash). Either way the size and the
///   data inside it are the pre-state or the post-state.
/// - Growing a file (write past EOF, truncate up) first zeroes whatever was
///   left in the mapped blocks between the old EOF and the end of its
///   allocation unit, in the same fence as the rest of the data.
extension Filesystem {
    /// The largest write step.
    static let maxWriteStep: UInt64 = 16 << 20

    /// The file inode `ino`, checked to exist and not be a directory.
    func fileNode(_ ino: InodeNumber) throws -> Inode {
        let n = try node(ino)
        if n.isDirectory { throw DaxError(.EISDIR, "inode \(ino) is a directory").with("ino", ino) }
        return n
    }

    func checkAlive(_ n: Inode) throws {
        if n.freed || n.removing { throw DaxError(.ENOENT, "inode \(n.ino) was removed").with("ino", n.ino) }
    }

    /// On a read-only mount, refuses to show the bytes of a file whose
    /// punch, zero-range, collapse or swap-extents intent is still pending: they are
    /// half way between the before and the after state until a read-write
    /// mount finishes the intent. (A read-write mount finishes every intent
    /// before it serves anything, and a read-only one never commits, so
    /// `state.intents` is stable here.)
    func checkNoPendingRangeIntent(_ n: Inode) throws {
        guard isReadOnly, !state.intents.isEmpty else { return }
        if let i = state.intents.values.first(where: {
            ($0.ino1 == n.ino && [.punch, .zeroRange, .collapse].contains($0.kind))
                || ($0.kind == .swapExtents && ($0.ino1 == n.ino || $0.ino2 == n.ino))
        }) {
            throw DaxError(.EAGAIN, "inode \(n.ino) has a pending \(i.kind) intent (id \(i.id)) that a read-write mount finishes; run a command that writes (for example 'daxfs touch') first")
                .with("ino", n.ino)
        }
    }

    // MARK: read

    /// Reads up to `buffer.count` bytes at `offset` into `buffer`; returns the
    /// count read (short at EOF, 0 past it). Holes read as zeroes.
    /// Holds the inode lock shared. O(log n + extents touched + bytes).
    public func read(_ ino: InodeNumber, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try fileNode(ino)
        return try n.withInvalidateShared { try n.withReadLock {
            try checkAlive(n)
            try checkNoPendingRangeIntent(n)
            let size = n.record.size
            guard offset < size, buffer.count > 0 else { return 0 }
            let count = Int(min(UInt64(buffer.count), size - offset))
            let bs = blockSize
            let b0 = offset / bs, b1 = (offset + UInt64(count) + bs - 1) / bs
            var at = 0                                   // bytes of buffer filled
            let src = media.bytes
            for e in n.extents.extents(overlapping: b0, b1) {
                let segStart = max(e.fileBlock * bs, offset)
                let segEnd = min(e.fileEnd * bs, offset + UInt64(count))
                let gap = Int(segStart - offset) - at
                if gap > 0 { buffer.baseAddress!.advanced(by: at).initializeMemory(as: UInt8.self, repeating: 0, count: gap) }
                let regionOffset = Int(e.regionBlock * bs + (segStart - e.fileBlock * bs))
                let len = Int(segEnd - segStart)
                buffer.baseAddress!.advanced(by: Int(segStart - offset)).copyMemory(from: src.baseAddress! + regionOffset, byteCount: len)
                at = Int(segEnd - offset)
            }
            if at < count { buffer.baseAddress!.advanced(by: at).initializeMemory(as: UInt8.self, repeating: 0, count: count - at) }
            return count
        } }
    }

    /// Reads up to `count` bytes at `offset`.
    public func read(_ ino: InodeNumber, at offset: UInt64, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let n = try out.withUnsafeMutableBytes { try read(ino, at: offset, into: $0) }
        out.removeSubrange(n...)
        return out
    }

    // MARK: write

    /// Writes `data` at `offset`, allocating zeroed blocks for holes.
    /// Errors: EISDIR, ENOENT, EFBIG (past the maximum file size), ENOSPC
    /// (the steps already committed stay; see the crash contract above).
    public func write(_ ino: InodeNumber, at offset: UInt64, _ data: UnsafeRawBufferPointer) throws {
        try write(ino, at: offset, count: data.count, from: .memory(data))
    }

    /// Writes `count` bytes read from the host file descriptor `fd` at
    /// `fileOffset` to the file at `offset`: the kernel reads them straight
    /// into the region (`PersistentMedia.storeFromFile`), with no copy in
    /// between. The same steps and crash contract as `write`; a host file
    /// that ends early fails the step in flight with EIO.
    public func write(_ ino: InodeNumber, at offset: UInt64, fromFile fd: Int32, fileOffset: UInt64, count: Int) throws {
        try write(ino, at: offset, count: count, from: .file(fd, fileOffset))
    }

    /// Where the bytes of a write come from; byte 0 goes to the write's offset.
    enum WriteSource {
        case memory(UnsafeRawBufferPointer)
        case file(Int32, UInt64)
    }

    private func write(_ ino: InodeNumber, at offset: UInt64, count: Int, from source: WriteSource) throws {
        try checkWritable()
        let n = try fileNode(ino)
        let (end, o) = offset.addingReportingOverflow(UInt64(count))
        if o || end > Geometry.maximumFileSize {
            throw DaxError(.EFBIG, "write of \(count) bytes at offset \(offset) passes the maximum file size \(Geometry.maximumFileSize)").with("ino", ino)
        }
        guard count > 0 else { return }
        try n.withInvalidateShared { try n.withWriteLock {
            try checkAlive(n)
            var pos = offset
            while pos < end {
                pos = try writeStep(n, from: pos, to: min(end, pos + Self.maxWriteStep), data: source, dataOffset: offset)
            }
        } }
    }

    public func write(_ ino: InodeNumber, at offset: UInt64, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write(ino, at: offset, $0) }
    }

    /// One write step over bytes [pos, stepEnd) of the file; returns where it
    /// stopped (stepEnd, or earlier when allocation ran out of runs).
    private func writeStep(_ n: Inode, from pos: UInt64, to stepEnd: UInt64, data: WriteSource,
                           dataOffset: UInt64) throws -> UInt64 {
        let bs = blockSize
        let u = n.unitBlocks(blockSize: bs)
        let (b0, b1) = n.unitBlocks(covering: pos, stepEnd, blockSize: bs)
        var tx = TransactionBuilder()
        var end = stepEnd
        var runBudget = maxAllocRunsPerTransaction
        var prev = n.extents.extent(atOrBefore: b0).map { ($0.fileBlock, $0.regionBlock) }
        func noSpace() -> DaxError {
            state.allocator.cancel(tx.reservation)
            return DaxError(.ENOSPC, "no space left to write \(stepEnd - pos) bytes at offset \(pos) of inode \(n.ino) (\(state.allocator.freeBlocks) blocks free)")
                .with("ino", n.ino)
        }
        holes: for hole in n.extents.holes(in: b0, b1) {
            do { try checkUnitAligned(n, hole, unit: u) } catch { state.allocator.cancel(tx.reservation); throw error }
            var at = hole.lowerBound
            while at < hole.upperBound {
                let goal = prev.map { $0.1 + (at - $0.0) } ?? n.extents.extent(atOrAfter: at).flatMap { e in
                    e.regionBlock >= e.fileBlock - at ? e.regionBlock - (e.fileBlock - at) : nil
                }
                let want = hole.upperBound - at
                let added: Int
                do {
                    added = try state.allocator.allocate(count: want, align: u, goal: goal, for: at, into: &tx.reservation, media: media,
                                                         faults: options.faults, maxRuns: runBudget, partial: true, callerFills: true)
                } catch {
                    state.allocator.cancel(tx.reservation)
                    throw error
                }
                guard added > 0, let e = tx.reservation.extents.last else { throw noSpace() }
                prev = (e.fileBlock, e.regionBlock)
                at = e.fileEnd
                runBudget -= added
                if at < hole.upperBound {
                    if runBudget > 0 { throw noSpace() }   // short because the space ran out
                    break holes                            // short because the transaction is full: end the step here
                }
            }
        }
        let placed = Array(tx.reservation.extents)     // new runs, in file order
        // Where the transaction filled up, the step ends at the first unallocated block.
        if let firstMissing = firstUnmapped(n, placed: placed, from: b0, to: b1), firstMissing * bs < end {
            end = max(pos, firstMissing * bs)
            precondition(end > pos, "a write step made no progress")
        }
        // New runs: zero what the data will not cover (the allocator left them to us).
        for e in placed {
            let s = e.fileBlock * bs, t = e.fileEnd * bs, r = Int(e.regionBlock * bs)
            let covered = max(s, pos)..<max(max(s, pos), min(t, end))
            state.allocator.zero(at: r, count: Int(covered.lowerBound - s), media: media, faults: options.faults)
            state.allocator.zero(at: r + Int(covered.upperBound - s), count: Int(t - covered.upperBound), media: media, faults: options.faults)
        }
        // Data into every block of [pos, end), new or old.
        let segments = (n.extents.extents(overlapping: pos / bs, (end + bs - 1) / bs) + placed).sorted { $0.fileBlock < $1.fileBlock }
        for e in segments {
            let s = max(e.fileBlock * bs, pos), t = min(e.fileEnd * bs, end)
            guard s < t else { continue }
            let regionOffset = Int(e.regionBlock * bs + (s - e.fileBlock * bs))
            switch data {
            case .memory(let src):
                storeData(UnsafeRawBufferPointer(start: src.baseAddress! + Int(s - dataOffset), count: Int(t - s)), at: regionOffset)
            case .file(let fd, let fileOffset):
                let got: Int
                do {
                    got = try media.storeFromFile(fd, fileOffset: fileOffset + (s - dataOffset), at: regionOffset, count: Int(t - s),
                                                  site: CallSite(#fileID, #line))
                } catch {
                    state.allocator.cancel(tx.reservation)
                    throw error
                }
                if got < Int(t - s) {
                    state.allocator.cancel(tx.reservation)
                    throw DaxError(.EIO, "the source file ended \(Int(t - s) - got) bytes early").with("ino", n.ino)
                }
            }
        }
        let oldSize = n.record.size
        if pos > oldSize { zeroTail(n, from: oldSize, to: pos) }
        for e in placed {
            tx.append(.alloc(e.regionRange))
            tx.append(.extentMap(ExtentRecord(ino: n.ino, fileBlock: FileBlock(e.fileBlock), regionBlock: BlockNumber(e.regionBlock),
                                              count: BlockCount(e.count))))
        }
        tx.append(.inodeAttr(touched(n, size: max(oldSize, end), now: inodeTimeNanoseconds())))
        tx.dataPending = true
        try commit(&tx)
        return end
    }

    /// The first block in [from, to) that is neither mapped nor in `placed`, or nil.
    private func firstUnmapped(_ n: Inode, placed: [Extent], from: UInt64, to: UInt64) -> UInt64? {
        var covered = n.extents.extents(overlapping: from, to) + placed
        covered.sort { $0.fileBlock < $1.fileBlock }
        var at = from
        for e in covered {
            if e.fileBlock > at { return at }
            at = max(at, e.fileEnd)
        }
        return at < to ? at : nil
    }

    /// New runs (ALLOC plus EXTENT_MAP) that fit one transaction.
    var maxAllocRunsPerTransaction: Int {
        max(1, (journal.maxTransactionBytes - Self.transactionOverhead) / (2 * LogRecord.headerSize + BlockRange.size + ExtentRecord.size))
    }

    /// Stores file data through the choke point, written back as it goes;
    /// durable at the commit's first fence.
    private func storeData(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        let site = CallSite(#fileID, #line)
        if options.faults.contains(.unflushedEdgeLine) && offset % 64 != 0 {
            // Injected bug: the partial first cache line is stored but never flushed.
            let head = min(bytes.count, 64 - offset % 64)
            media.store(UnsafeRawBufferPointer(rebasing: bytes[0..<head]), at: offset, site: site)
            if head < bytes.count { media.storeFlushed(UnsafeRawBufferPointer(rebasing: bytes[head...]), at: offset + head, site: site) }
            return
        }
        media.storeFlushed(bytes, at: offset, site: site)
    }

    /// Zeroes the mapped bytes of [from, min(to, end of from's allocation
    /// unit)): what a truncate down may have left beyond the old EOF.
    /// Durable at the commit's first fence.
    func zeroTail(_ n: Inode, from: UInt64, to: UInt64) {
        let bs = blockSize
        let unitBytes = n.unitBlocks(blockSize: bs) * bs
        let stop = min(to, (from + unitBytes - 1) / unitBytes * unitBytes)
        guard from < stop else { return }
        for e in n.extents.extents(overlapping: from / bs, (stop + bs - 1) / bs) {
            let s = max(e.fileBlock * bs, from), t = min(e.fileEnd * bs, stop)
            if s < t { media.fill(0, at: Int(e.regionBlock * bs + (s - e.fileBlock * bs)), count: Int(t - s)) }
        }
    }

    // MARK: truncate

    /// Sets the size. Growing adds a hole; shrinking frees every allocation
    /// unit wholly past the new size. Errors: EISDIR, ENOENT, EFBIG.
    public func truncate(_ ino: InodeNumber, size newSize: UInt64) throws {
        try checkWritable()
        let n = try fileNode(ino)
        if newSize > Geometry.maximumFileSize {
            throw DaxError(.EFBIG, "size \(newSize) passes the maximum file size \(Geometry.maximumFileSize)").with("ino", ino)
        }
        try n.withInvalidateExclusive(timeout: options.mappingDrainTimeout) { try n.withWriteLock {
            try checkAlive(n)
            let old = n.record.size
            var tx = TransactionBuilder()
            var intent: IntentRecord?
            if newSize > old {
                zeroTail(n, from: old, to: newSize)
                tx.dataPending = true
            } else if newSize < old {
                let bs = blockSize, u = n.unitBlocks(blockSize: bs)
                let keep = (newSize + bs * u - 1) / (bs * u) * u
                let doomed = n.extents.extents(overlapping: keep, UInt64.max)
                if !doomed.isEmpty {
                    let runs = Self.mergedRuns(doomed)
                    if runs.count <= maxFreeRecordsPerTransaction {
                        tx.append(.extentUnmap(n.ino, FileBlock(keep), BlockCount(doomed.last!.fileEnd - keep)))
                        for r in runs { tx.append(.free(r)) }
                    } else {
                        let i = IntentRecord(id: reserveIntentID(), kind: .truncate, flags: 0, ino1: n.ino, block1: FileBlock(keep),
                                             ino2: 0, block2: 0, count: 0, done: 0, size1: newSize, size2: 0)
                        tx.append(.intent(i))
                        intent = i
                    }
                }
            }
            tx.append(.inodeAttr(touched(n, size: newSize, now: inodeTimeNanoseconds())))
            try commit(&tx)
            if let i = intent { try finishingIntent(i) { try finishTruncate(i, node: n) } }
        } }
    }

    // MARK: extents

    /// The extent map of a file, in file order.
    public func extents(_ ino: InodeNumber) throws -> [Extent] {
        let n = try fileNode(ino)
        return try n.withReadLock {
            try checkAlive(n)
            return Array(n.extents)
        }
    }

    // MARK: intents

    /// Finishes a truncate intent: unmaps and frees the blocks of `node` at
    /// or after `block1` in transactions of bounded size, then frees the
    /// inode (remove flag) and ends the intent. Idempotent: after a crash it
    /// resumes from whatever the committed steps left. The caller holds the
    /// inode's lock exclusive.
    func finishTruncate(_ intent: IntentRecord, node: Inode) throws {
        let limit = maxFreeRecordsPerTransaction
        while true {
            let doomed = node.extents.extents(overlapping: intent.block1.raw, UInt64.max)
            if doomed.isEmpty { break }
            let batch = Array(doomed.prefix(limit))
            var tx = TransactionBuilder()
            tx.append(.extentUnmap(node.ino, FileBlock(batch[0].fileBlock), BlockCount(batch.last!.fileEnd - batch[0].fileBlock)))
            for r in Self.mergedRuns(batch) { tx.append(.free(r)) }
            try commit(&tx)
        }
        var tx = TransactionBuilder()
        if intent.flags & IntentRecord.removeInodeFlag != 0 {
            tx.append(.inodeFree(node.ino, generation: node.record.generation))
        }
        tx.append(.intentDone(id: intent.id))
        try commit(&tx)
    }

    /// Finishes every intent the log left pending (at a read-write mount).
    func finishPendingIntents() throws {
        let pending = state.intents.values.sorted { $0.id < $1.id }
        for i in pending {
            switch i.kind {
            case .truncate:
                guard let n = state.inodes[i.ino1] else { continue }
                if i.flags & IntentRecord.removeInodeFlag != 0 {
                    try nsLock.withWriteLock { try n.withWriteLock { try finishTruncate(i, node: n) } }
                } else {
                    try n.withWriteLock { try finishTruncate(i, node: n) }
                }
            case .punch, .zeroRange, .collapse:
                guard let n = state.inodes[i.ino1] else { continue }
                try n.withWriteLock { try finishRangeIntent(i, node: n) }
            case .swapExtents:
                try finishSwapIntent(i)
            }
        }
    }
}

extension Filesystem {
    /// Creates an empty file at `path`, or sets the modification and change
    /// times of an existing file or directory to now (touch(1)). One
    /// transaction either way.
    @discardableResult
    public func touch(_ path: String) throws -> InodeNumber {
        try checkWritable()
        do {
            return try create(path)
        } catch let e as DaxError where e.code == .EEXIST {
            let n = try node(try lookup(path))
            try n.withWriteLock {
                try checkAlive(n)
                var tx = TransactionBuilder()
                tx.append(.inodeAttr(touched(n, now: inodeTimeNanoseconds())))
                try commit(&tx)
            }
            return n.ino
        }
    }
}

extension Filesystem {
    /// Calls `body` with the bytes of [offset, offset+count) of a file (cut
    /// at EOF), in order, without copying them: a read-only view of the
    /// region for each mapped run, and nil with a length for each hole (which
    /// reads as zeroes). The inode lock is held shared meanwhile, so the map
    /// cannot change under the views; they are valid only inside `body`.
    /// - Complexity: O(log n + extents in the range) besides what `body` does.
    public func withContents(_ ino: InodeNumber, at offset: UInt64, count: UInt64,
                             _ body: (UnsafeRawBufferPointer?, Int) throws -> Void) throws {
        try withContentRuns(ino, at: offset, count: count) { regionOffset, length in
            try body(regionOffset.map { media.view(at: $0, count: length) }, length)
        }
    }

    /// Calls `body` with where the bytes of [offset, offset+count) of a file
    /// (cut at EOF) lie in the region, in order: the region byte offset and
    /// length of each mapped run, and nil with a length for each hole (which
    /// reads as zeroes). For copies that the media does better than a load
    /// through the mapping (`PersistentMedia.copyToFile`, which copies with
    /// copy_file_range(2) from a file region). The inode lock is held shared
    /// meanwhile, so the runs cannot change under `body`; the offsets are
    /// valid only inside it.
    /// - Complexity: O(log n + extents in the range) besides what `body` does.
    public func withContentRuns(_ ino: InodeNumber, at offset: UInt64, count: UInt64,
                                _ body: (Int?, Int) throws -> Void) throws {
        let n = try fileNode(ino)
        try n.withInvalidateShared { try n.withReadLock {
            try checkAlive(n)
            try checkNoPendingRangeIntent(n)
            let size = n.record.size
            guard offset < size, count > 0 else { return }
            let end = offset + min(count, size - offset)
            let bs = blockSize
            var at = offset
            for e in n.extents.extents(overlapping: offset / bs, (end + bs - 1) / bs) {
                let s = max(e.fileBlock * bs, offset), t = min(e.fileEnd * bs, end)
                if s > at { try body(nil, Int(s - at)) }
                try body(Int(e.regionBlock * bs + (s - e.fileBlock * bs)), Int(t - s))
                at = t
            }
            if at < end { try body(nil, Int(end - at)) }
        } }
    }
}
