import DaxCore
import DaxFSFormat
import PMem

/// Everything `daxfs info` shows, read without mounting and without writing.
/// Codable: its JSON form is the documented `info --json` schema (man/daxfs.8).
public struct RegionReport: Codable, Sendable {
    public struct Geometry: Codable, Sendable {
        public var regionSize: UInt64
        public var blockSize: UInt32
        public var allocUnit: UInt32
        public var logOffset: UInt64
        public var logSize: UInt64
        public var checkpointOffset: UInt64
        public var checkpointSlotSize: UInt64
        public var dataOffset: UInt64
        public var dataSize: UInt64
        public var backupOffset: UInt64
    }
    public struct Features: Codable, Sendable {
        public var compat: UInt64
        public var roCompat: UInt64
        public var incompat: UInt64
        public var unknownCompat: UInt64
        public var unknownRoCompat: UInt64
        public var unknownIncompat: UInt64
    }
    public struct Slot: Codable, Sendable {
        public var slot: Int
        public var valid: Bool
        public var generation: UInt64?
        public var replaySeq: UInt64?
        public var problem: String?
    }
    public struct Log: Codable, Sendable {
        public var transactions: Int
        public var records: Int
        public var usedBytes: Int
        public var nextSeq: UInt64
        public var end: String
    }
    public struct Usage: Codable, Sendable {
        public var dataBlocks: UInt64
        public var freeBlocks: UInt64
        public var usedBlocks: UInt64
        public var inodes: UInt64
        public var extents: UInt64
    }
    public var region: String
    public var kind: String
    public var version: UInt32
    public var uuid: String
    public var label: String
    public var state: String
    public var mkfsTime: UInt64
    public var primarySuperblock: String
    public var backupSuperblock: String
    public var geometry: Geometry
    public var features: Features
    public var checkpoint: [Slot]
    public var currentSlot: Int
    public var log: Log
    public var usage: Usage
    public var pendingIntents: [PendingIntent]

    /// An intent that is logged and not done: recovery (a read-write
    /// mount, or fsck) finishes it.
    public struct PendingIntent: Sendable, Codable, Equatable, CustomStringConvertible {
        public var id: UInt64
        /// "swap-extents", "truncate", "punch", "zero-range" or "collapse".
        public var kind: String
        public var ino1: UInt64
        public var block1: UInt64
        public var ino2: UInt64
        public var block2: UInt64
        /// Blocks the intent covers, and how many of them its steps have done.
        public var count: UInt64
        public var done: UInt64
        public var size1: UInt64
        public var size2: UInt64

        init(_ i: IntentRecord) {
            id = i.id
            kind = switch i.kind {
            case .swapExtents: "swap-extents"
            case .truncate: "truncate"
            case .punch: "punch"
            case .zeroRange: "zero-range"
            case .collapse: "collapse"
            }
            ino1 = i.ino1.raw; block1 = i.block1.raw; ino2 = i.ino2.raw; block2 = i.block2.raw
            count = i.count.raw; done = i.done.raw; size1 = i.size1; size2 = i.size2
        }

        public var description: String {
            switch kind {
            case "swap-extents":
                "intent \(id): swap-extents of inode \(ino1) block \(block1) and inode \(ino2) block \(block2), \(done) of \(count) blocks done"
            case "truncate": "intent \(id): truncate of inode \(ino1) to \(size1) bytes" + (count > 0 ? ", \(count) blocks to free" : "")
            case "collapse": "intent \(id): collapse of inode \(ino1), blocks [\(block1), +\(count)), to size \(size1)"
            default: "intent \(id): \(kind) of inode \(ino1), bytes [\(size1), \(size2))"
            }
        }
    }

    /// Reads the region at `path` read-only. Throws ENODATA when it holds no
    /// daxfs and EFSCORRUPTED when the superblock or both checkpoints are damaged.
    public static func read(_ path: String) throws -> RegionReport {
        let info = try RegionPath.inspect(path)
        let media = try MappedRegion.map(path, readOnly: true)
        return try read(media: media, path: path, kind: info.kind.rawValue)
    }

    public static func read(media: PersistentMedia, path: String, kind: String) throws -> RegionReport {
        let (sb, state) = try SuperblockReader.primary(media, path: path)
        let copies = SuperblockReader.read(media)
        let layout = Layout(sb)
        var slots: [Slot] = []
        for i in 0..<2 {
            switch CheckpointIO.header(slot: i, media: media, layout: layout) {
            case .success(let h): slots.append(Slot(slot: i, valid: true, generation: h.generation, replaySeq: h.replaySeq.raw, problem: nil))
            case .failure(let e): slots.append(Slot(slot: i, valid: false, generation: nil, replaySeq: nil, problem: e.message))
            }
        }
        let (slot, header) = try CheckpointIO.current(media: media, layout: layout)
        let scan = LogScan.scan(media: media, layout: layout, replaySeq: header.replaySeq)
        var free = Int64(header.freeBlocks)
        var intents: [UInt64: IntentRecord] = [:]
        let ckpt = try CheckpointIO.read(header: header, slot: slot, media: media, layout: layout)
        for i in ckpt.intents { intents[i.id] = i }
        for t in scan.transactions {
            for r in t.records {
                switch r {
                case .alloc(let b): free -= Int64(b.count.raw)
                case .free(let b): free += Int64(b.count.raw)
                case .intent(let i): intents[i.id] = i
                case .intentProgress(let id, let done): intents[id]?.done = done
                case .intentDone(let id): intents[id] = nil
                default: break
                }
            }
        }
        let freeBlocks = UInt64(max(0, free))
        let end: String = switch scan.stop {
        case .noTransaction: "clean end"
        case .staleSequence(let s): "clean end (stale transaction \(s) follows)"
        case .corrupt(let why): "torn or corrupt tail: \(why)"
        }
        func describe(_ p: Superblock.Probe) -> String {
            switch p {
            case .valid: "valid"
            case .corrupt(let why): "corrupt: \(why)"
            case .unsupported(let why): "unsupported: \(why)"
            case .absent: "missing"
            }
        }
        return RegionReport(
            region: path, kind: kind, version: sb.version, uuid: sb.uuidString, label: sb.label,
            state: state.description, mkfsTime: sb.mkfsTime,
            primarySuperblock: describe(copies.primary), backupSuperblock: describe(copies.backup),
            geometry: Geometry(regionSize: sb.regionSize, blockSize: sb.blockSize, allocUnit: sb.allocUnit,
                               logOffset: sb.logOffset, logSize: sb.logSize, checkpointOffset: sb.checkpointOffset,
                               checkpointSlotSize: sb.checkpointSlotSize, dataOffset: sb.dataOffset,
                               dataSize: sb.dataSize, backupOffset: sb.backupOffset),
            features: Features(compat: sb.features.compat, roCompat: sb.features.roCompat, incompat: sb.features.incompat,
                               unknownCompat: sb.features.unknownCompat, unknownRoCompat: sb.features.unknownRoCompat,
                               unknownIncompat: sb.features.unknownIncompat),
            checkpoint: slots, currentSlot: slot,
            log: Log(transactions: scan.transactions.count, records: scan.recordCount, usedBytes: scan.tail,
                     nextSeq: scan.nextSeq.raw, end: end),
            usage: Usage(dataBlocks: sb.dataBlockCount.raw, freeBlocks: freeBlocks,
                         usedBlocks: sb.dataBlockCount.raw - min(freeBlocks, sb.dataBlockCount.raw),
                         inodes: header.inodeCount, extents: header.extentCount),
            pendingIntents: intents.keys.sorted().map { PendingIntent(intents[$0]!) })
    }

    /// Whether a mapped region holds daxfs, for `daxfs devices`: "yes", "no" or "damaged".
    public static func holdsDaxfs(_ media: PersistentMedia) -> String {
        switch SuperblockReader.read(media).primary {
        case .valid: "yes"
        case .corrupt: "damaged"
        case .unsupported: "newer format"
        case .absent: "no"
        }
    }
}
