import DaxCore
import DaxFSFormat
import PMem

/// What mount found: the checkpoint it loaded and what replay did.
public struct RecoveryReport: Sendable, Codable, Equatable {
    public var checkpointSlot: Int
    public var checkpointGeneration: UInt64
    /// The first sequence replay expected.
    public var replayFrom: UInt64
    public var transactionsApplied: Int
    public var recordsApplied: Int
    /// A torn or corrupt transaction at the tail that replay ignored: 1 or 0.
    public var transactionsDropped: Int
    /// The records that transaction claimed to hold (its header's count,
    /// when the header itself is plausible), else 0.
    public var recordsDropped: Int
    /// Bytes of the log in use after replay (where the next transaction goes).
    public var logTail: Int
    /// Why replay stopped: "clean end", "stale transaction N follows" or the corruption.
    public var end: String
    public var pendingIntents: Int
    public var elapsedNanoseconds: UInt64
}

/// Mount-time recovery: load the current checkpoint, then replay the log
/// after it, one verified transaction at a time.
///
/// Replay decodes each transaction into a copy and verifies it completely
/// (magic, salt, sequence, length, the transaction CRC, every record's CRC
/// and bounds) before it applies any of it; it stops at the first position
/// that does not verify, which after a crash is the torn tail. Recovery
/// writes nothing: it only reads the media. A record that verifies but does
/// not fit the state (for example ALLOC of blocks that are not free) means
/// damage beyond a torn tail and fails the mount with EFSCORRUPTED.
///
/// Records are applied with `MetadataState.replayAll`, which reaches the
/// state `apply` would, with ALLOC records batched into one free-space
/// update (see there).
///
/// A large checkpoint is loaded on two threads: checked on one while the
/// other decodes it and makes the inodes (`LoadedCheckpoint.load`), then
/// the inode table built beside the directory indexes
/// (`MetadataState.init(loaded:)`). The state and the errors are those of
/// the one-thread load.
///
/// - Complexity: O(checkpoint size + log bytes), one CRC pass over each,
///   plus O(log n) per applied record.
enum Recovery {
    struct Result {
        var state: MetadataState
        var journal: Journal
        var report: RecoveryReport
    }

    static func run(media: PersistentMedia, layout: Layout) throws -> Result {
        let t0 = monotonicNanoseconds()
        let sb = layout.sb
        let (slot, header) = try CheckpointIO.current(media: media, layout: layout)
        let loaded = try MetadataState.LoadedCheckpoint.load(header: header, slot: slot, media: media, layout: layout)
        let state: MetadataState
        do {
            state = try MetadataState(loaded: loaded, header: header, sb: sb)
        } catch let e as DaxError {
            throw DaxError(e.code, "checkpoint (slot \(slot), generation \(header.generation)) is inconsistent: \(e.message)")
        }
        let area = layout.log
        let p = media.bytes
        var at = area.lowerBound
        var expected = header.replaySeq
        var transactions = 0, records = 0, spaceRecords = 0
        var stop = Transaction.Stop.noTransaction
        var recs: [LogRecord] = []            // one transaction's verified copy, its storage reused
        replay: while true {
            switch Transaction.decode(p, at: at, end: area.upperBound, expected: expected, sb: sb, into: &recs) {
            case .transaction(let h, let len):
                do {
                    spaceRecords += try state.replayAll(recs)
                } catch let e as DaxError {
                    throw DaxError(.EFSCORRUPTED, "log transaction \(h.seq) (at log offset \(at - area.lowerBound)) does not fit the filesystem: \(e.message); run 'daxfs fsck'")
                }
                transactions += 1
                records += recs.count
                at += len
                expected = h.seq.next
            case .stop(let why):
                stop = why
                break replay
            }
        }
        do {
            try state.finishReplay()
        } catch let e as DaxError {
            throw DaxError(.EFSCORRUPTED, "log replay does not fit the filesystem: \(e.message); run 'daxfs fsck'")
        }
        var droppedTx = 0, droppedRecords = 0
        let end: String
        switch stop {
        case .noTransaction: end = "clean end"
        case .staleSequence(let s): end = "clean end (stale transaction \(s) follows)"
        case .corrupt(let why):
            end = "torn or corrupt tail: \(why)"
            droppedTx = 1
            let countAt = at + TransactionHeader.F.recordCount.offset
            if countAt + 4 <= area.upperBound {
                let claimed = Int(p.u32(countAt))
                if claimed <= (area.upperBound - at) / LogRecord.headerSize { droppedRecords = claimed }
            }
        }
        let journal = Journal(media: media, layout: layout, tail: at - area.lowerBound, nextSeq: expected,
                              slot: slot, generation: header.generation, records: records, spaceRecords: spaceRecords)
        let report = RecoveryReport(
            checkpointSlot: slot, checkpointGeneration: header.generation, replayFrom: header.replaySeq.raw,
            transactionsApplied: transactions, recordsApplied: records, transactionsDropped: droppedTx,
            recordsDropped: droppedRecords, logTail: at - area.lowerBound, end: end,
            pendingIntents: state.intents.count, elapsedNanoseconds: monotonicNanoseconds() - t0)
        return Result(state: state, journal: journal, report: report)
    }
}
