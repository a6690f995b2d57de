import Foundation
import Testing
import DaxCore
import DaxFS
import DaxFSCheck
import DaxFSFormat
import DaxFSTestSupport

/// Field fuzzing, as the xfstests `xfs_db fuzz` loop does it: every field of
/// every on-media record of the populated image (both superblocks, the
/// current checkpoint header and the header of the slot that is not
/// current, the first chunk header of each kind, three inode entries, an
/// extent entry, a free-space entry, the first log transaction header and
/// its first record header), the intent entry of a checkpoint that holds a
/// pending collapse, and every payload field of the first log record of
/// each of the 12 types (`FsckImages.everyLogRecord`; an INODE record's
/// padded name too) is set with each of zeroes, ones, first bit, middle
/// bit, last bit, add, sub and random; each case once with its checksum
/// re-sealed (valid: for a log record its own CRC and then its
/// transaction's, so the value reaches replay and the passes after it) and
/// once without (invalid).
///
/// For every case: fsck -n finds a problem (exit 4), except for the values
/// listed in `FuzzExceptions` (fields whose value is valid, and the slot
/// that is not current, which must check clean); fsck -y exits 0 or 1;
/// fsck -y again changes nothing (idempotence); fsck -n then exits 0; the
/// image mounts, takes a write, unmounts and checks clean. Nothing traps.
/// fsck runs through the library on an in-memory media, read-only for -n (a
/// store to it would trap).
@Suite struct FieldFuzzTests {
    /// The images fuzzed check clean before any fuzz, or every case would
    /// count as detected (the intent image holds a pending intent on purpose).
    @Test func baseImagesCheckClean() throws {
        for record in ["superblock", "log_inode"] {
            let base = try FuzzTargets.image(for: record)
            let r = try Fsck.check(media: RecordingMedia(image: base.bytes, isReadOnly: true, capturesPayloads: false),
                                   options: CheckOptions(mode: .check, force: true))
            #expect(r.exitStatus == 0, "\(record)'s image: \(r.problems.map(\.message))")
        }
        // Every log record type is fuzzed, in the log of the image that holds them all.
        let log = try FuzzTargets.image(for: "log_inode")
        for t in LogRecord.RecordType.allCases { #expect(log.firstLogRecord(t) != nil, "no \(t.name) record in the log image") }
        // The facts `LogImage` states about the records fuzzed.
        let scan = LogScan.scan(media: RecordingMedia(image: log.bytes, isReadOnly: true, capturesPayloads: false),
                                layout: log.layout, replaySeq: log.header.replaySeq)
        let records = scan.transactions.flatMap(\.records)
        func first(_ t: LogRecord.RecordType) -> LogRecord? { records.first { $0.type == t } }
        if case .inode(let r) = first(.inode) { #expect(r.ino == 9 && r.parent == .root && r.name == Array("d".utf8) && r.kind == .file) }
        else { Issue.record("no INODE record") }
        if case .inodeAttr(let a) = first(.inodeAttr) { #expect(a.ino == .root && a.size == 0) } else { Issue.record("no INODE_ATTR record") }
        if case .extentMap(let e) = first(.extentMap) { #expect(e.ino == 9 && e.fileBlock == 0 && e.count == 2) } else { Issue.record("no EXTENT_MAP record") }
        #expect(first(.extentUnmap) == .extentUnmap(6, 0, 2))
        #expect(first(.extentShift) == .extentShift(5, from: 2, delta: -1))
        if case .intent(let i) = first(.intent) {
            #expect(i.kind == .swapExtents && i.id == 1 && i.ino1 == 7 && i.ino2 == 8 && i.count == 5 && i.block1 == 0 && i.block2 == 0)
        } else { Issue.record("no INTENT record") }
        #expect(first(.intentProgress) == .intentProgress(id: 1, done: 1))
        #expect(first(.extentSwap) == .extentSwap(ino1: 7, block1: 0, ino2: 8, block2: 0, count: 1))
    }

    /// Why damage to the slot that is not current is not a problem: a crash
    /// during a checkpoint leaves that slot's header torn (it is written
    /// into that slot, header last), and such an image is consistent. At
    /// every persist point of a checkpoint, every crash image checks clean,
    /// and some of them have a header there that has the magic but does not
    /// verify.
    @Test func aCrashInACheckpointLeavesATornHeaderThatChecksClean() throws {
        let base = try FsckImage(try FsckImages.populated())
        let other = base.otherSlotOffset
        let media = RecordingMedia(image: base.bytes, capturesPayloads: true)
        let fs = try Filesystem.mount(media: media)
        var images = 0, torn = 0, failures: [String] = []
        media.onCrashPoint = { point in
            CrashImages(point: point, seed: 3, configuration: .bounded).forEach { image in
                images += 1
                let bytes = image.materialize(base: point.media)
                let header = Array(bytes[other..<(other + CheckpointHeader.size)])
                let verifies = header.withUnsafeBytes { (try? CheckpointHeader.decode($0, sb: base.sb, capacity: base.layout.slotCapacity)) != nil }
                if header.prefix(8).elementsEqual(CheckpointHeader.magic) && !verifies { torn += 1 }
                do {
                    let r = try Fsck.check(media: RecordingMedia(image: bytes, isReadOnly: true, capturesPayloads: false),
                                           options: CheckOptions(mode: .check, force: true))
                    if r.exitStatus != 0 { failures.append("\(image.location): fsck -n exited \(r.exitStatus): \(r.problems.map(\.message))") }
                } catch {
                    failures.append("\(image.location): \(error)")
                }
            }
        }
        try fs.checkpoint()
        media.onCrashPoint = nil
        try fs.unmount()
        #expect(failures.isEmpty, "\(failures.count) of \(images) crash images: \(failures.prefix(5))")
        #expect(torn > 0, "no crash image tore the header of the slot being written (\(images) images)")
    }

    /// One test per record, so that swift-testing runs them in parallel.
    @Test(arguments: FuzzTargets.records)
    func everyFieldOf(_ record: String) throws {
        let base = try FuzzTargets.image(for: record)
        let targets = FuzzTargets.targets(record, in: base)
        #expect(!targets.isEmpty)
        var cases = 0, detected = 0, exempt = 0
        var failures: [String] = []
        var rng = SeededRandom(seed: 0xF5CC)
        for t in targets {
            for mutation in Mutation.allCases {
                for sealed in [true, false] {
                    if sealed && !t.sealable { continue }
                    var image = base
                    let old = image.bytes[t.offset..<(t.offset + t.field.size)]
                    mutation.apply(&image.bytes, at: t.offset, field: t.field, rng: &rng)
                    let new = image.bytes[t.offset..<(t.offset + t.field.size)]
                    if old == new { continue }
                    if sealed { t.seal(&image) }
                    cases += 1
                    let name = "\(t.name) \(mutation) \(sealed ? "valid" : "invalid") crc"
                    let mayBeValid = FuzzExceptions.valid(t, old: Array(old), new: Array(new), sealed: sealed)
                    if mayBeValid { exempt += 1 }
                    let expect: FsckCase.Expect = mayBeValid ? (FuzzExceptions.pinnedClean.contains(record) ? .clean : .either) : .detected
                    if ProcessInfo.processInfo.environment["DAXFS_FUZZ_TRACE"] != nil { FileHandle.standardError.write(Data((name + "\n").utf8)) }
                    if let why = FsckCase.run(image.bytes, expect: expect, detected: &detected) {
                        failures.append("\(name): \(why)")
                    }
                }
            }
        }
        print("field fuzz \(record): \(targets.count) fields, \(cases) cases, \(detected) detected by fsck -n, \(exempt) with a value that may be valid")
        for f in failures.prefix(40) { Issue.record(Comment(rawValue: f)) }
        #expect(failures.isEmpty, "\(failures.count) of \(cases) cases failed")
        #expect(cases >= targets.count * 4)
    }
}

/// One fuzzed image through the whole contract; returns why it failed, or nil.
enum FsckCase {
    /// What fsck -n must say about the case.
    enum Expect {
        /// Exit 4: the damage is found.
        case detected
        /// Exit 0 or 4: the fuzzed value may be a valid one.
        case either
        /// Exit 0: fsck deliberately does not report this (the slot that is not current).
        case clean
    }

    static func run(_ bytes: [UInt8], expect: Expect, detected: inout Int) -> String? {
        do {
            let check = try Fsck.check(media: RecordingMedia(image: bytes, isReadOnly: true, capturesPayloads: false),
                                       options: CheckOptions(mode: .check, force: true))
            if check.exitStatus == FsckExit.uncorrected { detected += 1 }
            if expect == .detected && check.exitStatus != FsckExit.uncorrected { return "fsck -n exited \(check.exitStatus), expected 4" }
            if expect == .clean && check.exitStatus != 0 { return "fsck -n exited \(check.exitStatus), expected 0: \(check.problems.map(\.message))" }
            if check.exitStatus != 0 && check.exitStatus != 4 { return "fsck -n exited \(check.exitStatus)" }
            let media = RecordingMedia(image: bytes, capturesPayloads: false)
            let fix = try Fsck.check(media: media, options: CheckOptions(mode: .repair, force: true))
            guard fix.exitStatus == 0 || fix.exitStatus == 1 else { return "fsck -y exited \(fix.exitStatus): \(fix.problems.map(\.message))" }
            let repaired = media.cacheImage
            let again = try Fsck.check(media: media, options: CheckOptions(mode: .repair, force: true))
            if again.exitStatus != 0 || !media.cacheEquals(repaired) {
                return "a second fsck -y was not a no-op (exit \(again.exitStatus)): \(again.problems.map(\.message)) after \(fix.problems.map(\.message))"
            }
            let recheck = try Fsck.check(media: RecordingMedia(image: repaired, isReadOnly: true, capturesPayloads: false),
                                         options: CheckOptions(mode: .check, force: true))
            if recheck.exitStatus != 0 { return "fsck -n after fsck -y exited \(recheck.exitStatus): \(recheck.problems.map(\.message)) after \(fix.problems.map(\.message))" }
            let fs = try Filesystem.mount(media: media)
            let f = try fs.create("/after-fsck")
            try fs.write(f, at: 0, [UInt8](repeating: 0x5A, count: 8192))
            if try fs.read(f, at: 0, count: 8193) != [UInt8](repeating: 0x5A, count: 8192) { return "a write after repair reads back wrong" }
            try fs.checkInvariants()
            try fs.unmount()
            let last = try Fsck.check(media: RecordingMedia(image: media.cacheImage, isReadOnly: true, capturesPayloads: false),
                                      options: CheckOptions(mode: .check, force: true))
            if last.exitStatus != 0 { return "fsck -n after a write exited \(last.exitStatus): \(last.problems.map(\.message))" }
            return nil
        } catch {
            return "threw \(error)"
        }
    }
}

enum Mutation: CaseIterable, CustomStringConvertible {
    case zeroes, ones, firstBit, middleBit, lastBit, add, sub, random
    var description: String {
        switch self {
        case .zeroes: "zeroes"
        case .ones: "ones"
        case .firstBit: "firstbit"
        case .middleBit: "middlebit"
        case .lastBit: "lastbit"
        case .add: "add"
        case .sub: "sub"
        case .random: "random"
        }
    }

    func apply(_ b: inout [UInt8], at o: Int, field: Field, rng: inout SeededRandom) {
        let n = field.size
        func flip(_ bit: Int) { b[o + bit / 8] ^= UInt8(1) << (bit % 8) }
        switch self {
        case .zeroes: for i in 0..<n { b[o + i] = 0 }
        case .ones: for i in 0..<n { b[o + i] = 0xFF }
        case .firstBit: flip(0)
        case .middleBit: flip(n * 8 / 2)
        case .lastBit: flip(n * 8 - 1)
        case .add, .sub:
            // Little-endian add or subtract of 1 over the whole field, wrapping.
            var i = 0
            while i < n {
                let before = b[o + i]
                b[o + i] = self == .add ? before &+ 1 : before &- 1
                if (self == .add && before != 0xFF) || (self == .sub && before != 0) { break }
                i += 1
            }
        case .random: for i in 0..<n { b[o + i] = UInt8(truncatingIfNeeded: rng.next()) }
        }
    }
}
