import DaxCore
import DaxFSFormat
import PMem

/// The whole metadata state in DRAM: inodes with their extent maps and
/// directory entries, the allocator's free space, and pending intents.
///
/// It changes in exactly one way: `apply(_:live:)` of a log record. Mount
/// applies the records it replays; a running filesystem applies each
/// transaction's records right after the transaction is durable. Replay and
/// the live path therefore reach the same state by construction.
///
/// **Locks.** `apply` runs with the log lock held, and with the namespace
/// lock held exclusive for records that change names, and each touched
/// inode's lock held exclusive (see `Filesystem`). Replay runs before the
/// filesystem is shared.
final class MetadataState: @unchecked Sendable {
    let sb: Superblock
    var inodes = InodeTable()
    var nextIno: UInt64
    var nextIntentID: UInt64
    var intents: [UInt64: IntentRecord] = [:]
    let allocator: Allocator
    /// Bytes the inode records take in a checkpoint, and extents in all files:
    /// kept up to date by `apply`, so the checkpoint's size is known in O(1).
    private(set) var inodeBytes = 0
    private(set) var extentCount = 0
    let maxFileBlocks: UInt64

    /// Loads a verified checkpoint. Throws EFSCORRUPTED when its content is
    /// inconsistent: duplicate inodes, a missing or non-directory parent, a
    /// duplicate name, extents of a missing or non-file inode, extents that
    /// overlap within a file, free runs out of order, or an intent that names
    /// a missing inode.
    ///
    /// The inode records are moved out of `c` (no copy of each name); see
    /// `init(loaded:header:sb:)`.
    /// - Complexity: O(inodes + extents + free runs).
    convenience init(checkpoint c: consuming CheckpointContent, header h: CheckpointHeader, sb: Superblock,
                     twoThreads: Bool = true) throws {
        let l = LoadedCheckpoint(nextIno: h.nextIno.raw)
        var records = c.inodes
        c.inodes = []
        // Reversed so that `popLast` hands each record over (a move, not a
        // copy of its name) in the checkpoint's order.
        records.reverse()
        l.reserve(inodes: records.count, extents: 0)
        while let r = records.popLast() { l.inode(r, indexed: false) }
        l.extents = c.extents
        l.free = c.free
        l.intents = c.intents
        try self.init(loaded: l, header: h, sb: sb, twoThreads: twoThreads)
    }

    /// Loads a checkpoint whose inodes `CheckpointIO.read` has made into
    /// `Inode`s as it decoded them (mount). Throws EFSCORRUPTED as
    /// `init(checkpoint:header:sb:)`, in the same order.
    ///
    /// The inode table and each directory's index are filled with one
    /// `insertAll` each, which writes them in table order: random writes
    /// into tables of megabytes were most of the time of a mount.
    /// `twoThreads: false` keeps the whole load on this thread (the
    /// reference the two-thread load is tested against).
    /// - Complexity: O(inodes + extents + free runs).
    init(loaded l: LoadedCheckpoint, header h: CheckpointHeader, sb: Superblock, twoThreads: Bool = true) throws {
        self.sb = sb
        nextIno = h.nextIno.raw
        nextIntentID = h.nextIntentID
        // Numbers stay below 2^63 (fsck's limit too), so `+ 1` never overflows.
        guard nextIno <= Self.numberLimit, nextIntentID <= Self.numberLimit else {
            throw Self.corrupt("checkpoint next_ino \(nextIno) or next_intent \(nextIntentID) is above 2^63")
        }
        maxFileBlocks = Geometry.maximumFileSize / UInt64(sb.blockSize)
        guard let free = FreeSpace(sorted: l.free) else { throw Self.corrupt("checkpoint free space is not sorted and disjoint") }
        guard free.freeBlocks == h.freeBlocks else { throw Self.corrupt("checkpoint free space holds \(free.freeBlocks) blocks, header says \(h.freeBlocks)") }
        allocator = Allocator(free: free, sb: sb)
        if let why = l.problem { throw Self.corrupt(why) }
        inodeBytes = l.inodeBytes
        // From here on the passes read `l`'s compact arrays, not the inodes:
        // 100,000 inodes are megabytes, and a pass over them costs a cache
        // miss per inode.
        let inos = l.inos
        // A large checkpoint whose inodes are in increasing number order (as
        // every checkpoint daxfs writes is) and that holds no intents fills
        // the inode table here while another thread fills the directory
        // indexes (`forkJoin`): they share no mutable state, and the index
        // finds each parent by a binary search of `inos`, which in that order
        // answers as the table would. Its error, if any, is thrown where the
        // sequential pass would throw it, after the table's, the root's, the
        // extents' and the intents'.
        var directories: Result<Void, any Error>? = nil
        if twoThreads && inos.count >= Self.parallelInodes && l.intents.isEmpty && zip(inos, inos.dropFirst()).allSatisfy({ $0 < $1 }) {
            let (table, dirs) = forkJoin({ inodes.insertAll(taking: l) }, {
                try Self.fillDirectories(l, removed: []) { ino in
                    let at = sortedIndex(of: ino, in: inos)
                    return at < inos.count && inos[at] == ino ? l.node(at) : nil
                }
            })
            precondition((try? table.get()) == .some(nil), "inode table: distinct inode numbers collided")
            directories = dirs
        } else if let twice = inodes.insertAll(taking: l) {
            throw Self.corrupt("checkpoint holds inode \(twice) twice")
        }
        guard let root = inodes[.root], root.isDirectory else { throw Self.corrupt("checkpoint has no root directory") }
        // Extents arrive sorted by inode, then file block; so do the inodes,
        // so a cursor over `inos` finds each file without a table lookup.
        var cursor = 0
        func node(_ ino: InodeNumber) -> Inode? {
            while cursor < inos.count && inos[cursor] < ino { cursor += 1 }
            if cursor < inos.count && inos[cursor] == ino { return l.node(cursor) }
            return inodes[ino]
        }
        var i = 0
        while i < l.extents.count {
            let ino = l.extents[i].ino
            var j = i
            var run: [Extent] = []
            while j < l.extents.count && l.extents[j].ino == ino {
                let e = l.extents[j]
                run.append(Extent(fileBlock: e.fileBlock.raw, regionBlock: e.regionBlock.raw, count: e.count.raw))
                j += 1
            }
            guard let node = node(ino), !node.isDirectory else { throw Self.corrupt("checkpoint extents of inode \(ino), which is not a file") }
            guard node.extents.isEmpty, let map = ExtentMap(sorted: run) else {
                throw Self.corrupt("checkpoint extents of inode \(ino) overlap or are out of order")
            }
            node.extents = map
            extentCount += map.count
            i = j
        }
        var removed = Set<InodeNumber>()
        for intent in l.intents {
            guard intents[intent.id] == nil, intent.id < nextIntentID else { throw Self.corrupt("checkpoint intent \(intent.id) is duplicated or above next_intent") }
            try checkIntentTargets(intent)
            intents[intent.id] = intent
            if intent.kind == .truncate && intent.flags & IntentRecord.removeInodeFlag != 0, let node = inodes[intent.ino1] {
                node.removing = true
                removed.insert(node.ino)
            }
        }
        if let directories {
            try directories.get()
        } else {
            try Self.fillDirectories(l, removed: removed) { inodes[$0] }
        }
    }

    /// Loads of at least this many inodes fill the inode table and the
    /// directory indexes on two threads; below it a thread costs more than
    /// it saves.
    static let parallelInodes = 16_384

    /// Fills each directory's index with its children in `l` (not the root,
    /// nor the inodes in `removed`): children are gathered over runs
    /// (consecutive inodes often share a parent), then entered with one
    /// `insertAll` per directory. `parent` finds an inode by number. Throws
    /// EFSCORRUPTED for a missing, non-directory or removed parent, or a name
    /// two children hold. Touches no state but the directories' indexes and
    /// the names in `l`.
    /// - Complexity: O(inodes), plus a `parent` call per run.
    private static func fillDirectories(_ l: LoadedCheckpoint, removed: Set<InodeNumber>,
                                        parent find: (InodeNumber) -> Inode?) throws {
        let inos = l.inos, parents = l.parents
        var group: [InodeNumber: Int] = [:]
        var dirs: [Inode] = []
        var children: [[Int]] = []            // positions in `l`
        var parent: InodeNumber? = nil, k = 0 // the current run's parent (none yet) and its group
        var run: [Int] = []                   // the current run's children, added to children[k] when it ends
        func endRun() {
            guard !run.isEmpty else { return }
            if children[k].isEmpty { swap(&children[k], &run) } else { children[k].append(contentsOf: run) }
            run.removeAll(keepingCapacity: true)
        }
        for at in inos.indices {
            let ino = inos[at]
            if ino == .root || (!removed.isEmpty && removed.contains(ino)) { continue }
            if parents[at] != parent {
                guard let p = find(parents[at]), p.isDirectory, !p.removing else {
                    throw Self.corrupt("inode \(ino): parent \(parents[at]) is missing or not a directory")
                }
                endRun()
                parent = p.ino
                if let g = group[p.ino] {
                    k = g
                } else {
                    k = dirs.count
                    group[p.ino] = k
                    dirs.append(p)
                    children.append([])
                }
            }
            run.append(at)
        }
        endRun()
        for (dir, kids) in zip(dirs, children) {
            if let (name, first, second) = dir.entries.insertAll(kids, of: l) {
                throw Self.corrupt("inode \(second): name \"\(String(decoding: name, as: UTF8.self))\" is taken by inode \(first) in directory \(dir.ino)")
            }
        }
        l.names = []        // all taken: freed here, beside the inode table's build, not at the end of the mount
    }

    static func corrupt(_ m: String) -> DaxError { DaxError(.EFSCORRUPTED, m) }

    private func link(_ node: Inode, under known: Inode? = nil) throws {
        guard let parent = known ?? inodes[node.record.parent], parent.ino == node.record.parent,
              parent.isDirectory, !parent.removing else {
            throw Self.corrupt("inode \(node.ino): parent \(node.record.parent) is missing or not a directory")
        }
        if let other = parent.entries.insert(node.record.name, node.ino) {
            throw Self.corrupt("inode \(node.ino): name \"\(node.record.nameString)\" is taken by inode \(other) in directory \(parent.ino)")
        }
    }

    private func unlink(_ node: Inode) {
        if let parent = inodes[node.record.parent], parent.entries[node.record.name] == node.ino {
            parent.entries[node.record.name] = nil
        }
    }

    private func checkIntentTargets(_ i: IntentRecord) throws {
        guard let a = inodes[i.ino1], !a.isDirectory else { throw Self.corrupt("intent \(i.id) names inode \(i.ino1), which is not a file") }
        if i.kind == .swapExtents, inodes[i.ino2]?.isDirectory != false {
            throw Self.corrupt("intent \(i.id) names inode \(i.ino2), which is not a file")
        }
        _ = a
    }

    private func file(_ ino: InodeNumber, _ what: String) throws -> Inode {
        guard let n = inodes[ino] else { throw Self.corrupt("\(what) of inode \(ino), which does not exist") }
        guard !n.isDirectory else { throw Self.corrupt("\(what) of inode \(ino), which is a directory") }
        return n
    }

    /// Inode numbers and intent ids, and the counters that hand them out,
    /// stay below this: 2^63, far beyond any real count. A record or a
    /// checkpoint above it is corrupt (EFSCORRUPTED), never an overflow trap.
    static let numberLimit: UInt64 = 1 << 63

    /// Applies a transaction's records in order, as `apply` does one by one,
    /// except that a run of consecutive FREE records goes back to the free
    /// space in one `Allocator.releaseAll` (a sorted merge when the run is
    /// large: a punch of 100,000 extents frees them in O(n), not in 100,000
    /// tree updates). Throws at the first record that does not fit.
    func applyAll(_ records: [LogRecord], live: Bool) throws {
        try records.withUnsafeBufferPointer { rs in     // records are borrowed in place, never copied
            var i = 0
            while i < rs.count {
                if case .free = rs[i] {
                    var runs: [BlockRange] = []
                    while i < rs.count, case .free(let run) = rs[i] { runs.append(run); i += 1 }
                    if runs.count == 1 {
                        try apply(.free(runs[0]), live: live)
                    } else if !allocator.releaseAll(runs) {
                        throw Self.corrupt("FREE of blocks among \(runs.count) runs that are already free")
                    }
                    continue
                }
                try apply(rs[i], live: live)
                i += 1
            }
        }
    }

    // MARK: Replay (mount)

    /// Replay's ALLOC runs that have not left the free space yet: sorted by
    /// start and disjoint, each found wholly free when its record was
    /// applied, in the free space as it still is. The free space minus these
    /// runs is the state's free space.
    private var replayAllocs: [BlockRange] = []
    /// The free run that held the last of `replayAllocs`: the next ALLOC of
    /// a front-to-back replay lies in it too, and needs no search.
    private var replayHint: FreeRun?

    /// Applies one replayed transaction's verified records with the checks
    /// and the outcome of `applyAll(records, live: false)`, throwing the
    /// same error at the same record, but faster for a long log:
    ///
    /// - ALLOC is checked against the free space when it is applied (the
    ///   same test as `FreeSpace.remove`) but its run leaves the free space
    ///   later, with the others, in one `FreeSpace.removeAll` that rebuilds
    ///   the touched leaves of both indexes once, instead of splitting a
    ///   free run per record. The batch goes out before a FREE, before an
    ///   ALLOC that does not follow the batch's last run, before an
    ///   EXTENT_MAP whose blocks the batch does not answer for, when it
    ///   holds `replayBatchLimit` runs, and in `finishReplay`.
    /// - EXTENT_MAP after the last extent of its file (a file written front
    ///   to back) is checked and mapped without a search.
    ///
    /// Returns how many records were ALLOC or FREE. The state is complete
    /// only after `finishReplay()`. Runs before the state is shared: it
    /// takes no lock but the allocator's own.
    /// - Complexity: O(log n) per record, and O(1) for ALLOC and EXTENT_MAP
    ///   in the front-to-back case, plus the batch's `removeAll`.
    func replayAll(_ records: [LogRecord]) throws -> Int {
        var space = 0
        var i = 0
        while i < records.count {
            switch records[i] {
            case .alloc(let run):
                space += 1
                try replayAlloc(run)
                i += 1
            case .extentMap(let e):
                try replayExtentMap(e)
                i += 1
            case .free:
                try flushReplayAllocs()
                var j = i + 1
                while j < records.count, case .free = records[j] { j += 1 }
                space += j - i
                try applyAll(Array(records[i..<j]), live: false)
                i = j
            default:
                try apply(records[i], live: false)
                i += 1
            }
        }
        return space
    }

    /// Ends a replay by `replayAll`: the batched ALLOC runs leave the free
    /// space. Each was found free when applied, so this does not throw
    /// unless the batch's bookkeeping is wrong (EFSCORRUPTED then, no trap).
    func finishReplay() throws { try flushReplayAllocs() }

    private func replayAlloc(_ run: BlockRange) throws {
        if let last = replayAllocs.last, run.start.raw < last.end { try flushReplayAllocs() }
        // Past the batch's last run, so disjoint from the batch: the run is
        // free exactly when the free space (which still holds the batch) holds it.
        if let h = replayHint, run.count.raw > 0, run.start.raw >= h.start, run.end <= h.end {
        } else {
            guard let f = allocator.freeRun(holding: run) else { throw Self.corrupt("ALLOC of blocks \(run) that are not free") }
            replayHint = f
        }
        replayAllocs.append(run)
        // A bounded batch stays in cache and its array is never regrown; each
        // flush costs the touched leaves plus one pass over the leaf lists.
        if replayAllocs.count >= Self.replayBatchLimit { try flushReplayAllocs() }
    }

    /// The most ALLOC runs replay holds back before they leave the free space.
    static let replayBatchLimit = 1 << 14

    private func replayExtentMap(_ e: ExtentRecord) throws {
        let node = try file(e.ino, "EXTENT_MAP")
        let x = Extent(fileBlock: e.fileBlock.raw, regionBlock: e.regionBlock.raw, count: e.count.raw)
        let run = BlockRange(start: e.regionBlock, count: e.count)
        // Decoding refused an empty extent, so one after the last extent lies in a hole.
        let afterLast = node.extents.last.map { $0.fileEnd <= x.fileBlock } ?? true
        guard afterLast || node.extents.isHole(x.fileBlock, x.count) else { throw Self.corrupt("EXTENT_MAP over mapped blocks of inode \(e.ino)") }
        guard try !replayIsAnyFree(run) else { throw Self.corrupt("EXTENT_MAP of free blocks \(run) into inode \(e.ino)") }
        let before = node.extents.count
        if !(afterLast && node.extents.mapAfterLast(x)) { node.extents.map(x) }
        extentCount += node.extents.count - before
    }

    /// `allocator.isAnyFree(run)` as if the ALLOC batch had left the free space.
    private func replayIsAnyFree(_ run: BlockRange) throws -> Bool {
        if let l = replayAllocs.last {
            // Inside one run of the batch (usually the last): allocated.
            if run.start.raw >= l.start.raw && run.end <= l.end { return false }
            var lo = 0, hi = replayAllocs.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if replayAllocs[mid].start.raw <= run.start.raw { lo = mid + 1 } else { hi = mid }
            }
            if lo > 0 && run.end <= replayAllocs[lo - 1].end { return false }
        }
        // The batch only takes blocks away: what the free space lacks stays allocated.
        guard allocator.isAnyFree(run) else { return false }
        try flushReplayAllocs()
        return allocator.isAnyFree(run)
    }

    private func flushReplayAllocs() throws {
        guard !replayAllocs.isEmpty else { return }
        guard allocator.replayAllocAll(replayAllocs) else {
            throw Self.corrupt("ALLOC of blocks among \(replayAllocs.count) runs that are not free")
        }
        replayAllocs.removeAll(keepingCapacity: true)
        replayHint = nil
    }

    /// Applies one verified log record.
    ///
    /// `live` is true when the record was just committed by this process: its
    /// ALLOC runs were reserved from the allocator before the commit. During
    /// replay, an inconsistent record (one that does not fit the state) throws
    /// EFSCORRUPTED; on the live path that would be a bug in daxfs and traps.
    /// Always inlined into the loops over a transaction's records: called,
    /// it took a copy of each whole record to pass it.
    @inline(__always)
    func apply(_ record: LogRecord, live: Bool) throws {
        switch record {
        case .inode(let r):
            if let node = inodes[r.ino] {
                guard node.record.kind == r.kind else { throw Self.corrupt("INODE changes the kind of inode \(r.ino)") }
                guard r.ino != .root || (r.parent == .root && r.name.isEmpty) else { throw Self.corrupt("INODE moves the root") }
                guard node.record.allocShift == r.allocShift || node.extents.isEmpty else {
                    throw Self.corrupt("INODE changes the allocation unit of inode \(r.ino), which has blocks")
                }
                inodeBytes += r.encodedSize - node.record.encodedSize
                let renamed = node.record.parent != r.parent || node.record.name != r.name
                if renamed && !node.removing && r.ino != .root {
                    if node.isDirectory && isAncestor(node.ino, of: r.parent) { throw Self.corrupt("INODE moves directory \(r.ino) under itself") }
                    unlink(node)
                    node.record = r
                    try link(node)
                } else {
                    node.record = r
                }
            } else {
                guard r.ino != .root else { throw Self.corrupt("INODE recreates the root") }
                let node = Inode(r)
                try link(node)
                inodes.insertNew(r.ino, node)       // the lookup above missed
                inodeBytes += r.encodedSize
                guard r.ino.raw < Self.numberLimit else { throw Self.corrupt("INODE number \(r.ino) is above 2^63") }
                nextIno = max(nextIno, r.ino.raw + 1)
            }
        case .inodeFree(let ino, let generation):
            guard let node = inodes[ino] else { throw Self.corrupt("INODE_FREE of inode \(ino), which does not exist") }
            guard node.record.generation == generation else { throw Self.corrupt("INODE_FREE of inode \(ino) with generation \(generation), expected \(node.record.generation)") }
            guard node.extents.isEmpty, node.entries.isEmpty else { throw Self.corrupt("INODE_FREE of inode \(ino), which still has blocks or entries") }
            if !node.removing { unlink(node) }
            node.freed = true
            inodes[ino] = nil
            inodeBytes -= node.record.encodedSize
        case .inodeAttr(let a):
            guard let node = inodes[a.ino] else { throw Self.corrupt("INODE_ATTR of inode \(a.ino), which does not exist") }
            node.record.size = a.size
            node.record.change = a.change
            node.record.mtime = a.mtime
            node.record.ctime = a.ctime
        case .extentMap(let e):
            let node = try file(e.ino, "EXTENT_MAP")
            if !live {
                // The live path built this record from a hole and a reservation.
                let run = BlockRange(start: e.regionBlock, count: e.count)
                guard node.extents.isHole(e.fileBlock.raw, e.count.raw) else { throw Self.corrupt("EXTENT_MAP over mapped blocks of inode \(e.ino)") }
                guard !allocator.isAnyFree(run) else { throw Self.corrupt("EXTENT_MAP of free blocks \(run) into inode \(e.ino)") }
            }
            let before = node.extents.count
            node.extents.map(Extent(fileBlock: e.fileBlock.raw, regionBlock: e.regionBlock.raw, count: e.count.raw))
            extentCount += node.extents.count - before
        case .extentUnmap(let ino, let fb, let n):
            let node = try file(ino, "EXTENT_UNMAP")
            let before = node.extents.count
            node.extents.unmap(fb.raw, n.raw)
            extentCount += node.extents.count - before
        case .extentShift(let ino, let from, let delta):
            let node = try file(ino, "EXTENT_SHIFT")
            guard node.extents.canShift(from: from.raw, by: delta, limit: maxFileBlocks) else { throw Self.corrupt("EXTENT_SHIFT of inode \(ino) collides or overflows") }
            let before = node.extents.count
            node.extents.shift(from: from.raw, by: delta)
            extentCount += node.extents.count - before
        case .alloc(let run):
            if live {
                allocator.settle(run)
            } else {
                guard allocator.replayAlloc(run) else { throw Self.corrupt("ALLOC of blocks \(run) that are not free") }
            }
        case .free(let run):
            guard allocator.release(run) else { throw Self.corrupt("FREE of blocks \(run) that are already free") }
        case .intent(let i):
            guard intents[i.id] == nil else { throw Self.corrupt("INTENT \(i.id) is already pending") }
            guard i.id < Self.numberLimit else { throw Self.corrupt("INTENT id \(i.id) is above 2^63") }
            try checkIntentTargets(i)
            intents[i.id] = i
            nextIntentID = max(nextIntentID, i.id + 1)
            if i.kind == .truncate && i.flags & IntentRecord.removeInodeFlag != 0, let node = inodes[i.ino1], !node.removing {
                unlink(node)
                node.removing = true
            }
        case .intentProgress(let id, let done):
            guard var i = intents[id], done.raw <= i.count.raw else { throw Self.corrupt("INTENT_PROGRESS of intent \(id), which is not pending or overruns") }
            i.done = done
            intents[id] = i
        case .intentDone(let id):
            guard intents.removeValue(forKey: id) != nil else { throw Self.corrupt("INTENT_DONE of intent \(id), which is not pending") }
        case .extentSwap(let i1, let b1, let i2, let b2, let n):
            // Bounds and overlap were checked when the record was decoded.
            let a = try file(i1, "EXTENT_SWAP"), b = try file(i2, "EXTENT_SWAP")
            let before = a.extents.count + (a === b ? 0 : b.extents.count)
            if a === b {
                a.extents.exchange(b1.raw, b2.raw, count: n.raw)
            } else {
                ExtentMap.exchange(&a.extents, b1.raw, &b.extents, b2.raw, count: n.raw)
            }
            extentCount += a.extents.count + (a === b ? 0 : b.extents.count) - before
        }
    }

    /// The checkpoint chunks the state needs now, with `extraBytes` more of
    /// inode records and `extraExtents` more extents, counting what chunk
    /// packing wastes (an entry never spans two chunks). O(1).
    func checkpointChunks(extraInodeBytes: Int = 0, extraExtents: Int = 0) -> Int {
        let per = CheckpointChunk.payloadCapacity
        func chunks(_ bytes: Int, waste: Int) -> Int { bytes <= 0 ? 0 : (bytes + per - waste - 1) / (per - waste) }
        let maxInode = InodeRecord.fixedSize + pad8(InodeRecord.maxNameLength)
        return chunks(inodeBytes + extraInodeBytes, waste: maxInode)
            + chunks((extentCount + extraExtents) * ExtentRecord.size, waste: 0)
            + chunks((allocator.freeRunCount + extraExtents + 1) * BlockRange.size, waste: 0)
            + chunks(intents.count * IntentRecord.size, waste: IntentRecord.size)
    }

    /// True when `a` is `b` or one of its ancestors. O(depth).
    func isAncestor(_ a: InodeNumber, of b: InodeNumber) -> Bool {
        var at = b
        var steps = 0
        while steps <= inodes.count {
            if at == a { return true }
            if at == .root { return false }
            guard let n = inodes[at] else { return false }
            at = n.record.parent
            steps += 1
        }
        return true   // a loop: treat as "would create a cycle"
    }

    /// The state as a checkpoint stores it. Called with the log lock held.
    /// - Complexity: O(inodes log inodes + extents + free runs).
    func checkpointContent() -> CheckpointContent {
        var c = liveCheckpointContent()
        c.inodes = c.nodes.map { $0.record }
        c.nodes = []
        return c
    }

    /// `checkpointContent` with the inodes as the live `Inode`s (`nodes`),
    /// for a checkpoint written under the log lock.
    func liveCheckpointContent() -> CheckpointContent {
        var c = CheckpointContent()
        c.nodes = inodes.sortedByNumber()
        for node in c.nodes {
            let n = node.ino
            for e in node.extents {
                c.extents.append(ExtentRecord(ino: n, fileBlock: FileBlock(e.fileBlock), regionBlock: BlockNumber(e.regionBlock),
                                              count: BlockCount(e.count)))
            }
        }
        c.free = allocator.checkpointRuns()
        c.intents = intents.keys.sorted().map { intents[$0]! }
        return c
    }
}

/// The first index of the sorted `a` whose element is not below `x`
/// (`a.count` when every element is).
/// - Complexity: O(log n).
private func sortedIndex<T: Comparable>(of x: T, in a: [T]) -> Int {
    var lo = 0, hi = a.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if a[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    return lo
}
