import DaxCore
import DaxFSFormat
import PMem
import Synchronization

/// What a mapping is for.
public enum MapAccess: Sendable, Equatable {
    case read, write
}

/// Direct load/store access to a range of a file's blocks in the region.
///
/// A mapping holds its file's invalidate lock shared from `Filesystem.map`
/// until `release()` (or its `deinit`): while it lives, nothing takes
/// blocks away from the file or moves them (truncate, fallocate, unlink,
/// swap-extents wait for it, then fail with EBUSY), so its pointers stay
/// the file's blocks. Stores through a write mapping are the caller's; they
/// are durable after `persist` (flush and fence of the stored bytes) or
/// `Filesystem.syncFile`.
///
/// `segments` cover the range in file order: one per extent, or a single
/// one when the range is contiguous in the region (`pointer`). In a read
/// mapping a hole is a segment without a base: it reads as zeroes.
/// A write mapping has no holes (`Filesystem.map` allocated them).
public final class Mapping: @unchecked Sendable {
    public struct Segment: @unchecked Sendable, Equatable {
        /// File offset of the segment's first byte.
        public let fileOffset: UInt64
        public let count: Int
        /// The bytes in the region; nil for a hole of a read mapping.
        public let base: UnsafeMutableRawPointer?
        /// Region offset of the first byte (meaningless for a hole).
        let regionOffset: Int
    }

    public let ino: InodeNumber
    public let offset: UInt64
    public let length: UInt64
    public let access: MapAccess
    private let parts: Segments
    /// The segments in file order (built on each call; see `pointer` for the contiguous case).
    public var segments: [Segment] { parts.all }
    private let node: Inode
    private let owner: HoldCount?
    private let media: PersistentMedia
    private let released = Atomic<Bool>(false)

    init(node: Inode, owner: HoldCount?, media: PersistentMedia, offset: UInt64, length: UInt64, access: MapAccess, segments: Segments) {
        self.node = node; self.owner = owner; self.media = media
        ino = node.ino; self.offset = offset; self.length = length; self.access = access; parts = segments
    }

    /// Segments with the first one held apart: a mapping of one contiguous
    /// run allocates no array. Appending merges runs contiguous in the region.
    struct Segments {
        var first: Segment?
        var more: [Segment] = []

        mutating func append(_ s: Segment) {
            guard let f = first else { first = s; return }
            let last = more.last ?? f
            if let lb = last.base, s.base != nil, last.regionOffset + last.count == s.regionOffset {
                let merged = Segment(fileOffset: last.fileOffset, count: last.count + s.count, base: lb, regionOffset: last.regionOffset)
                if more.isEmpty { first = merged } else { more[more.count - 1] = merged }
            } else {
                more.append(s)
            }
        }

        var all: [Segment] { first.map { [$0] + more } ?? [] }
        var isSingle: Bool { first != nil && more.isEmpty }
    }

    deinit { release() }

    /// The single pointer of a range contiguous in the region, else nil.
    public var pointer: UnsafeMutableRawPointer? { parts.isSingle ? parts.first!.base : nil }

    /// Whether `release` has run.
    public var isReleased: Bool { released.load(ordering: .acquiring) }

    /// Ends the mapping: its pointers must not be used afterwards. Idempotent;
    /// any thread may call it. O(1).
    public func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        node.unlockInvalidateShared(owner: owner)
    }

    /// Makes the stores to file bytes [from, to) of the mapping durable
    /// (the whole mapping by default): each segment's bytes are flushed, then
    /// one fence. O(bytes / cache line) on the flush+fence path.
    public func persist(_ range: Range<UInt64>? = nil) {
        precondition(!isReleased, "Mapping.persist after release")
        let r = range ?? offset..<(offset + length)
        for s in segments where s.base != nil {
            let a = max(r.lowerBound, s.fileOffset), b = min(r.upperBound, s.fileOffset + UInt64(s.count))
            if a < b { media.flush(at: s.regionOffset + Int(a - s.fileOffset), count: Int(b - a)) }
        }
        media.fence()
    }

    /// Stores `byte` into file bytes `range` of the mapping (all of it by
    /// default) with non-temporal stores through the persistence choke
    /// point, then fences unless `persist` is false: the equivalent of
    /// `pmem_memset_persist` through the mapping, with no flush needed
    /// afterwards. Traps on a read mapping or a range outside the mapping.
    public func fill(_ byte: UInt8, _ range: Range<UInt64>? = nil, persist: Bool = true) {
        precondition(access == .write && !isReleased, "Mapping.fill needs a live write mapping")
        let r = range ?? offset..<(offset + length)
        precondition(r.lowerBound >= offset && r.upperBound <= offset + length, "Mapping.fill outside the mapping")
        for s in segments {
            let a = max(r.lowerBound, s.fileOffset), b = min(r.upperBound, s.fileOffset + UInt64(s.count))
            if a < b { media.fill(byte, at: s.regionOffset + Int(a - s.fileOffset), count: Int(b - a)) }
        }
        if persist { media.fence() }
    }

    /// Copies `source` to file offset `at` of the mapping with non-temporal
    /// stores, then fences unless `persist` is false (`pmem_memcpy_persist`
    /// through the mapping). Traps outside the mapping or on a read mapping.
    public func copy(_ source: UnsafeRawBufferPointer, to at: UInt64, persist: Bool = true) {
        precondition(access == .write && !isReleased, "Mapping.copy needs a live write mapping")
        precondition(at >= offset && at + UInt64(source.count) <= offset + length, "Mapping.copy outside the mapping")
        let end = at + UInt64(source.count)
        for s in segments {
            let a = max(at, s.fileOffset), b = min(end, s.fileOffset + UInt64(s.count))
            if a < b {
                media.storeFlushed(UnsafeRawBufferPointer(rebasing: source[Int(a - at)..<Int(b - at)]),
                                   at: s.regionOffset + Int(a - s.fileOffset), site: CallSite(#fileID, #line))
            }
        }
        if persist { media.fence() }
    }

    /// Copies the mapping's bytes into an array (holes as zeroes); for tests
    /// and small ranges.
    public func bytes() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(length))
        out.withUnsafeMutableBytes { dst in
            for s in segments { if let b = s.base { dst.baseAddress!.advanced(by: Int(s.fileOffset - offset)).copyMemory(from: b, byteCount: s.count) } }
        }
        return out
    }
}
