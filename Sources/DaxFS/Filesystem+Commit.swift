import DaxCore
import DaxFSFormat
import PMem

extension Filesystem {
    /// The one commit path of daxfs: every metadata change of every
    /// operation (files, fallocate, swap-extents, repair) goes through here.
    ///
    /// In order, under the log lock:
    /// 1. transactions staged earlier are written (the log stays in
    ///    order), and if this one does not fit in the rest of the log, a
    ///    checkpoint runs and the log restarts;
    /// 2. a reservation whose runs the allocator left unzeroed
    ///    (`Reservation.zeroAtCommit`, a small allocation) is zeroed, and
    ///    the transaction is encoded into DRAM while those non-temporal
    ///    stores drain (nothing of it reaches the media yet);
    /// 3. if the caller stored data or blocks were zeroed for this
    ///    transaction, a fence makes them durable *before* anything refers
    ///    to them;
    /// 4. the transaction is written at the tail and fenced: the commit point;
    /// 5. its records are applied to the DRAM state, its reserved runs settle;
    /// 6. a checkpoint runs if the replay length or the space map outgrew
    ///    their thresholds.
    ///
    /// With `Durability.deferred`, a transaction that only adds (`canStage`)
    /// is staged instead (`Journal.stage`): step 1 writes nothing, step 2
    /// encodes it into the staging buffer, step 3 is only a drain of this
    /// thread's stores (they are then complete, and the fence that later
    /// writes the staged log makes them durable: only a `writeStaged` under
    /// this same lock, after this commit, copies the transaction to the
    /// media), and step 4 is left to that `writeStaged`. Any other
    /// transaction is appended and fenced as under `eachOperation`: what it
    /// frees, unmaps, shifts or shrinks may be written over in place at once
    /// (freed blocks are handed out and zeroed, a shrunk tail is zeroed when
    /// the file grows again), and those stores must not reach the media
    /// before it does.
    ///
    /// On a throw (ENOSPC when the metadata no longer fits a checkpoint slot)
    /// nothing was logged and the caller's reservation is cancelled here.
    /// The caller holds the locks of whatever the records change (see the lock
    /// order on `Filesystem`).
    func commit(_ tx: inout TransactionBuilder) throws {
        guard !tx.isEmpty else { return }
        let size = tx.encodedSize, records = tx.records, dataPending = tx.dataPending
        let shape = tx.shape
        precondition(size <= journal.maxTransactionBytes, "transaction of \(size) bytes exceeds the limit \(journal.maxTransactionBytes)")
        do {
            try logLock.withLock {
                try admit(records, shape)
                let faults = options.faults
                let stage = options.durability == .deferred && size <= Journal.stageCapacity && canStage(records, shape)
                if !stage { journal.writeStaged(faults: faults) }   // earlier transactions first: the log stays in order
                if !journal.fits(size) { try checkpointLocked() }
                // Staged, or encoded into the scratch buffer, while the zeroes
                // left to this commit drain: nothing of it reaches the media
                // before the fence or drain below.
                state.allocator.zeroLeftToCommit(tx.reservation, media: media, faults: faults) {
                    if stage {
                        journal.stage(records, size: size, spaceRecords: shape.spaceRecords, faults: faults)
                    } else {
                        journal.encodeForAppend(records, size: size)
                    }
                }
                if dataPending && !faults.contains(.noFenceBeforeCommit) {
                    // Staged: complete this thread's zeroes and data; the
                    // fence that writes the staged log makes them durable
                    // before it. Appended: durable before the records that
                    // expose them.
                    if stage { media.drain() } else { media.fence() }
                }
                if !stage {
                    journal.appendEncoded(size: size, records: records.count, spaceRecords: shape.spaceRecords, faults: faults)
                }
                do {
                    try state.applyAll(records, live: true)
                } catch {
                    preconditionFailure("daxfs bug: a committed transaction does not apply: \(error)")
                }
                if shouldCheckpoint { try? checkpointLocked() }   // a failure leaves the log to fill; retried next commit
            }
        } catch {
            state.allocator.cancel(tx.reservation)
            throw error
        }
        tx.clear()
    }

    /// Whether a transaction may wait in the staging buffer under deferred
    /// durability: it only adds inodes, names, attributes, extents and ALLOC
    /// records (`TransactionShape.onlyAdds`), and no INODE_ATTR shrinks a
    /// file (bytes past the new size are zeroed in place when the file grows
    /// again, which must not reach the media while the old size is the
    /// durable one). O(records) when it carries an INODE_ATTR, else O(1).
    func canStage(_ records: [LogRecord], _ shape: TransactionShape) -> Bool {
        guard shape.onlyAdds else { return false }
        guard shape.attrRecords > 0 else { return true }
        return records.withUnsafeBufferPointer { rs in
            for i in rs.indices {
                if case .inodeAttr(let a) = rs[i], let n = state.inodes[a.ino], a.size < n.record.size { return false }
            }
            return true
        }
    }

    /// Refuses, with ENOSPC, a transaction that adds inodes or extents when the
    /// metadata would fill more than 90% of a checkpoint slot. The rest is
    /// kept for what shrinks it: removals and truncates must always be able
    /// to checkpoint, or a full log could never be emptied again.
    /// O(records) when it carries an INODE record, else O(1).
    func admit(_ records: [LogRecord], _ shape: TransactionShape) throws {
        var inodeBytes = 0
        if shape.inodeRecords > 0 {
            records.withUnsafeBufferPointer { rs in      // borrowed in place, never copied
                for k in rs.indices {
                    if case .inode(let i) = rs[k], state.inodes[i.ino] == nil { inodeBytes += i.encodedSize }
                }
            }
        }
        let extents = shape.extentMaps
        guard inodeBytes > 0 || extents > 0 else { return }
        let capacity = layout.slotCapacity
        let needed = state.checkpointChunks(extraInodeBytes: inodeBytes, extraExtents: extents)
        if needed > capacity - max(2, capacity / 10) {
            throw DaxError(.ENOSPC, "no room for more metadata: a checkpoint slot holds \(capacity) chunks and this change needs \(needed) with 10% kept free for removals; remove files, or make a filesystem with a larger --checkpoint-size")
        }
    }

    /// Whether the log since the last checkpoint is long enough to checkpoint.
    var shouldCheckpoint: Bool {
        let o = options
        if o.checkpointAfterRecords > 0 && journal.recordsSinceCheckpoint >= o.checkpointAfterRecords { return true }
        if o.condenseFactor > 0 && journal.spaceRecordsSinceCheckpoint >= o.condenseMinimumRecords
            && journal.spaceRecordsSinceCheckpoint > o.condenseFactor * max(1, state.allocator.freeRunCount) {
            return true
        }
        return false
    }

    /// Writes a checkpoint of the whole metadata state now and restarts the log.
    public func checkpoint() throws {
        try checkWritable()
        try logLock.withLock { try checkpointLocked() }
    }

    /// Checkpoint with the log lock held.
    ///
    /// Persistence order: the content goes into the slot that is *not*
    /// current, its chunks are fenced, then its header is written and fenced
    /// (the switch); only then does the log restart at offset 0. A crash
    /// before the switch leaves the previous checkpoint and the log after it
    /// valid; after it, the new checkpoint and an empty log (the old log's
    /// transactions carry lower sequences, so replay ignores them).
    /// Throws ENOSPC, changing nothing, when the state does not fit a slot.
    func checkpointLocked() throws {
        let content = state.liveCheckpointContent()
        let newSlot = 1 - journal.slot
        let generation = journal.generation + 1
        let free = content.free.reduce(UInt64(0)) { $0 + $1.count.raw }
        let header = CheckpointHeader(
            generation: generation, replaySeq: journal.nextSeq, nextIno: InodeNumber(state.nextIno),
            nextIntentID: state.nextIntentID, inodeCount: 0, extentCount: 0, freeExtentCount: 0, intentCount: 0,
            freeBlocks: free, chunkCount: 0, salt: superblock.logSalt, time: UInt64(wallClockNanoseconds()))
        try CheckpointIO.write(content, header: header, slot: newSlot, media: media, layout: layout,
                               headerFirst: options.faults.contains(.checkpointHeaderBeforeChunks))
        journal.restart(slot: newSlot, generation: generation)
    }
}

/// Where the log stands, for `info`, tests and benchmarks.
public struct LogStatus: Sendable, Equatable, Codable {
    public var checkpointSlot: Int
    public var checkpointGeneration: UInt64
    /// Bytes used in the log since the checkpoint.
    public var tail: Int
    public var logBytes: Int
    public var nextSeq: UInt64
    public var recordsSinceCheckpoint: Int
    public var spaceRecordsSinceCheckpoint: Int
}

extension Filesystem {
    public var logStatus: LogStatus {
        logLock.withLock {
            LogStatus(checkpointSlot: journal.slot, checkpointGeneration: journal.generation, tail: journal.tail,
                      logBytes: journal.logBytes, nextSeq: journal.nextSeq.raw,
                      recordsSinceCheckpoint: journal.recordsSinceCheckpoint,
                      spaceRecordsSinceCheckpoint: journal.spaceRecordsSinceCheckpoint)
        }
    }
}
