import DaxCore

/// A log transaction: a 32-byte header followed by its records.
///
/// Transactions are appended back to back from the start of the log area,
/// each starting on an 8-byte boundary. A transaction is committed when its
/// header and every record are durable: the writer stores them all, flushes
/// them, and issues one fence. Replay accepts a transaction only when its
/// magic, salt, sequence (exactly one more than the previous) and CRC all
/// verify, so a torn transaction and every byte after it are ignored.
///
/// The header CRC (seeded with the record seed) covers the header with the
/// CRC field zero and the whole body.
public struct TransactionHeader: Equatable, Sendable {
    public static let size = 32
    public static let magic: UInt32 = 0x5854_5844   // "DXTX"
    public enum F {
        public static let magic = Field("magic", 0, 4, .u32)
        public static let crc = Field("crc", 4, 4, .u32)
        public static let seq = Field("seq", 8, 8, .u64)
        public static let bodyLength = Field("body_len", 16, 4, .u32)
        public static let recordCount = Field("record_count", 20, 4, .u32)
        public static let salt = Field("salt", 24, 8, .u64)
    }
    public static let layout = RecordLayout(name: "transaction", size: size, fields: [
        F.magic, F.crc, F.seq, F.bodyLength, F.recordCount, F.salt,
    ])
    public var seq: LogSequence
    public var bodyLength: UInt32
    public var recordCount: UInt32
    public var salt: UInt64
}

public enum Transaction {
    /// The encoded size of a transaction holding `records`.
    /// Records are read in place (borrowed), never copied.
    public static func encodedSize(_ records: [LogRecord]) -> Int {
        records.withUnsafeBufferPointer { rs in
            var n = TransactionHeader.size
            for i in rs.indices { n += rs[i].encodedSize }
            return n
        }
    }

    /// Encodes a whole transaction into `p` at `o` (which must have room).
    /// Returns its length.
    @discardableResult
    public static func encode(_ records: [LogRecord], seq: LogSequence, salt: UInt64, seed: UInt32,
                              into p: UnsafeMutableRawBufferPointer, at o: Int) -> Int {
        var at = o + TransactionHeader.size
        records.withUnsafeBufferPointer { rs in          // borrowed in place: no copy of any record
            for i in rs.indices {
                at += rs[i].encode(into: p, at: at, seed: seed)
            }
        }
        let len = at - o
        p.setLE(TransactionHeader.magic, at: o + TransactionHeader.F.magic.offset)
        p.setLE(UInt32(0), at: o + TransactionHeader.F.crc.offset)
        p.setLE(seq.raw, at: o + TransactionHeader.F.seq.offset)
        p.setLE(UInt32(len - TransactionHeader.size), at: o + TransactionHeader.F.bodyLength.offset)
        p.setLE(UInt32(records.count), at: o + TransactionHeader.F.recordCount.offset)
        p.setLE(salt, at: o + TransactionHeader.F.salt.offset)
        let whole = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(p)[o..<(o + len)])
        p.setLE(CRC32C.checksum(whole, seed: seed), at: o + TransactionHeader.F.crc.offset)
        return len
    }

    public static func encoded(_ records: [LogRecord], seq: LogSequence, salt: UInt64, seed: UInt32) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: encodedSize(records))
        out.withUnsafeMutableBytes { _ = encode(records, seq: seq, salt: salt, seed: seed, into: $0, at: 0) }
        return out
    }

    /// Why replay stopped at a position.
    public enum Stop: Equatable, Sendable {
        /// Nothing transaction-like here (stale bytes, zeroes, the sentinel): the normal end.
        case noTransaction
        /// A transaction of this filesystem with an older sequence: stale, the normal end.
        case staleSequence(LogSequence)
        /// Something that claims to be the expected transaction but does not verify: a torn or corrupt tail.
        case corrupt(String)
    }

    public enum Decoded: Sendable {
        case transaction(TransactionHeader, [LogRecord], length: Int)
        case stop(Stop)
    }

    /// Verifies the transaction at `o` into a copy, reading no further than `end`.
    ///
    /// Returns `.transaction` only when the magic, salt, sequence, length,
    /// CRC, every record's own CRC and every record's bounds all check;
    /// otherwise `.stop` with the reason. Never traps on bad bytes.
    /// - Complexity: O(length of the transaction).
    public static func decode(_ p: UnsafeRawBufferPointer, at o: Int, end: Int, expected: LogSequence,
                              sb: Superblock) -> Decoded {
        var records: [LogRecord] = []
        switch decode(p, at: o, end: end, expected: expected, sb: sb, into: &records) {
        case .transaction(let h, let len): return .transaction(h, records, length: len)
        case .stop(let why): return .stop(why)
        }
    }

    /// What `decode(_:at:end:expected:sb:into:)` found.
    public enum Verified: Sendable {
        case transaction(TransactionHeader, length: Int)
        case stop(Stop)
    }

    /// `decode`, verifying the records into `records` (emptied first, its
    /// storage kept), so that replay reuses one array for every transaction
    /// instead of allocating one each. After `.stop`, `records` holds
    /// nothing of use. The same checks, in the same order.
    /// - Complexity: O(length of the transaction).
    public static func decode(_ p: UnsafeRawBufferPointer, at o: Int, end: Int, expected: LogSequence,
                              sb: Superblock, into records: inout [LogRecord]) -> Verified {
        // Not removeAll(keepingCapacity:), which goes through the generic
        // replaceSubrange: a tenth of the decoding time of small transactions.
        while !records.isEmpty { records.removeLast() }
        let seed = sb.recordSeed
        guard o >= 0, end <= p.count, o + TransactionHeader.size <= end else { return .stop(.noTransaction) }
        guard p.u32(o + TransactionHeader.F.magic.offset) == TransactionHeader.magic,
              p.u64(o + TransactionHeader.F.salt.offset) == sb.logSalt else { return .stop(.noTransaction) }
        let seq = LogSequence(p.u64(o + TransactionHeader.F.seq.offset))
        if seq < expected { return .stop(.staleSequence(seq)) }
        let bodyLen = Int(p.u32(o + TransactionHeader.F.bodyLength.offset))
        let count = Int(p.u32(o + TransactionHeader.F.recordCount.offset))
        guard bodyLen % 8 == 0, bodyLen <= end - o - TransactionHeader.size else {
            return .stop(.corrupt("transaction \(seq) length \(bodyLen) runs past the log"))
        }
        let len = TransactionHeader.size + bodyLen
        let stored = p.u32(o + TransactionHeader.F.crc.offset)
        let computed = crcExcluding(UnsafeRawBufferPointer(rebasing: p[o..<(o + len)]), end: len,
                                    crcOffset: TransactionHeader.F.crc.offset, seed: seed)
        guard stored == computed else { return .stop(.corrupt("transaction \(seq) checksum mismatch")) }
        guard seq == expected else { return .stop(.corrupt("transaction sequence \(seq), expected \(expected)")) }
        records.reserveCapacity(min(count, bodyLen / LogRecord.headerSize))   // a fuzzed count must not size the allocation
        var at = o + TransactionHeader.size
        do {
            while at < o + len {
                let (r, n) = try LogRecord.decode(p, at: at, end: o + len, seed: seed)
                if let why = r.problem(in: sb) { return .stop(.corrupt("transaction \(seq): \(why)")) }
                records.append(r)
                at += n
            }
        } catch let e as DaxError {
            return .stop(.corrupt("transaction \(seq): \(e.message)"))
        } catch {
            return .stop(.corrupt("transaction \(seq): \(error)"))
        }
        guard records.count == count else { return .stop(.corrupt("transaction \(seq) holds \(records.count) records, header says \(count)")) }
        let header = TransactionHeader(seq: seq, bodyLength: UInt32(bodyLen), recordCount: UInt32(count), salt: sb.logSalt)
        return .transaction(header, length: len)
    }
}
