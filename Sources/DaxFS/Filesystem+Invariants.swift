import DaxCore
import DaxFSFormat

/// Space usage, as `df` reports it.
public struct SpaceUsage: Sendable, Equatable, Codable {
    public var blockSize: UInt64
    public var dataBlocks: UInt64
    public var freeBlocks: UInt64
    public var usedBlocks: UInt64
    public var freeRuns: Int
    public var largestFreeRun: UInt64
    public var inodes: Int
}

extension Filesystem {
    public func usage() throws -> SpaceUsage {
        try checkMounted()
        return logLock.withLock {
            let a = state.allocator
            let data = superblock.dataBlockCount.raw, free = a.freeBlocks
            return SpaceUsage(blockSize: blockSize, dataBlocks: data, freeBlocks: free, usedBlocks: data - free,
                              freeRuns: a.freeRunCount, largestFreeRun: a.largestFreeRun, inodes: state.inodes.count)
        }
    }

    /// The engine's own consistency checks over the whole DRAM state, for
    /// tests and for `fsck` until it exists. Throws EFSCORRUPTED listing the
    /// first problems found. Call it while no operation is in flight.
    ///
    /// It checks that every extent map is sorted, disjoint, merged, inside
    /// the data area and aligned to its file's allocation unit; that the free
    /// runs and every file's extents tile the data area exactly (free ∪
    /// allocated = data area, no block twice); that the directory index
    /// matches every inode's parent and name; that sizes and inode numbers
    /// are in range; and that every pending intent names a live file.
    /// - Complexity: O(E log E) for E extents and free runs.
    public func checkInvariants() throws {
        var problems: [String] = []
        func fail(_ s: String) { if problems.count < 20 { problems.append(s) } }
        nsLock.withReadLock {
            logLock.withLock {
                let sb = superblock, bs = blockSize
                var owned: [(start: UInt64, end: UInt64, owner: UInt64)] = []
                for (ino, n) in state.inodes {
                    if ino != n.ino { fail("inode table key \(ino) holds inode \(n.ino)") }
                    if ino.raw >= state.nextIno { fail("inode \(ino) is not below next_ino \(state.nextIno)") }
                    if n.record.size > Geometry.maximumFileSize { fail("inode \(ino): size \(n.record.size) too large") }
                    if let why = n.record.problem() { fail("inode \(ino): \(why)") }
                    let u = n.unitBlocks(blockSize: bs)
                    var prev: Extent?
                    for e in n.extents {
                        if e.count == 0 { fail("inode \(ino): empty extent") }
                        if e.regionBlock < sb.dataStartBlock.raw || e.regionEnd > sb.dataEndBlock { fail("inode \(ino): \(e) outside the data area") }
                        if e.fileBlock % u != 0 || e.regionBlock % u != 0 || e.count % u != 0 { fail("inode \(ino): \(e) not aligned to its unit of \(u) blocks") }
                        if let p = prev {
                            if p.fileEnd > e.fileBlock { fail("inode \(ino): extents \(p) and \(e) overlap") }
                            if p.fileEnd == e.fileBlock && p.regionEnd == e.regionBlock { fail("inode \(ino): extents \(p) and \(e) are not merged") }
                        }
                        prev = e
                        owned.append((e.regionBlock, e.regionEnd, ino.raw))
                    }
                    if n.isDirectory && !n.extents.isEmpty { fail("directory \(ino) has extents") }
                    if ino != .root && !n.removing {
                        if state.inodes[n.record.parent]?.entries[n.record.name] != ino {
                            fail("inode \(ino) is not entered as \"\(n.record.nameString)\" in directory \(n.record.parent)")
                        }
                    }
                    for (name, child) in n.entries {
                        guard let c = state.inodes[child] else { fail("directory \(ino): entry \"\(String(decoding: name, as: UTF8.self))\" names missing inode \(child)"); continue }
                        if c.record.parent != ino || c.record.name != name || c.removing { fail("directory \(ino): entry for inode \(child) disagrees with the inode") }
                    }
                }
                for run in state.allocator.checkpointRuns() { owned.append((run.start.raw, run.end, 0)) }
                owned.sort { $0.start < $1.start }
                var at = sb.dataStartBlock.raw
                for o in owned {
                    if o.start < at { fail("region blocks [\(o.start), \(min(at, o.end))) are claimed twice (owner \(o.owner == 0 ? "free space" : "inode \(o.owner)"))") }
                    else if o.start > at { fail("region blocks [\(at), \(o.start)) are neither free nor owned (leaked)") }
                    at = max(at, o.end)
                }
                if at != sb.dataEndBlock { fail("region blocks [\(at), \(sb.dataEndBlock)) are neither free nor owned (leaked)") }
                for i in state.intents.values {
                    if state.inodes[i.ino1]?.isDirectory != false { fail("intent \(i.id) names inode \(i.ino1), which is not a file") }
                    if i.id >= state.nextIntentID { fail("intent \(i.id) is not below next_intent") }
                }
            }
        }
        if !problems.isEmpty {
            throw DaxError(.EFSCORRUPTED, "invariants violated: " + problems.joined(separator: "; "))
        }
    }

    /// A canonical description of the whole metadata state (inodes with
    /// their records and extents, free runs, intents), for tests that compare
    /// a replayed mount with a live one. Times are included: replay must
    /// reproduce them exactly.
    public func stateDigest() -> String {
        nsLock.withReadLock {
            logLock.withLock {
                var lines: [String] = []
                for ino in state.inodes.keys.sorted() {
                    let n = state.inodes[ino]!
                    let r = n.record
                    lines.append("inode \(ino) parent \(r.parent) name \(r.nameString) kind \(r.kind) mode \(r.mode) size \(r.size) change \(r.change) times \(r.mtime)/\(r.ctime)/\(r.btime) gen \(r.generation) unit \(r.allocShift) removing \(n.removing)")
                    for e in n.extents { lines.append("  \(e)") }
                }
                for run in state.allocator.checkpointRuns() { lines.append("free \(run)") }
                for id in state.intents.keys.sorted() { lines.append("intent \(state.intents[id]!)") }
                lines.append("next_ino \(state.nextIno)")
                return lines.joined(separator: "\n")
            }
        }
    }
}
