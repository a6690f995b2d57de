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

    /// No entries yet; `appendOnMedia` adds entries of `media`.
    init(media: UnsafeRawBufferPointer) { self.media = media }

    /// The given records, all in DRAM.
    init(_ records: [InodeRecord]) {
        media = UnsafeRawBufferPointer(start: nil, count: 0)
        self.records = records
        slots = (0..<records.count).map { -1 - $0 }
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
    }

    mutating func append(_ r: InodeRecord) {
        records.append(r)
        slots.append(-records.count)
    }

    mutating func insert(_ r: InodeRecord, at i: Int) {
        records.append(r)
        slots.insert(-records.count, at: i)
    }

    /// Entry i takes record `r`, in DRAM from now on.
    mutating func replace(_ i: Int, with r: InodeRecord) {
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
        return s < 0 ? records[-1 - s].ino.raw : UInt64(littleEndian: media.loadUnaligned(fromByteOffset: s >> 16, as: UInt64.self))
    }

    /// Entry i; for an entry on the media without its name (empty), which
    /// `withName` reads. A kind that is neither file nor directory reads as
    /// a file (the reader reports it).
    func fixedFields(_ i: Int) -> InodeRecord {
        let s = slots[i]
        if s < 0 { return records[-1 - s] }
        typealias F = InodeRecord.F
        let o = s >> 16
        let p = media
        @inline(__always) func le<T: FixedWidthInteger>(_ f: Field, _: T.Type = T.self) -> T {
            T(littleEndian: p.loadUnaligned(fromByteOffset: o + f.offset, as: T.self))
        }
        return InodeRecord(
            ino: InodeNumber(le(F.ino)), parent: InodeNumber(le(F.parent)),
            kind: InodeKind(rawValue: le(F.kind)) ?? .file, name: [], mode: le(F.mode),
            uid: le(F.uid), gid: le(F.gid), size: le(F.size),
            change: le(F.change), atime: le(F.atime), mtime: le(F.mtime),
            ctime: le(F.ctime), btime: le(F.btime),
            generation: le(F.generation), nlink: le(F.nlink),
            allocShift: le(F.allocShift), flags: le(F.flags))
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

    /// Whether the entries are in inode number order. O(n).
    var isSortedByIno: Bool {
        var i = 1
        while i < count { if ino(i) < ino(i - 1) { return false }; i += 1 }
        return true
    }

    /// Sorts the entries by inode number, keeping the stored order of equal
    /// numbers. O(n log n).
    mutating func sortByIno() {
        let order = (0..<count).map { (ino: ino($0), index: $0) }.sorted { ($0.ino, $0.index) < ($1.ino, $1.index) }
        slots = order.map { slots[$0.index] }
    }

    /// Every entry as a record in DRAM, in order (for a repair or a log
    /// replay). O(n) allocations.
    func materialize() -> [InodeRecord] { (0..<count).map(record) }
}
