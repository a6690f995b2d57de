import DaxCore

/// The header of a checkpoint slot: the first 512 bytes of the slot.
///
/// A checkpoint is the whole metadata state (inodes, extents, free space,
/// pending intents) written as 4 KiB chunks after the slot's first 4 KiB,
/// then made current by writing this header. Of the two slots, the valid
/// header with the higher generation is current. The header is written only
/// after every chunk is durable, and the log restarts at offset 0 only after
/// the header is durable, so a crash at any point leaves one valid checkpoint
/// and the log that goes with it.
public struct CheckpointHeader: Equatable, Sendable {
    public static let size = 512
    public static let magic: [UInt8] = Array("DAXFS-CP".utf8)
    /// Chunks start this far into the slot.
    public static let chunksOffset = 4096

    public var generation: UInt64
    /// The first log sequence to replay on top of this checkpoint.
    public var replaySeq: LogSequence
    public var nextIno: InodeNumber
    public var nextIntentID: UInt64
    public var inodeCount: UInt64
    public var extentCount: UInt64
    public var freeExtentCount: UInt64
    public var intentCount: UInt64
    public var freeBlocks: UInt64
    public var chunkCount: UInt32
    public var salt: UInt64
    public var time: UInt64

    public init(generation: UInt64, replaySeq: LogSequence, nextIno: InodeNumber, nextIntentID: UInt64,
                inodeCount: UInt64, extentCount: UInt64, freeExtentCount: UInt64, intentCount: UInt64,
                freeBlocks: UInt64, chunkCount: UInt32, salt: UInt64, time: UInt64) {
        self.generation = generation; self.replaySeq = replaySeq; self.nextIno = nextIno
        self.nextIntentID = nextIntentID; self.inodeCount = inodeCount; self.extentCount = extentCount
        self.freeExtentCount = freeExtentCount; self.intentCount = intentCount; self.freeBlocks = freeBlocks
        self.chunkCount = chunkCount; self.salt = salt; self.time = time
    }

    public enum F {
        public static let magic = Field("magic", 0, 8, .bytes)
        public static let version = Field("version", 8, 4, .u32)
        public static let headerSize = Field("header_size", 12, 4, .u32)
        public static let generation = Field("generation", 16, 8, .u64)
        public static let replaySeq = Field("replay_seq", 24, 8, .u64)
        public static let nextIno = Field("next_ino", 32, 8, .u64)
        public static let nextIntent = Field("next_intent", 40, 8, .u64)
        public static let inodeCount = Field("inode_count", 48, 8, .u64)
        public static let extentCount = Field("extent_count", 56, 8, .u64)
        public static let freeExtentCount = Field("free_extent_count", 64, 8, .u64)
        public static let intentCount = Field("intent_count", 72, 8, .u64)
        public static let freeBlocks = Field("free_blocks", 80, 8, .u64)
        public static let chunkCount = Field("chunk_count", 88, 4, .u32)
        public static let chunkSize = Field("chunk_size", 92, 4, .u32)
        public static let salt = Field("salt", 96, 8, .u64)
        public static let time = Field("time", 104, 8, .u64)
        public static let reserved = Field("reserved", 112, 396, .bytes)
        public static let crc = Field("crc", 508, 4, .u32)
    }
    public static let layout = RecordLayout(name: "checkpoint_header", size: size, fields: [
        F.magic, F.version, F.headerSize, F.generation, F.replaySeq, F.nextIno, F.nextIntent, F.inodeCount,
        F.extentCount, F.freeExtentCount, F.intentCount, F.freeBlocks, F.chunkCount, F.chunkSize, F.salt,
        F.time, F.reserved, F.crc,
    ])

    public func encode(seed: UInt32) -> [UInt8] {
        var b = RecordBuffer(size: CheckpointHeader.size)
        b.set(bytes: CheckpointHeader.magic, at: F.magic.offset)
        b.set(UInt32(1), at: F.version.offset)
        b.set(UInt32(CheckpointHeader.size), at: F.headerSize.offset)
        b.set(generation, at: F.generation.offset)
        b.set(replaySeq.raw, at: F.replaySeq.offset)
        b.set(nextIno.raw, at: F.nextIno.offset)
        b.set(nextIntentID, at: F.nextIntent.offset)
        b.set(inodeCount, at: F.inodeCount.offset)
        b.set(extentCount, at: F.extentCount.offset)
        b.set(freeExtentCount, at: F.freeExtentCount.offset)
        b.set(intentCount, at: F.intentCount.offset)
        b.set(freeBlocks, at: F.freeBlocks.offset)
        b.set(chunkCount, at: F.chunkCount.offset)
        b.set(UInt32(CheckpointChunk.size), at: F.chunkSize.offset)
        b.set(salt, at: F.salt.offset)
        b.set(time, at: F.time.offset)
        b.set(b.crc(end: CheckpointHeader.size, excluding: F.crc.offset, seed: seed), at: F.crc.offset)
        return b.bytes
    }

    /// Verifies and decodes a slot header. Throws EFSCORRUPTED; never traps.
    /// `capacity` is the number of chunks the slot can hold.
    public static func decode(_ p: UnsafeRawBufferPointer, sb: Superblock, capacity: Int) throws -> CheckpointHeader {
        guard p.count >= size else { throw corrupt("checkpoint header truncated") }
        guard p.bytes(F.magic.offset, 8) == magic else { throw corrupt("no checkpoint header (bad magic)") }
        let stored = p.u32(F.crc.offset)
        guard stored == crcExcluding(p, end: size, crcOffset: F.crc.offset, seed: sb.recordSeed) else {
            throw corrupt("checkpoint header checksum mismatch")
        }
        guard p.u32(F.version.offset) == 1, p.u32(F.headerSize.offset) == UInt32(size),
              p.u32(F.chunkSize.offset) == UInt32(CheckpointChunk.size) else {
            throw corrupt("checkpoint header version or sizes are not supported")
        }
        guard p.u64(F.salt.offset) == sb.logSalt else { throw corrupt("checkpoint belongs to another filesystem (salt mismatch)") }
        let h = CheckpointHeader(
            generation: p.u64(F.generation.offset), replaySeq: LogSequence(p.u64(F.replaySeq.offset)),
            nextIno: InodeNumber(p.u64(F.nextIno.offset)), nextIntentID: p.u64(F.nextIntent.offset),
            inodeCount: p.u64(F.inodeCount.offset), extentCount: p.u64(F.extentCount.offset),
            freeExtentCount: p.u64(F.freeExtentCount.offset), intentCount: p.u64(F.intentCount.offset),
            freeBlocks: p.u64(F.freeBlocks.offset), chunkCount: p.u32(F.chunkCount.offset),
            salt: p.u64(F.salt.offset), time: p.u64(F.time.offset))
        guard h.generation > 0, h.replaySeq.raw > 0, h.nextIno.raw > 1 else { throw corrupt("checkpoint header counters are invalid") }
        guard Int(h.chunkCount) <= capacity else { throw corrupt("checkpoint claims \(h.chunkCount) chunks; the slot holds \(capacity)") }
        guard h.freeBlocks <= sb.dataBlockCount.raw else { throw corrupt("checkpoint free block count exceeds the data area") }
        return h
    }
}

/// One 4 KiB chunk of a checkpoint: a 32-byte header and packed entries of
/// one kind. The CRC covers the whole chunk with the CRC field zero; the
/// generation ties the chunk to its header, so a chunk left by an older
/// checkpoint in the same slot never verifies as part of a newer one.
public struct CheckpointChunk: Equatable, Sendable {
    public static let size = 4096
    public static let headerSize = 32
    public static let payloadCapacity = size - headerSize
    public static let magic: UInt32 = 0x4B43_5844   // "DXCK"

    public enum Kind: UInt16, Sendable, CaseIterable {
        /// InodeRecord entries (96 bytes plus the padded name).
        case inodes = 1
        /// ExtentRecord entries (32 bytes), sorted by inode then file block.
        case extents = 2
        /// BlockRange entries (16 bytes): the condensed free-space map, sorted.
        case free = 3
        /// IntentRecord entries (96 bytes): intents still pending.
        case intents = 4
    }

    public enum F {
        public static let magic = Field("magic", 0, 4, .u32)
        public static let crc = Field("crc", 4, 4, .u32)
        public static let generation = Field("generation", 8, 8, .u64)
        public static let index = Field("index", 16, 4, .u32)
        public static let kind = Field("kind", 20, 2, .u16)
        public static let count = Field("count", 22, 2, .u16)
        public static let used = Field("used", 24, 4, .u32)
        public static let reserved = Field("reserved", 28, 4, .bytes)
    }
    public static let layout = RecordLayout(name: "checkpoint_chunk", size: headerSize, fields: [
        F.magic, F.crc, F.generation, F.index, F.kind, F.count, F.used, F.reserved,
    ])

    /// Fills in the header and CRC of a chunk whose payload is already in `p[o+32 ..< o+32+used]`.
    /// The rest of the payload is zeroed.
    public static func seal(_ p: UnsafeMutableRawBufferPointer, at o: Int, generation: UInt64, index: UInt32,
                            kind: Kind, count: UInt16, used: Int, seed: UInt32) {
        precondition(used <= payloadCapacity)
        p.setLE(magic, at: o + F.magic.offset)
        p.setLE(UInt32(0), at: o + F.crc.offset)
        p.setLE(generation, at: o + F.generation.offset)
        p.setLE(index, at: o + F.index.offset)
        p.setLE(kind.rawValue, at: o + F.kind.offset)
        p.setLE(count, at: o + F.count.offset)
        p.setLE(UInt32(used), at: o + F.used.offset)
        p.setLE(UInt32(0), at: o + F.reserved.offset)
        for i in (o + headerSize + used)..<(o + size) { p[i] = 0 }
        let whole = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(p)[o..<(o + size)])
        p.setLE(CRC32C.checksum(whole, seed: seed), at: o + F.crc.offset)
    }

    /// What a verified chunk holds: where its entries are, how many, which kind.
    public struct Verified: Sendable {
        public var kind: Kind
        public var count: Int
        public var used: Int
        /// Offset of the first entry in the buffer that was verified.
        public var payloadOffset: Int
    }

    /// Verifies the chunk at `o`. Throws EFSCORRUPTED; never traps.
    /// `checksum: false` skips the CRC and nothing else, for a read whose
    /// result is used only if a full verify of the same bytes passes (see
    /// `InodeRecord.decode`'s `checked`).
    public static func verify(_ p: UnsafeRawBufferPointer, at o: Int, generation: UInt64, index: UInt32,
                              seed: UInt32, checksum: Bool = true) throws -> Verified {
        guard o >= 0, o + size <= p.count else { throw corrupt("checkpoint chunk \(index) truncated") }
        guard p.u32(o + F.magic.offset) == magic else { throw corrupt("checkpoint chunk \(index): bad magic") }
        if checksum {
            let stored = p.u32(o + F.crc.offset)
            let computed = crcExcluding(UnsafeRawBufferPointer(rebasing: p[o..<(o + size)]), end: size, crcOffset: F.crc.offset, seed: seed)
            guard stored == computed else { throw corrupt("checkpoint chunk \(index): checksum mismatch") }
        }
        guard p.u64(o + F.generation.offset) == generation else { throw corrupt("checkpoint chunk \(index): generation \(p.u64(o + F.generation.offset)), expected \(generation)") }
        guard p.u32(o + F.index.offset) == index else { throw corrupt("checkpoint chunk \(index): index field says \(p.u32(o + F.index.offset))") }
        guard let kind = Kind(rawValue: p.u16(o + F.kind.offset)) else { throw corrupt("checkpoint chunk \(index): kind \(p.u16(o + F.kind.offset)) is unknown") }
        let used = Int(p.u32(o + F.used.offset))
        let count = Int(p.u16(o + F.count.offset))
        guard used <= payloadCapacity else { throw corrupt("checkpoint chunk \(index): used \(used) exceeds the chunk") }
        switch kind {
        case .extents where used != count * ExtentRecord.size,
             .free where used != count * BlockRange.size,
             .intents where used != count * IntentRecord.size:
            throw corrupt("checkpoint chunk \(index): \(count) entries do not fill \(used) bytes")
        default: break
        }
        return Verified(kind: kind, count: count, used: used, payloadOffset: o + headerSize)
    }
}
