import DaxCore

/// The superblock: geometry, identity and features of a daxfs region.
///
/// Two copies: the primary at byte 0 and the backup at `backupOffset`
/// (the first byte of the region's last block). Both are 512 bytes. Bytes
/// [0, 500) are covered by a standard CRC32C (seed 0) stored at 500. The
/// mount state lives in its own 8-byte word at 504, outside that CRC, so
/// that marking the filesystem dirty or clean is a single atomic 8-byte
/// store that can never tear the superblock.
///
/// mkfs writes both copies; fsck rewrites either from the other. Only the
/// primary's state word changes at mount and unmount.
public struct Superblock: Equatable, Sendable {
    public static let size = 512
    public static let magic: [UInt8] = Array("DAXFS-SB".utf8)
    public static let currentVersion: UInt32 = 1
    public static let labelCapacity = 64

    public var version: UInt32 = Superblock.currentVersion
    public var uuid: [UInt8]
    /// UTF-8, at most 64 bytes; stored NUL-padded.
    public var label: String
    public var regionSize: UInt64
    public var blockSize: UInt32
    /// The allocation unit new files inherit from the root directory.
    public var allocUnit: UInt32
    public var features: FeatureMasks
    public var logOffset: UInt64
    public var logSize: UInt64
    /// Checkpoint slot 0 starts here; slot 1 follows at + checkpointSlotSize.
    public var checkpointOffset: UInt64
    public var checkpointSlotSize: UInt64
    public var dataOffset: UInt64
    public var dataSize: UInt64
    public var backupOffset: UInt64
    /// Random at every mkfs. Seeds the CRC of every log and checkpoint
    /// record, so nothing left by an earlier filesystem ever verifies.
    public var logSalt: UInt64
    /// Nanoseconds since the Unix epoch.
    public var mkfsTime: UInt64

    public init(uuid: [UInt8], label: String, regionSize: UInt64, blockSize: UInt32, allocUnit: UInt32,
                features: FeatureMasks = FeatureMasks(), logOffset: UInt64, logSize: UInt64,
                checkpointOffset: UInt64, checkpointSlotSize: UInt64, dataOffset: UInt64, dataSize: UInt64,
                backupOffset: UInt64, logSalt: UInt64, mkfsTime: UInt64) {
        self.uuid = uuid; self.label = label; self.regionSize = regionSize; self.blockSize = blockSize
        self.allocUnit = allocUnit; self.features = features; self.logOffset = logOffset; self.logSize = logSize
        self.checkpointOffset = checkpointOffset; self.checkpointSlotSize = checkpointSlotSize
        self.dataOffset = dataOffset; self.dataSize = dataSize; self.backupOffset = backupOffset
        self.logSalt = logSalt; self.mkfsTime = mkfsTime
    }

    // MARK: layout (man/daxfs.5, "SUPERBLOCK")

    public enum F {
        public static let magic = Field("magic", 0, 8, .bytes)
        public static let version = Field("version", 8, 4, .u32)
        public static let headerSize = Field("sb_size", 12, 4, .u32)
        public static let uuid = Field("uuid", 16, 16, .bytes)
        public static let label = Field("label", 32, 64, .bytes)
        public static let regionSize = Field("region_size", 96, 8, .u64)
        public static let blockSize = Field("block_size", 104, 4, .u32)
        public static let allocUnit = Field("alloc_unit", 108, 4, .u32)
        public static let compat = Field("compat", 112, 8, .u64)
        public static let roCompat = Field("ro_compat", 120, 8, .u64)
        public static let incompat = Field("incompat", 128, 8, .u64)
        public static let logOffset = Field("log_offset", 136, 8, .u64)
        public static let logSize = Field("log_size", 144, 8, .u64)
        public static let checkpointOffset = Field("ckpt_offset", 152, 8, .u64)
        public static let checkpointSlotSize = Field("ckpt_slot_size", 160, 8, .u64)
        public static let dataOffset = Field("data_offset", 168, 8, .u64)
        public static let dataSize = Field("data_size", 176, 8, .u64)
        public static let backupOffset = Field("backup_offset", 184, 8, .u64)
        public static let logSalt = Field("log_salt", 192, 8, .u64)
        public static let mkfsTime = Field("mkfs_time", 200, 8, .u64)
        public static let reserved = Field("reserved", 208, 292, .bytes)
        public static let crc = Field("crc", 500, 4, .u32)
        public static let state = Field("state", 504, 4, .u32)
        public static let stateCheck = Field("state_check", 508, 4, .u32)
    }

    public static let layout = RecordLayout(name: "superblock", size: size, fields: [
        F.magic, F.version, F.headerSize, F.uuid, F.label, F.regionSize, F.blockSize, F.allocUnit,
        F.compat, F.roCompat, F.incompat, F.logOffset, F.logSize, F.checkpointOffset,
        F.checkpointSlotSize, F.dataOffset, F.dataSize, F.backupOffset, F.logSalt, F.mkfsTime,
        F.reserved, F.crc, F.state, F.stateCheck,
    ])

    /// Byte offset of the state word within the superblock.
    public static let stateWordOffset = F.state.offset

    // MARK: encode / decode

    /// The 512 bytes of this superblock with the given mount state.
    public func encode(state: MountState) -> [UInt8] {
        var b = RecordBuffer(size: Superblock.size)
        b.set(bytes: Superblock.magic, at: F.magic.offset)
        b.set(version, at: F.version.offset)
        b.set(UInt32(Superblock.size), at: F.headerSize.offset)
        b.set(bytes: uuid, at: F.uuid.offset)
        b.set(bytes: Array(label.utf8.prefix(Superblock.labelCapacity)), at: F.label.offset)
        b.set(regionSize, at: F.regionSize.offset)
        b.set(blockSize, at: F.blockSize.offset)
        b.set(allocUnit, at: F.allocUnit.offset)
        b.set(features.compat, at: F.compat.offset)
        b.set(features.roCompat, at: F.roCompat.offset)
        b.set(features.incompat, at: F.incompat.offset)
        b.set(logOffset, at: F.logOffset.offset)
        b.set(logSize, at: F.logSize.offset)
        b.set(checkpointOffset, at: F.checkpointOffset.offset)
        b.set(checkpointSlotSize, at: F.checkpointSlotSize.offset)
        b.set(dataOffset, at: F.dataOffset.offset)
        b.set(dataSize, at: F.dataSize.offset)
        b.set(backupOffset, at: F.backupOffset.offset)
        b.set(logSalt, at: F.logSalt.offset)
        b.set(mkfsTime, at: F.mkfsTime.offset)
        let crc = b.bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<F.crc.offset])) }
        b.set(crc, at: F.crc.offset)
        b.set(state.word, at: F.state.offset)
        return b.bytes
    }

    /// What a superblock-sized buffer holds.
    public enum Probe: Equatable, Sendable {
        case valid(Superblock, MountState)
        /// The magic is there but the record does not verify.
        case corrupt(String)
        /// A daxfs superblock of a format version this code does not read.
        case unsupported(String)
        /// No daxfs magic at all.
        case absent
    }

    /// Decodes and verifies 512 bytes. Never traps on bad bytes.
    public static func probe(_ raw: UnsafeRawBufferPointer) -> Probe {
        guard raw.count >= size else { return .absent }
        guard raw.bytes(F.magic.offset, 8) == magic else { return .absent }
        let storedCRC = raw.u32(F.crc.offset)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<F.crc.offset]))
        guard storedCRC == computed else {
            return .corrupt("superblock checksum mismatch (stored \(hex32(storedCRC)), computed \(hex32(computed)))")
        }
        let version = raw.u32(F.version.offset)
        guard version == currentVersion else { return .unsupported("superblock format version \(version) is not supported (this daxfs reads version \(currentVersion))") }
        guard raw.u32(F.headerSize.offset) == UInt32(size) else { return .corrupt("superblock size field is \(raw.u32(F.headerSize.offset)), expected \(size)") }
        let labelBytes = raw.bytes(F.label.offset, labelCapacity).prefix { $0 != 0 }
        let sb = Superblock(
            uuid: raw.bytes(F.uuid.offset, 16),
            label: String(decoding: labelBytes, as: UTF8.self),
            regionSize: raw.u64(F.regionSize.offset), blockSize: raw.u32(F.blockSize.offset),
            allocUnit: raw.u32(F.allocUnit.offset),
            features: FeatureMasks(compat: raw.u64(F.compat.offset), roCompat: raw.u64(F.roCompat.offset),
                                   incompat: raw.u64(F.incompat.offset)),
            logOffset: raw.u64(F.logOffset.offset), logSize: raw.u64(F.logSize.offset),
            checkpointOffset: raw.u64(F.checkpointOffset.offset), checkpointSlotSize: raw.u64(F.checkpointSlotSize.offset),
            dataOffset: raw.u64(F.dataOffset.offset), dataSize: raw.u64(F.dataSize.offset),
            backupOffset: raw.u64(F.backupOffset.offset), logSalt: raw.u64(F.logSalt.offset),
            mkfsTime: raw.u64(F.mkfsTime.offset))
        if let problem = sb.geometryProblem() { return .corrupt(problem) }
        return .valid(sb, MountState(word: raw.u64(F.state.offset)))
    }

    public static func probe(_ bytes: [UInt8]) -> Probe { bytes.withUnsafeBytes { probe($0) } }

    /// Checks that the geometry is self-consistent: sizes are powers of two
    /// where they must be, areas are block-aligned, inside the region, in
    /// order and disjoint, and nothing overflows. Returns nil when sound.
    public func geometryProblem() -> String? {
        let bs = UInt64(blockSize)
        guard Geometry.blockSizes.contains(blockSize) else { return "block size \(blockSize) is not supported" }
        guard Geometry.allocUnits.contains(allocUnit), UInt64(allocUnit) >= bs else { return "allocation unit \(allocUnit) is not valid for block size \(blockSize)" }
        guard regionSize % bs == 0, regionSize >= bs * 4 else { return "region size \(regionSize) is not a multiple of the block size" }
        for (name, v) in [("log_offset", logOffset), ("log_size", logSize), ("ckpt_offset", checkpointOffset),
                          ("ckpt_slot_size", checkpointSlotSize), ("data_offset", dataOffset), ("data_size", dataSize),
                          ("backup_offset", backupOffset)] where v % bs != 0 {
            return "\(name) \(v) is not a multiple of the block size"
        }
        guard backupOffset == regionSize - bs else { return "backup_offset \(backupOffset) is not the last block of a \(regionSize)-byte region" }
        guard logSize >= Geometry.minimumLogSize, checkpointSlotSize >= Geometry.minimumCheckpointSlotSize else { return "log or checkpoint area is smaller than the minimum" }
        // Areas in order: superblock block, log, two checkpoint slots, data, backup.
        let (ckptBytes, o1) = checkpointSlotSize.multipliedReportingOverflow(by: 2)
        let (logEnd, o2) = logOffset.addingReportingOverflow(logSize)
        let (ckptEnd, o3) = checkpointOffset.addingReportingOverflow(ckptBytes)
        let (dataEnd, o4) = dataOffset.addingReportingOverflow(dataSize)
        if o1 || o2 || o3 || o4 { return "area sizes overflow" }
        guard logOffset >= bs, logEnd <= checkpointOffset, ckptEnd <= dataOffset, dataEnd <= backupOffset else {
            return "metadata areas overlap or are out of order"
        }
        guard dataSize >= bs * Geometry.minimumDataBlocks else { return "data area is too small" }
        return nil
    }

    public var uuidString: String { UUIDText.format(uuid) }
    /// Seed for the CRC32C of every log and checkpoint record.
    public var recordSeed: UInt32 { UInt32(truncatingIfNeeded: logSalt) ^ UInt32(truncatingIfNeeded: logSalt >> 32) }
    public var totalBlocks: UInt64 { regionSize / UInt64(blockSize) }
    public var dataStartBlock: BlockNumber { BlockNumber(dataOffset / UInt64(blockSize)) }
    public var dataBlockCount: BlockCount { BlockCount(dataSize / UInt64(blockSize)) }
    public var dataEndBlock: UInt64 { (dataOffset + dataSize) / UInt64(blockSize) }
}

/// The mount state word: state in the low 32 bits, CRC32C (seed 0) of those
/// four little-endian bytes in the high 32 bits. Written with one aligned
/// 8-byte store, so it is either the old or the new word after a crash.
public struct MountState: Equatable, Sendable, CustomStringConvertible {
    public enum State: UInt32, Sendable { case clean = 1, dirty = 2 }
    public var word: UInt64
    public init(word: UInt64) { self.word = word }
    public init(_ state: State) {
        let v = state.rawValue
        let check = withUnsafeBytes(of: v.littleEndian) { CRC32C.checksum($0) }
        word = UInt64(v) | (UInt64(check) << 32)
    }
    public static let clean = MountState(.clean)
    public static let dirty = MountState(.dirty)

    /// The state, or nil when the word does not verify (treated as dirty).
    public var state: State? {
        let v = UInt32(truncatingIfNeeded: word)
        let check = withUnsafeBytes(of: v.littleEndian) { CRC32C.checksum($0) }
        guard UInt32(truncatingIfNeeded: word >> 32) == check else { return nil }
        return State(rawValue: v)
    }
    public var isClean: Bool { state == .clean }
    public var description: String {
        switch state {
        case .clean: "clean"
        case .dirty: "dirty"
        case nil: "invalid"
        }
    }
}

/// Formatting helpers shared by the format code.
public enum UUIDText {
    public static func format(_ u: [UInt8]) -> String {
        guard u.count == 16 else { return "invalid" }
        let h = u.map { hex2($0) }
        return h[0..<4].joined() + "-" + h[4..<6].joined() + "-" + h[6..<8].joined() + "-" + h[8..<10].joined() + "-" + h[10..<16].joined()
    }
    public static func parse(_ s: String) -> [UInt8]? {
        let hex = s.filter { $0 != "-" }
        guard hex.count == 32 else { return nil }
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            guard let b = UInt8(hex[i..<j], radix: 16) else { return nil }
            out.append(b)
            i = j
        }
        return out
    }
    static func hex2(_ b: UInt8) -> String {
        let d = Array("0123456789abcdef")
        return String([d[Int(b >> 4)], d[Int(b & 15)]])
    }
}

/// Eight lower-case hex digits.
public func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}
