import DaxCore
import DaxFSFormat
import PMem

extension MetadataState {
    /// A checkpoint's entries as `MetadataState.init(loaded:)` takes them:
    /// each inode record already made into an `Inode` (moved, not copied),
    /// in checkpoint order, with what the load needs of each (number,
    /// parent, name and its CRC32C) kept in compact arrays, so that the load
    /// never walks the inodes themselves. The first inode at or above
    /// `nextIno` is kept as `problem`, thrown by the init after the
    /// free-space checks, as `init(checkpoint:)` always did.
    ///
    /// The inodes are held by one unmanaged reference each until
    /// `InodeTable.insertAll(taking:)` hands those references to the table
    /// (no reference counting on inodes that are not in cache); a load that
    /// stops before then releases them here.
    final class LoadedCheckpoint: CheckpointSink {
        let nextIno: UInt64
        private(set) var nodes: [Unmanaged<Inode>] = []
        /// True once the inode table owns the references in `nodes`.
        var handedOver = false
        private(set) var inos: [InodeNumber] = []
        private(set) var parents: [InodeNumber] = []
        /// Names, each taken (left empty) when its directory's index takes it.
        var names: [[UInt8]] = []
        private(set) var crcs: [UInt32] = []
        private(set) var inodeBytes = 0
        private(set) var problem: String?
        var extents: [ExtentRecord] = []
        var free: [BlockRange] = []
        var intents: [IntentRecord] = []
        init(nextIno: UInt64) { self.nextIno = nextIno }
        deinit { if !handedOver { for n in nodes { n.release() } } }

        /// The inode at position `i`, while the table holds it.
        func node(_ i: Int) -> Inode { nodes[i].takeUnretainedValue() }

        func reserve(inodes n: Int, extents e: Int) {
            nodes.reserveCapacity(n)
            inos.reserveCapacity(n)
            parents.reserveCapacity(n)
            names.reserveCapacity(n)
            crcs.reserveCapacity(n)
            extents.reserveCapacity(e)
        }
        func inode(_ r: consuming InodeRecord, indexed: Bool) {
            // The record is moved into the inode first and read back from
            // it (still in cache), its name with the one retain `names`
            // needs: reading `r` before the move made the compiler copy the
            // whole record (and retain its name) once more per inode.
            let node = Unmanaged.passRetained(Inode(consume r))
            let (ino, parent, name) = node._withUnsafeGuaranteedRef { ($0.ino, $0.record.parent, $0.record.name) }
            nodes.append(node)
            if problem == nil && ino.raw >= nextIno { problem = "checkpoint inode \(ino) is not below next_ino \(nextIno)" }
            inodeBytes += InodeRecord.fixedSize + pad8(name.count)
            if !indexed {
                inos.append(ino)
                parents.append(parent)
                crcs.append(name.withUnsafeBytes { CRC32C.checksum($0) })
            }
            names.append(name)
        }

        /// Takes the numbers, parents and name CRCs of all inodes from the
        /// precheck that kept them (`inode(_:indexed: true)` left them out).
        /// Throws EIO when the two reads found different numbers of inodes,
        /// which only bytes changed under the mount (by a writer that
        /// ignored the region lock) can cause: the one change that would
        /// break this load's own bookkeeping. Other changes by such a writer
        /// go unseen, as they would between any two reads of shared memory.
        func adoptIndex(of precheck: CheckpointPrecheck) throws {
            precondition(inos.isEmpty && parents.isEmpty && crcs.isEmpty, "LoadedCheckpoint: index kept twice")
            (inos, parents, crcs) = precheck.takeIndex()
            guard inos.count == nodes.count else {
                throw DaxError(.EIO, "the checkpoint changed while mount read it: \(inos.count) inodes, then \(nodes.count)")
            }
        }
        func extent(_ e: ExtentRecord) { extents.append(e) }
        func free(_ r: BlockRange) { free.append(r) }
        func intent(_ i: IntentRecord) { intents.append(i) }
    }
}

extension MetadataState.LoadedCheckpoint {
    /// Checkpoints of at least this many chunks (4 KiB each) are read with
    /// a `CheckpointPrecheck` on a second thread; below it a thread costs
    /// more than it saves.
    static let precheckChunks = 128

    /// Reads and verifies checkpoint `h` of slot `slot` for a mount, with the
    /// checks and the errors of `CheckpointIO.read`. A large checkpoint is
    /// read twice at once (`forkJoin`): checked by a `CheckpointPrecheck` on
    /// a second thread, and here without the costly checks, making the
    /// inodes. The precheck's error, if any, is thrown first: it is the one
    /// a one-thread read meets first. Nothing of the unchecked read is used
    /// unless the precheck passed.
    /// - Complexity: O(checkpoint bytes).
    static func load(header h: CheckpointHeader, slot: Int, media: PersistentMedia, layout: Layout) throws -> MetadataState.LoadedCheckpoint {
        var loaded = MetadataState.LoadedCheckpoint(nextIno: h.nextIno.raw)
        guard h.chunkCount >= precheckChunks, h.inodeCount <= 1 << 24 else {
            try CheckpointIO.read(header: h, slot: slot, media: media, layout: layout, into: &loaded)
            return loaded
        }
        let precheck = CheckpointPrecheck(inodes: CheckpointIO.inodesAtMost(h))
        let (decoded, _) = forkJoin({ try CheckpointIO.read(header: h, slot: slot, media: media, layout: layout, into: &loaded, checked: false) },
                                    { precheck.run(header: h, slot: slot, media: media, layout: layout) })
        try precheck.check()
        try decoded.get()
        try loaded.adoptIndex(of: precheck)
        return loaded
    }
}
