import DaxCore
import DaxFSFormat

/// The engine's replay, offered to fsck (DaxFSCheck): load a checkpoint
/// content and apply log transactions to it with `MetadataState.apply`, the
/// same function mount and the live path use, so fsck judges the log exactly
/// as mount would.
///
/// Pure DRAM work: nothing here reads or writes media.
public enum CheckReplay {
    public struct Outcome: Sendable {
        /// The state after the transactions that fit, as a checkpoint stores it.
        public var content: CheckpointContent
        public var nextIno: UInt64
        public var nextIntentID: UInt64
        /// How many transactions, from the first, were applied.
        public var applied: Int
        /// Why transaction number `applied` (0-based) did not fit, or nil when all did.
        public var failure: String?
        public init(content: CheckpointContent, nextIno: UInt64, nextIntentID: UInt64, applied: Int, failure: String?) {
            self.content = content; self.nextIno = nextIno; self.nextIntentID = nextIntentID
            self.applied = applied; self.failure = failure
        }
    }

    /// Loads `content` as mount loads a checkpoint (throws EFSCORRUPTED when
    /// it is inconsistent) and applies `transactions` in order, stopping at
    /// the first that does not fit; the outcome is the state after the ones
    /// before it (a transaction is all or nothing).
    /// - Complexity: O(content + records) plus O(log n) per record; a
    ///   failure costs one more replay of the transactions before it.
    public static func replay(_ content: CheckpointContent, header: CheckpointHeader, sb: Superblock,
                              transactions: [[LogRecord]]) throws -> Outcome {
        var state = try MetadataState(checkpoint: content, header: header, sb: sb)
        var failure: String?
        var applied = transactions.count
        for (i, records) in transactions.enumerated() {
            do {
                try state.applyAll(records, live: false)
            } catch let e as DaxError {
                failure = e.message
                applied = i
                break
            }
        }
        if failure != nil {
            state = try MetadataState(checkpoint: content, header: header, sb: sb)
            for records in transactions.prefix(applied) { try state.applyAll(records, live: false) }
        }
        return Outcome(content: state.checkpointContent(), nextIno: state.nextIno, nextIntentID: state.nextIntentID,
                       applied: applied, failure: failure)
    }
}
