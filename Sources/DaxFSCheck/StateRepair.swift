import DaxCore
import DaxFSFormat
import DaxFS

/// Passes 3 to 7 over one metadata state (a checkpoint's entries, or the
/// state after log replay): inodes, extent maps, block ownership, the
/// directory tree, and the counts. It finds every problem and, at the same
/// time, builds the corrected state, so that a repair is a matter of writing
/// `content` as a fresh checkpoint.
///
/// Pure DRAM work. Memory is O(inodes + extents + free runs): it never
/// allocates anything per block of the region.
///
/// Policies (stated in the problem table and daxfs(8)):
/// - cross-linked blocks stay with the extent that starts first in the
///   region (the lower inode number on a tie); the later owner's extent is
///   cut and its file range becomes a hole (no data is copied);
/// - an orphan, a directory in a loop, an inode with an invalid name and the
///   later of two inodes with the same name in a directory move to
///   /lost+found as "#INO" (created under the root when missing);
/// - nlink is 1 for a file and 2 for a directory (daxfs does not count
///   subdirectories), a directory's size is 0.
/// - Complexity: O((inodes + extents + free runs) log n).
struct StateRepair {
    let sb: Superblock
    /// Context for messages ("" or "after log replay: ").
    let context: String
    var found: [Found] = []

    struct Input {
        var content: CheckpointContent
        /// next_ino as stored, or nil when no header says it (then it is derived, silently).
        var nextIno: UInt64?
        var nextIntentID: UInt64?
        /// The lowest inode number a new inode (/lost+found) may take: above
        /// every inode the log creates, so that replay does not collide with it.
        var firstNewIno: UInt64 = 2
        /// The free block count the header claims, when there is a header.
        var claimedFreeBlocks: UInt64?
        var badKinds: Set<UInt64> = []
        var dirtyPadding: Set<UInt64> = []
    }

    struct Output {
        var content: CheckpointContent
        var nextIno: UInt64
        var nextIntentID: UInt64
        var freeBlocks: UInt64
    }

    /// The highest next_ino and next_intent fsck accepts: 2^63, far beyond
    /// any real use, so that handing out numbers can never overflow.
    static let counterLimit: UInt64 = 1 << 63

    init(sb: Superblock, context: String) { self.sb = sb; self.context = context }

    mutating func note(_ code: ProblemCode, _ message: String) { found.append(Found(code, context + message)) }

    mutating func run(_ input: Input, progress: (Int, Int, Int) -> Void) -> Output {
        let bs = UInt64(sb.blockSize)
        var nextIno = input.nextIno ?? 2
        var nextIntent = input.nextIntentID ?? 1

        // Pass 3: inodes, each on its own.
        progress(3, 0, input.content.inodes.count)
        var inodes: [UInt64: InodeRecord] = [:]
        inodes.reserveCapacity(input.content.inodes.count)
        var badName: Set<UInt64> = []
        let fallbackShift: UInt8 = UInt64(1) << 12 >= bs ? 12 : 21
        for (k, original) in input.content.inodes.enumerated() {
            if k & 0xFFFF == 0 { progress(3, k, input.content.inodes.count) }
            var r = original
            let ino = r.ino.raw
            if ino == 0 || ino > Self.counterLimit { note(.inodeBad, "an inode entry has number \(ino), outside [1, 2^63]; dropped"); continue }
            if inodes[ino] != nil { note(.inodeDuplicate, "inode \(ino) is stored twice; the later copy is dropped"); continue }
            if input.badKinds.contains(ino) && ino != 1 { note(.inodeBad, "inode \(ino): kind is neither file nor directory; dropped"); continue }
            if input.dirtyPadding.contains(ino) { note(.inodeReserved, "inode \(ino): reserved or name padding bytes are not zero") }
            if ino == 1 {
                if r.kind != .directory || r.parent != .root || !r.name.isEmpty {
                    note(.rootBad, "the root inode is not a directory named \"\" whose parent is itself")
                    r.kind = .directory; r.parent = .root; r.name = []
                }
            } else if let why = InodeRecord.nameProblem(r.name) {
                note(.inodeName, "inode \(ino): \(why)")
                badName.insert(ino)
            }
            if r.mode & ~0o7777 != 0 {
                note(.inodeMode, "inode \(ino): mode \(String(r.mode, radix: 8)) has bits outside 07777")
                r.mode &= 0o7777
            }
            if !InodeRecord.validAllocShifts.contains(r.allocShift) || UInt64(1) << r.allocShift < bs {
                note(.inodeAllocUnit, "inode \(ino): allocation unit shift \(r.allocShift) is not valid for block size \(bs)")
                r.allocShift = fallbackShift
            }
            if r.flags != 0 { note(.inodeFlags, "inode \(ino): flags 0x\(String(r.flags, radix: 16)) are not defined in format version 1"); r.flags = 0 }
            if r.kind == .directory && r.size != 0 { note(.sizeWrong, "directory \(ino): size \(r.size), expected 0"); r.size = 0 }
            if r.size > Geometry.maximumFileSize { note(.sizeWrong, "inode \(ino): size \(r.size) exceeds 2^60"); r.size = Geometry.maximumFileSize }
            let links: UInt32 = r.kind == .directory ? 2 : 1
            if r.nlink != links { note(.linkCount, "inode \(ino): link count \(r.nlink), expected \(links)"); r.nlink = links }
            inodes[ino] = r
        }
        if inodes[1] == nil {
            note(.rootMissing, "the root directory is missing; a new one is created")
            let now = wallClockNanoseconds()
            inodes[1] = InodeRecord(ino: .root, parent: .root, kind: .directory, name: [], mode: 0o755, atime: now, mtime: now,
                                    ctime: now, btime: now, generation: 1, nlink: 2,
                                    allocShift: max(fallbackShift, UInt8(UInt64(sb.allocUnit).trailingZeroBitCount)))
        }
        let maxIno = inodes.keys.max() ?? 1
        if nextIno <= maxIno && input.nextIno == nil { nextIno = maxIno + 1 }
        if nextIno > Self.counterLimit {
            note(.counterExhausted, "next_ino \(nextIno) leaves no inode numbers to hand out")
            nextIno = maxIno + 1
        }
        if nextIno <= maxIno { note(.nextInoLow, "next_ino \(nextIno) is not above the highest inode \(maxIno)"); nextIno = maxIno + 1 }

        // Intents: each must name live files; ids unique and below next_intent.
        var intents: [IntentRecord] = []
        var removing: Set<UInt64> = []
        var seenIntent: Set<UInt64> = []
        for i in input.content.intents {
            func isFile(_ n: InodeNumber) -> Bool { inodes[n.raw]?.kind == .file }
            if !isFile(i.ino1) || (i.kind == .swapExtents && !isFile(i.ino2)) {
                note(.intentInvalid, "intent \(i.id) (\(i.kind)) names an inode that is not a file; dropped"); continue
            }
            if !seenIntent.insert(i.id).inserted { note(.intentInvalid, "intent \(i.id) is stored twice; the later copy is dropped"); continue }
            if i.kind == .truncate && i.flags & IntentRecord.removeInodeFlag != 0 { removing.insert(i.ino1.raw) }
            intents.append(i)
        }
        if let maxID = intents.map(\.id).max(), nextIntent <= maxID, input.nextIntentID == nil { nextIntent = maxID + 1 }
        if nextIntent > Self.counterLimit {
            note(.counterExhausted, "next_intent \(nextIntent) leaves no intent ids to hand out")
            nextIntent = (intents.map(\.id).max() ?? 0) + 1
        }
        if let maxID = intents.map(\.id).max(), nextIntent <= maxID {
            note(.nextIntentLow, "next_intent \(nextIntent) is not above the highest intent \(maxID)"); nextIntent = maxID + 1
        }

        // Pass 4: extent maps, each file on its own.
        progress(4, 0, input.content.extents.count)
        var perFile: [UInt64: [Extent]] = [:]
        for e in input.content.extents {
            if let why = e.problem(in: sb) {
                note(.extentOutside, "inode \(e.ino): extent at file block \(e.fileBlock) -> region block \(e.regionBlock) (+\(e.count)): \(why); removed, the range becomes a hole")
                continue
            }
            guard let r = inodes[e.ino.raw], r.kind == .file else {
                note(.extentNoOwner, "extent -> region block \(e.regionBlock) (+\(e.count)) belongs to inode \(e.ino), which is not a file; removed")
                continue
            }
            perFile[e.ino.raw, default: []].append(Extent(fileBlock: e.fileBlock.raw, regionBlock: e.regionBlock.raw, count: e.count.raw))
        }
        var all: [(ino: UInt64, e: Extent)] = []
        all.reserveCapacity(input.content.extents.count)
        for (ino, list) in perFile {
            let unit = max(1, (UInt64(1) << inodes[ino]!.allocShift) / bs)
            var prevEnd: UInt64 = 0
            var first = true
            for var e in list.sorted(by: { $0.fileBlock < $1.fileBlock }) {
                if !first && e.fileBlock < prevEnd {
                    let cut = min(e.count, prevEnd - e.fileBlock)
                    note(.extentOverlap, "inode \(ino): file blocks [\(e.fileBlock), \(e.fileBlock + cut)) are mapped twice; the later mapping is cut")
                    guard cut < e.count else { continue }
                    e = Extent(fileBlock: e.fileBlock + cut, regionBlock: e.regionBlock + cut, count: e.count - cut)
                }
                guard let a = Self.aligned(e, unit: unit) else {
                    note(.extentMisaligned, "inode \(ino): extent \(e) is not aligned to its allocation unit of \(unit) blocks; removed")
                    continue
                }
                if a != e { note(.extentMisaligned, "inode \(ino): extent \(e) is not aligned to its allocation unit of \(unit) blocks; trimmed") }
                all.append((ino, a))
                prevEnd = a.fileEnd
                first = false
            }
        }

        // Pass 5: block ownership. Every data block is free or owned by exactly one extent.
        progress(5, 0, all.count)
        all.sort { ($0.e.regionBlock, $0.ino) < ($1.e.regionBlock, $1.ino) }
        var kept: [(ino: UInt64, e: Extent)] = []
        kept.reserveCapacity(all.count)
        var claimedEnd: UInt64 = 0
        var lastOwner: UInt64 = 0
        for (ino, var e) in all {
            if e.regionBlock < claimedEnd {
                let cut = min(e.count, claimedEnd - e.regionBlock)
                note(.crossLinked, "region blocks [\(e.regionBlock), \(e.regionBlock + cut)) are claimed by inode \(lastOwner) and by inode \(ino) (file block \(e.fileBlock)); cut from inode \(ino), whose range becomes a hole")
                guard cut < e.count else { continue }
                e = Extent(fileBlock: e.fileBlock + cut, regionBlock: e.regionBlock + cut, count: e.count - cut)
                let unit = max(1, (UInt64(1) << inodes[ino]!.allocShift) / bs)
                guard let a = Self.aligned(e, unit: unit) else { continue }
                e = a
            }
            kept.append((ino, e))
            if e.regionEnd > claimedEnd { claimedEnd = e.regionEnd; lastOwner = ino }
        }
        let owned = kept.map { (start: $0.e.regionBlock, end: $0.e.regionEnd) }   // sorted and disjoint
        let lo = sb.dataStartBlock.raw, hi = sb.dataEndBlock
        let expectedFree = Ranges.complement(Ranges.union(owned), lo: lo, hi: hi)
        let stored = input.content.free
        var storedValid: [Ranges.R] = []
        var storedSum: UInt64 = 0
        var mapProblem: String?
        var prevEnd: UInt64?
        for run in stored {
            storedSum &+= run.count.raw
            if let why = run.problem(in: sb) { mapProblem = mapProblem ?? why; continue }
            if let p = prevEnd, run.start.raw <= p { mapProblem = mapProblem ?? "free run \(run) is out of order, overlaps or touches the previous one" }
            prevEnd = run.end
            storedValid.append((run.start.raw, run.end))
        }
        let same = stored.count == expectedFree.count && zip(stored, expectedFree).allSatisfy { $0.start.raw == $1.start && $0.count.raw == $1.end - $1.start }
        if !same {
            let storedSet = Ranges.union(storedValid)
            let both = Ranges.intersection(storedSet, Ranges.union(owned))
            let neither = Ranges.complement(Ranges.union(storedSet + owned), lo: lo, hi: hi)
            if both.blocks > 0 { note(.freeAndOwned, "\(both.blocks) blocks are both free and owned by a file (first \(Ranges.text(both.first!)))") }
            if !neither.isEmpty { note(.leaked, "\(Ranges.blocks(neither)) blocks are neither free nor owned (first \(Ranges.text(neither[0])))") }
            if let why = mapProblem { note(.freeMapBad, "the free-space map is damaged: \(why)") }
            else if both.blocks == 0 && neither.isEmpty { note(.freeMapBad, "the free-space map is not in checkpoint form (sorted, disjoint, merged)") }
        }
        let freeBlocks = Ranges.blocks(expectedFree)
        if let claimed = input.claimedFreeBlocks, claimed != storedSum {
            note(.freeCount, "the checkpoint header counts \(claimed) free blocks, its free-space map holds \(storedSum)")
        }

        // Pass 6: the directory tree. Every inode reachable from the root, once.
        progress(6, 0, inodes.count)
        var moves: [UInt64] = []           // to /lost+found, in discovery order
        var moved: Set<UInt64> = []
        func move(_ ino: UInt64) { if moved.insert(ino).inserted { moves.append(ino) } }
        let numbers = inodes.keys.sorted()
        for ino in numbers where ino != 1 && !removing.contains(ino) {
            let r = inodes[ino]!
            if badName.contains(ino) { move(ino); continue }
            let p = r.parent.raw
            if p == ino || inodes[p]?.kind != .directory || removing.contains(p) {
                note(.orphan, "inode \(ino) (\"\(r.nameString)\"): parent \(p) is missing or not a directory")
                move(ino)
            }
        }
        var reached: Set<UInt64> = [1]
        reached.reserveCapacity(inodes.count)
        for ino in numbers where ino != 1 && !removing.contains(ino) {
            var path: [UInt64] = []
            var onPath: Set<UInt64> = []        // only for deep paths; short ones are searched
            var cur = ino
            while true {
                if reached.contains(cur) || moved.contains(cur) { break }
                if path.count == 32 && onPath.isEmpty { onPath = Set(path) }
                let seen = path.count < 32 ? path.contains(cur) : !onPath.insert(cur).inserted
                if seen {
                    note(.directoryLoop, "directory \(cur) (\"\(inodes[cur]!.nameString)\") is its own ancestor")
                    move(cur)
                    break
                }
                path.append(cur)
                cur = inodes[cur]!.parent.raw
            }
            reached.formUnion(path)
        }
        var names: [UInt64: [[UInt8]: UInt64]] = [:]
        for ino in numbers where ino != 1 && !removing.contains(ino) && !moved.contains(ino) {
            let r = inodes[ino]!
            if let other = names[r.parent.raw]?[r.name] {
                note(.nameDuplicate, "directory \(r.parent): name \"\(r.nameString)\" is taken by inode \(other) and inode \(ino)")
                move(ino)
            } else {
                names[r.parent.raw, default: [:]][r.name] = ino
            }
        }
        if !moves.isEmpty {
            let lfName = Array("lost+found".utf8)
            var lf: UInt64
            if let existing = names[1]?[lfName], inodes[existing]?.kind == .directory {
                lf = existing
            } else {
                lf = max(nextIno, input.firstNewIno)
                nextIno = lf + 1
                var name = lfName
                if names[1]?[name] != nil { name += Array(".\(lf)".utf8) }
                let now = wallClockNanoseconds()
                inodes[lf] = InodeRecord(ino: InodeNumber(lf), parent: .root, kind: .directory, name: name, mode: 0o700,
                                         atime: now, mtime: now, ctime: now, btime: now, generation: 1, nlink: 2,
                                         allocShift: inodes[1]!.allocShift)
                names[1, default: [:]][name] = lf
            }
            for ino in moves {
                var r = inodes[ino]!
                var name = Array("#\(ino)".utf8)
                var k = 1
                while names[lf]?[name] != nil { name = Array("#\(ino).\(k)".utf8); k += 1 }
                r.parent = InodeNumber(lf)
                r.name = name
                inodes[ino] = r
                names[lf, default: [:]][name] = ino
            }
        }

        // Pass 7: counts (links and sizes were set in pass 3; free space in pass 5).
        progress(7, 0, 1)
        var c = CheckpointContent()
        c.inodes = inodes.keys.sorted().map { inodes[$0]! }
        kept.sort { ($0.ino, $0.e.fileBlock) < ($1.ino, $1.e.fileBlock) }
        c.extents.reserveCapacity(kept.count)
        for (ino, e) in kept {
            if let l = c.extents.last, l.ino.raw == ino, l.fileBlock.raw + l.count.raw == e.fileBlock,
               l.regionBlock.raw + l.count.raw == e.regionBlock {
                c.extents[c.extents.count - 1].count = BlockCount(l.count.raw + e.count)
            } else {
                c.extents.append(ExtentRecord(ino: InodeNumber(ino), fileBlock: FileBlock(e.fileBlock),
                                              regionBlock: BlockNumber(e.regionBlock), count: BlockCount(e.count)))
            }
        }
        c.free = expectedFree.map { BlockRange($0.start, $0.end - $0.start) }
        c.intents = intents.sorted { $0.id < $1.id }
        progress(7, 1, 1)
        return Output(content: c, nextIno: nextIno, nextIntentID: nextIntent, freeBlocks: freeBlocks)
    }

    /// The largest part of `e` whose file block, region block and count are
    /// multiples of `unit`, or nil when there is none.
    static func aligned(_ e: Extent, unit: UInt64) -> Extent? {
        if unit <= 1 { return e }
        let start = (e.fileBlock + unit - 1) / unit * unit
        let skip = start - e.fileBlock
        guard skip < e.count, (e.regionBlock + skip) % unit == 0 else { return nil }
        let count = (e.count - skip) / unit * unit
        guard count > 0 else { return nil }
        return Extent(fileBlock: start, regionBlock: e.regionBlock + skip, count: count)
    }
}
