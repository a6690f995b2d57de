import DaxCore
import DaxFSFormat
import DaxFS
import PMem

/// Pass 2, first half: which checkpoint is current, and what it holds.
///
/// Mount's rule comes first: of the slots whose header verifies, the higher
/// generation. When that checkpoint is whole (every chunk verifies against
/// its header) and the log agrees with it, it is used as is. Otherwise fsck
/// salvages: the slot whose verified chunks carry the highest generation,
/// with every chunk and entry that verifies. The sequence to replay from is
/// cross-checked with the first transaction of the log, which after any
/// checkpoint is either stale (older than both slots' replay_seq allow) or
/// exactly the current checkpoint's replay_seq. Reads only.
struct CheckpointPass {
    var slot: Int
    var header: CheckpointHeader?
    /// The generation of the chosen checkpoint's chunks (or its header's).
    var generation: UInt64
    var replaySeq: LogSequence
    var salvaged: SalvagedContent
    var found: [Found] = []

    static func run(media: PersistentMedia, layout: Layout) -> CheckpointPass {
        var scans = [SlotScan.scan(slot: 0, media: media, layout: layout, chunks: false),
                     SlotScan.scan(slot: 1, media: media, layout: layout, chunks: false)]
        var scanned = [false, false]
        func full(_ i: Int) -> SlotScan {
            if !scanned[i] { scans[i] = SlotScan.scan(slot: i, media: media, layout: layout); scanned[i] = true }
            return scans[i]
        }
        let logFirst = firstLogSequence(media: media, layout: layout)
        func whole(_ s: SlotScan) -> Bool {
            guard let h = s.header else { return false }
            return s.chunkGeneration == h.generation && s.badChunks.isEmpty && !s.chunks.contains { $0.index >= Int(h.chunkCount) }
        }
        let withHeader = scans.filter { $0.header != nil }
        let mountChoice = withHeader.max { ($0.header!.generation, 1 - $0.slot) < ($1.header!.generation, 1 - $1.slot) }
            .map { full($0.slot) }
        var chosen: SlotScan
        if let m = mountChoice, whole(m) {
            chosen = m
            if let f = logFirst, f > m.header!.replaySeq {
                let other = full(1 - m.slot)
                if let g = other.chunkGeneration, g > m.header!.generation {
                    chosen = other   // the newer checkpoint's header is damaged; the log continues from it
                }
            }
        } else {
            let salvageable = [full(0), full(1)].filter { $0.chunkGeneration != nil }
            chosen = salvageable.max { ($0.chunkGeneration!, $0.slot == mountChoice?.slot ? 1 : 0) < ($1.chunkGeneration!, $1.slot == mountChoice?.slot ? 1 : 0) }
                ?? mountChoice ?? full(0)
        }
        let other = scans[1 - chosen.slot]
        let generation = chosen.chunkGeneration ?? chosen.header?.generation ?? 1
        var pass = CheckpointPass(slot: chosen.slot, header: chosen.header, generation: max(generation, 1),
                                  replaySeq: chosen.header?.replaySeq ?? logFirst ?? LogSequence(1),
                                  salvaged: EntryReader.read(chosen, media: media, layout: layout))
        func note(_ c: ProblemCode, _ m: String) { pass.found.append(Found(c, m)) }

        if chosen.chunkGeneration == nil && chosen.header == nil {
            note(.checkpointHeaderBad, "no checkpoint header and no checkpoint chunk verifies; the metadata is lost and rebuilt empty")
        } else if chosen.header == nil {
            note(.checkpointHeaderBad, "checkpoint slot \(chosen.slot): header does not verify (\(chosen.headerProblem ?? "no header magic")); rebuilt from its chunks of generation \(generation)")
        } else if let h = chosen.header, let g = chosen.chunkGeneration, g != h.generation {
            note(.checkpointGeneration, "checkpoint slot \(chosen.slot): header generation \(h.generation), its chunks have generation \(g)")
        }
        if let h = other.header, other.slot != chosen.slot, h.generation >= generation {
            note(.checkpointGeneration, "checkpoint slot \(other.slot): header claims generation \(h.generation), not older than the current checkpoint (\(generation)), but its chunks do not match it")
        }
        for (i, (index, why)) in chosen.badChunks.enumerated() {
            if i == 20 { note(.checkpointChunkBad, "checkpoint slot \(chosen.slot): \(chosen.badChunks.count - 20) more chunks do not verify"); break }
            note(.checkpointChunkBad, "checkpoint slot \(chosen.slot): chunk \(index) does not verify (\(why)); its entries are lost")
        }
        if let h = chosen.header {
            let extra = chosen.chunks.filter { $0.index >= Int(h.chunkCount) }.count
            if extra > 0 { note(.checkpointCounts, "checkpoint header counts \(h.chunkCount) chunks, \(Int(h.chunkCount) + extra) verify") }
            let c = pass.salvaged
            if chosen.badChunks.isEmpty && c.entryProblems.isEmpty,
               h.inodeCount != UInt64(c.inodes.count) || h.extentCount != UInt64(c.extents.count)
                || h.freeExtentCount != UInt64(c.free.count) || h.intentCount != UInt64(c.intents.count) {
                note(.checkpointCounts, "checkpoint header counts \(h.inodeCount) inodes, \(h.extentCount) extents, \(h.freeExtentCount) free runs, \(h.intentCount) intents; its chunks hold \(c.inodes.count), \(c.extents.count), \(c.free.count), \(c.intents.count)")
            }
            let raw = media.view(at: layout.slot(chosen.slot).lowerBound, count: CheckpointHeader.size)
            let r = CheckpointHeader.F.reserved
            if !(r.offset..<r.end).allSatisfy({ raw[$0] == 0 }) { note(.checkpointReserved, "checkpoint slot \(chosen.slot): header reserved bytes are not zero") }
        }
        for index in pass.salvaged.dirtyChunks { note(.checkpointReserved, "checkpoint slot \(chosen.slot): chunk \(index) has non-zero reserved or unused bytes") }
        for (i, m) in pass.salvaged.entryProblems.enumerated() {
            if i == 20 { note(.checkpointEntryBad, "\(pass.salvaged.entryProblems.count - 20) more checkpoint entries are damaged"); break }
            note(.checkpointEntryBad, m)
        }
        // Sequences near 2^64 would overflow the replay's "next sequence" (the engine adds 1).
        let limit = LogSequence(1 << 63)
        if pass.replaySeq > limit {
            note(.checkpointHeaderBad, "checkpoint slot \(chosen.slot): replay_seq \(pass.replaySeq) is above 2^63")
            pass.replaySeq = logFirst.flatMap { $0 <= limit ? $0 : nil } ?? LogSequence(1)
        }
        if let f = logFirst, f <= limit {
            let r = pass.replaySeq
            let otherOlder = other.header.flatMap { $0.generation < generation ? $0.replaySeq : nil }
            if f > r || (f < r && otherOlder.map { f > $0 } == true) {
                note(.replaySeqSkipsLog, "the checkpoint says replay starts at sequence \(r), but the log starts with committed transaction \(f)")
                pass.replaySeq = f
            }
        }
        return pass
    }

    /// The sequence of the transaction at offset 0 of the log, when one of
    /// this filesystem verifies there (checksum and records), else nil.
    static func firstLogSequence(media: PersistentMedia, layout: Layout) -> LogSequence? {
        let p = media.bytes
        let o = layout.log.lowerBound
        guard o + TransactionHeader.size <= layout.log.upperBound else { return nil }
        let seq = LogSequence(p.u64(o + TransactionHeader.F.seq.offset))
        guard seq.raw > 0 else { return nil }
        if case .transaction = Transaction.decode(p, at: o, end: layout.log.upperBound, expected: seq, sb: layout.sb) { return seq }
        return nil
    }
}
