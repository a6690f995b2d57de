import DaxFSFormat
import DaxFSTestSupport

/// One field of one record in the image, and how to re-seal its checksum.
struct FuzzTarget {
    var record: String
    var field: Field
    var offset: Int
    /// False for the checksum fields themselves (a re-sealed checksum is the original).
    var sealable: Bool
    var seal: (inout FsckImage) -> Void
    /// Facts about the record the exceptions need.
    var ino: UInt64 = 0
    var name: String { "\(record).\(field.name)" }
}

enum FuzzTargets {
    /// One record of each log record type, named log_TYPE (log_inode, log_extent_swap, ...).
    static let logRecords = LogRecord.RecordType.allCases.map { "log_" + $0.name.lowercased() }

    static let records = ["superblock", "backup_superblock", "checkpoint_header", "checkpoint_header_other", "chunk_inodes",
                          "chunk_extents", "chunk_free", "inode1", "inode2", "inode5", "extent", "free", "transaction",
                          "record_header", "intent"] + logRecords

    /// Inodes fuzzed: the root, /a (a directory with children) and /a/f1 (a file with an extent).
    static let inodes: [UInt64] = [1, 2, 5]

    /// The image a record is fuzzed in: the intent entry in a checkpoint
    /// that holds a pending collapse, the log records in
    /// `FsckImages.everyLogRecord`, everything else in `FsckImages.populated`.
    static func image(for record: String) throws -> FsckImage {
        if record == "intent" { return try FsckImage(try FsckImages.intentInCheckpoint()) }
        if record.hasPrefix("log_") { return try FsckImage(try FsckImages.everyLogRecord()) }
        return try FsckImage(try FsckImages.populated())
    }

    /// The fields of `record` in `m` (the image `image(for: record)` built).
    static func targets(_ record: String, in m: FsckImage) -> [FuzzTarget] {
        var out: [FuzzTarget] = []
        func add(_ layout: RecordLayout, at base: Int, crc: Set<String>, ino: UInt64 = 0, extra: [Field] = [],
                 seal: @escaping (String, inout FsckImage) -> Void) {
            for f in layout.fields + extra {
                out.append(FuzzTarget(record: record, field: f, offset: base + f.offset, sealable: !crc.contains(f.name),
                                      seal: { seal(f.name, &$0) }, ino: ino))
            }
        }
        switch record {
        case "intent":
            let c = m.firstChunk(.intents)!
            add(IntentRecord.layout, at: m.chunkOffset(c) + CheckpointChunk.headerSize, crc: []) { _, img in img.sealChunk(c) }
        case "superblock", "backup_superblock":
            let o = record == "superblock" ? 0 : Int(m.sb.backupOffset)
            add(Superblock.layout, at: o, crc: ["crc", "state_check"]) { field, img in
                if field == "state" { img.sealStateWord(at: o) } else { img.sealSuperblock(at: o) }
            }
        case "checkpoint_header":
            add(CheckpointHeader.layout, at: m.slotOffset, crc: ["crc"]) { _, img in img.sealCheckpointHeader() }
        case "checkpoint_header_other":
            add(CheckpointHeader.layout, at: m.otherSlotOffset, crc: ["crc"]) { _, img in img.sealOtherCheckpointHeader() }
        case "chunk_inodes", "chunk_extents", "chunk_free":
            let kind: CheckpointChunk.Kind = record == "chunk_inodes" ? .inodes : record == "chunk_extents" ? .extents : .free
            let i = m.firstChunk(kind)!
            add(CheckpointChunk.layout, at: m.chunkOffset(i), crc: ["crc"]) { _, img in img.sealChunk(i) }
        case _ where record.hasPrefix("inode"):
            let ino = UInt64(record.dropFirst("inode".count))!
            let o = m.inodeEntries()[ino]!
            add(InodeRecord.layout, at: o, crc: [], ino: ino) { _, img in img.sealChunk(img.chunkIndex(holding: o)) }
        case "extent":
            let e = m.extentEntries()[5]!
            add(ExtentRecord.layout, at: e, crc: []) { _, img in img.sealChunk(img.chunkIndex(holding: e)) }
        case "free":
            let freeChunk = m.firstChunk(.free)!
            add(BlockRange.layout, at: m.chunkOffset(freeChunk) + CheckpointChunk.headerSize, crc: []) { _, img in img.sealChunk(freeChunk) }
        case "transaction":
            let tx = m.transactions()[0]
            add(TransactionHeader.layout, at: tx.offset, crc: ["crc"]) { _, img in img.sealTransaction(at: tx.offset) }
        case "record_header":
            let tx = m.transactions()[0]
            let rec = tx.offset + TransactionHeader.size
            add(LogRecord.headerLayout, at: rec, crc: ["crc"]) { _, img in img.sealLogRecord(at: rec, transaction: tx.offset) }
        default:
            // A log record's payload: every field of its type's layout (an
            // INODE record also its padded name), the record's and the
            // transaction's checksums re-sealed.
            let type = LogRecord.RecordType.allCases.first { "log_" + $0.name.lowercased() == record }!
            let (rec, tx) = m.firstLogRecord(type)!
            let payload = rec + LogRecord.headerSize
            var extra: [Field] = []
            if type == .inode {
                let nameLength = Int(m.u16(payload + InodeRecord.F.nameLength.offset))
                extra = [Field("name", InodeRecord.fixedSize, pad8(nameLength), .bytes)]
            }
            add(type.payloadLayout, at: payload, crc: [], extra: extra) { _, img in img.sealLogRecord(at: rec, transaction: tx) }
        }
        return out
    }
}

/// The documented list of fields whose value may be valid after a fuzz (with
/// a valid checksum): fsck -n may then rightly exit 0. Everything else must
/// be detected. With an invalid checksum every field must be detected,
/// except in the checkpoint slot that is not current.
///
/// Superblocks and the current checkpoint (`FsckImages.populated`):
/// - times (atime, mtime, ctime, btime), change, generation, uid and gid of
///   an inode, and the checkpoint's time: every value is valid;
/// - an inode's mode: any value without bits outside 07777;
/// - a file's size: any value up to 2^60 (a file may be sparse or
///   preallocated beyond its size);
/// - the allocation unit shift of an inode without extents: 12, 21 or 30;
/// - an inode's parent: any other existing directory (a rename);
/// - next_ino: any value above every inode of the checkpoint, up to 2^63;
///   next_intent: any value up to 2^63 (the image has no intents);
/// - the superblock state: 1 (clean) or 2 (dirty);
/// - an extent's file block: any block that keeps it below 2^60 bytes (its
///   file has one extent); an extent's inode: another existing file.
///
/// The header of the checkpoint slot that is NOT current
/// (`checkpoint_header_other`; in the populated image, mkfs's checkpoint):
/// fsck does not report damage to it, and the test requires exit 0 (not
/// merely allows it) for every field, with either checksum, except a header
/// that verifies and claims a generation at or above the current one (mount
/// would take it for the current checkpoint; fsck reports CKPT_GENERATION and
/// the repair overwrites that slot). The reason: nothing relies on that slot.
/// The next checkpoint is written into it, chunks first and its header
/// last, and until that header is durable the current slot stays current,
/// so a crash during the next checkpoint falls back on the current slot,
/// never on the older one; fsck salvages from the older slot only when the
/// current one has no chunk that verifies. And a torn header there is
/// exactly what a crash during a checkpoint leaves
/// (`aCrashInACheckpointLeavesATornHeaderThatChecksClean` builds those
/// images at every persist point of a checkpoint and requires exit 0), so
/// reporting it would make fsck -n fail a consistent filesystem.
///
/// Log record payloads (`FsckImages.everyLogRecord`, the first record of
/// each type, re-sealed so that the value reaches replay): replay applies a
/// record that verifies and fits the state, so a value is valid when the
/// state it leads to is consistent; fsck cannot tell it from what was
/// written.
/// - INODE (the create of /d): the times, change, generation, uid and gid:
///   every value; mode: no bits outside 07777; size: up to 2^60 (the
///   INODE_ATTR of the write that follows sets it); parent: the other
///   directory (/a: a create there); name: another valid name that the
///   directory does not hold, with zero padding.
/// - INODE_ATTR (of the root, in the create of /d): change, mtime and ctime:
///   every value; size: up to 2^60 (the INODE_ATTR of the root in the
///   removal of /del sets it again); ino: another existing inode (a
///   directory takes size 0, which this record holds).
/// - EXTENT_MAP (the write of /d): file_block: any that keeps the extent
///   below 2^60 bytes (the file has no other extent; blocks past its size
///   are preallocated).
/// - EXTENT_UNMAP (the removal of /del): count: any larger value that keeps
///   the range below 2^60 bytes (the extra blocks are holes past its end).
/// - EXTENT_SHIFT (the collapse of /c): from: any block past the file's last
///   (nothing moves, and the size INODE_ATTR sets still covers its blocks).
/// - INTENT (a swap-extents the log finishes): replay never executes the
///   ranges of an intent the log finishes itself, so: flags 0 or 1; another
///   file, not the other one, for ino1 or ino2; block1, block2 and count
///   anywhere below 2^60 bytes (count at least the 3 blocks its progress
///   records reach); done up to count; size1 and size2 up to 2^60.
/// - INTENT_PROGRESS: done up to the intent's count (the next one overrides it).
/// - EXTENT_SWAP (the swap's first step): another existing file, not the
///   other one, for ino1 or ino2; block1, block2 and count anywhere below
///   2^60 bytes: an exchange of any two ranges of two files leaves a
///   consistent state.
/// Everything else in the payloads is detected: inode numbers and ids that
/// later records or the state contradict, region blocks (leaked, cross-linked
/// or free), kinds, nlink, alloc_shift, flags, delta, generations, reserved
/// bytes and name padding (refused by the decoder).
///
/// Not fuzzed, and undetectable by design: the magic, salt and a lower
/// sequence of the LAST transaction of the log, which make it look like the
/// end of the log (replay and fsck both stop there; the earlier
/// transactions are intact).
enum FuzzExceptions {
    static let directories: Set<UInt64> = [1, 2, 3, 4]
    static let files: Set<UInt64> = [5, 6, 7, 8]
    static let withExtents: Set<UInt64> = [5, 6, 7]
    /// The generation of the populated image's current checkpoint (slot 1; slot 0 holds mkfs's, generation 1).
    static let currentGeneration: UInt64 = 2

    static func value(_ b: [UInt8]) -> UInt64 { b.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) } }

    /// Records whose exempt cases must check clean (exit 0), not merely may.
    static let pinnedClean: Set<String> = ["checkpoint_header_other"]

    static func valid(_ t: FuzzTarget, old: [UInt8], new: [UInt8], sealed: Bool) -> Bool {
        let v = value(new)
        if t.record == "checkpoint_header_other" {
            return !(sealed && t.field.name == "generation" && v >= currentGeneration)
        }
        guard sealed else { return false }
        if t.record.hasPrefix("log_") { return LogImage.valid(t, new: new) }
        switch (t.record, t.field.name) {
        case ("checkpoint_header", "time"): return true
        case ("checkpoint_header", "next_intent"): return v <= 1 << 63
        case ("checkpoint_header", "next_ino"): return v > 8 && v <= 1 << 63
        case ("superblock", "state"): return v == 1 || v == 2
        case ("extent", "file_block"): return v <= (1 << 48) - 3
        case ("extent", "ino"): return files.contains(v)
        default: break
        }
        guard t.record.hasPrefix("inode") else { return false }
        switch t.field.name {
        case "atime", "mtime", "ctime", "btime", "change", "generation", "uid", "gid": return true
        case "mode": return v & ~0o7777 == 0
        case "size": return files.contains(t.ino) && v <= 1 << 60
        case "alloc_shift": return !withExtents.contains(t.ino) && [12, 21, 30].contains(v)
        case "parent": return t.ino != 1 && v != t.ino && directories.contains(v)
        default: return false
        }
    }
}

/// The facts of `FsckImages.everyLogRecord` the log payload exceptions need.
enum LogImage {
    /// 1 root, 2 /a; files 3 /a/f1, 4 /b, 5 /c, 6 /del (removed in the log), 7 /s1, 8 /s2; 9 /d (created in the log).
    static let directories: Set<UInt64> = [1, 2]
    /// The files that exist when the swap's records are replayed.
    static let filesAtSwap: Set<UInt64> = [3, 4, 5, 7, 8, 9]
    /// Names the root holds when /d is created.
    static let rootNames: Set<[UInt8]> = Set(["a", "b", "c", "del", "s1", "s2"].map { Array($0.utf8) })
    /// File blocks below 2^60 bytes at 4 KiB blocks.
    static let maxBlocks: UInt64 = 1 << 48
    static let maxSize: UInt64 = 1 << 60

    /// `a + b <= limit` without overflow.
    static func fits(_ a: UInt64, _ b: UInt64, _ limit: UInt64 = maxBlocks) -> Bool {
        let (sum, o) = a.addingReportingOverflow(b)
        return !o && sum <= limit
    }

    static func valid(_ t: FuzzTarget, new: [UInt8]) -> Bool {
        let v = FuzzExceptions.value(new)
        switch (t.record, t.field.name) {
        case ("log_inode", "atime"), ("log_inode", "mtime"), ("log_inode", "ctime"), ("log_inode", "btime"),
             ("log_inode", "change"), ("log_inode", "generation"), ("log_inode", "uid"), ("log_inode", "gid"):
            return true
        case ("log_inode", "mode"): return v & ~0o7777 == 0
        case ("log_inode", "size"): return v <= maxSize
        case ("log_inode", "parent"): return directories.contains(v) && v != 1
        case ("log_inode", "name"):
            // name_len is 1: the name is the first byte, the rest is padding.
            let name = Array(new.prefix(1))
            return new.dropFirst().allSatisfy { $0 == 0 } && InodeRecord.nameProblem(name) == nil && !rootNames.contains(name)
        case ("log_inode_attr", "change"), ("log_inode_attr", "mtime"), ("log_inode_attr", "ctime"): return true
        case ("log_inode_attr", "size"): return v <= maxSize
        case ("log_inode_attr", "ino"): return (1...9).contains(v)
        case ("log_extent_map", "file_block"): return fits(v, 2)
        case ("log_extent_unmap", "count"): return v >= 2 && fits(0, v)
        case ("log_extent_shift", "from"): return v > 3
        case ("log_intent", "flags"): return v <= 1
        case ("log_intent", "ino1"): return filesAtSwap.contains(v) && v != 8
        case ("log_intent", "ino2"): return filesAtSwap.contains(v) && v != 7
        case ("log_intent", "block1"), ("log_intent", "block2"): return fits(v, 5)
        case ("log_intent", "count"): return v >= 3 && fits(0, v)
        case ("log_intent", "done"): return v <= 5
        case ("log_intent", "size1"), ("log_intent", "size2"): return v <= maxSize
        case ("log_intent_progress", "done"): return v <= 5
        case ("log_extent_swap", "ino1"): return filesAtSwap.contains(v) && v != 8
        case ("log_extent_swap", "ino2"): return filesAtSwap.contains(v) && v != 7
        case ("log_extent_swap", "block1"), ("log_extent_swap", "block2"): return fits(v, 1)
        case ("log_extent_swap", "count"): return v >= 1 && fits(0, v)
        default: return false
        }
    }
}
