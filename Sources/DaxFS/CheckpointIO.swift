import DaxCore
import DaxFSFormat
import PMem

/// The metadata state as a checkpoint stores it.
public struct CheckpointContent: @unchecked Sendable {
    public var inodes: [InodeRecord] = []
    /// The inodes of a mount in number order, written from their records in
    /// place (then `inodes` is empty): copying 100,000 records into an array
    /// first cost a fifth of a checkpoint in page faults and reference
    /// counting. Read under the log lock, which every change of them holds.
    var nodes: [Inode] = []
    public var extents: [ExtentRecord] = []
    public var free: [BlockRange] = []
    public var intents: [IntentRecord] = []
    public init() {}
}

/// Writes and reads checkpoint slots.
///
/// Persistence order of `write` (the crash contract): every chunk of the new
/// checkpoint is stored and flushed into the *inactive* slot, one fence makes
/// them durable, then the header is stored, flushed and fenced. Until that
/// last fence the previous checkpoint (in the other slot) is the valid one;
/// after it, the new one is. The caller restarts the log only after `write`
/// returns.
public enum CheckpointIO {
    /// Writes `content` into slot `slot` with header fields from `header`
    /// (whose counts and chunk count are filled in here).
    /// Throws ENOSPC, leaving the media untouched, when the slot is too small.
    /// `headerFirst` is a test-only injected bug (the switch before the content is durable).
    public static func write(_ content: CheckpointContent, header: CheckpointHeader, slot: Int,
                             media: PersistentMedia, layout: Layout, headerFirst: Bool = false) throws {
        let sb = layout.sb
        let seed = sb.recordSeed
        var h = header
        precondition(content.inodes.isEmpty || content.nodes.isEmpty, "checkpoint content with inodes given twice")
        h.inodeCount = UInt64(content.inodes.count + content.nodes.count)
        h.extentCount = UInt64(content.extents.count)
        h.freeExtentCount = UInt64(content.free.count)
        h.intentCount = UInt64(content.intents.count)

        // How many chunks each kind packs into, entries in order, as many as
        // fit each chunk: counted first, so that the slot check comes before
        // any encoding and the chunks are built in one buffer of the right
        // size (growing an array chunk by chunk cost a tenth of a checkpoint).
        func chunks<T>(_ items: [T], size: (borrowing T) -> Int) -> Int {
            var count = 0, used = 0, n = 0
            for item in items {
                let s = size(item)
                if n == 0 || n == Int(UInt16.max) || used + s > CheckpointChunk.payloadCapacity {
                    count += 1; used = 0; n = 0
                }
                used += s; n += 1
            }
            return count
        }
        let total = chunks(content.inodes, size: { $0.encodedSize }) + chunks(content.nodes, size: { $0.record.encodedSize })
            + chunks(content.extents, size: { _ in ExtentRecord.size })
            + chunks(content.free, size: { _ in BlockRange.size }) + chunks(content.intents, size: { _ in IntentRecord.size })
        guard total <= layout.slotCapacity else {
            throw DaxError(.ENOSPC, "metadata (\(total) chunks) does not fit in a checkpoint slot of \(layout.slotCapacity) chunks")
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, total) * CheckpointChunk.size, alignment: 64)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        var chunkCount: UInt32 = 0

        func pack<T>(_ items: [T], kind: CheckpointChunk.Kind, size: (borrowing T) -> Int,
                     encode: (borrowing T, UnsafeMutableRawBufferPointer, Int) -> Void) {
            var i = 0
            while i < items.count {
                let base = Int(chunkCount) * CheckpointChunk.size
                var used = 0
                var n = 0
                while i < items.count, n < Int(UInt16.max), used + size(items[i]) <= CheckpointChunk.payloadCapacity {
                    encode(items[i], buffer, base + CheckpointChunk.headerSize + used)
                    used += size(items[i]); n += 1; i += 1
                }
                CheckpointChunk.seal(buffer, at: base, generation: h.generation, index: chunkCount, kind: kind,
                                     count: UInt16(n), used: used, seed: seed)
                chunkCount += 1
            }
        }
        pack(content.inodes, kind: .inodes, size: { $0.encodedSize }, encode: { $0.encode(into: $1, at: $2) })
        pack(content.nodes, kind: .inodes, size: { $0.record.encodedSize }, encode: { $0.record.encode(into: $1, at: $2) })
        pack(content.extents, kind: .extents, size: { _ in ExtentRecord.size }, encode: { $0.encode(into: $1, at: $2) })
        pack(content.free, kind: .free, size: { _ in BlockRange.size }, encode: { $0.encode(into: $1, at: $2) })
        pack(content.intents, kind: .intents, size: { _ in IntentRecord.size }, encode: { $0.encode(into: $1, at: $2) })
        precondition(Int(chunkCount) == total, "checkpoint packed \(chunkCount) chunks, counted \(total)")
        h.chunkCount = chunkCount
        let range = layout.slot(slot)
        let chunkBase = range.lowerBound + CheckpointHeader.chunksOffset
        if headerFirst {
            media.store(h.encode(seed: seed), at: range.lowerBound)
            media.persist(at: range.lowerBound, count: CheckpointHeader.size)
        }
        if total > 0 {
            media.storeFlushed(UnsafeRawBufferPointer(rebasing: buffer[0..<(total * CheckpointChunk.size)]), at: chunkBase,
                               site: CallSite(#fileID, #line))
            media.fence()                          // chunks durable before the header names them
        }
        if headerFirst { return }
        media.store(h.encode(seed: seed), at: range.lowerBound)
        media.persist(at: range.lowerBound, count: CheckpointHeader.size)   // the switch point
    }

    /// The verified header of slot `slot`, or the reason it is not valid.
    public static func header(slot: Int, media: PersistentMedia, layout: Layout) -> Result<CheckpointHeader, DaxError> {
        let r = layout.slot(slot)
        do {
            return .success(try CheckpointHeader.decode(media.view(at: r.lowerBound, count: CheckpointHeader.size),
                                                        sb: layout.sb, capacity: layout.slotCapacity))
        } catch let e as DaxError {
            return .failure(e.with("slot", slot))
        } catch {
            return .failure(DaxError(.EIO, "\(error)"))
        }
    }

    /// The current checkpoint: the valid slot with the higher generation.
    /// Throws EFSCORRUPTED when neither slot is valid.
    public static func current(media: PersistentMedia, layout: Layout) throws -> (slot: Int, header: CheckpointHeader) {
        let a = header(slot: 0, media: media, layout: layout)
        let b = header(slot: 1, media: media, layout: layout)
        switch (a, b) {
        case (.success(let ha), .success(let hb)): return hb.generation > ha.generation ? (1, hb) : (0, ha)
        case (.success(let ha), .failure): return (0, ha)
        case (.failure, .success(let hb)): return (1, hb)
        case (.failure(let ea), .failure(let eb)):
            throw DaxError(.EFSCORRUPTED, "no valid checkpoint: slot 0: \(ea.message); slot 1: \(eb.message)")
        }
    }

    /// How many inodes a checkpoint can hold: the header's count, but no
    /// more than its chunks have room for (a header that promises more
    /// fails the count check; memory sized by it is never more than the
    /// chunks justify).
    static func inodesAtMost(_ h: CheckpointHeader) -> Int {
        Int(min(h.inodeCount, UInt64(h.chunkCount) * UInt64(CheckpointChunk.payloadCapacity / InodeRecord.fixedSize)))
    }

    /// Reads and verifies every chunk of a checkpoint into DRAM.
    /// - Complexity: O(chunks), one CRC32C pass over the checkpoint.
    public static func read(header h: CheckpointHeader, slot: Int, media: PersistentMedia, layout: Layout) throws -> CheckpointContent {
        var c = CheckpointContent()
        try read(header: h, slot: slot, media: media, layout: layout, into: &c)
        return c
    }

    /// Reads and verifies every chunk of a checkpoint, handing each entry to
    /// `sink` in media order as soon as it is verified (mount makes inodes
    /// of the records directly, with no list of records in between). Unless
    /// `checked` is false (below), every chunk's CRC and header, every
    /// entry's bounds and validity and the header's counts are checked
    /// exactly as for `read`; on a throw the sink holds a part of the entries.
    /// - Complexity: O(chunks), one CRC32C pass over the checkpoint.
    ///
    /// `checked: false` is for a read that runs beside a `CheckpointPrecheck`
    /// (the checked read of the same bytes, on another thread): it skips
    /// the chunk CRCs and `InodeRecord.problem()` (the costly checks; bounds
    /// are always checked, so no bytes can make it trap) and leaves each
    /// inode's number, parent and name CRC to the precheck (`indexed`). Its
    /// result stands only if the precheck passed.
    static func read<S: CheckpointSink>(header h: CheckpointHeader, slot: Int, media: PersistentMedia, layout: Layout,
                                        into sink: inout S, checked: Bool = true) throws {
        let sb = layout.sb
        sink.reserve(inodes: inodesAtMost(h), extents: Int(min(h.extentCount, UInt64(h.chunkCount) * UInt64(CheckpointChunk.payloadCapacity / ExtentRecord.size))))
        var inodes: UInt64 = 0, extents: UInt64 = 0, free: UInt64 = 0, intents: UInt64 = 0
        let base = layout.slot(slot).lowerBound + CheckpointHeader.chunksOffset
        let p = media.bytes
        for i in 0..<Int(h.chunkCount) {
            let o = base + i * CheckpointChunk.size
            let v = try CheckpointChunk.verify(p, at: o, generation: h.generation, index: UInt32(i), seed: sb.recordSeed,
                                               checksum: checked)
            var at = v.payloadOffset
            let end = v.payloadOffset + v.used
            for _ in 0..<v.count {
                switch v.kind {
                case .inodes:
                    @inline(__always) func unit(_ ino: InodeNumber, _ shift: UInt8) throws {
                        if UInt64(1) << shift < UInt64(sb.blockSize) {
                            throw DaxError(.EFSCORRUPTED, "checkpoint chunk \(i): inode \(ino): allocation unit below the block size")
                        }
                    }
                    if S.keepsRecords {
                        let r = try InodeRecord.decode(p, at: at, limit: end - at, checked: checked)   // checked: InodeRecord.problem()
                        try unit(r.ino, r.allocShift)
                        at += r.encodedSize
                        sink.inode(r, indexed: !checked)
                    } else {
                        let c = try InodeRecord.check(p, at: at, limit: end - at)   // decode's checks, no record
                        try unit(c.ino, c.allocShift)
                        at += c.encodedSize
                        sink.inode(checked: c)
                    }
                    inodes += 1
                case .extents:
                    let e = ExtentRecord.decode(p, at: at)
                    if let why = e.problem(in: sb) { throw DaxError(.EFSCORRUPTED, "checkpoint chunk \(i): \(why)") }
                    sink.extent(e); at += ExtentRecord.size; extents += 1
                case .free:
                    let r = BlockRange.decode(p, at: at)
                    if let why = r.problem(in: sb) { throw DaxError(.EFSCORRUPTED, "checkpoint chunk \(i): \(why)") }
                    sink.free(r); at += BlockRange.size; free += 1
                case .intents:
                    let intent = try IntentRecord.decode(p, at: at)
                    if let why = LogRecord.intent(intent).problem(in: sb) { throw DaxError(.EFSCORRUPTED, "checkpoint chunk \(i): \(why)") }
                    sink.intent(intent); at += IntentRecord.size; intents += 1
                }
            }
            guard at == end else { throw DaxError(.EFSCORRUPTED, "checkpoint chunk \(i): entries do not fill \(v.used) bytes") }
        }
        guard inodes == h.inodeCount, extents == h.extentCount, free == h.freeExtentCount, intents == h.intentCount else {
            throw DaxError(.EFSCORRUPTED, "checkpoint counts do not match its chunks")
        }
    }
}

/// Receives a checkpoint's entries from `CheckpointIO.read`, in media order.
protocol CheckpointSink {
    mutating func reserve(inodes: Int, extents: Int)
    /// `indexed`: a precheck keeps the inode's number, parent and name CRC
    /// (see `CheckpointPrecheck.takeIndex`), so the sink need not.
    mutating func inode(_ r: consuming InodeRecord, indexed: Bool)
    mutating func extent(_ e: ExtentRecord)
    mutating func free(_ r: BlockRange)
    mutating func intent(_ i: IntentRecord)
    /// False for a sink that only checks: `read` then hands it each inode
    /// as `inode(checked:)`, checked in place, and builds no record.
    static var keepsRecords: Bool { get }
    mutating func inode(checked: InodeRecord.Checked)
}

extension CheckpointSink {
    static var keepsRecords: Bool { true }
    mutating func inode(checked: InodeRecord.Checked) {
        preconditionFailure("\(Self.self) keeps records: read hands it inode records")
    }
}

extension CheckpointContent: CheckpointSink {
    mutating func reserve(inodes n: Int, extents e: Int) {
        inodes.reserveCapacity(n)
        extents.reserveCapacity(e)
    }
    mutating func inode(_ r: consuming InodeRecord, indexed: Bool) { inodes.append(r) }
    mutating func extent(_ e: ExtentRecord) { extents.append(e) }
    mutating func free(_ r: BlockRange) { free.append(r) }
    mutating func intent(_ i: IntentRecord) { intents.append(i) }
}
