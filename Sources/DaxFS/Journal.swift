import DaxCore
import DaxFSFormat
import PMem

/// A transaction being built: the records to log, the reservation whose
/// ALLOC records it carries, and whether data or zeroes were stored for it
/// that must be durable before it commits.
///
/// `append` keeps what the commit path asks of the records (their encoded
/// size, how many extents and space-map records they add, whether they only
/// add), so that a commit does not walk the records again for each question.
/// The commit path reads these out before it takes the log lock and passes
/// them on as values: a builder passed whole into the lock's closure is
/// copied, with a retain of each of its arrays.
struct TransactionBuilder {
    private(set) var records: [LogRecord]
    /// The runs reserved for its ALLOC records, given back if it fails.
    var reservation = Reservation()
    /// Set when the caller stored data (or the allocator zeroes) that the
    /// commit must fence before it logs the records that make them visible.
    var dataPending = false
    /// The encoded size of the transaction: header and records.
    private(set) var encodedSize = TransactionHeader.size
    /// What kinds of records it holds.
    private(set) var shape = TransactionShape()

    init() {
        records = []
        records.reserveCapacity(6)
    }

    /// O(1) amortized.
    mutating func append(_ r: LogRecord) {
        encodedSize += r.encodedSize
        shape.count(r)
        records.append(r)
    }
    var isEmpty: Bool { records.isEmpty }
    /// Empties the builder: a commit ends with this, so that a builder is
    /// never committed twice. The records' buffer is released now rather
    /// than kept: most callers drop the builder next, and emptying the
    /// buffer in place (record by record, or through removeAll's generic
    /// replaceSubrange) cost more than freeing it.
    mutating func clear() {
        records = []
        reservation = Reservation()
        dataPending = false
        encodedSize = TransactionHeader.size
        shape = TransactionShape()
    }
}

/// How many records of each kind the commit path asks about a transaction
/// holds, counted as they are appended.
struct TransactionShape {
    /// EXTENT_MAP records (each may add an extent to a checkpoint).
    private(set) var extentMaps = 0
    /// ALLOC and FREE records.
    private(set) var spaceRecords = 0
    /// INODE records (each may add an inode to a checkpoint).
    private(set) var inodeRecords = 0
    /// INODE_ATTR records (each may shrink a file).
    private(set) var attrRecords = 0
    /// True while every record is an INODE, INODE_ATTR, EXTENT_MAP or ALLOC:
    /// the kinds a staged transaction may hold (`Filesystem.canStage`).
    private(set) var onlyAdds = true

    init() {}

    mutating func count(_ r: LogRecord) {
        switch r {
        case .extentMap: extentMaps += 1
        case .alloc: spaceRecords += 1
        case .free: spaceRecords += 1; onlyAdds = false
        case .inode: inodeRecords += 1
        case .inodeAttr: attrRecords += 1
        default: onlyAdds = false
        }
    }
}

/// The metadata log's writer: where the next transaction goes, its sequence,
/// the current checkpoint, and how much has been logged since it.
///
/// **Persistence order of an append.** The encoded transaction (header and
/// records, one CRC over all of it) is written with `storeFlushed` at the
/// tail and made durable by one fence. Until that fence completes, replay
/// sees a torn or absent transaction and ignores it; after it, the whole
/// transaction. The tail and sequence live only in DRAM: replay finds them
/// again by walking transactions whose sequence follows the checkpoint's.
///
/// **Staged transactions (group commit).** Under `Durability.deferred` a
/// transaction that only adds (see `Filesystem.canStage`) is encoded into a
/// DRAM buffer instead of the media, and takes its place in the log (tail
/// and sequence) at once. `writeStaged` writes every staged transaction in
/// one go: a fence first, then one copy into the log at the durable tail,
/// then the commit fence. What they expose (zeroes, data) is durable before
/// the copy: on the flush+fence path because each committer drained its
/// own stores before it staged, on the msync path because that first fence
/// msyncs every pending page, whoever stored it. `writeStaged` runs at
/// `sync`, when the buffer is full, before any transaction that is not
/// staged (so the log stays in order) and when a dropped mount is freed; a
/// checkpoint drops the staged transactions unwritten (it holds their
/// effects). A crash keeps a prefix of them, from none to all, each whole:
/// each has its own checksum and replay stops at the first that is missing
/// (and mount clears any intact ones after it: `clearBeyondTail`). This is
/// what a journaling filesystem's running transaction is; it saves the
/// per-operation fence (an msync system call on the msync path) and the
/// per-operation store of the log's tail line.
///
/// Guarded by the filesystem's log lock.
final class Journal: @unchecked Sendable {
    let media: PersistentMedia
    let layout: Layout
    /// Byte offset within the log area where the next transaction goes.
    var tail: Int
    var nextSeq: LogSequence
    /// The current checkpoint.
    var slot: Int
    var generation: UInt64
    /// Records and space-map records (ALLOC, FREE) logged since the checkpoint.
    var recordsSinceCheckpoint: Int
    var spaceRecordsSinceCheckpoint: Int
    private var scratch: [UInt8] = []
    /// Staged transactions, back to back, encoded as they will be on media.
    private let staged: UnsafeMutableRawBufferPointer
    private(set) var stagedBytes = 0
    /// The capacity of the staging buffer: 64 KiB, the most a `sync` waits
    /// to copy, and what a transaction must fit to be staged.
    static let stageCapacity = 64 << 10
    /// Log offset of the first staged transaction: the end of what is on media.
    private var mediaTail: Int

    var logBytes: Int { layout.log.count }
    /// The largest transaction daxfs writes: a quarter of the log, at most
    /// 1 MiB (or `transactionLimit`), so that one always fits after a checkpoint.
    var maxTransactionBytes: Int { min(logBytes / 4, 1 << 20, transactionLimit) }
    var transactionLimit = Int.max

    init(media: PersistentMedia, layout: Layout, tail: Int, nextSeq: LogSequence, slot: Int, generation: UInt64,
         records: Int, spaceRecords: Int) {
        self.media = media; self.layout = layout; self.tail = tail; self.nextSeq = nextSeq
        self.slot = slot; self.generation = generation
        recordsSinceCheckpoint = records; spaceRecordsSinceCheckpoint = spaceRecords
        mediaTail = tail
        staged = .allocate(byteCount: Self.stageCapacity, alignment: 64)
    }

    deinit { staged.deallocate() }

    func fits(_ size: Int) -> Bool { tail + size <= logBytes }

    /// Writes one transaction at the tail and makes it durable (one fence:
    /// the commit point): `encodeForAppend`, then `appendEncoded`.
    func append(_ records: [LogRecord], size: Int, spaceRecords: Int, faults: FaultInjection) {
        encodeForAppend(records, size: size)
        appendEncoded(size: size, records: records.count, spaceRecords: spaceRecords, faults: faults)
    }

    /// The size and sequence of the transaction `encodeForAppend` left in
    /// the scratch buffer, until `appendEncoded` writes it.
    private var encoded: (size: Int, seq: LogSequence)?

    /// Encodes one transaction, with the next sequence, into a DRAM scratch
    /// buffer: nothing reaches the media. The commit path encodes while the
    /// zeroes of its blocks drain, before the fence that makes them durable.
    func encodeForAppend(_ records: [LogRecord], size: Int) {
        if scratch.count < size { scratch = [UInt8](repeating: 0, count: max(size, 4096)) }
        let seed = layout.sb.recordSeed, salt = layout.sb.logSalt, seq = nextSeq
        scratch.withUnsafeMutableBytes { p in
            let written = Transaction.encode(records, seq: seq, salt: salt, seed: seed, into: p, at: 0)
            precondition(written == size, "a transaction encoded to \(written) bytes, its builder counted \(size)")
        }
        encoded = (size, seq)
    }

    /// Writes the transaction `encodeForAppend` just encoded at the tail and
    /// makes it durable (one fence: the commit point). Nothing may be
    /// staged, and the sequence must not have moved since. The caller has
    /// checked that it fits.
    func appendEncoded(size: Int, records: Int, spaceRecords: Int, faults: FaultInjection) {
        precondition(fits(size), "transaction does not fit in the log")
        precondition(stagedBytes == 0, "a transaction appended while others are staged")
        precondition(encoded.map { $0.size == size && $0.seq == nextSeq } == true, "appendEncoded without its encodeForAppend")
        encoded = nil
        scratch.withUnsafeBytes { p in
            store(UnsafeRawBufferPointer(rebasing: p[0..<size]), at: tail, faults: faults)
        }
        media.fence()                                  // the commit point
        tail += size
        mediaTail = tail
        advance(records: records, spaceRecords: spaceRecords)
    }

    /// Stages one transaction (see the type's comment): it is encoded into
    /// the staging buffer and takes the next sequence and log space now; it
    /// reaches the media at the next `writeStaged`. The caller has checked
    /// that it fits in the log and in `stageCapacity`, and drained its own
    /// stores of the data and zeroes it exposes.
    func stage(_ records: [LogRecord], size: Int, spaceRecords: Int, faults: FaultInjection) {
        precondition(fits(size) && size <= Self.stageCapacity, "staged transaction does not fit")
        if stagedBytes + size > Self.stageCapacity { writeStaged(faults: faults) }
        // The builder's count and the encoder both sum LogRecord.encodedSize;
        // this holds them together should either change.
        let written = Transaction.encode(records, seq: nextSeq, salt: layout.sb.logSalt, seed: layout.sb.recordSeed,
                                         into: staged, at: stagedBytes)
        precondition(written == size, "a transaction encoded to \(written) bytes, its builder counted \(size)")
        stagedBytes += size
        tail += size
        advance(records: records.count, spaceRecords: spaceRecords)
    }

    /// Writes the staged transactions to the log and makes them durable:
    /// fence (everything they expose is durable first), one copy, fence
    /// (the commit point of all of them). Nothing to do when none is staged.
    func writeStaged(faults: FaultInjection) {
        guard stagedBytes > 0 else { return }
        precondition(mediaTail + stagedBytes == tail, "staged transactions do not end at the tail")
        if !faults.contains(.noFenceBeforeCommit) { media.fence() }
        store(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(staged)[0..<stagedBytes]), at: mediaTail, faults: faults)
        media.fence()                                  // the commit point of every staged transaction
        mediaTail = tail
        stagedBytes = 0
    }

    /// Stores encoded transactions at log offset `logOffset`, written back
    /// (durable at the caller's next fence). With `logTailBeforeRecord`
    /// (injected bug) they are stored but never flushed, so a later
    /// transaction can be durable while these are not.
    private func store(_ bytes: UnsafeRawBufferPointer, at logOffset: Int, faults: FaultInjection) {
        let at = layout.log.lowerBound + logOffset
        if faults.contains(.logTailBeforeRecord) {
            media.store(bytes, at: at, site: CallSite(#fileID, #line))
        } else {
            media.storeFlushed(bytes, at: at, site: CallSite(#fileID, #line))
        }
    }

    /// The sequence and counters move past a transaction just logged or staged.
    private func advance(records: Int, spaceRecords: Int) {
        nextSeq = nextSeq.next
        recordsSinceCheckpoint += records
        spaceRecordsSinceCheckpoint += spaceRecords
    }

    /// After a crash, clears what replay did not reach: the header of the
    /// torn or corrupt transaction at the tail (`tornTail`), and the header
    /// of every later transaction of this log whose sequence is not below
    /// `nextSeq`, within `scanWindow` bytes of the tail; then one fence.
    ///
    /// The later ones exist when a crash tore a group of transactions
    /// written together (`writeStaged`) in the middle: each has its own
    /// checksum, so some after the torn one can be intact. They are lost
    /// history, but a new transaction of the same length at the tail would
    /// end exactly where one of them starts, with the sequence it expects,
    /// and a second crash would replay it. Cleared, they cannot. Later scans
    /// (info, fsck) also see a clean end instead of damage. A crash before the
    /// fence leaves old bytes or zeroes, which replay ignores the same way.
    /// - Complexity: O(scanWindow / 8) reads, once per mount after a crash.
    func clearBeyondTail(tornTail: Bool) {
        let p = media.bytes
        let start = layout.log.lowerBound + tail, end = layout.log.upperBound
        var cleared = 0
        func zero(_ at: Int) {
            let n = min(TransactionHeader.size, end - at)
            guard n > 0 else { return }
            media.storeFlushed([UInt8](repeating: 0, count: n), at: at)
            cleared += 1
        }
        if tornTail { zero(start) }
        var o = start + 8
        let limit = min(end, start + Self.scanWindow) - TransactionHeader.size
        while o <= limit {
            if p.u32(o + TransactionHeader.F.magic.offset) == TransactionHeader.magic,
               p.u64(o + TransactionHeader.F.salt.offset) == layout.sb.logSalt,
               p.u64(o + TransactionHeader.F.seq.offset) >= nextSeq.raw {
                zero(o)
            }
            o += 8
        }
        if cleared > 0 { media.fence() }
    }

    /// How far past the tail `clearBeyondTail` looks: 1 MiB, well past the
    /// most that one `writeStaged` writes (`stageCapacity`), as fsck looks.
    static let scanWindow = 1 << 20

    /// The log restarts after a checkpoint at `slot` with `generation`.
    /// Staged transactions are dropped: the checkpoint just written holds
    /// their effects, and its replay sequence is past theirs.
    func restart(slot: Int, generation: UInt64) {
        self.slot = slot
        self.generation = generation
        tail = 0
        mediaTail = 0
        stagedBytes = 0
        recordsSinceCheckpoint = 0
        spaceRecordsSinceCheckpoint = 0
    }
}

/// Deliberately injected persistence bugs, for testing the crash harness
/// only (issue: "test the harness itself"). Every one of them breaks the
/// crash contract; the crash-consistency tests show that each is caught.
/// Never set outside tests.
public struct FaultInjection: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The fence that makes data and zeroes durable before a commit is skipped.
    public static let noFenceBeforeCommit = FaultInjection(rawValue: 1 << 0)
    /// The allocator zeroes with cached stores that are never flushed.
    public static let zeroesNotFlushed = FaultInjection(rawValue: 1 << 1)
    /// An unaligned write leaves its first, partial cache line unflushed.
    public static let unflushedEdgeLine = FaultInjection(rawValue: 1 << 2)
    /// A checkpoint's header is written before its chunks are durable.
    public static let checkpointHeaderBeforeChunks = FaultInjection(rawValue: 1 << 3)
    /// A transaction is stored without a flush, so the log can run ahead of it.
    public static let logTailBeforeRecord = FaultInjection(rawValue: 1 << 4)
    /// Not a persistence bug: the steps after a range intent's commit fail
    /// with EIO, as a failed checkpoint inside them would.
    public static let intentStepsFail = FaultInjection(rawValue: 1 << 5)
}
