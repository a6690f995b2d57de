import DaxCore
import DaxFSFormat
import DaxFS
import PMem

/// Reading a checkpoint slot the way fsck needs to: every chunk verified on
/// its own, every entry decoded on its own, nothing thrown away silently.
///
/// Mount refuses a checkpoint at its first bad byte; fsck instead keeps what
/// verifies and reports the rest, so later passes can rebuild the state.
/// Reads only; never traps on bad bytes.
struct SlotScan {
    var slot: Int
    /// The header, when it verifies as mount verifies it.
    var header: CheckpointHeader?
    /// Why the header does not verify (nil when it does, or when the slot has no header magic).
    var headerProblem: String?
    var headerHasMagic: Bool
    /// The generation of the chunks found, which may differ from the header's.
    var chunkGeneration: UInt64?
    /// Verified chunks, by index.
    var chunks: [(index: Int, chunk: CheckpointChunk.Verified)] = []
    /// Indices below the expected count that are missing or do not verify, with the reason.
    var badChunks: [(index: Int, why: String)] = []
    var expectedChunks: Int { header.map { Int($0.chunkCount) } ?? ((chunks.last?.index ?? -1) + 1) }

    /// Scans slot `slot`. With a valid header, chunks are verified against its
    /// generation; when none do, and otherwise, against the generation of the
    /// first chunk whose checksum verifies on its own.
    /// - Complexity: O(slot capacity) cheap checks plus one CRC pass over each
    ///   candidate chunk.
    /// With `chunks` false only the header is read (the chunks of a slot
    /// that is not needed are never verified).
    static func scan(slot: Int, media: PersistentMedia, layout: Layout, chunks: Bool = true) -> SlotScan {
        let range = layout.slot(slot)
        let p = media.bytes
        let magic = p.bytes(range.lowerBound, 8) == CheckpointHeader.magic
        var s = SlotScan(slot: slot, header: nil, headerProblem: nil, headerHasMagic: magic)
        switch CheckpointIO.header(slot: slot, media: media, layout: layout) {
        case .success(let h): s.header = h
        case .failure(let e): if magic { s.headerProblem = e.message }
        }
        guard chunks else { return s }
        let seed = layout.sb.recordSeed
        let base = range.lowerBound + CheckpointHeader.chunksOffset
        let capacity = layout.slotCapacity
        func chunkGen(_ i: Int) -> UInt64? {
            let o = base + i * CheckpointChunk.size
            guard p.u32(o + CheckpointChunk.F.magic.offset) == CheckpointChunk.magic,
                  p.u32(o + CheckpointChunk.F.index.offset) == UInt32(i) else { return nil }
            return p.u64(o + CheckpointChunk.F.generation.offset)
        }
        func verifies(_ i: Int, _ g: UInt64) -> CheckpointChunk.Verified? {
            try? CheckpointChunk.verify(p, at: base + i * CheckpointChunk.size, generation: g, index: UInt32(i), seed: seed)
        }
        var generation: UInt64?
        if let h = s.header, h.chunkCount == 0 || (0..<Int(h.chunkCount)).contains(where: { chunkGen($0) == h.generation && verifies($0, h.generation) != nil }) {
            generation = h.generation
        } else {
            // Salvage: the first chunk that verifies on its own names the generation.
            for i in 0..<capacity {
                if let g = chunkGen(i), verifies(i, g) != nil { generation = g; break }
            }
        }
        s.chunkGeneration = generation
        guard let g = generation else {
            if let h = s.header { s.badChunks = (0..<Int(h.chunkCount)).map { ($0, "does not verify") } }
            return s
        }
        // With a header of that generation, its chunks and the one after them
        // (which a lowered chunk_count would hide) are all there is to read:
        // the rest of the slot is never touched, so the work and the pages
        // touched grow with the metadata, not with the slot.
        let limit = s.header.map { $0.generation == g ? min(capacity, Int($0.chunkCount) + 1) : capacity } ?? capacity
        for i in 0..<limit where chunkGen(i) == g {
            if let v = verifies(i, g) { s.chunks.append((i, v)) }
        }
        let expected = s.expectedChunks
        var have = Set(s.chunks.map(\.index))
        for i in 0..<expected where !have.contains(i) {
            let o = base + i * CheckpointChunk.size
            let why: String
            do {
                _ = try CheckpointChunk.verify(p, at: o, generation: g, index: UInt32(i), seed: seed)
                why = "does not verify"
            } catch let e as DaxError { why = e.message } catch { why = "\(error)" }
            s.badChunks.append((i, why))
            have.insert(i)
        }
        return s
    }
}

/// The entries of a checkpoint as fsck reads them, with what was wrong.
struct SalvagedContent {
    /// The inode entries, read in place on the media.
    var inodes: InodeEntries
    var extents: [ExtentRecord] = []
    var free: [BlockRange] = []
    var intents: [IntentRecord] = []
    /// Entries that could not be used, with the reason, for the report.
    var entryProblems: [String] = []
    /// Inodes whose kind field is not 1 or 2 (kept as files, reported in pass 3).
    var badKinds: Set<UInt64> = []
    /// Inodes with non-zero reserved or name padding bytes.
    var dirtyPadding: Set<UInt64> = []
    /// Chunks whose header reserved bytes or payload tail are not zero.
    var dirtyChunks: [Int] = []
}

enum EntryReader {
    /// Decodes every entry of the verified chunks, one by one, without
    /// validating them against each other (later passes do that).
    static func read(_ scan: SlotScan, media: PersistentMedia, layout: Layout) -> SalvagedContent {
        let p = media.bytes
        var out = SalvagedContent(inodes: InodeEntries(media: p))
        // Room for what the header announces, bounded by what the chunks can hold.
        if let h = scan.header {
            let room = UInt64(scan.chunks.count * CheckpointChunk.payloadCapacity)
            out.inodes.reserveCapacity(Int(min(h.inodeCount, room / UInt64(InodeRecord.fixedSize))))
            out.extents.reserveCapacity(Int(min(h.extentCount, room / UInt64(ExtentRecord.size))))
            out.free.reserveCapacity(Int(min(h.freeExtentCount, room / UInt64(BlockRange.size))))
        }
        let sb = layout.sb
        let base = layout.slot(scan.slot).lowerBound + CheckpointHeader.chunksOffset
        let ext = (ino: ExtentRecord.F.ino.offset, fileBlock: ExtentRecord.F.fileBlock.offset,
                   regionBlock: ExtentRecord.F.regionBlock.offset, count: ExtentRecord.F.count.offset)
        @inline(__always) func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        for (index, v) in scan.chunks {
            let chunkStart = base + index * CheckpointChunk.size
            if p.u32(chunkStart + CheckpointChunk.F.reserved.offset) != 0 { out.dirtyChunks.append(index) }
            var at = v.payloadOffset
            let end = v.payloadOffset + v.used
            precondition(v.payloadOffset >= chunkStart && end <= chunkStart + CheckpointChunk.size && chunkStart + CheckpointChunk.size <= p.count)
            var n = 0
            entries: while n < v.count {
                switch v.kind {
                case .inodes:
                    guard let e = scanInode(p, at: at, limit: end - at) else {
                        out.entryProblems.append("checkpoint chunk \(index): inode entry \(n) runs past the chunk's used bytes; the rest of the chunk is lost")
                        break entries
                    }
                    if !e.kindOK { out.badKinds.insert(e.ino) }
                    if !e.clean { out.dirtyPadding.insert(e.ino) }
                    out.inodes.appendOnMedia(offset: at, nameLength: e.nameLength)
                    at += e.size
                case .extents:
                    // In bounds: a verified extent chunk's entries fill exactly its used bytes.
                    out.extents.append(ExtentRecord(ino: InodeNumber(u64(at + ext.ino)), fileBlock: FileBlock(u64(at + ext.fileBlock)),
                                                    regionBlock: BlockNumber(u64(at + ext.regionBlock)), count: BlockCount(u64(at + ext.count))))
                    at += ExtentRecord.size
                case .free:
                    out.free.append(BlockRange.decode(p, at: at))
                    at += BlockRange.size
                case .intents:
                    do {
                        let i = try IntentRecord.decode(p, at: at)
                        if let why = LogRecord.intent(i).problem(in: sb) {
                            out.entryProblems.append("checkpoint chunk \(index): intent entry \(n): \(why)")
                        } else {
                            out.intents.append(i)
                        }
                    } catch let e as DaxError {
                        out.entryProblems.append("checkpoint chunk \(index): intent entry \(n): \(e.message)")
                    } catch {}
                    at += IntentRecord.size
                }
                n += 1
            }
            if n == v.count && at != end {
                out.entryProblems.append("checkpoint chunk \(index): \(v.count) entries fill \(at - v.payloadOffset) bytes, the chunk says \(v.used)")
            }
            let tailStart = min(max(at, v.payloadOffset), chunkStart + CheckpointChunk.size)
            if !allZero(p, tailStart, chunkStart + CheckpointChunk.size) && n == v.count { out.dirtyChunks.append(index) }
        }
        return out
    }

    static func allZero(_ p: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Bool {
        var i = from
        while i < to { if p[i] != 0 { return false }; i += 1 }
        return true
    }

    /// Where one inode entry ends, without the validity checks of
    /// `InodeRecord.decode` (later passes make them): its number, encoded
    /// size and name length, whether its kind is valid, and whether its
    /// reserved and padding bytes are zero. Nil when the entry does not fit
    /// in `limit`. The entry itself stays on the media (`InodeEntries`).
    static func scanInode(_ p: UnsafeRawBufferPointer, at o: Int, limit: Int)
        -> (ino: UInt64, size: Int, nameLength: Int, kindOK: Bool, clean: Bool)? {
        guard limit >= InodeRecord.fixedSize, o >= 0, o + InodeRecord.fixedSize <= p.count else { return nil }
        // The fixed part is in bounds, so its fields need no check of their own.
        @inline(__always) func le<T: FixedWidthInteger>(_ offset: Int, _: T.Type = T.self) -> T {
            T(littleEndian: p.loadUnaligned(fromByteOffset: o + offset, as: T.self))
        }
        let nameLen = Int(le(InodeAt.nameLength, UInt16.self))
        let size = InodeRecord.fixedSize + pad8(nameLen)
        guard size <= limit, o + size <= p.count else { return nil }
        let kindOK = InodeKind(rawValue: le(InodeAt.kind)) != nil
        let clean = allZero(p, o + InodeAt.reserved, o + InodeAt.reservedEnd)
            && allZero(p, o + InodeRecord.fixedSize + nameLen, o + size)
        return (le(InodeAt.ino), size, nameLen, kindOK, clean)
    }
}
