/// Typed numbers, one per address space, so that a region block can never be
/// passed where a file block is expected (the idea of xfs_types.h).
public protocol BlockAddress: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    var raw: UInt64 { get }
    init(_ raw: UInt64)
}

extension BlockAddress {
    public init(integerLiteral value: UInt64) { self.init(value) }
    public static func < (a: Self, b: Self) -> Bool { a.raw < b.raw }
    public var description: String { String(raw) }
}

/// A block of the region, counted from offset 0 in units of the block size.
public struct BlockNumber: BlockAddress {
    public var raw: UInt64
    @inlinable public init(_ raw: UInt64) { self.raw = raw }
    public static func + (a: BlockNumber, n: BlockCount) -> BlockNumber { BlockNumber(a.raw + n.raw) }
}

/// A block of a file: file offset divided by the block size.
public struct FileBlock: BlockAddress {
    public var raw: UInt64
    @inlinable public init(_ raw: UInt64) { self.raw = raw }
    public static func + (a: FileBlock, n: BlockCount) -> FileBlock { FileBlock(a.raw + n.raw) }
}

/// A number of blocks.
public struct BlockCount: BlockAddress {
    public var raw: UInt64
    @inlinable public init(_ raw: UInt64) { self.raw = raw }
}

/// An inode number. 1 is the root directory; numbers are never reused.
public struct InodeNumber: BlockAddress {
    public var raw: UInt64
    @inlinable public init(_ raw: UInt64) { self.raw = raw }
    public static let root = InodeNumber(1)
}

/// The sequence number of a log transaction. Strictly increasing for the
/// life of a filesystem; never reused, which is what lets replay tell the
/// live log from stale bytes.
public struct LogSequence: BlockAddress {
    public var raw: UInt64
    @inlinable public init(_ raw: UInt64) { self.raw = raw }
    /// The following sequence; it wraps at 2^64 (a corrupt header's
    /// sequence must not trap replay; a wrapped one never matches).
    public var next: LogSequence { LogSequence(raw &+ 1) }
}

/// A run of region blocks [start, start+count).
public struct BlockRange: Hashable, Sendable, CustomStringConvertible {
    public var start: BlockNumber
    public var count: BlockCount
    public init(start: BlockNumber, count: BlockCount) { self.start = start; self.count = count }
    public init(_ start: UInt64, _ count: UInt64) { self.start = BlockNumber(start); self.count = BlockCount(count) }
    public var end: UInt64 { start.raw + count.raw }
    public var description: String { "[\(start.raw), +\(count.raw))" }
}
