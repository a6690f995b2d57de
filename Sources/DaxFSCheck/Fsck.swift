import DaxCore
import DaxFSFormat
import DaxFS
import PMem
import Synchronization

/// How to run a check.
public struct CheckOptions: Sendable {
    public var mode: CheckMode = .check
    /// Check fully even when the filesystem is marked clean (`-f`).
    public var force = false
    /// Called with (pass, current, max) as the check advances (`-C`).
    public var progress: (@Sendable (Int, Int, Int) -> Void)?
    /// Polled between passes; when it returns true the check stops with
    /// `CheckCancelled` before it writes anything.
    public var isCancelled: (@Sendable () -> Bool)?
    /// Keep the checked state allocated when `check` returns, for a process
    /// that exits right after it (the CLI): freeing 100,000 inodes one by
    /// one costs a tenth of a full check, and exit frees them all at once.
    public var keepStateAtExit = false
    public init(mode: CheckMode = .check, force: Bool = false) { self.mode = mode; self.force = force }
}

/// Thrown when `CheckOptions.isCancelled` says so; nothing has been written.
public struct CheckCancelled: Error, Sendable {}

/// fsck: checks a region from its media, and repairs it.
///
/// Passes, in order, as e2fsck and xfs_repair lay them out: 1 superblocks;
/// 2 checkpoint and log, including pending intents; 3 inodes; 4 extent maps;
/// 5 block ownership; 6 directory tree; 7 counts and free space. The check
/// reads the media itself (read-only mapping for `-n`), so it sees damage
/// that mount refuses; it never traps on bad bytes.
///
/// A repair writes, in this order, each step durable before the next: the
/// superblock copies that need it; then, when anything past pass 1 needs
/// fixing, a fresh checkpoint of the repaired state into the slot that is
/// not current (the checkpoint's own persistence order), then a zeroed log;
/// then pending intents are finished by a read-write mount of the engine
/// (its own recovery), and the filesystem is marked clean. A crash during a
/// repair leaves either the old or the new checkpoint current, and running
/// fsck again finishes the job.
///
/// Memory grows with the number of inodes, extents and free runs, never
/// with the size of the region.
public enum Fsck {
    /// Checks (and with `.preen` or `.repair`, repairs) the region at `path`.
    ///
    /// `-n` maps read-only and takes the region lock shared when it can (a
    /// region mounted read-write elsewhere is still checked, with a warning).
    /// A repair takes the lock exclusive and fails with EBUSY, writing
    /// nothing, when another process has the region mounted.
    public static func check(path: String, options: CheckOptions) throws -> CheckReport {
        _ = try RegionPath.inspect(path)
        if options.mode == .check {
            let lock = try? RegionLock(path: path, exclusive: false)
            let media = try MappedRegion.map(path, readOnly: true, lock: lock)
            var r = try check(media: media, name: path, options: options)
            if lock == nil { r.warnings.append("\(path) is mounted read-write by another process; the check may see it change") }
            return r
        }
        let lock: RegionLock
        do {
            lock = try RegionLock(path: path, exclusive: true)
        } catch let e as DaxError where e.code == .EBUSY {
            throw DaxError(.EBUSY, "refusing to repair: \(e.message)").with("region", path)
        }
        defer { lock.release() }
        let media = try MappedRegion.map(path, readOnly: false, lock: lock)
        return try check(media: media, name: path, options: options)
    }

    /// Checks a mapped media (tests drive fsck through this for speed).
    public static func check(media: PersistentMedia, name: String = "<media>", options: CheckOptions) throws -> CheckReport {
        let t0 = monotonicNanoseconds()
        var report = CheckReport(region: name, mode: options.mode)
        let progress: (Int, Int, Int) -> Void = { options.progress?($0, $1, $2) }
        func checkCancel() throws { if options.isCancelled?() == true { throw CheckCancelled() } }

        // Pass 1: superblocks.
        progress(1, 0, 1)
        let sbPass = try SuperblockPass.run(media)
        var found = sbPass.found
        let sb = sbPass.sb
        let layout = Layout(sb)
        progress(1, 1, 1)
        try checkCancel()

        // Pass 2: checkpoint, log, intents.
        progress(2, 0, 3)
        var ck = CheckpointPass.run(media: media, layout: layout)
        found += ck.found
        progress(2, 1, 3)
        let scan = LogScan.scan(media: media, layout: layout, replaySeq: ck.replaySeq)
        let lost = unreachableTransactions(media: media, layout: layout, after: scan.tail, from: scan.nextSeq)
        if lost > 0 {
            found.append(Found(.logUnreachable, "the log ends at offset \(scan.tail) (\(stopText(scan.stop))), but \(lost) committed transactions follow; they cannot be replayed"))
        } else if case .corrupt(let why) = scan.stop {
            found.append(Found(.logTornTail, "torn or corrupt log tail at offset \(scan.tail): \(why)"))
        }
        report.counts.logTransactions = scan.transactions.count
        report.counts.logRecords = scan.recordCount
        progress(2, 2, 3)

        let clean = sbPass.primaryState?.isClean == true
        if !options.force && clean && found.isEmpty, let h = ck.header, h.intentCount == 0 {
            report.quick = true
            report.counts.inodes = Int(h.inodeCount)
            report.counts.extents = Int(h.extentCount)
            report.counts.dataBlocks = sb.dataBlockCount.raw
            report.counts.freeBlocks = h.freeBlocks
            report.counts.usedBlocks = sb.dataBlockCount.raw - h.freeBlocks
            report.elapsedNanoseconds = monotonicNanoseconds() - t0
            return report
        }
        try checkCancel()

        // Passes 3-7 on the checkpoint, then the log replayed on the result, then 3-7 again.
        // Numbers the engine would overflow on (it adds 1 to them) end the log like a record that does not fit.
        var transactions = scan.transactions.map(\.records)
        if let bad = transactions.firstIndex(where: { $0.contains(where: Self.exhaustsCounter) }) {
            found.append(Found(.logReplayFails, "log transaction \(scan.transactions[bad].seq) names an inode or intent number above 2^63; it and the \(transactions.count - bad - 1) after it are cut"))
            transactions.removeSubrange(bad...)
        }
        var first = StateRepair(sb: sb, context: "")
        let logInos = scan.transactions.lazy.flatMap(\.records).compactMap { r -> UInt64? in
            if case .inode(let i) = r { return i.ino.raw } else { return nil }
        }
        // Pass 3 takes the checkpoint's inode entries over (it compacts them in place).
        let salvagedInodes = ck.salvaged.inodes
        ck.salvaged.inodes = InodeEntries([])
        let before = first.run(.init(inodes: salvagedInodes, extents: ck.salvaged.extents, free: ck.salvaged.free,
                                      intents: ck.salvaged.intents, nextIno: ck.header?.nextIno.raw,
                                      nextIntentID: ck.header?.nextIntentID, firstNewIno: min(logInos.max() ?? 1, StateRepair.counterLimit) + 1,
                                      claimedFreeBlocks: ck.header?.freeBlocks,
                                      badKinds: ck.salvaged.badKinds, dirtyPadding: ck.salvaged.dirtyPadding), progress: progress)
        found += first.found
        let replayHeader = CheckpointHeader(
            generation: ck.generation, replaySeq: ck.replaySeq, nextIno: InodeNumber(before.nextIno), nextIntentID: before.nextIntentID,
            inodeCount: UInt64(before.inodes.count), extentCount: UInt64(before.extentCount),
            freeExtentCount: UInt64(before.free.count), intentCount: UInt64(before.intents.count),
            freeBlocks: before.freeBlocks, chunkCount: 0, salt: sb.logSalt, time: 0)
        // (The outcome's content is read only when a transaction was applied.)
        var outcome = CheckReplay.Outcome(content: CheckpointContent(), nextIno: before.nextIno, nextIntentID: before.nextIntentID,
                                          applied: 0, failure: nil)
        do {
            if !transactions.isEmpty {
                outcome = try CheckReplay.replay(before.content, header: replayHeader, sb: sb, transactions: transactions)
            }
        } catch let e as DaxError {
            throw InternalError(message: "the repaired checkpoint does not load: \(e.message)")
        }
        if let why = outcome.failure {
            let t = scan.transactions[outcome.applied]
            found.append(Found(.logReplayFails, "log transaction \(t.seq) at offset \(t.offset) does not fit the filesystem: \(why); it and the \(scan.transactions.count - outcome.applied - 1) after it are cut"))
        }
        var final = before
        if outcome.applied > 0 {
            var second = StateRepair(sb: sb, context: "after log replay: ")
            let c = outcome.content
            final = second.run(.init(inodes: InodeEntries(c.inodes), extents: c.extents, free: c.free, intents: c.intents,
                                     nextIno: outcome.nextIno, nextIntentID: outcome.nextIntentID, claimedFreeBlocks: nil),
                               progress: progress)
            found += second.found
        }
        for i in final.intents {
            found.append(Found(.intentPending, "intent \(i.id) (\(i.kind) of inode \(i.ino1)) is pending: \(i.done) of \(i.count) blocks done"))
        }
        try checkCancel()

        // Decisions.
        let codes = Set(found.map(\.code))
        let ordered = found.enumerated().sorted { ($0.element.code.pass, $0.offset) < ($1.element.code.pass, $1.offset) }.map(\.element)
        report.problems = ordered.map {
            .init(code: $0.code, pass: $0.code.pass, message: $0.message, preenSafe: $0.code.preenSafe, fix: $0.code.fix,
                  action: decide($0.code, mode: options.mode, allFound: codes))
        }
        let fixing = report.problems.contains { $0.action == .fixed }
        var finishedByEngine: Int?
        let allFixed = !report.problems.contains { $0.action == .notFixed }

        // Repair.
        if fixing {
            precondition(!media.isReadOnly, "a repair needs a writable mapping")
            if sbPass.rewritePrimary {
                media.store(sb.encode(state: .dirty), at: 0)
                media.persist(at: 0, count: Superblock.size)
                report.writes.append("restored the primary superblock")
            }
            if sbPass.rewriteBackup {
                media.store(sb.encode(state: .clean), at: Int(sb.backupOffset))
                media.persist(at: Int(sb.backupOffset), count: Superblock.size)
                report.writes.append("rewrote the backup superblock")
            }
            if report.problems.contains(where: { $0.pass >= 2 && $0.code != .intentPending }) {
                let newGen = ck.generation &+ 1 == 0 ? ck.generation : ck.generation + 1
                var seq = ck.replaySeq.raw &+ UInt64(outcome.applied) &+ 1
                if seq < ck.replaySeq.raw || seq == 0 { seq = 1 }
                let header = CheckpointHeader(
                    generation: newGen, replaySeq: LogSequence(seq), nextIno: InodeNumber(final.nextIno),
                    nextIntentID: final.nextIntentID, inodeCount: 0, extentCount: 0, freeExtentCount: 0, intentCount: 0,
                    freeBlocks: final.freeBlocks, chunkCount: 0, salt: sb.logSalt, time: UInt64(max(0, wallClockNanoseconds())))
                let target = 1 - ck.slot
                try CheckpointIO.write(final.content, header: header, slot: target, media: media, layout: layout)
                report.writes.append("wrote checkpoint generation \(newGen) of the repaired state to slot \(target)")
                media.fill(0, at: layout.log.lowerBound, count: layout.log.count)
                media.fence()
                report.writes.append("emptied the log")
                if let h = ck.header, h.generation >= newGen {
                    media.store([UInt8](repeating: 0, count: CheckpointHeader.size), at: layout.slot(ck.slot).lowerBound)
                    media.persist(at: layout.slot(ck.slot).lowerBound, count: CheckpointHeader.size)
                    report.writes.append("invalidated the damaged header of slot \(ck.slot)")
                }
            }
            if !final.intents.isEmpty {
                do {
                    let fs = try Filesystem.mount(media: media, name: name)
                    let u = try fs.usage()
                    try fs.unmount()
                    final.freeBlocks = u.freeBlocks
                    final.intents = []
                    finishedByEngine = u.inodes
                } catch let e as DaxError {
                    throw DaxError(e.code, "the engine could not finish the pending intents: \(e.message)")
                }
                report.writes.append("finished the pending intents through a read-write mount")
            }
        }
        if options.mode != .check && allFixed && !media.isReadOnly {
            let word = media.bytes.u64(Superblock.stateWordOffset)
            if word != MountState.clean.word {
                media.storeWord(MountState.clean.word, at: Superblock.stateWordOffset)
                media.persist(at: Superblock.stateWordOffset, count: 8)
                report.writes.append("marked the filesystem clean")
            }
        }

        if options.keepStateAtExit { KeptAtExit.states.withLock { $0 += [final.inodes.recordsInDRAM, before.inodes.recordsInDRAM] } }
        report.counts.inodes = finishedByEngine ?? final.inodes.count
        report.counts.directories = final.directories
        report.counts.files = report.counts.inodes - report.counts.directories
        report.counts.extents = final.extentCount
        report.counts.dataBlocks = sb.dataBlockCount.raw
        report.counts.freeBlocks = final.freeBlocks
        report.counts.usedBlocks = sb.dataBlockCount.raw - final.freeBlocks
        report.counts.pendingIntents = final.intents.count
        report.exitStatus = report.problems.isEmpty ? FsckExit.clean : (allFixed ? FsckExit.corrected : FsckExit.uncorrected)
        report.elapsedNanoseconds = monotonicNanoseconds() - t0
        return report
    }

    /// Committed transactions of this filesystem after `tail` with a
    /// sequence at or above `from`: what a damaged transaction cuts off.
    ///
    /// The engine never writes a transaction larger than 1 MiB and writes
    /// them back to back, so the first one after a damaged one starts within
    /// 1 MiB of it; only that window is searched, then the chain is followed.
    /// - Complexity: O(1 MiB / 8) cheap checks, a CRC pass per candidate.
    static func unreachableTransactions(media: PersistentMedia, layout: Layout, after tail: Int, from: LogSequence) -> Int {
        let p = media.bytes
        let end = layout.log.upperBound
        var o = layout.log.lowerBound + tail + 8
        let window = min(end, o + (1 << 20) + TransactionHeader.size)
        var n = 0
        while o + TransactionHeader.size <= end && (n > 0 || o < window) {
            if p.u32(o) == TransactionHeader.magic && p.u64(o + TransactionHeader.F.salt.offset) == layout.sb.logSalt {
                let seq = LogSequence(p.u64(o + TransactionHeader.F.seq.offset))
                if seq >= from, case .transaction(_, _, let len) = Transaction.decode(p, at: o, end: end, expected: seq, sb: layout.sb) {
                    n += 1
                    o += len
                    continue
                }
            }
            if n > 0 { break }     // the chain ended
            o += 8
        }
        return n
    }

    static func exhaustsCounter(_ r: LogRecord) -> Bool {
        let limit = StateRepair.counterLimit
        switch r {
        case .inode(let i): return i.ino.raw > limit
        case .intent(let i): return i.id > limit
        default: return false
        }
    }

    static func stopText(_ s: Transaction.Stop) -> String {
        switch s {
        case .noTransaction: "no transaction there"
        case .staleSequence(let q): "stale transaction \(q)"
        case .corrupt(let why): why
        }
    }
}

/// States kept for `CheckOptions.keepStateAtExit`.
enum KeptAtExit {
    static let states = Mutex<[[InodeRecord]]>([])
}

/// A bug in fsck itself (exit 128): the repaired state did not load.
public struct InternalError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "internal error: \(message)" }
}
