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
    static let records = ["superblock", "backup_superblock", "checkpoint_header", "chunk_inodes", "chunk_extents",
                          "chunk_free", "inode1", "inode2", "inode5", "extent", "free", "transaction", "record_header",
                          "intent"]

    /// Inodes fuzzed: the root, /a (a directory with children) and /a/f1 (a file with an extent).
    static let inodes: [UInt64] = [1, 2, 5]

    static func all(_ m: FsckImage) -> [FuzzTarget] {
        var out: [FuzzTarget] = []
        func add(_ record: String, _ layout: RecordLayout, at base: Int, crc: Set<String>, ino: UInt64 = 0,
                 seal: @escaping (String, inout FsckImage) -> Void) {
            for f in layout.fields {
                out.append(FuzzTarget(record: record, field: f, offset: base + f.offset, sealable: !crc.contains(f.name),
                                      seal: { seal(f.name, &$0) }, ino: ino))
            }
        }
        if let c = m.firstChunk(.intents) {
            let o = m.chunkOffset(c) + CheckpointChunk.headerSize
            add("intent", IntentRecord.layout, at: o, crc: []) { _, img in img.sealChunk(c) }
            return out   // the intent image: only its intent is fuzzed
        }
        for (name, o) in [("superblock", 0), ("backup_superblock", Int(m.sb.backupOffset))] {
            add(name, Superblock.layout, at: o, crc: ["crc", "state_check"]) { field, img in
                if field == "state" { img.sealStateWord(at: o) } else { img.sealSuperblock(at: o) }
            }
        }
        add("checkpoint_header", CheckpointHeader.layout, at: m.slotOffset, crc: ["crc"]) { _, img in img.sealCheckpointHeader() }
        for kind in [CheckpointChunk.Kind.inodes, .extents, .free] {
            let i = m.firstChunk(kind)!
            add("chunk_\(kind)", CheckpointChunk.layout, at: m.chunkOffset(i), crc: ["crc"]) { _, img in img.sealChunk(i) }
        }
        let inodes = m.inodeEntries()
        for ino in Self.inodes {
            let o = inodes[ino]!
            add("inode\(ino)", InodeRecord.layout, at: o, crc: [], ino: ino) { _, img in img.sealChunk(img.chunkIndex(holding: o)) }
        }
        let e = m.extentEntries()[5]!
        add("extent", ExtentRecord.layout, at: e, crc: []) { _, img in img.sealChunk(img.chunkIndex(holding: e)) }
        let freeChunk = m.firstChunk(.free)!
        let fr = m.chunkOffset(freeChunk) + CheckpointChunk.headerSize
        add("free", BlockRange.layout, at: fr, crc: []) { _, img in img.sealChunk(freeChunk) }
        let tx = m.transactions()[0]
        add("transaction", TransactionHeader.layout, at: tx.offset, crc: ["crc"]) { _, img in img.sealTransaction(at: tx.offset) }
        let rec = tx.offset + TransactionHeader.size
        add("record_header", LogRecord.headerLayout, at: rec, crc: ["crc"]) { _, img in img.sealLogRecord(at: rec, transaction: tx.offset) }
        return out
    }
}

/// The documented list of fields whose value may be valid after a fuzz (with
/// a valid checksum): fsck -n may then rightly exit 0. Everything else must
/// be detected. With an invalid checksum every field must be detected.
///
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
/// Not fuzzed, and undetectable by design: the magic, salt and a lower
/// sequence of the LAST transaction of the log, which make it look like the
/// end of the log (replay and fsck both stop there; the earlier
/// transactions are intact).
enum FuzzExceptions {
    static let directories: Set<UInt64> = [1, 2, 3, 4]
    static let files: Set<UInt64> = [5, 6, 7, 8]
    static let withExtents: Set<UInt64> = [5, 6, 7]

    static func value(_ b: [UInt8]) -> UInt64 { b.prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) } }

    static func valid(_ t: FuzzTarget, old: [UInt8], new: [UInt8]) -> Bool {
        let v = value(new)
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
