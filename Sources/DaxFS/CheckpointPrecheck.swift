import DaxCore
import DaxFSFormat
import PMem

/// The checked read of a checkpoint, run on a second thread beside the
/// unchecked read that decodes it and makes its inodes (mount; see
/// `MetadataState.LoadedCheckpoint.load`).
///
/// `run` is `CheckpointIO.read` itself, every check in the same order, into
/// a sink that keeps only each inode's number, parent and name CRC32C (the
/// directory index's hash), in columns the load adopts (`index`); inodes
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
    /// Each inode's number, parent and name CRC32C, by position in the
    /// checkpoint: as many as the header promises (a checkpoint holding more
    /// fails the count check; those are not kept). Allocated by the thread
    /// that made the precheck, which adopts them.
    private let inos: UnsafeMutableBufferPointer<InodeNumber>
    private let parents: UnsafeMutableBufferPointer<InodeNumber>
    private let nameCRCs: UnsafeMutableBufferPointer<UInt32>

    init(inodes: Int) {
        inos = .allocate(capacity: inodes)
        parents = .allocate(capacity: inodes)
        nameCRCs = .allocate(capacity: inodes)
    }

    deinit {
        inos.deallocate()
        parents.deallocate()
        nameCRCs.deallocate()
    }

    /// Reads and checks the checkpoint (the second thread). Never throws:
    /// the outcome is kept for `check`.
    /// - Complexity: O(checkpoint bytes), one CRC32C pass.
    func run(header h: CheckpointHeader, slot: Int, media: PersistentMedia, layout: Layout) {
        var sink = Sink(owner: self)
        do {
            try CheckpointIO.read(header: h, slot: slot, media: media, layout: layout, into: &sink)
        } catch {
            failure = error
        }
    }

    /// Throws what `run` threw, if anything. Only after `run` has returned.
    func check() throws {
        if let failure { throw failure }
    }

    /// The numbers, parents and name CRCs of the first `count` inodes, as
    /// arrays. Only after a `check` that did not throw (every inode passed,
    /// and their count is the header's).
    func index(count: Int) -> (inos: [InodeNumber], parents: [InodeNumber], crcs: [UInt32]) {
        precondition(failure == nil && count <= inos.count, "CheckpointPrecheck.index of a failed precheck")
        return (Array(inos[..<count]), Array(parents[..<count]), Array(nameCRCs[..<count]))
    }

    private struct Sink: CheckpointSink {
        let owner: CheckpointPrecheck
        var inodes = 0
        mutating func reserve(inodes: Int, extents: Int) {}
        static var keepsRecords: Bool { false }
        mutating func inode(checked c: InodeRecord.Checked) {
            if inodes < owner.inos.count {
                owner.inos[inodes] = c.ino
                owner.parents[inodes] = c.parent
                owner.nameCRCs[inodes] = CRC32C.checksum(c.name)
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
