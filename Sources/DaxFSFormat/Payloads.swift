import DaxCore

/// A file extent: file blocks [fileBlock, fileBlock+count) live in region
/// blocks [regionBlock, regionBlock+count). 32 bytes, in EXTENT_MAP log
/// records and in checkpoint extent chunks.
public struct ExtentRecord: Equatable, Sendable {
    public var ino: InodeNumber
    public var fileBlock: FileBlock
    public var regionBlock: BlockNumber
    public var count: BlockCount
    public init(ino: InodeNumber, fileBlock: FileBlock, regionBlock: BlockNumber, count: BlockCount) {
        self.ino = ino; self.fileBlock = fileBlock; self.regionBlock = regionBlock; self.count = count
    }
    public static let size = 32
    public enum F {
        public static let ino = Field("ino", 0, 8, .u64)
        public static let fileBlock = Field("file_block", 8, 8, .u64)
        public static let regionBlock = Field("region_block", 16, 8, .u64)
        public static let count = Field("count", 24, 8, .u64)
    }
    public static let layout = RecordLayout(name: "extent", size: size, fields: [F.ino, F.fileBlock, F.regionBlock, F.count])

    public func encode(into p: UnsafeMutableRawBufferPointer, at o: Int) {
        p.setLE(ino.raw, at: o + F.ino.offset)
        p.setLE(fileBlock.raw, at: o + F.fileBlock.offset)
        p.setLE(regionBlock.raw, at: o + F.regionBlock.offset)
        p.setLE(count.raw, at: o + F.count.offset)
    }
    public static func decode(_ p: UnsafeRawBufferPointer, at o: Int) -> ExtentRecord {
        ExtentRecord(ino: InodeNumber(p.u64(o + F.ino.offset)), fileBlock: FileBlock(p.u64(o + F.fileBlock.offset)),
                     regionBlock: BlockNumber(p.u64(o + F.regionBlock.offset)), count: BlockCount(p.u64(o + F.count.offset)))
    }

    /// Bounds and overflow against the geometry: the extent must be non-empty,
    /// lie wholly inside the data area (never on metadata), and its file range
    /// must stay below the maximum file size.
    public func problem(in sb: Superblock) -> String? {
        if ino.raw == 0 { return "extent of inode 0" }
        if count.raw == 0 { return "empty extent" }
        let maxFileBlocks = Geometry.maximumFileSize / UInt64(sb.blockSize)
        let (fEnd, fo) = fileBlock.raw.addingReportingOverflow(count.raw)
        if fo || fEnd > maxFileBlocks { return "extent file range [\(fileBlock), +\(count)) passes the maximum file size" }
        return BlockRange(start: regionBlock, count: count).problem(in: sb)
    }
}

extension BlockRange {
    public static let size = 16
    public enum F {
        public static let start = Field("start", 0, 8, .u64)
        public static let count = Field("count", 8, 8, .u64)
    }
    public static let layout = RecordLayout(name: "space", size: size, fields: [F.start, F.count])

    public func encode(into p: UnsafeMutableRawBufferPointer, at o: Int) {
        p.setLE(start.raw, at: o + F.start.offset)
        p.setLE(count.raw, at: o + F.count.offset)
    }
    public static func decode(_ p: UnsafeRawBufferPointer, at o: Int) -> BlockRange {
        BlockRange(p.u64(o + F.start.offset), p.u64(o + F.count.offset))
    }
    /// Non-empty, no overflow, wholly inside the data area.
    public func problem(in sb: Superblock) -> String? {
        if count.raw == 0 { return "empty block range" }
        let (end, o) = start.raw.addingReportingOverflow(count.raw)
        if o { return "block range \(self) overflows" }
        if start.raw < sb.dataStartBlock.raw || end > sb.dataEndBlock {
            return "block range \(self) is outside the data area [\(sb.dataStartBlock), \(sb.dataEndBlock))"
        }
        return nil
    }
}

/// Size, change counter and times of an inode: the small record that writes
/// and truncates log instead of a whole INODE record. 40 bytes.
public struct InodeAttrRecord: Equatable, Sendable {
    public var ino: InodeNumber
    public var size: UInt64
    public var change: UInt64
    public var mtime: Int64
    public var ctime: Int64
    public init(ino: InodeNumber, size: UInt64, change: UInt64, mtime: Int64, ctime: Int64) {
        self.ino = ino; self.size = size; self.change = change; self.mtime = mtime; self.ctime = ctime
    }
    public static let size = 40
    public enum F {
        public static let ino = Field("ino", 0, 8, .u64)
        public static let size = Field("size", 8, 8, .u64)
        public static let change = Field("change", 16, 8, .u64)
        public static let mtime = Field("mtime", 24, 8, .i64)
        public static let ctime = Field("ctime", 32, 8, .i64)
    }
    public static let layout = RecordLayout(name: "inode_attr", size: size, fields: [F.ino, F.size, F.change, F.mtime, F.ctime])
}

/// The kinds of intent: multi-step operations that recovery finishes.
public enum IntentKind: UInt32, Sendable {
    /// swap-extents: exchange `count` blocks of ino1 at block1 with ino2 at block2.
    case swapExtents = 1
    /// Free every block of ino1 mapped at or after file block block1 (a
    /// truncate or unlink too large for one transaction); with
    /// `removeInodeFlag`, free the inode afterwards. While it is pending, an
    /// inode being removed has no name in the namespace.
    case truncate = 2
    /// fallocate punch hole: unmap and free ino1's `count` blocks at block1,
    /// and zero the bytes of [size1, size2) that stay mapped (the partial
    /// allocation units at either end).
    case punch = 3
    /// fallocate zero range: zero every mapped byte of ino1 in [size1,
    /// size2); with `growSizeFlag`, grow the size to size2.
    case zeroRange = 4
    /// fallocate collapse range: unmap and free ino1's `count` blocks at
    /// block1, then shift every later block down by `count` and set the
    /// size to size1.
    case collapse = 5
}

/// An intent: a logged promise that recovery (or fsck) completes an
/// operation too large for one transaction, as XFS's intent items are.
/// 96 bytes, in INTENT log records and checkpoint intent chunks.
public struct IntentRecord: Equatable, Sendable {
    public var id: UInt64
    public var kind: IntentKind
    /// Bit 0: exchange the sizes too (swap-extents --to-eof).
    public var flags: UInt32
    public var ino1: InodeNumber
    public var block1: FileBlock
    public var ino2: InodeNumber
    public var block2: FileBlock
    public var count: BlockCount
    /// Blocks already exchanged; progress records advance it.
    public var done: BlockCount
    public var size1: UInt64
    public var size2: UInt64
    public init(id: UInt64, kind: IntentKind, flags: UInt32, ino1: InodeNumber, block1: FileBlock,
                ino2: InodeNumber, block2: FileBlock, count: BlockCount, done: BlockCount, size1: UInt64, size2: UInt64) {
        self.id = id; self.kind = kind; self.flags = flags; self.ino1 = ino1; self.block1 = block1
        self.ino2 = ino2; self.block2 = block2; self.count = count; self.done = done; self.size1 = size1; self.size2 = size2
    }
    /// swap-extents: exchange the sizes too (`--to-eof`).
    public static let swapSizesFlag: UInt32 = 1
    /// truncate: free the inode once its blocks are gone (unlink).
    public static let removeInodeFlag: UInt32 = 2
    /// zero range: grow the size to size2 (fallocate without keep-size).
    public static let growSizeFlag: UInt32 = 4
    public static let size = 96
    public enum F {
        public static let id = Field("id", 0, 8, .u64)
        public static let kind = Field("kind", 8, 4, .u32)
        public static let flags = Field("flags", 12, 4, .u32)
        public static let ino1 = Field("ino1", 16, 8, .u64)
        public static let block1 = Field("block1", 24, 8, .u64)
        public static let ino2 = Field("ino2", 32, 8, .u64)
        public static let block2 = Field("block2", 40, 8, .u64)
        public static let count = Field("count", 48, 8, .u64)
        public static let done = Field("done", 56, 8, .u64)
        public static let size1 = Field("size1", 64, 8, .u64)
        public static let size2 = Field("size2", 72, 8, .u64)
        public static let reserved = Field("reserved", 80, 16, .bytes)
    }
    public static let layout = RecordLayout(name: "intent", size: size, fields: [
        F.id, F.kind, F.flags, F.ino1, F.block1, F.ino2, F.block2, F.count, F.done, F.size1, F.size2, F.reserved,
    ])

    public func encode(into p: UnsafeMutableRawBufferPointer, at o: Int) {
        p.setLE(id, at: o + F.id.offset)
        p.setLE(kind.rawValue, at: o + F.kind.offset)
        p.setLE(flags, at: o + F.flags.offset)
        p.setLE(ino1.raw, at: o + F.ino1.offset)
        p.setLE(block1.raw, at: o + F.block1.offset)
        p.setLE(ino2.raw, at: o + F.ino2.offset)
        p.setLE(block2.raw, at: o + F.block2.offset)
        p.setLE(count.raw, at: o + F.count.offset)
        p.setLE(done.raw, at: o + F.done.offset)
        p.setLE(size1, at: o + F.size1.offset)
        p.setLE(size2, at: o + F.size2.offset)
        for i in 0..<F.reserved.size { p[o + F.reserved.offset + i] = 0 }
    }

    public static func decode(_ p: UnsafeRawBufferPointer, at o: Int) throws -> IntentRecord {
        guard let kind = IntentKind(rawValue: p.u32(o + F.kind.offset)) else {
            throw corrupt("intent kind \(p.u32(o + F.kind.offset)) is unknown")
        }
        let r = IntentRecord(id: p.u64(o + F.id.offset), kind: kind, flags: p.u32(o + F.flags.offset),
                             ino1: InodeNumber(p.u64(o + F.ino1.offset)), block1: FileBlock(p.u64(o + F.block1.offset)),
                             ino2: InodeNumber(p.u64(o + F.ino2.offset)), block2: FileBlock(p.u64(o + F.block2.offset)),
                             count: BlockCount(p.u64(o + F.count.offset)), done: BlockCount(p.u64(o + F.done.offset)),
                             size1: p.u64(o + F.size1.offset), size2: p.u64(o + F.size2.offset))
        if let why = r.problem() { throw corrupt(why) }
        for i in 0..<F.reserved.size where p.u8(o + F.reserved.offset + i) != 0 {
            throw corrupt("intent \(r.id): reserved bytes are not zero")
        }
        return r
    }

    /// The flag bits each kind may carry.
    public var allowedFlags: UInt32 {
        switch kind {
        case .swapExtents: IntentRecord.swapSizesFlag
        case .truncate: IntentRecord.removeInodeFlag
        case .zeroRange: IntentRecord.growSizeFlag
        case .punch, .collapse: 0
        }
    }

    /// Self-consistency of an intent, by kind. Nil when sound.
    ///
    /// swap-extents: ino1, ino2 and count are not 0, done is at most count,
/// both ranges lie below the maximum file size, and ranges of one file do
/// not overlap.
    /// truncate: ino1 is neither 0 nor the root; ino2, block2, count, done and
    /// size2 are 0. Either kind: no flag bit outside `allowedFlags`, and the
    /// reserved bytes are zero (checked by the decoder).
    public func problem() -> String? {
        if flags & ~allowedFlags != 0 { return "intent \(id): unknown flags \(flags)" }
        switch kind {
        case .swapExtents:
            if ino1.raw == 0 || ino2.raw == 0 || count.raw == 0 { return "intent \(id): swap-extents names inode 0 or no blocks" }
            if done.raw > count.raw { return "intent \(id): done \(done) exceeds count \(count)" }
            let maxBlocks = Geometry.maximumFileSize / UInt64(Geometry.blockSizes[0])
            let (e1, o1) = block1.raw.addingReportingOverflow(count.raw), (e2, o2) = block2.raw.addingReportingOverflow(count.raw)
            if o1 || o2 || e1 > maxBlocks || e2 > maxBlocks || max(size1, size2) > Geometry.maximumFileSize {
                return "intent \(id): range passes the maximum file size"
            }
            if ino1 == ino2 && block1.raw < e2 && block2.raw < e1 { return "intent \(id): swap-extents of overlapping ranges of one file" }
        case .truncate:
            if ino1.raw <= 1 { return "intent \(id): truncate of inode \(ino1)" }
            if ino2.raw != 0 || block2.raw != 0 || count.raw != 0 || done.raw != 0 || size2 != 0 {
                return "intent \(id): truncate with fields that must be 0"
            }
            if size1 > Geometry.maximumFileSize { return "intent \(id): size \(size1) exceeds the maximum file size" }
        case .punch, .zeroRange, .collapse:
            if ino1.raw <= 1 { return "intent \(id): \(kind) of inode \(ino1)" }
            if ino2.raw != 0 || block2.raw != 0 || done.raw != 0 { return "intent \(id): \(kind) with fields that must be 0" }
            if kind == .zeroRange && (block1.raw != 0 || count.raw != 0) { return "intent \(id): zero range with blocks to free" }
            if kind != .collapse && size1 > size2 { return "intent \(id): byte range [\(size1), \(size2)) is reversed" }
            if kind == .collapse && (count.raw == 0 || size2 != 0) { return "intent \(id): collapse of no blocks, or with size2 set" }
            let (end, o) = block1.raw.addingReportingOverflow(count.raw)
            if o || end > Geometry.maximumFileSize / UInt64(Geometry.blockSizes[0]) || max(size1, size2) > Geometry.maximumFileSize {
                return "intent \(id): range passes the maximum file size"
            }
        }
        return nil
    }
}
