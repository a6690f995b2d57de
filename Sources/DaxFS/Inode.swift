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
    let invalidate = InvalidateLock()

    init(_ record: InodeRecord) {
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
        invalidate.lockShared(mapping: false)
        defer { invalidate.unlockShared(owner: nil) }
        return try body()
    }

    /// Runs `body` holding the invalidate lock exclusive: after every
    /// mapping is released (EBUSY after `timeout` seconds; EDEADLK when this
    /// thread holds one).
    func withInvalidateExclusive<T>(timeout: Double, _ body: () throws -> T) throws -> T {
        try invalidate.lockExclusive(timeout: timeout, ino: ino.raw)
        defer { invalidate.unlockExclusive() }
        return try body()
    }

    var isDirectory: Bool { record.kind == .directory }
    var size: UInt64 { record.size }
    /// The allocation unit in blocks for a block size of `blockSize` bytes.
    func unitBlocks(blockSize: UInt64) -> UInt64 { max(1, (UInt64(1) << record.allocShift) / blockSize) }
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
/// Keys carry a precomputed CRC32C of the name (hardware, a few cycles per
/// 8 bytes), so hashing a key costs one word instead of a pass of SipHash
/// over the bytes. - Complexity: O(1) expected per lookup, insert, remove.
struct DirectoryEntries: Sequence {
    struct Key: Hashable {
        let bytes: [UInt8]
        let crc: UInt32
        init(_ bytes: [UInt8]) {
            self.bytes = bytes
            crc = CRC32C.checksum(bytes)
        }
        static func == (a: Key, b: Key) -> Bool { a.crc == b.crc && a.bytes == b.bytes }
        func hash(into h: inout Hasher) { h.combine(crc) }
    }
    private var map: [Key: InodeNumber] = [:]

    subscript(name: [UInt8]) -> InodeNumber? {
        get { map[Key(name)] }
        set { map[Key(name)] = newValue }
    }
    /// Enters `name` → `ino` unless the name is taken by another inode;
    /// returns that other inode then (and changes nothing). One hash lookup.
    mutating func insert(_ name: [UInt8], _ ino: InodeNumber) -> InodeNumber? {
        let key = Key(name)
        guard let old = map.updateValue(ino, forKey: key), old != ino else { return nil }
        map[key] = old
        return old
    }
    var count: Int { map.count }
    var isEmpty: Bool { map.isEmpty }
    mutating func reserveCapacity(_ n: Int) { map.reserveCapacity(n) }
    func makeIterator() -> some IteratorProtocol<(name: [UInt8], ino: InodeNumber)> {
        map.lazy.map { (name: $0.key.bytes, ino: $0.value) }.makeIterator()
    }
}
