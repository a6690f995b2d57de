import DaxCore

/// One metadata change, as appended to the log inside a transaction.
///
/// Every record starts with an 8-byte header: type (u16), length (u16, the
/// whole record including the header, a multiple of 8) and a CRC32C (u32,
/// seeded with the superblock's record seed) of the whole record with the
/// CRC field read as zero.
public enum LogRecord: Equatable, Sendable {
    /// Create an inode or replace all of its fields (rename, chmod, chattr).
    case inode(InodeRecord)
    /// Delete an inode. Its extents must already be unmapped.
    case inodeFree(InodeNumber, generation: UInt32)
    /// Update size, change counter and times.
    case inodeAttr(InodeAttrRecord)
    /// Map file blocks to region blocks. The blocks must be allocated.
    case extentMap(ExtentRecord)
    /// Unmap file blocks [fileBlock, fileBlock+count). Does not free space.
    case extentUnmap(InodeNumber, FileBlock, BlockCount)
    /// Move every extent of `ino` at or after `from` by `delta` blocks
    /// (negative for collapse-range, positive for insert-range).
    case extentShift(InodeNumber, from: FileBlock, delta: Int64)
    /// Space map: blocks leave the free space.
    case alloc(BlockRange)
    /// Space map: blocks return to the free space.
    case free(BlockRange)
    /// Begin a multi-step operation that recovery must finish.
    case intent(IntentRecord)
    /// Record that `done` blocks of intent `id` are complete.
    case intentProgress(id: UInt64, done: BlockCount)
    /// The intent is finished.
    case intentDone(id: UInt64)
    /// Exchange the mappings (extents and holes) of file blocks
    /// [block1, block1+count) of ino1 and [block2, block2+count) of ino2:
    /// one step of swap-extents, applied to the maps as they are.
    case extentSwap(ino1: InodeNumber, block1: FileBlock, ino2: InodeNumber, block2: FileBlock, count: BlockCount)

    public enum RecordType: UInt16, CaseIterable, Sendable {
        case inode = 1, inodeFree = 2, inodeAttr = 3, extentMap = 4, extentUnmap = 5, extentShift = 6
        case alloc = 7, free = 8, intent = 9, intentProgress = 10, intentDone = 11, extentSwap = 12

        /// Fixed payload size, or nil for INODE (variable: 96 + padded name).
        /// Equal to `payloadLayout.size` (a test holds them together); spelt
        /// out because replay asks it for every record.
        public var payloadSize: Int? {
            switch self {
            case .inode: nil
            case .inodeFree: 16
            case .inodeAttr: InodeAttrRecord.size
            case .extentMap: ExtentRecord.size
            case .extentUnmap, .extentShift: 24
            case .alloc, .free: BlockRange.size
            case .intent: IntentRecord.size
            case .intentProgress, .intentDone: 16
            case .extentSwap: 40
            }
        }

        /// The fields of the payload: for INODE its fixed 96 bytes (the
        /// padded name follows them). The encoder, the decoder, the test
        /// that holds man/daxfs.5 to the code and the field fuzzer all read
        /// the offsets from here.
        public var payloadLayout: RecordLayout {
            switch self {
            case .inode: InodeRecord.layout
            case .inodeFree: Payload.inodeFree
            case .inodeAttr: InodeAttrRecord.layout
            case .extentMap: ExtentRecord.layout
            case .extentUnmap: Payload.extentUnmap
            case .extentShift: Payload.extentShift
            case .alloc, .free: BlockRange.layout
            case .intent: IntentRecord.layout
            case .intentProgress: Payload.intentProgress
            case .intentDone: Payload.intentDone
            case .extentSwap: Payload.extentSwap
            }
        }
        public var name: String {
            switch self {
            case .inode: "INODE"
            case .inodeFree: "INODE_FREE"
            case .inodeAttr: "INODE_ATTR"
            case .extentMap: "EXTENT_MAP"
            case .extentUnmap: "EXTENT_UNMAP"
            case .extentShift: "EXTENT_SHIFT"
            case .alloc: "ALLOC"
            case .free: "FREE"
            case .intent: "INTENT"
            case .intentProgress: "INTENT_PROGRESS"
            case .intentDone: "INTENT_DONE"
            case .extentSwap: "EXTENT_SWAP"
            }
        }
    }

    public static let headerSize = 8
    public enum H {
        public static let type = Field("type", 0, 2, .u16)
        public static let length = Field("length", 2, 2, .u16)
        public static let crc = Field("crc", 4, 4, .u32)
    }
    public static let headerLayout = RecordLayout(name: "record_header", size: headerSize, fields: [H.type, H.length, H.crc])

    /// The payloads that have no record type of their own (man/daxfs.5,
    /// "Fixed payloads without a layout of their own"). Offsets are from the
    /// start of the payload, 8 bytes into the record.
    public enum Payload {
        public enum InodeFree {
            public static let ino = Field("ino", 0, 8, .u64)
            public static let generation = Field("generation", 8, 4, .u32)
            public static let reserved = Field("reserved", 12, 4, .u32)
        }
        public static let inodeFree = RecordLayout(name: "inode_free", size: 16, fields: [InodeFree.ino, InodeFree.generation, InodeFree.reserved])
        public enum ExtentUnmap {
            public static let ino = Field("ino", 0, 8, .u64)
            public static let fileBlock = Field("file_block", 8, 8, .u64)
            public static let count = Field("count", 16, 8, .u64)
        }
        public static let extentUnmap = RecordLayout(name: "extent_unmap", size: 24, fields: [ExtentUnmap.ino, ExtentUnmap.fileBlock, ExtentUnmap.count])
        public enum ExtentShift {
            public static let ino = Field("ino", 0, 8, .u64)
            public static let from = Field("from", 8, 8, .u64)
            public static let delta = Field("delta", 16, 8, .i64)
        }
        public static let extentShift = RecordLayout(name: "extent_shift", size: 24, fields: [ExtentShift.ino, ExtentShift.from, ExtentShift.delta])
        public enum IntentProgress {
            public static let id = Field("id", 0, 8, .u64)
            public static let done = Field("done", 8, 8, .u64)
        }
        public static let intentProgress = RecordLayout(name: "intent_progress", size: 16, fields: [IntentProgress.id, IntentProgress.done])
        public enum IntentDone {
            public static let id = Field("id", 0, 8, .u64)
            public static let reserved = Field("reserved", 8, 8, .u64)
        }
        public static let intentDone = RecordLayout(name: "intent_done", size: 16, fields: [IntentDone.id, IntentDone.reserved])
        public enum ExtentSwap {
            public static let ino1 = Field("ino1", 0, 8, .u64)
            public static let block1 = Field("block1", 8, 8, .u64)
            public static let ino2 = Field("ino2", 16, 8, .u64)
            public static let block2 = Field("block2", 24, 8, .u64)
            public static let count = Field("count", 32, 8, .u64)
        }
        public static let extentSwap = RecordLayout(name: "extent_swap", size: 40, fields: [
            ExtentSwap.ino1, ExtentSwap.block1, ExtentSwap.ino2, ExtentSwap.block2, ExtentSwap.count,
        ])
        /// Every payload layout, for the tests that hold the man page and the fuzzer to the code.
        public static let all: [RecordLayout] = [inodeFree, extentUnmap, extentShift, intentProgress, intentDone, extentSwap]
    }

    public var type: RecordType {
        switch self {
        case .inode: .inode
        case .inodeFree: .inodeFree
        case .inodeAttr: .inodeAttr
        case .extentMap: .extentMap
        case .extentUnmap: .extentUnmap
        case .extentShift: .extentShift
        case .alloc: .alloc
        case .free: .free
        case .intent: .intent
        case .intentProgress: .intentProgress
        case .intentDone: .intentDone
        case .extentSwap: .extentSwap
        }
    }

    /// Encoded length including the header.
    /// One switch that binds nothing but an INODE's name: the commit path
    /// asks this of every record it logs, and an `if case` binding the
    /// payload made it copy the whole record first. The sizes repeat
    /// `RecordType.payloadSize` because going through `type` costs a second
    /// switch (about 200 instructions per 4 KiB allocate); the round-trip
    /// test holds the two together, as decoding refuses a wrong length.
    public var encodedSize: Int {
        switch self {
        case .inode(let r): LogRecord.headerSize + InodeRecord.fixedSize + pad8(r.name.count)
        case .inodeFree: LogRecord.headerSize + 16
        case .inodeAttr: LogRecord.headerSize + InodeAttrRecord.size
        case .extentMap: LogRecord.headerSize + ExtentRecord.size
        case .extentUnmap, .extentShift: LogRecord.headerSize + 24
        case .alloc, .free: LogRecord.headerSize + BlockRange.size
        case .intent: LogRecord.headerSize + IntentRecord.size
        case .intentProgress, .intentDone: LogRecord.headerSize + 16
        case .extentSwap: LogRecord.headerSize + 40
        }
    }

    /// Writes the record (header, payload, CRC) at `o`; `p` must have room.
    /// Returns its length (`encodedSize`), so that a caller walking a list
    /// needs no second switch over the case. Always inlined into the
    /// caller's loop over its records: called, it took a copy of the whole
    /// record (about 110 bytes, with a switch over its case) to pass it,
    /// which cost as much as the encoding.
    @inline(__always) @discardableResult
    public func encode(into p: UnsafeMutableRawBufferPointer, at o: Int, seed: UInt32) -> Int {
        let len = encodedSize
        let b = o + LogRecord.headerSize
        p.setLE(type.rawValue, at: o + H.type.offset)
        p.setLE(UInt16(len), at: o + H.length.offset)
        p.setLE(UInt32(0), at: o + H.crc.offset)
        switch self {
        case .inode(let r): r.encode(into: p, at: b)
        case .inodeFree(let ino, let gen):
            typealias F = Payload.InodeFree
            p.setLE(ino.raw, at: b + F.ino.offset); p.setLE(gen, at: b + F.generation.offset); p.setLE(UInt32(0), at: b + F.reserved.offset)
        case .inodeAttr(let a):
            p.setLE(a.ino.raw, at: b + InodeAttrRecord.F.ino.offset)
            p.setLE(a.size, at: b + InodeAttrRecord.F.size.offset)
            p.setLE(a.change, at: b + InodeAttrRecord.F.change.offset)
            p.setLE(a.mtime, at: b + InodeAttrRecord.F.mtime.offset)
            p.setLE(a.ctime, at: b + InodeAttrRecord.F.ctime.offset)
        case .extentMap(let e): e.encode(into: p, at: b)
        case .extentUnmap(let ino, let fb, let n):
            typealias F = Payload.ExtentUnmap
            p.setLE(ino.raw, at: b + F.ino.offset); p.setLE(fb.raw, at: b + F.fileBlock.offset); p.setLE(n.raw, at: b + F.count.offset)
        case .extentShift(let ino, let from, let delta):
            typealias F = Payload.ExtentShift
            p.setLE(ino.raw, at: b + F.ino.offset); p.setLE(from.raw, at: b + F.from.offset); p.setLE(delta, at: b + F.delta.offset)
        case .alloc(let r), .free(let r): r.encode(into: p, at: b)
        case .intent(let i): i.encode(into: p, at: b)
        case .intentProgress(let id, let done):
            typealias F = Payload.IntentProgress
            p.setLE(id, at: b + F.id.offset); p.setLE(done.raw, at: b + F.done.offset)
        case .intentDone(let id):
            typealias F = Payload.IntentDone
            p.setLE(id, at: b + F.id.offset); p.setLE(UInt64(0), at: b + F.reserved.offset)
        case .extentSwap(let i1, let b1, let i2, let b2, let n):
            typealias F = Payload.ExtentSwap
            p.setLE(i1.raw, at: b + F.ino1.offset); p.setLE(b1.raw, at: b + F.block1.offset); p.setLE(i2.raw, at: b + F.ino2.offset)
            p.setLE(b2.raw, at: b + F.block2.offset); p.setLE(n.raw, at: b + F.count.offset)
        }
        let record = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(p)[o..<(o + len)])
        p.setLE(CRC32C.checksum(record, seed: seed), at: o + H.crc.offset)
        return len
    }

    /// Encodes one record into a new array (tests and tools).
    public func encoded(seed: UInt32) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: encodedSize)
        out.withUnsafeMutableBytes { _ = encode(into: $0, at: 0, seed: seed) }
        return out
    }

    /// Verifies and decodes the record at `o`, reading no further than `end`.
    /// Returns the record (a copy: nothing refers back to the media) and its
    /// length. Throws EFSCORRUPTED for a bad type, length or checksum, an
    /// invalid payload, or reserved or padding bytes that are not zero. Never traps.
    public static func decode(_ p: UnsafeRawBufferPointer, at o: Int, end: Int, seed: UInt32) throws -> (LogRecord, Int) {
        guard o >= 0, end <= p.count, o + headerSize <= end else { throw corrupt("record header truncated") }
        let rawType = p.u16(o + H.type.offset)
        let len = Int(p.u16(o + H.length.offset))
        guard let type = RecordType(rawValue: rawType) else { throw corrupt("record type \(rawType) is unknown") }
        guard len >= headerSize, len % 8 == 0, o + len <= end else { throw corrupt("record length \(len) is invalid") }
        if let fixed = type.payloadSize, len != headerSize + fixed {
            throw corrupt("\(type.name) record length \(len), expected \(headerSize + fixed)")
        }
        let stored = p.u32(o + H.crc.offset)
        let computed = crcExcluding(UnsafeRawBufferPointer(rebasing: p[o..<(o + len)]), end: len, crcOffset: H.crc.offset, seed: seed)
        guard stored == computed else { throw corrupt("\(type.name) record checksum mismatch") }
        let b = o + headerSize
        let record: LogRecord
        switch type {
        case .inode:
            let r = try InodeRecord.decode(p, at: b, limit: len - headerSize)
            guard headerSize + r.encodedSize == len else { throw corrupt("INODE record length \(len) does not match its name") }
            // Bytes the record does not carry must be zero, or a change to them would pass unseen.
            let reserved = InodeRecord.F.reserved
            for i in reserved.offset..<reserved.end where p.u8(b + i) != 0 { throw corrupt("INODE record of inode \(r.ino): reserved bytes are not zero") }
            for i in (InodeRecord.fixedSize + r.name.count)..<(len - headerSize) where p.u8(b + i) != 0 {
                throw corrupt("INODE record of inode \(r.ino): name padding is not zero")
            }
            record = .inode(r)
        case .inodeFree:
            typealias F = Payload.InodeFree
            guard p.u32(b + F.reserved.offset) == 0 else { throw corrupt("INODE_FREE record: reserved bytes are not zero") }
            record = .inodeFree(InodeNumber(p.u64(b + F.ino.offset)), generation: p.u32(b + F.generation.offset))
        case .inodeAttr:
            typealias F = InodeAttrRecord.F
            record = .inodeAttr(InodeAttrRecord(
                ino: InodeNumber(p.u64(b + F.ino.offset)), size: p.u64(b + F.size.offset), change: p.u64(b + F.change.offset),
                mtime: p.i64(b + F.mtime.offset), ctime: p.i64(b + F.ctime.offset)))
        case .extentMap: record = .extentMap(ExtentRecord.decode(p, at: b))
        case .extentUnmap:
            typealias F = Payload.ExtentUnmap
            record = .extentUnmap(InodeNumber(p.u64(b + F.ino.offset)), FileBlock(p.u64(b + F.fileBlock.offset)), BlockCount(p.u64(b + F.count.offset)))
        case .extentShift:
            typealias F = Payload.ExtentShift
            record = .extentShift(InodeNumber(p.u64(b + F.ino.offset)), from: FileBlock(p.u64(b + F.from.offset)), delta: p.i64(b + F.delta.offset))
        case .alloc: record = .alloc(BlockRange.decode(p, at: b))
        case .free: record = .free(BlockRange.decode(p, at: b))
        case .intent: record = .intent(try IntentRecord.decode(p, at: b))
        case .intentProgress:
            typealias F = Payload.IntentProgress
            record = .intentProgress(id: p.u64(b + F.id.offset), done: BlockCount(p.u64(b + F.done.offset)))
        case .intentDone:
            guard p.u64(b + Payload.IntentDone.reserved.offset) == 0 else { throw corrupt("INTENT_DONE record: reserved bytes are not zero") }
            record = .intentDone(id: p.u64(b + Payload.IntentDone.id.offset))
        case .extentSwap:
            typealias F = Payload.ExtentSwap
            record = .extentSwap(ino1: InodeNumber(p.u64(b + F.ino1.offset)), block1: FileBlock(p.u64(b + F.block1.offset)),
                                 ino2: InodeNumber(p.u64(b + F.ino2.offset)), block2: FileBlock(p.u64(b + F.block2.offset)),
                                 count: BlockCount(p.u64(b + F.count.offset)))
        }
        return (record, len)
    }

    /// Bounds checks that need the geometry: extents and space inside the
    /// data area, sizes below the maximum. Nil when sound.
    public func problem(in sb: Superblock) -> String? {
        switch self {
        case .inode(let r):
            if let why = r.problem() { return why }
            if UInt64(1) << r.allocShift < UInt64(sb.blockSize) { return "inode \(r.ino): allocation unit below the block size" }
            return nil
        case .inodeFree(let ino, _): return ino.raw <= 1 ? "INODE_FREE of inode \(ino)" : nil
        case .inodeAttr(let a):
            if a.ino.raw == 0 { return "INODE_ATTR of inode 0" }
            return a.size > Geometry.maximumFileSize ? "size \(a.size) exceeds the maximum file size" : nil
        case .extentMap(let e): return e.problem(in: sb)
        case .extentUnmap(let ino, let fb, let n):
            let (end, o) = fb.raw.addingReportingOverflow(n.raw)
            return (ino.raw == 0 || n.raw == 0 || o || end > Geometry.maximumFileSize / UInt64(sb.blockSize)) ? "EXTENT_UNMAP range is invalid" : nil
        case .extentShift(let ino, let from, let delta):
            if ino.raw == 0 || delta == 0 || delta == Int64.min { return "EXTENT_SHIFT is invalid" }
            if delta < 0 && UInt64(-delta) > from.raw { return "EXTENT_SHIFT moves blocks below file block 0" }
            return nil
        case .alloc(let r), .free(let r): return r.problem(in: sb)
        case .intent(let i): return i.problem()
        case .intentProgress, .intentDone: return nil
        case .extentSwap(let i1, let b1, let i2, let b2, let n):
            let limit = Geometry.maximumFileSize / UInt64(sb.blockSize)
            let (e1, o1) = b1.raw.addingReportingOverflow(n.raw), (e2, o2) = b2.raw.addingReportingOverflow(n.raw)
            if i1.raw == 0 || i2.raw == 0 || n.raw == 0 || o1 || o2 || e1 > limit || e2 > limit { return "EXTENT_SWAP range is invalid" }
            if i1 == i2 && b1.raw < e2 && b2.raw < e1 { return "EXTENT_SWAP of overlapping ranges of one inode" }
            return nil
        }
    }
}
