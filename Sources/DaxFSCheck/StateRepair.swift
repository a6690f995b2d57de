import DaxCore
import DaxFSFormat
import DaxFS

/// Passes 3 to 7 over one metadata state (a checkpoint's entries, or the
/// state after log replay): inodes, extent maps, block ownership, the
/// directory tree, and the counts. It finds every problem and, at the same
/// time, builds the corrected state, so that a repair is a matter of writing
/// `content` as a fresh checkpoint. Inode entries stay where they are (on the
/// media, see `InodeEntries`) unless a pass changes them.
///
/// Writes nothing; reads the media only through `InodeEntries`. Memory is
/// O(inodes + extents + free runs): it never allocates anything per block
/// of the region.
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
        var inodes: InodeEntries
        var extents: [ExtentRecord]
        var free: [BlockRange]
        var intents: [IntentRecord]
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
        /// Sorted by inode number.
        var inodes: InodeEntries
        var directories: Int
        /// The extents by position in `inodes` (through `table`), in file
        /// order; `extents` merges them as a checkpoint stores them.
        var kept: [(pos: Int32, e: Extent)]
        var table: InodeTable
        var extentCount: Int
        var free: [BlockRange]
        var intents: [IntentRecord]
        var nextIno: UInt64
        var nextIntentID: UInt64
        var freeBlocks: UInt64

        /// The extents as a checkpoint stores them. O(extents).
        var extents: [ExtentRecord] {
            var out: [ExtentRecord] = []
            out.reserveCapacity(extentCount)
            _ = StateRepair.merged(kept, table) { out.append($0) }
            return out
        }

        /// The state as a checkpoint stores it: every inode in DRAM, read
        /// from the media while it still holds the checked checkpoint. O(n).
        var content: CheckpointContent {
            var c = CheckpointContent()
            c.inodes = inodes.materialize()
            c.extents = extents
            c.free = free
            c.intents = intents
            return c
        }
    }

    /// The highest next_ino and next_intent fsck accepts: 2^63, far beyond
    /// any real use, so that handing out numbers can never overflow.
    static let counterLimit: UInt64 = 1 << 63

    /// Constants of DaxFSFormat read once: each read of another module's
    /// global is a call (and a swift_once), and pass 3 needs them per inode.
    private let validAllocShifts = InodeRecord.validAllocShifts
    private let maximumFileSize = Geometry.maximumFileSize

    init(sb: Superblock, context: String) { self.sb = sb; self.context = context }

    mutating func note(_ code: ProblemCode, _ message: String) { found.append(Found(code, context + message)) }

    mutating func run(_ input: consuming Input, progress: (Int, Int, Int) -> Void) -> Output {
        let bs = UInt64(sb.blockSize)
        var nextIno = input.nextIno ?? 2
        var nextIntent = input.nextIntentID ?? 1

        // Pass 3: inodes, each on its own. `entries` stays sorted by inode
        // number; every later pass addresses an inode by its position there.
        // The input's entries are taken over and compacted in place; an
        // entry moves to DRAM only when it is fixed.
        progress(3, 0, input.inodes.count)
        var entries = input.inodes
        input.inodes = InodeEntries([])
        entries.sortByIno()
        var badNameInos: [UInt64] = []
        var facts: [InodeFacts] = []
        facts.reserveCapacity(entries.count + 2)
        let fallbackShift: UInt8 = UInt64(1) << 12 >= bs ? 12 : 21
        var live = 0
        var directories = 0
        for k in 0..<entries.count {
            if k & 0xFFFF == 0 { progress(3, k, entries.count) }
            let ino = entries.ino(k)
            if ino == 0 || ino > Self.counterLimit { note(.inodeBad, "an inode entry has number \(ino), outside [1, 2^63]; dropped"); continue }
            if live > 0 && entries.ino(live - 1) == ino { note(.inodeDuplicate, "inode \(ino) is stored twice; the later copy is dropped"); continue }
            if ino != 1 && !input.badKinds.isEmpty && input.badKinds.contains(ino) { note(.inodeBad, "inode \(ino): kind is neither file nor directory; dropped"); continue }
            if !input.dirtyPadding.isEmpty && input.dirtyPadding.contains(ino) { note(.inodeReserved, "inode \(ino): reserved or name padding bytes are not zero") }
            entries.move(k, to: live)
            var r = entries.fixedFields(live)
            let (nameProblem, nameCRC) = entries.withName(live) { name in
                (ino == 1 ? nil : InodeRecord.nameProblem(name), CRC32C.checksum(name))
            }
            if let why = nameProblem {
                note(.inodeName, "inode \(ino): \(why)")
                badNameInos.append(ino)
            }
            if checkInode(&r, hasName: entries.nameLength(live) > 0, fallbackShift: fallbackShift) {
                if ino != 1 { r.name = entries.record(live).name }    // the root's is empty now
                entries.replace(live, with: r)
            }
            facts.append(InodeFacts(r, nameCRC: nameCRC))
            if r.kind == .directory { directories += 1 }
            live += 1
        }
        entries.truncate(live)
        if facts.first?.ino != 1 {
            note(.rootMissing, "the root directory is missing; a new one is created")
            let now = inodeTimeNanoseconds()
            let root = InodeRecord(ino: .root, parent: .root, kind: .directory, name: [], mode: 0o755, atime: now, mtime: now,
                                   ctime: now, btime: now, generation: 1, nlink: 2,
                                   allocShift: max(fallbackShift, UInt8(UInt64(sb.allocUnit).trailingZeroBitCount)))
            entries.insert(root, at: 0)
            facts.insert(InodeFacts(root, nameCRC: CRC32C.checksum([])), at: 0)
            directories += 1
        }
        let maxIno = facts.last!.ino
        if nextIno <= maxIno && input.nextIno == nil { nextIno = maxIno + 1 }
        if nextIno > Self.counterLimit {
            note(.counterExhausted, "next_ino \(nextIno) leaves no inode numbers to hand out")
            nextIno = maxIno + 1
        }
        if nextIno <= maxIno { note(.nextInoLow, "next_ino \(nextIno) is not above the highest inode \(maxIno)"); nextIno = maxIno + 1 }
        let table = InodeTable(facts)
        var badName = [Bool](repeating: false, count: facts.count)
        for ino in badNameInos { if let i = table.position(ino) { badName[i] = true } }

        // Intents: each must name live files; ids unique and below next_intent.
        var intents: [IntentRecord] = []
        var removing = [Bool](repeating: false, count: facts.count)
        var seenIntent: Set<UInt64> = []
        for i in input.intents {
            func isFile(_ n: InodeNumber) -> Bool { table.position(n.raw).map { table[$0].kind == .file } ?? false }
            if !isFile(i.ino1) || (i.kind == .swapExtents && !isFile(i.ino2)) {
                note(.intentInvalid, "intent \(i.id) (\(i.kind)) names an inode that is not a file; dropped"); continue
            }
            if i.id > Self.counterLimit { note(.intentInvalid, "intent \(i.id) has an id above 2^63; dropped"); continue }
            if !seenIntent.insert(i.id).inserted { note(.intentInvalid, "intent \(i.id) is stored twice; the later copy is dropped"); continue }
            if i.kind == .truncate && i.flags & IntentRecord.removeInodeFlag != 0 { removing[table.position(i.ino1.raw)!] = true }
            intents.append(i)
        }
        let maxID = intents.map(\.id).max()
        if let maxID, nextIntent <= maxID, input.nextIntentID == nil { nextIntent = maxID + 1 }
        if nextIntent > Self.counterLimit {
            note(.counterExhausted, "next_intent \(nextIntent) leaves no intent ids to hand out")
            nextIntent = (maxID ?? 0) + 1
        }
        if let maxID, nextIntent <= maxID {
            note(.nextIntentLow, "next_intent \(nextIntent) is not above the highest intent \(maxID)"); nextIntent = maxID + 1
        }

        // Pass 4: extent maps, each file on its own. `exts` is filtered in
        // place from here to pass 5; it is sorted only when it is not in
        // order already (a checkpoint stores it in inode and file order),
        // which the loops that fill it note as they go.
        progress(4, 0, input.extents.count)
        var exts: [(pos: Int32, e: Extent)] = []
        exts.reserveCapacity(input.extents.count)
        // The bounds `ExtentRecord.problem` computes on every call, once.
        let maxFileBlocks = maximumFileSize / bs
        let dataStart = sb.dataStartBlock.raw, dataEnd = sb.dataEndBlock
        // Blocks per allocation unit by shift (pass 3 left only valid shifts).
        let unitOf: [UInt64] = (0..<64).map { max(1, (UInt64(1) << UInt64($0)) / bs) }
        var inFileOrder = true
        for e in input.extents {
            let (fileEnd, fo) = e.fileBlock.raw.addingReportingOverflow(e.count.raw)
            let (regionEnd, ro) = e.regionBlock.raw.addingReportingOverflow(e.count.raw)
            let inBounds = e.ino.raw != 0 && e.count.raw != 0 && !fo && fileEnd <= maxFileBlocks
                && !ro && e.regionBlock.raw >= dataStart && regionEnd <= dataEnd
            if !inBounds, let why = e.problem(in: sb) {
                note(.extentOutside, "inode \(e.ino): extent at file block \(e.fileBlock) -> region block \(e.regionBlock) (+\(e.count)): \(why); removed, the range becomes a hole")
                continue
            }
            guard let p = table.position(e.ino.raw), table[p].kind == .file else {
                note(.extentNoOwner, "extent -> region block \(e.regionBlock) (+\(e.count)) belongs to inode \(e.ino), which is not a file; removed")
                continue
            }
            if let l = exts.last, (Int32(p), e.fileBlock.raw) < (l.pos, l.e.fileBlock) { inFileOrder = false }
            exts.append((Int32(p), Extent(fileBlock: e.fileBlock.raw, regionBlock: e.regionBlock.raw, count: e.count.raw)))
        }
        if !inFileOrder { exts.sort { ($0.pos, $0.e.fileBlock) < ($1.pos, $1.e.fileBlock) } }
        var inRegionOrder = true
        var kept = 0
        var prevPos: Int32 = -1
        var prevEnd: UInt64 = 0
        for k in 0..<exts.count {
            let pos = exts[k].pos
            var e = exts[k].e
            let ino = table[Int(pos)].ino
            if pos == prevPos && e.fileBlock < prevEnd {
                let cut = min(e.count, prevEnd - e.fileBlock)
                note(.extentOverlap, "inode \(ino): file blocks [\(e.fileBlock), \(e.fileBlock + cut)) are mapped twice; the later mapping is cut")
                guard cut < e.count else { continue }
                e = Extent(fileBlock: e.fileBlock + cut, regionBlock: e.regionBlock + cut, count: e.count - cut)
            }
            let unit = unitOf[Int(table[Int(pos)].allocShift)]
            guard let a = Self.aligned(e, unit: unit) else {
                note(.extentMisaligned, "inode \(ino): extent \(e) is not aligned to its allocation unit of \(unit) blocks; removed")
                continue
            }
            if a != e { note(.extentMisaligned, "inode \(ino): extent \(e) is not aligned to its allocation unit of \(unit) blocks; trimmed") }
            if kept > 0, (a.regionBlock, pos) < (exts[kept - 1].e.regionBlock, exts[kept - 1].pos) { inRegionOrder = false }
            exts[kept] = (pos, a)
            kept += 1
            prevPos = pos
            prevEnd = a.fileEnd
        }
        exts.removeLast(exts.count - kept)

        // Pass 5: block ownership. Every data block is free or owned by exactly one extent.
        // In region order, a later extent that starts below the end claimed so
        // far is cross-linked. Cutting keeps the survivors in region order, so
        // the owned ranges are merged as they are kept.
        progress(5, 0, exts.count)
        if !inRegionOrder { exts.sort { ($0.e.regionBlock, $0.pos) < ($1.e.regionBlock, $1.pos) } }
        var owned: [Ranges.R] = []
        kept = 0
        var claimedEnd: UInt64 = 0
        var lastOwner: Int32 = 0
        for k in 0..<exts.count {
            let pos = exts[k].pos
            var e = exts[k].e
            if e.regionBlock < claimedEnd {
                let cut = min(e.count, claimedEnd - e.regionBlock)
                let ino = table[Int(pos)].ino
                note(.crossLinked, "region blocks [\(e.regionBlock), \(e.regionBlock + cut)) are claimed by inode \(table[Int(lastOwner)].ino) and by inode \(ino) (file block \(e.fileBlock)); cut from inode \(ino), whose range becomes a hole")
                guard cut < e.count else { continue }
                e = Extent(fileBlock: e.fileBlock + cut, regionBlock: e.regionBlock + cut, count: e.count - cut)
                guard let a = Self.aligned(e, unit: unitOf[Int(table[Int(pos)].allocShift)]) else { continue }
                e = a
            }
            exts[kept] = (pos, e)
            kept += 1
            if let l = owned.last, e.regionBlock <= l.end { owned[owned.count - 1].end = max(l.end, e.regionEnd) } else { owned.append((e.regionBlock, e.regionEnd)) }
            if e.regionEnd > claimedEnd { claimedEnd = e.regionEnd; lastOwner = pos }
        }
        exts.removeLast(exts.count - kept)
        let lo = sb.dataStartBlock.raw, hi = sb.dataEndBlock
        let expectedFree = Ranges.complement(owned, lo: lo, hi: hi)
        let stored = input.free
        var storedValid: [Ranges.R] = []
        var storedSum: UInt64 = 0
        var mapProblem: String?
        var prevRunEnd: UInt64?
        for run in stored {
            storedSum &+= run.count.raw
            if let why = run.problem(in: sb) { mapProblem = mapProblem ?? why; continue }
            if let p = prevRunEnd, run.start.raw <= p { mapProblem = mapProblem ?? "free run \(run) is out of order, overlaps or touches the previous one" }
            prevRunEnd = run.end
            storedValid.append((run.start.raw, run.end))
        }
        let same = stored.count == expectedFree.count && zip(stored, expectedFree).allSatisfy { $0.start.raw == $1.start && $0.count.raw == $1.end - $1.start }
        if !same {
            let storedSet = Ranges.union(storedValid)
            let both = Ranges.intersection(storedSet, owned)
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
        progress(6, 0, table.count)
        let n = table.count
        var parent = [Int32](repeating: -1, count: n)
        for i in 1..<max(n, 1) { parent[i] = table.position(table[i].parent).map(Int32.init) ?? -1 }
        var moves: [Int] = []                           // positions to move to /lost+found, in discovery order
        var moved = [Bool](repeating: false, count: n)
        func move(_ i: Int) { if !moved[i] { moved[i] = true; moves.append(i) } }
        for i in 1..<max(n, 1) where !removing[i] {
            if badName[i] { move(i); continue }
            let p = Int(parent[i])
            if p < 0 || p == i || table[p].kind != .directory || removing[p] {
                note(.orphan, "inode \(table[i].ino) (\"\(entries.nameString(i))\"): parent \(table[i].parent) is missing or not a directory")
                move(i)
            }
        }
        var reached = [Bool](repeating: false, count: n)
        if n > 0 { reached[0] = true }
        var stamp = [Int32](repeating: -1, count: n)     // stamp[i] == walk: i is on the current path
        for start in 1..<max(n, 1) where !removing[start] {
            var cur = start
            while !reached[cur] && !moved[cur] {
                if stamp[cur] == Int32(start) {
                    note(.directoryLoop, "directory \(table[cur].ino) (\"\(entries.nameString(cur))\") is its own ancestor")
                    move(cur)
                    break
                }
                stamp[cur] = Int32(start)
                cur = Int(parent[cur])
            }
            // The path walked is reached: follow it again (no list of it kept).
            cur = start
            while cur >= 0 && !reached[cur] && stamp[cur] == Int32(start) { reached[cur] = true; cur = Int(parent[cur]) }
        }
        // Names taken twice in a directory: the earlier inode keeps the name.
        for (earlier, i) in DuplicateNames.find(entries, table, parent: parent, include: { $0 > 0 && !removing[$0] && !moved[$0] }) {
            note(.nameDuplicate, "directory \(table[i].parent): name \"\(entries.nameString(i))\" is taken by inode \(table[earlier].ino) and inode \(table[i].ino)")
            move(i)
        }
        if !moves.isEmpty {
            // Rare: the full name table, to find /lost+found and free names in it.
            var names: [NameKey: Int32] = [:]
            for i in 1..<n where !removing[i] && !moved[i] { names[NameKey(parent: table[i].parent, name: entries.record(i).name)] = Int32(i) }
            let lfName = Array("lost+found".utf8)
            let lf: Int
            let lfIno: InodeNumber
            if let existing = names[NameKey(parent: 1, name: lfName)], table[Int(existing)].kind == .directory {
                lf = Int(existing)
                lfIno = InodeNumber(table[lf].ino)
            } else {
                let ino = max(nextIno, input.firstNewIno)
                nextIno = ino + 1
                var name = lfName
                if names[NameKey(parent: 1, name: name)] != nil { name += Array(".\(ino)".utf8) }
                let now = inodeTimeNanoseconds()
                entries.append(InodeRecord(ino: InodeNumber(ino), parent: .root, kind: .directory, name: name, mode: 0o700,
                                           atime: now, mtime: now, ctime: now, btime: now, generation: 1, nlink: 2,
                                           allocShift: table[0].allocShift))
                directories += 1
                lf = entries.count - 1
                lfIno = InodeNumber(ino)
                names[NameKey(parent: 1, name: name)] = Int32(lf)
            }
            for i in moves {
                var r = entries.record(i)
                var name = Array("#\(r.ino)".utf8)
                var k = 1
                while names[NameKey(parent: lfIno.raw, name: name)] != nil { name = Array("#\(r.ino).\(k)".utf8); k += 1 }
                r.parent = lfIno
                r.name = name
                entries.replace(i, with: r)
                names[NameKey(parent: lfIno.raw, name: name)] = Int32(i)
            }
        }

        // Pass 7: counts (links and sizes were set in pass 3; free space in pass 5).
        progress(7, 0, 1)
        // Back to file order. When pass 5 did not sort, `exts` is still in it:
        // cutting moves an extent's start up inside its own file range.
        if !inRegionOrder && !exts.isSorted(by: { ($0.pos, $0.e.fileBlock) < ($1.pos, $1.e.fileBlock) }) {
            exts.sort { ($0.pos, $0.e.fileBlock) < ($1.pos, $1.e.fileBlock) }
        }
        let extentCount = Self.merged(exts, table) { _ in }
        progress(7, 1, 1)
        return Output(inodes: entries, directories: directories, kept: exts, table: table, extentCount: extentCount,
                      free: expectedFree.map { BlockRange($0.start, $0.end - $0.start) },
                      intents: intents.sorted { $0.id < $1.id },
                      nextIno: nextIno, nextIntentID: nextIntent, freeBlocks: freeBlocks)
    }

    /// Pass 3 on the fixed fields of one inode (its name is checked by the
    /// caller): checks what needs nothing else and fixes it in place.
    /// Returns whether it changed anything. O(1).
    mutating func checkInode(_ r: inout InodeRecord, hasName: Bool, fallbackShift: UInt8) -> Bool {
        let before = found.count
        let ino = r.ino.raw
        let bs = UInt64(sb.blockSize)
        if ino == 1 && (r.kind != .directory || r.parent != .root || hasName) {
            note(.rootBad, "the root inode is not a directory named \"\" whose parent is itself")
            r.kind = .directory; r.parent = .root; r.name = []
        }
        if r.mode & ~0o7777 != 0 {
            note(.inodeMode, "inode \(ino): mode \(String(r.mode, radix: 8)) has bits outside 07777")
            r.mode &= 0o7777
        }
        if !validAllocShifts.contains(r.allocShift) || UInt64(1) << r.allocShift < bs {
            note(.inodeAllocUnit, "inode \(ino): allocation unit shift \(r.allocShift) is not valid for block size \(bs)")
            r.allocShift = fallbackShift
        }
        if r.flags != 0 { note(.inodeFlags, "inode \(ino): flags 0x\(String(r.flags, radix: 16)) are not defined in format version 1"); r.flags = 0 }
        if r.kind == .directory && r.size != 0 { note(.sizeWrong, "directory \(ino): size \(r.size), expected 0"); r.size = 0 }
        if r.size > maximumFileSize { note(.sizeWrong, "inode \(ino): size \(r.size) exceeds 2^60"); r.size = maximumFileSize }
        let links: UInt32 = r.kind == .directory ? 2 : 1
        if r.nlink != links { note(.linkCount, "inode \(ino): link count \(r.nlink), expected \(links)"); r.nlink = links }
        return found.count != before    // every problem above is fixed here
    }

    /// `exts` (by position in `table`, in file order) as a checkpoint stores
    /// them: neighbours that continue each other in the file and in the
    /// region are one extent. Calls `body` with each; returns how many. O(n).
    static func merged(_ exts: [(pos: Int32, e: Extent)], _ table: InodeTable, _ body: (ExtentRecord) -> Void) -> Int {
        var n = 0
        var pending: ExtentRecord?
        for (pos, e) in exts {
            let ino = InodeNumber(table[Int(pos)].ino)
            if let l = pending, l.ino == ino, l.fileBlock.raw + l.count.raw == e.fileBlock,
               l.regionBlock.raw + l.count.raw == e.regionBlock {
                pending!.count = BlockCount(l.count.raw + e.count)
            } else {
                if let l = pending { body(l); n += 1 }
                pending = ExtentRecord(ino: ino, fileBlock: FileBlock(e.fileBlock), regionBlock: BlockNumber(e.regionBlock),
                                       count: BlockCount(e.count))
            }
        }
        if let l = pending { body(l); n += 1 }
        return n
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

/// A directory entry as a key: parent inode and name bytes.
struct NameKey: Hashable {
    var parent: UInt64
    var name: [UInt8]
    func hash(into h: inout Hasher) {
        h.combine(parent)
        name.withUnsafeBytes { h.combine(bytes: $0) }
    }
}

extension Array {
    /// True when no element is ordered before the one in front of it. O(n).
    func isSorted(by areInIncreasingOrder: (Element, Element) -> Bool) -> Bool {
        var i = 1
        while i < count { if areInIncreasingOrder(self[i], self[i - 1]) { return false }; i += 1 }
        return true
    }
}
