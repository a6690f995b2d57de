import Foundation
import DaxCore
import DaxFS
import DaxFSFormat
import PMem

/// Builds the small images fsck's tests damage, and finds every on-media
/// record in them so that a test can change one field and re-seal (or not)
/// the checksum that covers it.
public enum FsckImages {
    public static let regionSize: UInt64 = 1 << 20
    public static let logSize: UInt64 = 64 << 10
    public static let slotSize: UInt64 = 64 << 10

    /// A 1 MiB region: directories /a, /a/sub, /c; files /a/f1 (3 blocks),
    /// /b (2 blocks), /a/sub/g (1 block), an empty /c/empty; checkpointed by
    /// an unmount; then, in the log (so that replay has work to do), /d (2
    /// blocks), /e, and an INODE_ATTR of /b. Marked clean.
    public static func populated() throws -> [UInt8] {
        let r = TempRegion("fsck-fixture")
        try r.format(size: regionSize, logSize: logSize, checkpointSize: slotSize, sentinel: 0)
        var fs = try Filesystem.mount(r.path)
        try fs.mkdir("/a")
        try fs.mkdir("/a/sub")
        try fs.mkdir("/c")
        let f1 = try fs.create("/a/f1")
        try fs.write(f1, at: 0, [UInt8](repeating: 0x11, count: 3 * 4096))
        let b = try fs.create("/b")
        try fs.write(b, at: 0, [UInt8](repeating: 0x22, count: 2 * 4096))
        let g = try fs.create("/a/sub/g")
        try fs.write(g, at: 0, [UInt8](repeating: 0x33, count: 100))
        try fs.create("/c/empty")
        try fs.unmount()
        fs = try mountKeepingLog(r.path)
        let d = try fs.create("/d")
        try fs.write(d, at: 0, [UInt8](repeating: 0x44, count: 2 * 4096))
        try fs.create("/e")
        try fs.write(b, at: 8192, [UInt8](repeating: 0x55, count: 10))
        try fs.unmount()
        return r.bytes
    }

    /// An image whose log holds a pending intent: a punch-hole whose steps
    /// fail after the intent committed (the filesystem shuts down and is
    /// dropped without an unmount, as after a crash).
    public static func pendingIntent() throws -> [UInt8] {
        let r = TempRegion("fsck-intent")
        try r.format(size: regionSize, logSize: logSize, checkpointSize: slotSize, sentinel: 0)
        do {
            var o = Filesystem.Options()
            o.transactionLimit = 1024
            let fs = try Filesystem.mount(r.path, options: o)
            let f = try fs.create("/big")
            for i in 0..<40 { try fs.write(f, at: UInt64(i) * 8192, [UInt8](repeating: UInt8(i + 1), count: 4096)) }
            try fs.unmount()
            o.faults = [.intentStepsFail]
            let again = try Filesystem.mount(r.path, options: o)
            _ = try? again.fallocate(try again.lookup("/big"), mode: .collapseRange, offset: 0, length: 8192 * 30)
        }
        return r.bytes
    }
}

extension FsckImages {
    /// The pending-intent image with the intent written into a checkpoint
    /// (a read-write mount that does not finish intents, then a checkpoint),
    /// so that an intent entry of a checkpoint can be fuzzed.
    public static func intentInCheckpoint() throws -> [UInt8] {
        let r = TempRegion("fsck-intent-ckpt")
        FileManager.default.createFile(atPath: r.path, contents: Data(try pendingIntent()))
        var o = Filesystem.Options()
        o.finishIntentsAtMount = false
        do {
            let fs = try Filesystem.mount(r.path, options: o)
            try fs.checkpoint()
        }
        return r.bytes
    }
}

/// A region image in memory with the offsets of its records.
public struct FsckImage {
    public var bytes: [UInt8]
    public let sb: Superblock
    public let layout: Layout
    /// The current checkpoint slot and its header.
    public let slot: Int
    public let header: CheckpointHeader

    public init(_ bytes: [UInt8]) throws {
        self.bytes = bytes
        guard case .valid(let sb, _) = Superblock.probe(Array(bytes[0..<Superblock.size])) else { throw DaxError(.EINVAL, "no superblock") }
        self.sb = sb
        layout = Layout(sb)
        let media = RecordingMedia(image: bytes, isReadOnly: true, capturesPayloads: false)
        (slot, header) = try CheckpointIO.current(media: media, layout: layout)
    }

    public var slotOffset: Int { layout.slot(slot).lowerBound }
    /// The slot that is not current: the older checkpoint, which the next one overwrites.
    public var otherSlotOffset: Int { layout.slot(1 - slot).lowerBound }
    public func chunkOffset(_ i: Int) -> Int { slotOffset + CheckpointHeader.chunksOffset + i * CheckpointChunk.size }

    /// The first chunk of `kind` in the current checkpoint.
    public func firstChunk(_ kind: CheckpointChunk.Kind) -> Int? {
        (0..<Int(header.chunkCount)).first { u16(chunkOffset($0) + CheckpointChunk.F.kind.offset) == kind.rawValue }
    }

    /// Offsets of the inode entries of the current checkpoint, by inode number.
    public func inodeEntries() -> [UInt64: Int] {
        var out: [UInt64: Int] = [:]
        for i in 0..<Int(header.chunkCount) where u16(chunkOffset(i) + CheckpointChunk.F.kind.offset) == CheckpointChunk.Kind.inodes.rawValue {
            var at = chunkOffset(i) + CheckpointChunk.headerSize
            for _ in 0..<Int(u16(chunkOffset(i) + CheckpointChunk.F.count.offset)) {
                out[u64(at)] = at
                at += InodeRecord.fixedSize + pad8(Int(u16(at + InodeRecord.F.nameLength.offset)))
            }
        }
        return out
    }

    /// Offsets of the extent entries, by inode number (first extent of each).
    public func extentEntries() -> [UInt64: Int] {
        var out: [UInt64: Int] = [:]
        for i in 0..<Int(header.chunkCount) where u16(chunkOffset(i) + CheckpointChunk.F.kind.offset) == CheckpointChunk.Kind.extents.rawValue {
            let base = chunkOffset(i) + CheckpointChunk.headerSize
            for k in 0..<Int(u16(chunkOffset(i) + CheckpointChunk.F.count.offset)) {
                let at = base + k * ExtentRecord.size
                if out[u64(at)] == nil { out[u64(at)] = at }
            }
        }
        return out
    }

    /// Offsets (in the region) of the log's transactions, in order.
    public func transactions() -> [(offset: Int, length: Int)] {
        let media = RecordingMedia(image: bytes, isReadOnly: true, capturesPayloads: false)
        return LogScan.scan(media: media, layout: layout, replaySeq: header.replaySeq).transactions
            .map { (layout.log.lowerBound + $0.offset, $0.length) }
    }

    /// The first log record of `type`: its offset in the region and the
    /// offset of the transaction that holds it.
    public func firstLogRecord(_ type: LogRecord.RecordType) -> (offset: Int, transaction: Int)? {
        for t in transactions() {
            var at = t.offset + TransactionHeader.size
            while at < t.offset + t.length {
                if u16(at + LogRecord.H.type.offset) == type.rawValue { return (at, t.offset) }
                at += Int(u16(at + LogRecord.H.length.offset))
            }
        }
        return nil
    }

    public func u16(_ o: Int) -> UInt16 { bytes.withUnsafeBytes { $0.u16(o) } }
    public func u32(_ o: Int) -> UInt32 { bytes.withUnsafeBytes { $0.u32(o) } }
    public func u64(_ o: Int) -> UInt64 { bytes.withUnsafeBytes { $0.u64(o) } }
    public mutating func set<T: FixedWidthInteger>(_ v: T, at o: Int) { bytes.withUnsafeMutableBytes { $0.setLE(v, at: o) } }

    // MARK: re-sealing checksums after a change

    public mutating func sealSuperblock(at o: Int) {
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[o..<(o + Superblock.F.crc.offset)])) }
        set(crc, at: o + Superblock.F.crc.offset)
    }

    public mutating func sealStateWord(at o: Int) {
        let v = u32(o + Superblock.F.state.offset)
        set(withUnsafeBytes(of: v.littleEndian) { CRC32C.checksum($0) }, at: o + Superblock.F.stateCheck.offset)
    }

    /// A record checksummed with the record seed over [o, o+len) with its CRC field at o+crcAt read as zero.
    public mutating func sealRecord(at o: Int, length: Int, crcAt: Int) {
        set(UInt32(0), at: o + crcAt)
        let seed = sb.recordSeed
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[o..<(o + length)]), seed: seed) }
        set(crc, at: o + crcAt)
    }

    public mutating func sealCheckpointHeader() { sealRecord(at: slotOffset, length: CheckpointHeader.size, crcAt: CheckpointHeader.F.crc.offset) }
    public mutating func sealOtherCheckpointHeader() { sealRecord(at: otherSlotOffset, length: CheckpointHeader.size, crcAt: CheckpointHeader.F.crc.offset) }
    public mutating func sealChunk(_ i: Int) { sealRecord(at: chunkOffset(i), length: CheckpointChunk.size, crcAt: CheckpointChunk.F.crc.offset) }
    /// The chunk that holds region offset `o`.
    public func chunkIndex(holding o: Int) -> Int { (o - slotOffset - CheckpointHeader.chunksOffset) / CheckpointChunk.size }
    public mutating func sealTransaction(at o: Int) {
        let len = TransactionHeader.size + Int(u32(o + TransactionHeader.F.bodyLength.offset))
        guard o + len <= layout.log.upperBound else { return }
        sealRecord(at: o, length: len, crcAt: TransactionHeader.F.crc.offset)
    }
    /// Re-seals a log record and then the transaction that holds it.
    public mutating func sealLogRecord(at o: Int, transaction t: Int) {
        let len = Int(u16(o + LogRecord.H.length.offset))
        if len >= 8 && o + len <= layout.log.upperBound { sealRecord(at: o, length: len, crcAt: LogRecord.H.crc.offset) }
        sealTransaction(at: t)
    }
}

extension FsckImages {
    /// An image whose log holds every type of log record, so that each
    /// record's payload can be fuzzed. Checkpointed by an unmount: the root,
    /// /a (a directory), /a/f1 (3 blocks), /b (2 blocks), /c (4 blocks),
    /// /del (2 blocks), /s1 and /s2 (3 one-block extents each, with holes
    /// between them). Then, in the log, with every intent finished: /d is
    /// created and written (INODE, ALLOC, EXTENT_MAP, INODE_ATTR); /del is
    /// removed (EXTENT_UNMAP, FREE, INODE_FREE); block 1 of /c is collapsed
    /// (EXTENT_SHIFT); /s1 and /s2 are swapped one extent a step (INTENT,
    /// EXTENT_SWAP, INTENT_PROGRESS, INTENT_DONE). Marked clean.
    public static func everyLogRecord() throws -> [UInt8] {
        let r = TempRegion("fsck-log-records")
        try r.format(size: regionSize, logSize: logSize, checkpointSize: slotSize, sentinel: 0)
        var fs = try Filesystem.mount(r.path)
        try fs.mkdir("/a")
        let f1 = try fs.create("/a/f1")
        try fs.write(f1, at: 0, [UInt8](repeating: 0x11, count: 3 * 4096))
        let b = try fs.create("/b")
        try fs.write(b, at: 0, [UInt8](repeating: 0x22, count: 2 * 4096))
        let c = try fs.create("/c")
        try fs.write(c, at: 0, [UInt8](repeating: 0x33, count: 4 * 4096))
        let del = try fs.create("/del")
        try fs.write(del, at: 0, [UInt8](repeating: 0x44, count: 2 * 4096))
        for (name, byte) in [("/s1", UInt8(0x61)), ("/s2", 0x62)] {
            let s = try fs.create(name)
            for i in 0..<3 { try fs.write(s, at: UInt64(i) * 2 * 4096, [UInt8](repeating: byte &+ UInt8(i), count: 4096)) }
        }
        try fs.unmount()
        fs = try mountKeepingLog(r.path)
        let d = try fs.create("/d")
        try fs.write(d, at: 0, [UInt8](repeating: 0x55, count: 2 * 4096))
        try fs.remove("/del")
        try fs.fallocate(try fs.lookup("/c"), mode: .collapseRange, offset: 4096, length: 4096)
        try fs.swapExtents(try fs.lookup("/s1"), try fs.lookup("/s2"), toEOF: true, stepExtents: 1)
        try fs.unmount()
        return r.bytes
    }

    /// Mounts `path` so that its unmount leaves the changes in the log (no
    /// checkpoint), for images whose log must hold records.
    private static func mountKeepingLog(_ path: String) throws -> Filesystem {
        var o = Filesystem.Options()
        o.checkpointOnUnmount = false
        return try Filesystem.mount(path, options: o)
    }
}
