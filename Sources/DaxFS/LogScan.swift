import DaxFSFormat
import PMem

/// A read-only walk of the log after a checkpoint: what replay would apply.
public struct LogScan: Sendable {
    public var transactions: [(seq: LogSequence, records: [LogRecord], offset: Int, length: Int)] = []
    /// Byte offset (within the log area) where the next transaction goes.
    public var tail: Int = 0
    /// The sequence the next transaction must carry.
    public var nextSeq: LogSequence
    /// Why the scan stopped.
    public var stop: Transaction.Stop = .noTransaction
    public var recordCount: Int { transactions.reduce(0) { $0 + $1.records.count } }

    /// Scans from the start of the log, expecting `replaySeq` first.
    /// - Complexity: O(bytes of valid log), one CRC pass.
    public static func scan(media: PersistentMedia, layout: Layout, replaySeq: LogSequence) -> LogScan {
        var s = LogScan(nextSeq: replaySeq)
        let area = layout.log
        let p = media.bytes
        var at = area.lowerBound
        while true {
            switch Transaction.decode(p, at: at, end: area.upperBound, expected: s.nextSeq, sb: layout.sb) {
            case .transaction(let h, let records, let len):
                s.transactions.append((h.seq, records, at - area.lowerBound, len))
                at += len
                s.nextSeq = h.seq.next
            case .stop(let why):
                s.stop = why
                s.tail = at - area.lowerBound
                return s
            }
        }
    }
}
