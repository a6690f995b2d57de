import DaxCore

/// Where a store, flush or fence was issued from, for crash-test reports.
///
/// Holds the compiler's static string, so recording a site costs nothing on
/// the hot path; the text is built only when a report asks for it.
public struct CallSite: Sendable, Hashable, CustomStringConvertible {
    private let file: StaticString
    public let line: UInt
    public init(_ fileID: StaticString, _ line: UInt) { file = fileID; self.line = line }
    public var fileID: String { "\(file)" }
    public var description: String { "\(file):\(line)" }
    public static func == (a: CallSite, b: CallSite) -> Bool { a.line == b.line && a.fileID == b.fileID }
    public func hash(into h: inout Hasher) { h.combine(line); h.combine(fileID) }
}

/// How a region makes stores durable.
public enum PersistencePath: String, Sendable, Codable {
    /// `pmem_is_pmem` was true: CPU cache flushes (clwb/clflushopt) plus a fence.
    case flushAndFence = "flush+fence"
    /// Not real pmem (for example a file on tmpfs): `pmem_msync` at each fence.
    case msync
    /// A test double that records every store, flush and fence.
    case recording
}

/// The single persistence choke point of daxfs.
///
/// Every byte daxfs writes to media goes through one of `store`,
/// `storeFlushed` or `fill`, and becomes durable only after a `flush` of its
/// range (implicit for `storeFlushed` and `fill`) followed by a `fence`.
/// This is the x86 persistence model: a flush marks dirty cache lines for
/// write-back, a fence waits until every marked line is in the power-fail
/// domain, and an unflushed store may reach media at any moment (eviction).
///
/// Reads go straight through `bytes`, the cache image. A test double
/// (`RecordingMedia` in the test support target) implements this protocol to
/// record every store and fence and to build crash images.
///
/// Thread safety: implementations are safe to call from several threads, but
/// a fence orders only what the caller has flushed; callers serialise the
/// stores whose order matters (the filesystem's log lock does this).
public protocol PersistentMedia: AnyObject, Sendable {
    /// The cache image, as the CPU sees it. Never write through it.
    var bytes: UnsafeRawBufferPointer { get }
    /// Mapped length in bytes.
    var size: Int { get }
    /// True when the mapping is read-only: any store is a programmer error.
    var isReadOnly: Bool { get }
    var persistencePath: PersistencePath { get }

    /// A cached store: visible to readers at once, durable only after flush+fence.
    func store(_ src: UnsafeRawBufferPointer, at offset: Int, site: CallSite)
    /// A copy that is written back as it goes (non-temporal for large copies):
    /// durable after the next fence, with no separate flush.
    func storeFlushed(_ src: UnsafeRawBufferPointer, at offset: Int, site: CallSite)
    /// Sets `count` bytes to `byte` with non-temporal stores; durable after the next fence.
    func fill(_ byte: UInt8, at offset: Int, count: Int, site: CallSite)
    /// `fill`, then `body` while the non-temporal stores drain: the fill
    /// issues its stores and runs `body` before any locked instruction of
    /// its own, so that CPU work in `body` overlaps the time the stores take
    /// to reach memory (the first locked instruction or fence after them
    /// waits for that: about 200 ns for 4 KiB). Durable after a fence that
    /// follows the call, as `fill` is; `body` must not rely on the fill
    /// being complete or durable, and a fence inside `body` may not cover it.
    func fill(_ byte: UInt8, at offset: Int, count: Int, site: CallSite, overlapping body: () throws -> Void) rethrows
    /// Reads up to `count` bytes of file descriptor `fd` at `fileOffset`
    /// (pread(2)) into the media at `offset`, and marks them for write-back,
    /// as `storeFlushed` does: durable after the next fence. Returns the count
    /// read, short at the end of the file. Throws the read's error.
    func storeFromFile(_ fd: Int32, fileOffset: UInt64, at offset: Int, count: Int, site: CallSite) throws -> Int
    /// Writes the `count` bytes at `offset` of the media to file descriptor
    /// `fd` at its current position (write(2) semantics, retried until all
    /// are written). A read: it changes nothing on the media. Throws the
    /// write's error.
    func copyToFile(_ fd: Int32, from offset: Int, count: Int) throws
    /// Marks the cache lines covering the range for write-back.
    func flush(at offset: Int, count: Int, site: CallSite)
    /// Waits until every flushed line is durable.
    func fence(site: CallSite)
    /// Waits until this thread's earlier stores, flushes and non-temporal
    /// fills are complete: globally visible, and on the flush+fence path
    /// also durable. On the msync path it makes nothing durable (no msync);
    /// a later `fence` by any thread then does, because the pages it writes
    /// back hold these stores. Cheaper than `fence` there.
    func drain(site: CallSite)
}

extension PersistentMedia {
    /// `fill`, then `body`: for media whose fill has nothing to overlap.
    public func fill(_ byte: UInt8, at offset: Int, count: Int, site: CallSite, overlapping body: () throws -> Void) rethrows {
        fill(byte, at: offset, count: count, site: site)
        try body()
    }
    /// Through a bounce buffer and `storeFlushed`, for media that cannot read
    /// into themselves (the recording test double).
    public func storeFromFile(_ fd: Int32, fileOffset: UInt64, at offset: Int, count: Int, site: CallSite) throws -> Int {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try buffer.withUnsafeMutableBytes { try Sys.pread(fd, into: $0, at: fileOffset) }
        buffer.withUnsafeBytes { storeFlushed(UnsafeRawBufferPointer(rebasing: $0[0..<got]), at: offset, site: site) }
        return got
    }

    /// write(2) from the cache image, for media without a file to copy from.
    public func copyToFile(_ fd: Int32, from offset: Int, count: Int) throws {
        try Sys.write(fd, view(at: offset, count: count))
    }

    /// Flush then fence: the range is durable when this returns.
    public func persist(at offset: Int, count: Int, fileID: StaticString = #fileID, line: UInt = #line) {
        let site = CallSite(fileID, line)
        flush(at: offset, count: count, site: site)
        fence(site: site)
    }

    public func store(_ bytes: [UInt8], at offset: Int, fileID: StaticString = #fileID, line: UInt = #line) {
        bytes.withUnsafeBytes { store($0, at: offset, site: CallSite(fileID, line)) }
    }

    public func storeFlushed(_ bytes: [UInt8], at offset: Int, fileID: StaticString = #fileID, line: UInt = #line) {
        bytes.withUnsafeBytes { storeFlushed($0, at: offset, site: CallSite(fileID, line)) }
    }

    /// An 8-byte aligned store of one little-endian word: atomic with respect
    /// to power failure on x86 (a single aligned 8-byte store never tears).
    public func storeWord(_ value: UInt64, at offset: Int, fileID: StaticString = #fileID, line: UInt = #line) {
        precondition(offset % 8 == 0, "storeWord needs an 8-byte aligned offset")
        withUnsafeBytes(of: value.littleEndian) { store($0, at: offset, site: CallSite(fileID, line)) }
    }

    public func fill(_ byte: UInt8, at offset: Int, count: Int, fileID: StaticString = #fileID, line: UInt = #line) {
        fill(byte, at: offset, count: count, site: CallSite(fileID, line))
    }
    public func flush(at offset: Int, count: Int, fileID: StaticString = #fileID, line: UInt = #line) {
        flush(at: offset, count: count, site: CallSite(fileID, line))
    }
    public func fence(fileID: StaticString = #fileID, line: UInt = #line) {
        fence(site: CallSite(fileID, line))
    }
    public func drain(fileID: StaticString = #fileID, line: UInt = #line) {
        drain(site: CallSite(fileID, line))
    }

    /// A copy of `count` bytes from the cache image.
    public func read(at offset: Int, count: Int) -> [UInt8] {
        precondition(offset >= 0 && count >= 0 && offset + count <= size, "read out of bounds")
        return Array(bytes[offset..<(offset + count)])
    }

    /// A view of `count` bytes of the cache image; valid while the media lives.
    public func view(at offset: Int, count: Int) -> UnsafeRawBufferPointer {
        precondition(offset >= 0 && count >= 0 && offset + count <= size, "view out of bounds")
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }
}
