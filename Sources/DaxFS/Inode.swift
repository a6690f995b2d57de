import DaxCore
import DaxFSFormat

/// An inode in DRAM: its record, its extent map (files) or its entries
/// (directories), and its lock.
///
/// **Locks.** `lock` is the inode lock: readers of the extent map, the size
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
    var entries: [[UInt8]: InodeNumber] = [:]
    /// An unlink is pending (a truncate intent with the remove flag): the
    /// inode has no name in the namespace and goes away when the intent ends.
    var removing = false
    /// INODE_FREE has committed: a thread that found this inode before it
    /// took the inode lock must treat it as gone (ENOENT).
    var freed = false
    let lock = RWLock()

    init(_ record: InodeRecord) {
        ino = record.ino
        self.record = record
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
