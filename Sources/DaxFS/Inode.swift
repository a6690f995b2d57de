import DaxCore
import DaxFSFormat

/// An inode in DRAM: its record, its extent map (files) or its entries
/// (directories), and its lock.
///
/// **Locks.** Two per inode. The invalidate lock (`invalidate`, see
/// `InvalidateLock`) comes first: mappings and copy-style I/O hold it
/// shared, operations that take blocks away hold it exclusive. Then the
/// metadata lock (`withReadLock`, `withWriteLock`, one atomic word): readers of the extent map, the size
/// and the data hold it shared; anything that changes them holds it
/// exclusive. The record and the map change only inside a commit
/// (`MetadataState.apply`), which also holds the log lock, so a checkpoint
/// (which holds the log lock) always sees a committed state. Directory
/// `entries` are guarded by the filesystem's namespace lock instead.
final class Inode: @unchecked Sendable {
    let ino: InodeNumber
    var record: InodeRecord
    var extents = ExtentMap()
    /// name → child inode, for directories. Names are raw bytes: two names
    /// that differ in bytes are different names, even when Unicode would
    /// call them equivalent.
    var entries = DirectoryEntries()
    /// An unlink is pending (a truncate intent with the remove flag): the
    /// inode has no name in the namespace and goes away when the intent ends.
    var removing = false
    /// INODE_FREE has committed: a thread that found this inode before it
    /// took the inode lock must treat it as gone (ENOENT).
    var freed = false
    private let word = WordLock()
    /// Serialises direct pointers against block changes; see `InvalidateLock`.
    /// Stored in the inode (no object of its own); use it through the
    /// methods below, which give it the inode's identity.
    private let invalidate = InvalidateLock()

    init(_ record: consuming InodeRecord) {
        ino = record.ino
        self.record = record
    }

    /// Runs `body` holding the inode lock shared.
    @inline(__always) func withReadLock<T>(_ body: () throws -> T) rethrows -> T {
        word.lockShared()
        defer { word.unlockShared() }
        return try body()
    }

    /// Runs `body` holding the inode lock exclusive.
    @inline(__always) func withWriteLock<T>(_ body: () throws -> T) rethrows -> T {
        word.lockExclusive()
        defer { word.unlockExclusive() }
        return try body()
    }

    /// Runs `body` holding the invalidate lock shared (copy-style I/O).
    @inline(__always) func withInvalidateShared<T>(_ body: () throws -> T) rethrows -> T {
        invalidate.lockShared(mapping: false, id: ObjectIdentifier(self))
        defer { invalidate.unlockShared(owner: nil, id: ObjectIdentifier(self)) }
        return try body()
    }

    /// Takes the invalidate lock shared for a mapping (kept until the
    /// mapping is released); returns the hold count to pass to
    /// `unlockInvalidateShared`. See `InvalidateLock.lockShared`.
    func lockInvalidateShared(mapping: Bool) -> HoldCount? {
        invalidate.lockShared(mapping: mapping, id: ObjectIdentifier(self))
    }

    /// Drops a shared hold of the invalidate lock; `owner` is what
    /// `lockInvalidateShared` returned.
    func unlockInvalidateShared(owner: HoldCount?) {
        invalidate.unlockShared(owner: owner, id: ObjectIdentifier(self))
    }

    /// Shared holders of the invalidate lock right now: live mappings and
    /// copy-style I/O in flight.
    var invalidateSharedCount: Int { invalidate.sharedCount }

    /// Runs `body` holding the invalidate lock exclusive: after every
    /// mapping is released (EBUSY after `timeout` seconds; EDEADLK when this
    /// thread holds one).
    func withInvalidateExclusive<T>(timeout: Double, _ body: () throws -> T) throws -> T {
        try invalidate.lockExclusive(timeout: timeout, ino: ino.raw, id: ObjectIdentifier(self))
        defer { invalidate.unlockExclusive(id: ObjectIdentifier(self)) }
        return try body()
    }

    var isDirectory: Bool { record.kind == .directory }
    var size: UInt64 { record.size }
    /// The allocation unit in blocks for a block size of `blockSize` bytes.
    /// Both are powers of two, so this is a shift, not a division (every
    /// allocate and write asks it). O(1).
    @inline(__always)
    func unitBlocks(blockSize: UInt64) -> UInt64 {
        let s = Int(record.allocShift), b = blockSize.trailingZeroBitCount
        return s > b ? UInt64(1) << UInt64(s - b) : 1
    }
    /// The file blocks [first, end) of the whole allocation units that
    /// overlap bytes [from, to), for a block size of `blockSize` bytes: by
    /// masks and a shift, as both sizes are powers of two. O(1).
    @inline(__always)
    func unitBlocks(covering from: UInt64, _ to: UInt64, blockSize: UInt64) -> (first: UInt64, end: UInt64) {
        let unitMask = blockSize * unitBlocks(blockSize: blockSize) - 1, shift = UInt64(blockSize.trailingZeroBitCount)
        return ((from & ~unitMask) >> shift, ((to + unitMask) & ~unitMask) >> shift)
    }
}

/// What `stat` reports about an inode.
public struct InodeStat: Equatable, Sendable, Codable {
    public var ino: UInt64
    public var parent: UInt64
    public var name: String
    public var kind: InodeKind
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    /// Region blocks mapped to the file.
    public var blocks: UInt64
    public var extents: Int
    public var nlink: UInt32
    public var allocUnit: UInt64
    public var generation: UInt32
    /// The change counter: bumped by every change to the inode or its data.
    public var change: UInt64
    public var atime: Int64
    public var mtime: Int64
    public var ctime: Int64
    public var btime: Int64
    /// Entries, for a directory.
    public var entries: Int
}

/// A directory entry as `readdir` returns it.
public struct DirectoryEntry: Equatable, Sendable {
    public var name: String
    public var nameBytes: [UInt8]
    public var ino: InodeNumber
    public var kind: InodeKind
}

/// A directory's entries: name bytes → inode number.
///
/// Entries carry a precomputed CRC32C of the name (hardware, a few cycles
/// per 8 bytes), which is their hash: probing compares a tag of it, and the
/// name bytes only when the tag matches. Mount fills a directory with one
/// `insertAll` of all its children, in table order.
/// - Complexity: O(1) expected per lookup, insert, remove; `insertAll` O(n).
struct DirectoryEntries: Sequence {
    struct Entry: ProbeEntry {
        let name: [UInt8]
        let crc: UInt32
        var ino: InodeNumber
        var hash: UInt64 { probeMix(UInt64(crc)) }
        func sameKey(as other: Entry) -> Bool { crc == other.crc && name == other.name }
    }
    private var table = ProbeTable<Entry>()

    private func slot(_ name: [UInt8], _ crc: UInt32) -> Int? {
        table.find(hash: probeMix(UInt64(crc))) { $0.crc == crc && $0.name == name }
    }

    subscript(name: [UInt8]) -> InodeNumber? {
        get { slot(name, CRC32C.checksum(name)).map { table[slot: $0].ino } }
        set {
            let crc = CRC32C.checksum(name)
            switch (slot(name, crc), newValue) {
            case (let i?, let ino?): table[slot: i].ino = ino
            case (let i?, nil): table.remove(at: i)
            case (nil, let ino?): table.insertNew(Entry(name: name, crc: crc, ino: ino))
            case (nil, nil): break
            }
        }
    }
    /// Enters `name` → `ino` unless the name is taken by another inode;
    /// returns that other inode then (and changes nothing). One probe.
    mutating func insert(_ name: [UInt8], _ ino: InodeNumber) -> InodeNumber? {
        let crc = CRC32C.checksum(name)
        if let i = slot(name, crc) {
            let old = table[slot: i].ino
            return old == ino ? nil : old
        }
        table.insertNew(Entry(name: name, crc: crc, ino: ino))
        return nil
    }
    /// Fills an empty index with the inodes at positions `which` of `l`
    /// under their names, in table order; each name is taken out of
    /// `l.names`. Returns a name that two of them hold, with their inodes
    /// (lower number first); the index then holds an unspecified part of them.
    mutating func insertAll(_ which: [Int], of l: MetadataState.LoadedCheckpoint)
        -> (name: [UInt8], first: InodeNumber, second: InodeNumber)? {
        let crcs = l.crcs, inos = l.inos
        let dup = l.names.withUnsafeMutableBufferPointer { names in
            table.build(count: which.count, hash: { probeMix(UInt64(crcs[which[$0]])) }) { k in
                let i = which[k]
                var name: [UInt8] = []
                swap(&name, &names[i])
                return Entry(name: name, crc: crcs[i], ino: inos[i])
            }
        }
        guard let (a, b) = dup else { return nil }
        return (a.name, Swift.min(a.ino, b.ino), Swift.max(a.ino, b.ino))
    }
    var count: Int { table.count }
    var isEmpty: Bool { table.isEmpty }
    mutating func reserveCapacity(_ n: Int) { table.reserveCapacity(n) }
    func makeIterator() -> some IteratorProtocol<(name: [UInt8], ino: InodeNumber)> {
        table.lazy.map { (name: $0.name, ino: $0.ino) }.makeIterator()
    }
}

/// The inodes of a filesystem by number. Numbers are hashed by Fibonacci
/// hashing; mount enters all inodes with one `insertAll`, in table order.
/// - Complexity: O(1) expected per lookup, insert, remove; `insertAll` O(n).
struct InodeTable: Sequence {
    struct Entry: ProbeEntry {
        let ino: InodeNumber
        let node: Inode
        var hash: UInt64 { probeMix(ino.raw) }
        func sameKey(as other: Entry) -> Bool { ino == other.ino }
    }
    private var table = ProbeTable<Entry>()

    private func slot(_ ino: InodeNumber) -> Int? { table.find(hash: probeMix(ino.raw)) { $0.ino == ino } }

    subscript(ino: InodeNumber) -> Inode? {
        get { slot(ino).map { table[slot: $0].node } }
        set {
            switch (slot(ino), newValue) {
            case (let i?, let node?): table[slot: i] = Entry(ino: ino, node: node)
            case (let i?, nil): table.remove(at: i)
            case (nil, let node?): table.insertNew(Entry(ino: ino, node: node))
            case (nil, nil): break
            }
        }
    }
    /// Enters `node` under `ino`, which the table does not hold (one probe
    /// less than the subscript, which looks first).
    mutating func insertNew(_ ino: InodeNumber, _ node: Inode) {
        table.insertNew(Entry(ino: ino, node: node))
    }
    /// Sets `ino` → `node`; returns the inode it replaced, if any.
    mutating func updateValue(_ node: Inode, forKey ino: InodeNumber) -> Inode? {
        if let i = slot(ino) {
            let old = table[slot: i].node
            table[slot: i] = Entry(ino: ino, node: node)
            return old
        }
        table.insertNew(Entry(ino: ino, node: node))
        return nil
    }
    /// Fills an empty table with the inodes of `l`, taking over the
    /// references it holds, in table order. Returns an inode number that two
    /// of them hold; the table then holds an unspecified part of them (and
    /// has released the rest).
    mutating func insertAll(taking l: MetadataState.LoadedCheckpoint) -> InodeNumber? {
        precondition(!l.handedOver, "InodeTable.insertAll: the inodes were handed over already")
        let nodes = l.nodes, inos = l.inos
        l.handedOver = true
        return table.build(count: nodes.count, hash: { probeMix(inos[$0].raw) }) {
            Entry(ino: inos[$0], node: nodes[$0].takeRetainedValue())
        }.map { $0.0.ino }
    }
    var count: Int { table.count }
    var isEmpty: Bool { table.isEmpty }
    mutating func reserveCapacity(_ n: Int) { table.reserveCapacity(n) }
    /// Every inode, in number order. The numbers are sorted before any
    /// inode is touched, so the inodes are then visited in about the order
    /// they were made, which is about their order in memory: walking them
    /// in table order cost a cache miss each.
    /// - Complexity: O(n log n).
    func sortedByNumber() -> [Inode] {
        var pairs: [(ino: InodeNumber, node: Unmanaged<Inode>)] = []
        pairs.reserveCapacity(count)
        table.withSlots { slots in
            for i in slots.indices {
                if let e = slots[i] { pairs.append((e.ino, Unmanaged.passUnretained(e.node))) }
            }
        }
        pairs.sort { $0.ino < $1.ino }
        return pairs.map { $0.node.takeUnretainedValue() }
    }
    /// Every inode number, in no particular order.
    var keys: [InodeNumber] { table.map { $0.ino } }
    func makeIterator() -> some IteratorProtocol<(key: InodeNumber, value: Inode)> {
        table.lazy.map { (key: $0.ino, value: $0.node) }.makeIterator()
    }
}
