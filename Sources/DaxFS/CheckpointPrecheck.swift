import DaxCore
import DaxFSFormat
import PMem

/// The checked read of a checkpoint, run on a second thread beside the
/// unchecked read that decodes it and makes its inodes (mount; see
/// `MetadataState.LoadedCheckpoint.load`).
///
/// `run` is `CheckpointIO.read` itself, every check in the same order, into
/// a sink that keeps only each inode's number, parent and name CRC32C (the
/// directory index's hash), in columns the load adopts (`takeIndex`); inodes
/// are checked in place (`InodeRecord.check`), with no record built. The
/// chunk CRCs, the page faults of the first touch and the name checks thus
/// run beside the allocations, which stay on the thread that will use the
/// objects (objects made on one core and used on another cost a cache
/// transfer each).
///
/// The error `run` meets is the error a one-thread read would throw: the
/// load throws it in preference to anything the unchecked read met.
///
/// **Ordering.** `run` writes `failure` and the columns; they are read only
/// after the thread that ran it has been joined (`forkJoin`), which orders
/// them. The region is not changed by anyone while it is mounted (the
/// region lock), so both reads see the same bytes.
final class CheckpointPrecheck: @unchecked Sendable {
    /// What `run` threw.
    private var failure: (any Error)?
    /// How many inodes the header promises: the columns hold at most as
    /// many (a checkpoint holding more fails the count check).
    private let promised: Int
    /// Each inode's number, parent and name CRC32C, by position in the
    /// checkpoint. Made by `run` on its own thread and handed over whole by
    /// `takeIndex` (never copied).
    private var inos: [InodeNumber] = []
    private var parents: [InodeNumber] = []
    private var nameCRCs: [UInt32] = []

    init(inodes: Int) { promised = inodes }

    /// Reads and checks the checkpoint (the second thread), filling the
    /// columns as it goes. Never throws: the outcome is kept for `check`.
    /// - Complexity: O(checkpoint bytes), one CRC32C pass.
    func run(header h: CheckpointHeader, slot: Int, media: PersistentMedia, layout: Layout) {
        let n = promised
        inos = [InodeNumber](unsafeUninitializedCapacity: n) { inos, inoCount in
            parents = [InodeNumber](unsafeUninitializedCapacity: n) { parents, parentCount in
                nameCRCs = [UInt32](unsafeUninitializedCapacity: n) { crcs, crcCount in
                    var sink = Sink(inos: inos, parents: parents, crcs: crcs)
                    do {
                        try CheckpointIO.read(header: h, slot: slot, media: media, layout: layout, into: &sink)
                    } catch {
                        failure = error
                    }
                    crcCount = min(sink.inodes, n)
                }
                parentCount = nameCRCs.count
            }
            inoCount = nameCRCs.count
        }
    }

    /// Throws what `run` threw, if anything. Only after `run` has returned.
    func check() throws {
        if let failure { throw failure }
    }

    /// Hands over the numbers, parents and name CRCs of every inode. Only
    /// after a `check` that did not throw (every inode passed, and their
    /// count is the header's).
    func takeIndex() -> (inos: [InodeNumber], parents: [InodeNumber], crcs: [UInt32]) {
        precondition(failure == nil && inos.count == promised, "CheckpointPrecheck.takeIndex of a failed precheck")
        defer { inos = []; parents = []; nameCRCs = [] }
        return (inos, parents, nameCRCs)
    }

    /// Writes each inode's number, parent and name CRC into the columns
    /// being made (the first `inodes` entries of each are initialised).
    private struct Sink: CheckpointSink {
        let inos: UnsafeMutableBufferPointer<InodeNumber>
        let parents: UnsafeMutableBufferPointer<InodeNumber>
        let crcs: UnsafeMutableBufferPointer<UInt32>
        var inodes = 0
        mutating func reserve(inodes: Int, extents: Int) {}
        static var keepsRecords: Bool { false }
        mutating func inode(checked c: InodeRecord.Checked) {
            if inodes < inos.count {
                (inos.baseAddress! + inodes).initialize(to: c.ino)
                (parents.baseAddress! + inodes).initialize(to: c.parent)
                (crcs.baseAddress! + inodes).initialize(to: CRC32C.checksum(c.name))
            }
            inodes += 1
        }
        mutating func inode(_ r: consuming InodeRecord, indexed: Bool) {
            preconditionFailure("CheckpointPrecheck checks in place: read never hands it records")
        }
        mutating func extent(_ e: ExtentRecord) {}
        mutating func free(_ r: BlockRange) {}
        mutating func intent(_ i: IntentRecord) {}
    }
}
