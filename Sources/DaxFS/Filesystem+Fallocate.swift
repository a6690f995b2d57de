import DaxCore
import DaxFSFormat
import PMem

/// The modes of fallocate(2), with Linux's bit values.
public struct FallocateMode: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// FALLOC_FL_KEEP_SIZE: do not change the size.
    public static let keepSize = FallocateMode(rawValue: 0x01)
    /// FALLOC_FL_PUNCH_HOLE: free the range (needs keepSize).
    public static let punchHole = FallocateMode(rawValue: 0x02)
    /// FALLOC_FL_COLLAPSE_RANGE: remove the range, shifting the rest down.
    public static let collapseRange = FallocateMode(rawValue: 0x08)
    /// FALLOC_FL_ZERO_RANGE: the range reads as zeroes afterwards.
    public static let zeroRange = FallocateMode(rawValue: 0x10)
    /// FALLOC_FL_INSERT_RANGE: open a hole at the offset, shifting the rest up.
    public static let insertRange = FallocateMode(rawValue: 0x20)

    static let supported: FallocateMode = [.keepSize, .punchHole, .collapseRange, .zeroRange, .insertRange]

    /// The mode checks of vfs_fallocate (Linux 6.x), before any inode is
    /// looked at. Throws EINVAL for a negative offset or a length ≤ 0, and
    /// EOPNOTSUPP for a combination Linux refuses: unknown bits, punch with
    /// zero, punch without keep-size, collapse or insert with anything else.
    public func validate(offset: Int64, length: Int64) throws {
        if offset < 0 || length <= 0 {
            throw DaxError(.EINVAL, offset < 0 ? "offset \(offset) is negative" : "length \(length) is not greater than 0")
        }
        if !FallocateMode.supported.isSuperset(of: self) {
            throw DaxError(.EOPNOTSUPP, "fallocate mode \(rawValue) has bits this daxfs does not know")
        }
        let kind = subtracting(.keepSize)
        switch kind {
        case [], .zeroRange: break
        case .punchHole:
            if !contains(.keepSize) { throw DaxError(.EOPNOTSUPP, "punch hole must be combined with keep size (as fallocate(2) requires)") }
        case .collapseRange, .insertRange:
            if contains(.keepSize) {
                throw DaxError(.EOPNOTSUPP, "\(kind == .collapseRange ? "collapse" : "insert") range cannot be combined with keep size")
            }
        default:
            throw DaxError(.EOPNOTSUPP, "fallocate modes \(FallocateMode.names(kind)) cannot be combined")
        }
    }

    static func names(_ m: FallocateMode) -> String {
        var out: [String] = []
        if m.contains(.keepSize) { out.append("keep-size") }
        if m.contains(.punchHole) { out.append("punch-hole") }
        if m.contains(.zeroRange) { out.append("zero-range") }
        if m.contains(.collapseRange) { out.append("collapse-range") }
        if m.contains(.insertRange) { out.append("insert-range") }
        return out.joined(separator: "+")
    }
}

/// fallocate(2) on daxfs files: allocate, punch hole, zero range, collapse
/// range and insert range, with Linux's semantics and error codes, and
/// dig-holes (util-linux `fallocate -d`).
///
/// ## Locks
/// Every mode (and dig-holes) takes the inode's invalidate lock exclusive,
/// waiting for the file's mappings to be released (EBUSY after
/// `Options.mappingDrainTimeout`, EDEADLK for a thread that holds one), then
/// the inode's metadata lock exclusive, then the log and allocator locks
/// inside `commit` and `Allocator`, in the order `Filesystem` documents.
///
/// ## Crash contracts
/// After a crash a file is either wholly before or wholly after the
/// operation, as its size and bytes are read:
/// - **allocate** reserves every run before it logs anything (ENOSPC leaves
///   nothing behind). The runs commit in bounded transactions in file order
///   and the size last; each run is zeroed durably before its commit. A
///   crash midway can leave some of the new, zeroed blocks mapped (as `bmap`
///   shows them) with the old size: what is read is the before state.
/// - **punch hole** is one transaction (unmap, FREE records, times) when no
///   bytes need zeroing in place and the freed runs fit; otherwise a punch
///   intent commits first, then the partial units at either end are zeroed
///   in place and the blocks are freed in bounded steps, the last one ending
///   the intent. Recovery finishes a pending intent the same way.
/// - **zero range** allocates the holes of the range like allocate (those
///   blocks come zeroed from the allocator), then, when mapped bytes must be
///   zeroed, commits a zero-range intent, zeroes them in place, and commits
///   the size with the end of the intent. Zeroing in place is cheaper than
///   replacing the blocks with fresh extents: the allocator would zero the
///   same bytes and also log ALLOC, FREE and EXTENT records.
/// - **collapse range** is one transaction (unmap, FREE, EXTENT_SHIFT, size)
///   when the freed runs fit one; otherwise a collapse intent commits first,
///   the range is freed in bounded steps, and the last step shifts the rest
///   down, sets the size and ends the intent. Never a half-shifted file: the
///   shift is one record.
/// - **insert range** is always one transaction: one EXTENT_SHIFT and the size.
extension Filesystem {
    /// fallocate(2) on file `ino`: checks `mode`, `offset` and `length` as
    /// Linux does, then performs the mode. Errors, each with its own message:
    /// EINVAL (offset < 0, length ≤ 0, a collapse or insert range that is not
    /// aligned to the file's allocation unit or does not lie inside the
    /// file), EOPNOTSUPP (a mode combination Linux refuses), EISDIR, ENOENT,
    /// EFBIG (the range, or an insert's new size, passes the maximum file
    /// size), ENOSPC (allocate and zero range; nothing is left allocated),
    /// EROFS.
    /// - Complexity: allocate, punch and zero range O(extents in the range ×
    ///   log n) plus the bytes zeroed; collapse and insert O(n) in the
    ///   extents after the offset (one pass of the shift), never in data size.
    public func fallocate(_ ino: InodeNumber, mode: FallocateMode, offset: Int64, length: Int64) throws {
        try mode.validate(offset: offset, length: length)
        try checkWritable()
        let n = try fileNode(ino)
        let off = UInt64(offset), len = UInt64(length)
        let (end, o) = off.addingReportingOverflow(len)
        if o || end > Geometry.maximumFileSize {
            throw DaxError(.EFBIG, "range [\(off), +\(len)) passes the maximum file size \(Geometry.maximumFileSize)").with("ino", ino)
        }
        try n.withInvalidateExclusive(timeout: options.mappingDrainTimeout) { try n.withWriteLock {
            try checkAlive(n)
            switch mode.subtracting(.keepSize) {
            case []: try allocateLocked(n, offset: off, end: end, keepSize: mode.contains(.keepSize))
            case .punchHole: try punchLocked(n, offset: off, end: end)
            case .zeroRange: try zeroRangeLocked(n, offset: off, end: end, keepSize: mode.contains(.keepSize))
            case .collapseRange: try collapseLocked(n, offset: off, length: len)
            case .insertRange: try insertLocked(n, offset: off, length: len)
            default: preconditionFailure("validate() let through mode \(mode.rawValue)")
            }
        } }
    }

    /// fallocate(2) mode 0 (or keep-size): every block of [offset,
    /// offset+length) that is not mapped gets a fresh zeroed extent; mapped
    /// blocks keep their data. See `fallocate`.
    public func allocate(_ ino: InodeNumber, offset: UInt64, length: UInt64, keepSize: Bool = false) throws {
        guard offset <= UInt64(Int64.max), length <= UInt64(Int64.max) else {
            throw DaxError(.EFBIG, "range [\(offset), +\(length)) passes the maximum file size \(Geometry.maximumFileSize)").with("ino", ino)
        }
        try fallocate(ino, mode: keepSize ? .keepSize : [], offset: Int64(offset), length: Int64(length))
    }

    // MARK: allocate

    private func allocateLocked(_ n: Inode, offset: UInt64, end: UInt64, keepSize: Bool) throws {
        let reservation = try reserveHoles(n, from: offset, to: end)
        let newSize = keepSize ? n.record.size : max(n.record.size, end)
        try commitPlaced(n, reservation) { tx in
            if newSize > n.record.size { zeroTail(n, from: n.record.size, to: newSize) }
            tx.append(.inodeAttr(touched(n, size: newSize, now: inodeTimeNanoseconds())))
            tx.dataPending = true
        }
    }

    /// Reserves zeroed runs for every unmapped allocation unit that overlaps
    /// bytes [from, to): zeroed here, or, for at most
    /// `Allocator.zeroAtCommitBytes`, by the commit that maps them. Each
    /// hole's goal continues the extent nearest before it, the map's or one
    /// just placed. All or nothing: on ENOSPC every reserved run is given
    /// back before the error is thrown.
    /// - Complexity: O(log n + extents in the range + r log f) for r runs
    ///   placed among f free runs, plus the zeroing.
    func reserveHoles(_ n: Inode, from: UInt64, to: UInt64) throws -> Reservation {
        let bs = blockSize, u = n.unitBlocks(blockSize: bs)
        let (b0, b1) = n.unitBlocks(covering: from, to, blockSize: bs)
        let allocator = state.allocator
        var reservation = Reservation()
        func enospc(_ wanted: UInt64) -> DaxError {
            DaxError(.ENOSPC, "no space left to allocate [\(from), \(to)) of inode \(n.ino): \(wanted) blocks wanted, \(allocator.freeBlocks) free")
                .with("ino", n.ino)
        }
        // Each hole's run is placed to continue the nearest extent before it.
        func place(_ hole: Range<UInt64>, after before: Extent?) throws {
            try checkUnitAligned(n, hole, unit: u)
            var prev = reservation.extents.last
            if let e = before, e.fileBlock >= prev?.fileEnd ?? 0 { prev = e }
            let goal = prev.map { $0.regionBlock + (hole.lowerBound - $0.fileBlock) }
            try allocator.allocate(count: hole.upperBound - hole.lowerBound, align: u, goal: goal, for: hole.lowerBound,
                                   into: &reservation, media: media, faults: options.faults, zeroAtCommit: zeroAtCommit)
        }
        // A file growing at its end has one hole, after its last extent,
        // found without walking the map (twice) for it.
        var tail: Extent?
        if b0 < b1, let last = n.extents.last, last.fileEnd <= b0 { tail = last }
        var wanted: UInt64 = 0
        if tail != nil { wanted = b1 - b0 } else {
            n.extents.forEachHole(in: b0, b1) { hole, _ in wanted += hole.upperBound - hole.lowerBound }
        }
        // Refused before anything is zeroed, so the media is untouched.
        if wanted > allocator.freeBlocks { throw enospc(wanted) }
        // A small request is zeroed by its commit, which overlaps the
        // stores with encoding the transaction (`Allocator.zeroAtCommitBytes`).
        let zeroAtCommit = wanted * UInt64(bs) <= UInt64(Allocator.zeroAtCommitBytes)
        do {
            if let last = tail {
                try place(b0..<b1, after: last)
            } else {
                try n.extents.forEachHole(in: b0, b1) { hole, before in try place(hole, after: before) }
            }
        } catch {
            allocator.cancel(reservation)
            throw error
        }
        return reservation
    }

    /// Throws EFSCORRUPTED when a hole of a unit-aligned range is not
    /// aligned to the file's allocation unit: only an extent that is not
    /// (which no daxfs operation makes, so only damaged media holds) leaves
    /// one, and the allocator must not be asked for a partial unit.
    func checkUnitAligned(_ n: Inode, _ hole: Range<UInt64>, unit u: UInt64) throws {
        guard (hole.lowerBound | hole.upperBound) & (u - 1) != 0 else { return }    // u is a power of two
        throw DaxError(.EFSCORRUPTED, "inode \(n.ino) has an extent that is not aligned to its allocation unit of \(u) blocks (file blocks \(hole.lowerBound)..<\(hole.upperBound) are a partial unit); run fsck")
            .with("ino", n.ino)
    }

    /// Maps the extents of `reservation` (zeroed, reserved runs) in
    /// transactions of bounded size, in file order; `last` adds its records
    /// to the final one.
    func commitPlaced(_ n: Inode, _ reservation: consuming Reservation, last: (inout TransactionBuilder) -> Void) throws {
        let perTx = max(1, maxAllocRunsPerTransaction - 2)
        // Several transactions each map part of it: zero all of it first.
        if reservation.extents.count > perTx { reservation.zeroNow(state.allocator, media: media, faults: options.faults) }
        func append(_ e: Extent, to tx: inout TransactionBuilder) {
            tx.append(.alloc(e.regionRange))
            tx.append(.extentMap(ExtentRecord(ino: n.ino, fileBlock: FileBlock(e.fileBlock), regionBlock: BlockNumber(e.regionBlock),
                                              count: BlockCount(e.count))))
        }
        let count = reservation.extents.count
        if count <= perTx {
            // One transaction (every small allocation): the reservation
            // moves into it, uncopied.
            var tx = TransactionBuilder()
            for e in reservation.extents { append(e, to: &tx) }
            tx.dataPending = count > 0
            last(&tx)
            tx.reservation = reservation
            try commit(&tx)
            return
        }
        var i = 0
        repeat {
            var tx = TransactionBuilder()
            let end = min(count, i + perTx)
            for k in i..<end { append(reservation.extents[k], to: &tx) }
            i = end
            tx.reservation = copy reservation   // cancelled on failure; runs already committed are not touched
            tx.dataPending = true
            if i >= count { last(&tx) }
            try commit(&tx)
        } while i < count
    }

    // MARK: punch hole

    /// The records one transaction may carry besides its FREE records.
    private var freeBatchLimit: Int { max(1, maxFreeRecordsPerTransaction - 8) }

    private func punchLocked(_ n: Inode, offset: UInt64, end: UInt64) throws {
        let bs = blockSize, ub = n.unitBlocks(blockSize: bs) * bs
        let first = (offset + ub - 1) / ub * ub / bs, last = max(first, end / ub * ub / bs)
        let doomed = n.extents.extents(overlapping: first, last, limit: freeBatchLimit + 1)
        let edgesMapped = hasMappedBytes(n, offset, min(end, first * bs)) || hasMappedBytes(n, max(offset, last * bs), end)
        if !edgesMapped && doomed.count <= freeBatchLimit {
            let runs = Self.mergedRuns(doomed)
            var tx = TransactionBuilder()
            if let a = doomed.first, let z = doomed.last {
                tx.append(.extentUnmap(n.ino, FileBlock(a.fileBlock), BlockCount(z.fileEnd - a.fileBlock)))
            }
            for r in runs { tx.append(.free(r)) }
            tx.append(.inodeAttr(touched(n, now: inodeTimeNanoseconds())))
            try commit(&tx)
            return
        }
        let intent = IntentRecord(id: reserveIntentID(), kind: .punch, flags: 0, ino1: n.ino, block1: FileBlock(first),
                                  ino2: 0, block2: 0, count: BlockCount(last - first), done: 0, size1: offset, size2: end)
        var tx = TransactionBuilder()
        tx.append(.intent(intent))
        try commit(&tx)
        try finishingIntent(intent) { try finishRangeIntent(intent, node: n) }
    }

    /// True when some byte of [from, to) lies in a mapped block.
    private func hasMappedBytes(_ n: Inode, _ from: UInt64, _ to: UInt64) -> Bool {
        guard from < to else { return false }
        let bs = blockSize
        return !n.extents.isHole(from / bs, (to + bs - 1) / bs - from / bs)
    }

    /// Zeroes every mapped byte of [from, to) with non-temporal stores,
    /// durable at the next fence. Returns whether it stored anything.
    @discardableResult
    private func zeroMapped(_ n: Inode, _ from: UInt64, _ to: UInt64) -> Bool {
        guard from < to else { return false }
        let bs = blockSize
        var any = false
        for e in n.extents.extents(overlapping: from / bs, (to + bs - 1) / bs) {
            let s = max(e.fileBlock * bs, from), t = min(e.fileEnd * bs, to)
            guard s < t else { continue }
            media.fill(0, at: Int(e.regionBlock * bs + (s - e.fileBlock * bs)), count: Int(t - s))
            any = true
        }
        return any
    }

    // MARK: zero range

    private func zeroRangeLocked(_ n: Inode, offset: UInt64, end: UInt64, keepSize: Bool) throws {
        let mapped = hasMappedBytes(n, offset, end)
        let reservation = try reserveHoles(n, from: offset, to: end)
        let grow = !keepSize && end > n.record.size
        if !mapped {
            try commitPlaced(n, reservation) { tx in
                if grow { zeroTail(n, from: n.record.size, to: end) }
                tx.append(.inodeAttr(touched(n, size: grow ? end : n.record.size, now: inodeTimeNanoseconds())))
                tx.dataPending = true
            }
            return
        }
        let intent = IntentRecord(id: reserveIntentID(), kind: .zeroRange, flags: grow ? IntentRecord.growSizeFlag : 0,
                                  ino1: n.ino, block1: 0, ino2: 0, block2: 0, count: 0, done: 0, size1: offset, size2: end)
        try commitPlaced(n, reservation) { tx in tx.append(.intent(intent)) }
        try finishingIntent(intent) { try finishRangeIntent(intent, node: n) }
    }

    // MARK: collapse and insert

    /// The alignment collapse and insert need: the file's allocation unit.
    private func checkShiftAlignment(_ n: Inode, _ what: String, offset: UInt64, length: UInt64) throws {
        let ub = n.unitBlocks(blockSize: blockSize) * blockSize
        if offset % ub != 0 || length % ub != 0 {
            throw DaxError(.EINVAL, "\(what) range offset \(offset) and length \(length) must be multiples of the file's allocation unit (\(ub) bytes)")
                .with("ino", n.ino)
        }
    }

    private func collapseLocked(_ n: Inode, offset: UInt64, length: UInt64) throws {
        try checkShiftAlignment(n, "collapse", offset: offset, length: length)
        let size = n.record.size
        if offset + length >= size {
            throw DaxError(.EINVAL, "collapse range [\(offset), +\(length)) must end before the end of the file (size \(size))").with("ino", n.ino)
        }
        let bs = blockSize
        let b = offset / bs, c = length / bs
        let doomed = n.extents.extents(overlapping: b, b + c, limit: freeBatchLimit + 1)
        if doomed.count <= freeBatchLimit {
            let runs = Self.mergedRuns(doomed)
            var tx = TransactionBuilder()
            if !doomed.isEmpty { tx.append(.extentUnmap(n.ino, FileBlock(b), BlockCount(c))) }
            for r in runs { tx.append(.free(r)) }
            tx.append(.extentShift(n.ino, from: FileBlock(b + c), delta: -Int64(c)))
            tx.append(.inodeAttr(touched(n, size: size - length, now: inodeTimeNanoseconds())))
            try commit(&tx)
            return
        }
        let intent = IntentRecord(id: reserveIntentID(), kind: .collapse, flags: 0, ino1: n.ino, block1: FileBlock(b),
                                  ino2: 0, block2: 0, count: BlockCount(c), done: 0, size1: size - length, size2: 0)
        var tx = TransactionBuilder()
        tx.append(.intent(intent))
        try commit(&tx)
        try finishingIntent(intent) { try finishRangeIntent(intent, node: n) }
    }

    private func insertLocked(_ n: Inode, offset: UInt64, length: UInt64) throws {
        try checkShiftAlignment(n, "insert", offset: offset, length: length)
        let size = n.record.size
        let (newSize, o) = size.addingReportingOverflow(length)
        let bs = blockSize
        if o || newSize > Geometry.maximumFileSize || !n.extents.canShift(from: offset / bs, by: Int64(length / bs), limit: state.maxFileBlocks) {
            throw DaxError(.EFBIG, "inserting \(length) bytes would take the file past the maximum file size \(Geometry.maximumFileSize)").with("ino", n.ino)
        }
        if offset >= size {
            throw DaxError(.EINVAL, "insert range offset \(offset) must be below the end of the file (size \(size))").with("ino", n.ino)
        }
        var tx = TransactionBuilder()
        tx.append(.extentShift(n.ino, from: FileBlock(offset / bs), delta: Int64(length / bs)))
        tx.append(.inodeAttr(touched(n, size: newSize, now: inodeTimeNanoseconds())))
        try commit(&tx)
    }

    // MARK: intents

    /// Runs the steps after an intent's commit; if one fails, the intent
    /// stays pending and the filesystem shuts down (`shutDown`), so that no
    /// later change lands before the next mount finishes the intent against
    /// the state it was logged for (a collapse run twice would shift twice).
    func finishingIntent(_ intent: IntentRecord, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            shutDown("intent \(intent.id) (\(intent.kind) of inode \(intent.ino1)) could not finish: \(error)")
            throw error
        }
    }

    /// Finishes a punch, zero-range or collapse intent on `node`, whose lock
    /// the caller holds exclusive. Idempotent: every step re-reads what the
    /// committed steps left, so recovery resumes from any crash point.
    /// - punch: zero the mapped bytes of [size1, size2) outside the whole
    ///   blocks [block1, block1+count), then free those blocks in bounded
    ///   steps; the last step logs the times and INTENT_DONE.
    /// - zero range: zero every mapped byte of [size1, size2) (and the old
    ///   tail past EOF when the size grows), then one transaction with the
    ///   size and INTENT_DONE.
    /// - collapse: free [block1, block1+count) in bounded steps; the last
    ///   step shifts the rest down, sets the size to size1 and ends the intent.
    func finishRangeIntent(_ intent: IntentRecord, node n: Inode) throws {
        if options.faults.contains(.intentStepsFail) { throw DaxError(.EIO, "injected failure after intent \(intent.id)") }
        let bs = blockSize
        var zeroed = false
        // The intent must be durable before any byte is zeroed in place: under
        // deferred durability its commit did not fence, and a zeroed byte
        // could reach the media before the record that promises to finish it.
        if options.durability == .deferred { sync() }
        switch intent.kind {
        case .punch:
            let lo = intent.block1.raw * bs, hi = (intent.block1.raw + intent.count.raw) * bs
            if intent.count.raw == 0 {
                zeroed = zeroMapped(n, intent.size1, intent.size2)
            } else {
                zeroed = zeroMapped(n, intent.size1, min(intent.size2, lo))
                zeroed = zeroMapped(n, max(intent.size1, hi), intent.size2) || zeroed
            }
        case .zeroRange:
            var tx = TransactionBuilder()
            zeroMapped(n, intent.size1, intent.size2)
            let grow = intent.flags & IntentRecord.growSizeFlag != 0 && intent.size2 > n.record.size
            if grow { zeroTail(n, from: n.record.size, to: intent.size1) }
            tx.append(.inodeAttr(touched(n, size: grow ? intent.size2 : n.record.size, now: inodeTimeNanoseconds())))
            tx.append(.intentDone(id: intent.id))
            tx.dataPending = true
            try commit(&tx)
            return
        case .collapse:
            break
        case .truncate, .swapExtents:
            preconditionFailure("finishRangeIntent of a \(intent.kind) intent")
        }
        let b = intent.block1.raw, end = b + intent.count.raw
        let limit = freeBatchLimit
        while true {
            let doomed = n.extents.extents(overlapping: b, end, limit: limit + 1)
            let batch = doomed.prefix(limit)
            var tx = TransactionBuilder()
            if let a = batch.first, let z = batch.last {
                tx.append(.extentUnmap(n.ino, FileBlock(a.fileBlock), BlockCount(z.fileEnd - a.fileBlock)))
                for r in Self.mergedRuns(batch) { tx.append(.free(r)) }
            }
            tx.dataPending = zeroed
            zeroed = false
            let final = doomed.count <= limit
            if final {
                if intent.kind == .collapse {
                    tx.append(.extentShift(n.ino, from: FileBlock(end), delta: -Int64(intent.count.raw)))
                    tx.append(.inodeAttr(touched(n, size: intent.size1, now: inodeTimeNanoseconds())))
                } else {
                    tx.append(.inodeAttr(touched(n, now: inodeTimeNanoseconds())))
                }
                tx.append(.intentDone(id: intent.id))
            }
            try commit(&tx)
            if final { return }
        }
    }

    // MARK: dig holes

    /// util-linux `fallocate --dig-holes`: frees every allocation unit of
    /// [offset, offset+length) (to EOF when length is nil) that is mapped
    /// and reads as all zeroes. The bytes read the same before and after, so
    /// the bounded transactions need no intent. Returns the bytes freed.
    /// Holds the inode lock exclusive. O(mapped bytes in the range) to scan.
    @discardableResult
    public func digHoles(_ ino: InodeNumber, offset: UInt64, length: UInt64?) throws -> UInt64 {
        try checkWritable()
        let n = try fileNode(ino)
        return try n.withInvalidateExclusive(timeout: options.mappingDrainTimeout) { try n.withWriteLock {
            try checkAlive(n)
            let bs = blockSize, u = n.unitBlocks(blockSize: bs), ub = u * bs
            let end = length.map { offset.addingReportingOverflow($0).overflow ? UInt64.max : offset + $0 } ?? n.record.size
            let first = (offset + ub - 1) / ub * u, last = max(first, min(end, (n.record.size + ub - 1) / ub * ub) / ub * u)
            var zeroUnits: [Extent] = []
            for e in n.extents.extents(overlapping: first, last) {
                var fb = e.fileBlock
                while fb < e.fileEnd {
                    let rb = e.regionBlock + (fb - e.fileBlock)
                    if isAllZero(media.view(at: Int(rb * bs), count: Int(ub))) {
                        if let l = zeroUnits.last, l.fileEnd == fb, l.regionEnd == rb { zeroUnits[zeroUnits.count - 1].count += u }
                        else { zeroUnits.append(Extent(fileBlock: fb, regionBlock: rb, count: u)) }
                    }
                    fb += u
                }
            }
            let perTx = max(1, freeBatchLimit / 2)
            var i = 0
            while i < zeroUnits.count {
                var tx = TransactionBuilder()
                for e in zeroUnits[i..<min(zeroUnits.count, i + perTx)] {
                    tx.append(.extentUnmap(n.ino, FileBlock(e.fileBlock), BlockCount(e.count)))
                    tx.append(.free(e.regionRange))
                }
                i += perTx
                if i >= zeroUnits.count { tx.append(.inodeAttr(touched(n, now: inodeTimeNanoseconds()))) }
                try commit(&tx)
            }
            return zeroUnits.reduce(0) { $0 + $1.count } * bs
        } }
    }

    private func isAllZero(_ p: UnsafeRawBufferPointer) -> Bool {
        let words = p.count / 8
        let base = p.baseAddress!
        var acc: UInt64 = 0
        var i = 0
        while i < words {
            acc |= base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
            if i & 63 == 63 && acc != 0 { return false }
            i += 1
        }
        for j in (words * 8)..<p.count { acc |= UInt64(p[j]) }
        return acc == 0
    }
}
