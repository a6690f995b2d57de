#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFSFormat

/// The inode entries passes 3 to 7 check, by index. An entry is either a
/// record in a verified checkpoint chunk, read in place on the mapped
/// media, or a record in DRAM: every entry after log replay, and any entry
/// a pass changes. A check that changes nothing therefore copies no record
/// and allocates no name: for 100,000 inodes that was 14 MB of fresh
/// memory and 100,000 small allocations, a third of a whole check.
///
/// The offset and name length of an entry on the media are checked against
/// its chunk when the chunk is read and are kept here, so reading the entry
/// again never reads outside it, whatever the media holds by then.
/// - Complexity: every access O(1) (a record's name O(name length));
///   memory 8 bytes per entry, plus the records in DRAM.
struct InodeEntries {
    /// The mapped media the entries on the media point into.
    private let media: UnsafeRawBufferPointer
    /// Per entry: on the media, its offset << 16 | its name length (>= 0);
    /// in DRAM, -1 - its index in `records`.
    private var slots: [Int] = []
    private var records: [InodeRecord] = []
    /// True while every entry appended had an inode number at or above the one before.
    private var appendedInOrder = true
    private var lastIno: UInt64 = 0

    /// No entries yet; `appendOnMedia` adds entries of `media`.
    init(media: UnsafeRawBufferPointer) {
        assert(InodeAt.matchFormat)
        self.media = media
    }

    /// The given records, all in DRAM.
    init(_ records: [InodeRecord]) {
        media = UnsafeRawBufferPointer(start: nil, count: 0)
        self.records = records
        slots = (0..<records.count).map { -1 - $0 }
        appendedInOrder = records.isSorted { $0.ino < $1.ino }
        lastIno = records.last?.ino.raw ?? 0      // a later append below it must clear appendedInOrder
    }

    var count: Int { slots.count }

    /// The records held in DRAM (for `KeptAtExit`).
    var recordsInDRAM: [InodeRecord] { records }

    mutating func reserveCapacity(_ n: Int) { slots.reserveCapacity(n) }

    /// Adds the record at `offset` of the media, whose fixed part and name
    /// of `nameLength` bytes the caller checked lie inside the media.
    mutating func appendOnMedia(offset: Int, nameLength: Int) {
        precondition(offset >= 0 && offset < 1 << 47 && nameLength < 1 << 16)
        precondition(offset + InodeRecord.fixedSize + nameLength <= media.count)
        slots.append(offset << 16 | nameLength)
        noteAppended(ino(slots.count - 1))
    }

    mutating func append(_ r: InodeRecord) {
        records.append(r)
        slots.append(-records.count)
        noteAppended(r.ino.raw)
    }

    private mutating func noteAppended(_ ino: UInt64) {
        if ino < lastIno { appendedInOrder = false }
        lastIno = ino
    }

    mutating func insert(_ r: InodeRecord, at i: Int) {
        records.append(r)
        slots.insert(-records.count, at: i)
        appendedInOrder = false
    }

    /// Entry i takes record `r`, in DRAM from now on.
    mutating func replace(_ i: Int, with r: InodeRecord) {
        appendedInOrder = false
        if slots[i] < 0 {
            records[-1 - slots[i]] = r
        } else {
            records.append(r)
            slots[i] = -records.count
        }
    }

    /// Entry `from` moves to index `to` (compaction: `to` <= `from`, and the
    /// entry at `to` is dropped).
    mutating func move(_ from: Int, to: Int) { slots[to] = slots[from] }

    /// Keeps the first `n` entries.
    mutating func truncate(_ n: Int) { slots.removeLast(slots.count - n) }

    /// The inode number of entry i.
    func ino(_ i: Int) -> UInt64 {
        let s = slots[i]
        return s < 0 ? records[-1 - s].ino.raw : UInt64(littleEndian: media.loadUnaligned(fromByteOffset: (s >> 16) + InodeAt.ino, as: UInt64.self))
    }

    /// Entry i; for an entry on the media without its name (empty), which
    /// `withName` reads. A kind that is neither file nor directory reads as
    /// a file (the reader reports it).
    func fixedFields(_ i: Int) -> InodeRecord {
        let s = slots[i]
        if s < 0 { return records[-1 - s] }
        let o = s >> 16
        let p = media
        @inline(__always) func le<T: FixedWidthInteger>(_ offset: Int, _: T.Type = T.self) -> T {
            T(littleEndian: p.loadUnaligned(fromByteOffset: o + offset, as: T.self))
        }
        typealias At = InodeAt
        return InodeRecord(
            ino: InodeNumber(le(At.ino)), parent: InodeNumber(le(At.parent)),
            kind: InodeKind(rawValue: le(At.kind)) ?? .file, name: [], mode: le(At.mode),
            uid: le(At.uid), gid: le(At.gid), size: le(At.size),
            change: le(At.change), atime: le(At.atime), mtime: le(At.mtime),
            ctime: le(At.ctime), btime: le(At.btime),
            generation: le(At.generation), nlink: le(At.nlink),
            allocShift: le(At.allocShift), flags: le(At.flags))
    }

    /// Entry i with its name.
    func record(_ i: Int) -> InodeRecord {
        var r = fixedFields(i)
        if slots[i] >= 0 { r.name = withName(i) { Array($0) } }
        return r
    }

    /// Calls `body` with the name bytes of entry i.
    func withName<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let s = slots[i]
        if s < 0 { return try records[-1 - s].name.withUnsafeBytes(body) }
        let o = (s >> 16) + InodeRecord.fixedSize
        return try body(UnsafeRawBufferPointer(rebasing: media[o..<(o + (s & 0xFFFF))]))
    }

    func nameLength(_ i: Int) -> Int {
        let s = slots[i]
        return s < 0 ? records[-1 - s].name.count : s & 0xFFFF
    }

    func nameString(_ i: Int) -> String { withName(i) { String(decoding: $0, as: UTF8.self) } }

    /// Whether entries a and b have the same name. O(name length).
    func sameName(_ a: Int, _ b: Int) -> Bool {
        withName(a) { x in withName(b) { y in x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0) } }
    }

    /// Sorts the entries by inode number, keeping the stored order of equal
    /// numbers. O(1) when they were appended in order (a checkpoint stores
    /// them so), else O(n log n).
    mutating func sortByIno() {
        if appendedInOrder { return }
        let order = (0..<count).map { (ino: ino($0), index: $0) }.sorted { ($0.ino, $0.index) < ($1.ino, $1.index) }
        slots = order.map { slots[$0.index] }
        appendedInOrder = true
        lastIno = order.last?.ino ?? 0
    }

    /// Every entry as a record in DRAM, in order (for a repair or a log
    /// replay). O(n) allocations.
    func materialize() -> [InodeRecord] { (0..<count).map(record) }
}

/// The offsets of an inode record's fixed fields (man/daxfs.5), as
/// literals the compiler folds into the loads. `InodeRecord.F`'s fields are
/// lazy globals of another module: reading one is a call and a swift_once,
/// for each field of each of 100,000 records. `matchFormat` holds them to
/// `InodeRecord.F` (asserted whenever a debug build makes `InodeEntries`).
enum InodeAt {
    static let ino = 0, parent = 8, size = 16, change = 24, atime = 32, mtime = 40, ctime = 48, btime = 56
    static let generation = 64, mode = 68, uid = 72, gid = 76, nlink = 80, kind = 84, allocShift = 86, flags = 87
    static let nameLength = 88, reserved = 90, reservedEnd = 96

    static var matchFormat: Bool {
        typealias F = InodeRecord.F
        return [ino, parent, size, change, atime, mtime, ctime, btime, generation, mode, uid, gid, nlink, kind,
                allocShift, flags, nameLength, reserved, reservedEnd]
            == [F.ino.offset, F.parent.offset, F.size.offset, F.change.offset, F.atime.offset, F.mtime.offset,
                F.ctime.offset, F.btime.offset, F.generation.offset, F.mode.offset, F.uid.offset, F.gid.offset,
                F.nlink.offset, F.kind.offset, F.allocShift.offset, F.flags.offset, F.nameLength.offset,
                F.reserved.offset, F.reserved.end]
    }
}
