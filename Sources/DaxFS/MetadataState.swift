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
    var inodes: [InodeNumber: Inode] = [:]
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
    /// - Complexity: O(inodes + extents + free runs), with one sort of the inode numbers.
    init(checkpoint c: CheckpointContent, header h: CheckpointHeader, sb: Superblock) throws {
        self.sb = sb
        nextIno = h.nextIno.raw
        nextIntentID = h.nextIntentID
        // Numbers stay below 2^63 (fsck's limit too), so `+ 1` never overflows.
        guard nextIno <= Self.numberLimit, nextIntentID <= Self.numberLimit else {
            throw Self.corrupt("checkpoint next_ino \(nextIno) or next_intent \(nextIntentID) is above 2^63")
        }
        maxFileBlocks = Geometry.maximumFileSize / UInt64(sb.blockSize)
        guard let free = FreeSpace(sorted: c.free) else { throw Self.corrupt("checkpoint free space is not sorted and disjoint") }
        guard free.freeBlocks == h.freeBlocks else { throw Self.corrupt("checkpoint free space holds \(free.freeBlocks) blocks, header says \(h.freeBlocks)") }
        allocator = Allocator(free: free, sb: sb)
        inodes.reserveCapacity(c.inodes.count)
        var loaded: [Inode] = []
        loaded.reserveCapacity(c.inodes.count)
        for r in c.inodes {
            guard r.ino.raw < nextIno else { throw Self.corrupt("checkpoint inode \(r.ino) is not below next_ino \(nextIno)") }
            let node = Inode(r)
            guard inodes.updateValue(node, forKey: r.ino) == nil else { throw Self.corrupt("checkpoint holds inode \(r.ino) twice") }
            loaded.append(node)
            inodeBytes += r.encodedSize
        }
        guard let root = inodes[.root], root.isDirectory else { throw Self.corrupt("checkpoint has no root directory") }
        // Extents arrive sorted by inode, then file block.
        var i = 0
        while i < c.extents.count {
            let ino = c.extents[i].ino
            var j = i
            var run: [Extent] = []
            while j < c.extents.count && c.extents[j].ino == ino {
                let e = c.extents[j]
                run.append(Extent(fileBlock: e.fileBlock.raw, regionBlock: e.regionBlock.raw, count: e.count.raw))
                j += 1
            }
            guard let node = inodes[ino], !node.isDirectory else { throw Self.corrupt("checkpoint extents of inode \(ino), which is not a file") }
            guard node.extents.isEmpty, let map = ExtentMap(sorted: run) else {
                throw Self.corrupt("checkpoint extents of inode \(ino) overlap or are out of order")
            }
            node.extents = map
            extentCount += map.count
            i = j
        }
        for intent in c.intents {
            guard intents[intent.id] == nil, intent.id < nextIntentID else { throw Self.corrupt("checkpoint intent \(intent.id) is duplicated or above next_intent") }
            try checkIntentTargets(intent)
            intents[intent.id] = intent
            if intent.kind == .truncate && intent.flags & IntentRecord.removeInodeFlag != 0 { inodes[intent.ino1]?.removing = true }
        }
        var parent: Inode? = nil                // consecutive inodes often share a parent
        for node in loaded where node.ino != .root && !node.removing {
            if parent?.ino != node.record.parent { parent = inodes[node.record.parent] }
            try link(node, under: parent)
        }
    }

    static func corrupt(_ m: String) -> DaxError { DaxError(.EFSCORRUPTED, m) }

    /// Enters `node` under its parent's name (`parent`, when the caller has
    /// looked it up already). Throws when the parent is missing or not a
    /// directory, or the name is taken.
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

    /// Applies one verified log record.
    ///
    /// `live` is true when the record was just committed by this process: its
    /// ALLOC runs were reserved from the allocator before the commit. During
    /// replay, an inconsistent record (one that does not fit the state) throws
    /// EFSCORRUPTED; on the live path that would be a bug in daxfs and traps.
    /// Applies a transaction's records in order, as `apply` does one by one,
    /// except that a run of consecutive FREE records goes back to the free
    /// space in one `Allocator.releaseAll` (a sorted merge when the run is
    /// large: a punch of 100,000 extents frees them in O(n), not in 100,000
    /// tree updates). Throws at the first record that does not fit.
    func applyAll(_ records: [LogRecord], live: Bool) throws {
        var i = 0
        while i < records.count {
            if case .free = records[i] {
                var runs: [BlockRange] = []
                while i < records.count, case .free(let run) = records[i] { runs.append(run); i += 1 }
                if runs.count == 1 {
                    try apply(.free(runs[0]), live: live)
                } else if !allocator.releaseAll(runs) {
                    throw Self.corrupt("FREE of blocks among \(runs.count) runs that are already free")
                }
                continue
            }
            try apply(records[i], live: live)
            i += 1
        }
    }

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
                inodes[r.ino] = node
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
        var c = CheckpointContent()
        // The inodes in number order, taken from the table in one walk: a
        // lookup per number after sorting the keys cost a hash and a cache
        // miss per inode.
        var nodes = inodes.map { ($0.key, $0.value) }
        nodes.sort { $0.0 < $1.0 }
        c.inodes.reserveCapacity(nodes.count)
        for (n, node) in nodes {
            c.inodes.append(node.record)
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
