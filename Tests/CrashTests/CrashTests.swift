import Foundation
import Testing
import DaxCore
import DaxFS
import DaxFSCheck
import DaxFSFormat
import DaxFSTestSupport
import PMem

/// Crash consistency at every persist point.
///
/// CI runs the bounded configuration (at most 48 images per crash point,
/// recovery crashed for one image in 16). The full configuration — every
/// subset of size 1 and 2, the powerset up to 10 pending stores, 64 random
/// subsets beyond, recovery crashed for one image in 4 — is one command:
///
///     DAXFS_CRASH_FULL=1 swift test --filter CrashTests
///
/// A failure is saved under crash-failures/ with its image, store log,
/// subset and seed; the README there names the command that replays it.
@Suite struct CrashTests {
    static let full = ProcessInfo.processInfo.environment["DAXFS_CRASH_FULL"] == "1"

    static var harness: CrashHarness {
        full ? CrashHarness(configuration: .full, nestedEvery: 4, nestedConfiguration: .bounded)
             : CrashHarness(configuration: .bounded, nestedEvery: 16)
    }

    static let starts: [(name: String, image: [UInt8])] = (try? CrashScenarios.startingImages()) ?? []

    @Test(arguments: CrashScenarios.all.map(\.name))
    func operationSurvivesACrashAtEveryPersistPoint(_ name: String) throws {
        let scenario = try #require(CrashScenarios.named(name))
        #expect(Self.starts.count == 2, "the starting images could not be built")
        for start in Self.starts {
            let run = try Self.harness.run(scenario, from: start.image, startName: start.name)
            print("crash: \(run)")
            #expect(run.crashPoints > 0, "\(run.name): no crash point was reached")
            #expect(run.failures.isEmpty, "\(run.name): \(run.failures.prefix(3).joined(separator: "\n"))\nsaved: \(run.savedFailure ?? "-")")
        }
    }

    /// The extents per file of the big swap below (DAXFS_SWAP_EXTENTS to try another count).
    static let bigExtents = Int(ProcessInfo.processInfo.environment["DAXFS_SWAP_EXTENTS"] ?? "") ?? 10_000

    /// swap-extents of two files of 10,000 one-block extents each, on a
    /// 96 MiB image, with 64 KiB transactions so that the swap takes about
    /// 20 steps (512 extents each) behind its intent. Every persist point is
    /// crashed (2 images each, 48 in the full configuration), and one image in 16 is crashed
    /// again at every persist point of its recovery. Each image must mount
    /// to exactly the before or the after state: every block of both files
    /// carries a tag naming its file and index, sizes are checked, the
    /// engine's invariants hold, and `fsck -fn` finds nothing. (The generic harness reads every byte of
    /// every file per image, which at 80 MiB of data is too slow here.)
    @Test func swapOfTenThousandExtentsSurvivesACrashAtEveryPersistPoint() throws {
        let n = Self.bigExtents
        var options = Filesystem.Options()
        options.transactionLimit = 64 << 10
        let start = try CrashHarness.formattedImage(size: 96 << 20, logSize: 1 << 20, checkpointSize: 2 << 20)
        let base = try CrashHarness.image(from: start, options: options) { fs in
            let a = try fs.create("/big1"), b = try fs.create("/big2")
            var block = [UInt8](repeating: 0x5A, count: 4096)
            for i in 0..<n {
                for (f, tag) in [(a, UInt64(1)), (b, UInt64(2))] {
                    block.withUnsafeMutableBytes { $0.storeBytes(of: (tag << 32 | UInt64(i)).littleEndian, as: UInt64.self) }
                    try fs.write(f, at: UInt64(i) * 4096, block)
                }
            }
        }
        /// 1 when /big1 holds its own blocks (before), 2 when it holds /big2's
        /// (after); else why not.
        func state(_ fs: Filesystem) throws -> Result<UInt64, DaxError> {
            try fs.checkInvariants()
            var owners: [UInt64] = []
            for path in ["/big1", "/big2"] {
                let f = try fs.lookup(path)
                guard try fs.stat(ino: f).size == UInt64(n) * 4096 else { return .failure(DaxError(.EIO, "\(path) has the wrong size")) }
                var owner: UInt64?
                for i in 0..<n {
                    let t = try fs.read(f, at: UInt64(i) * 4096, count: 8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                    guard t & 0xFFFF_FFFF == UInt64(i), owner == nil || owner == t >> 32 else {
                        return .failure(DaxError(.EIO, "\(path) block \(i) has tag \(String(t, radix: 16)): a half-swapped file"))
                    }
                    owner = t >> 32
                }
                owners.append(owner ?? 0)
            }
            guard owners[0] + owners[1] == 3 else { return .failure(DaxError(.EIO, "both files hold file \(owners[0])'s blocks")) }
            return .success(owners[0])
        }
        let configuration = CrashImages.Configuration(maxImages: Self.full ? 48 : 2)
        var points = 0, images = 0, nested = 0, failures: [String] = []
        var completed = false
        let rec = RecordingMedia(image: base, capturesPayloads: true)
        let fs = try Filesystem.mount(media: rec, options: options)
        rec.onCrashPoint = { point in
            points += 1
            CrashImages(point: point, seed: 17, configuration: configuration).forEach { image in
                images += 1
                let media = RecordingMedia(image: image.materialize(base: point.media), capturesPayloads: images % 16 == 0)
                var again: [[UInt8]] = []
                if images % 16 == 0 {
                    media.onCrashPoint = { p in
                        CrashImages(point: p, seed: 18, configuration: .init(maxImages: 2)).forEach { again.append($0.materialize(base: p.media)) }
                    }
                }
                do {
                    let m = try Filesystem.mount(media: media, options: options)
                    media.onCrashPoint = nil
                    let fsck = try Fsck.check(media: media, options: CheckOptions(mode: .check, force: true))
                    if fsck.exitStatus != 0 { failures.append("\(image.location): fsck -fn after recovery: exit \(fsck.exitStatus): \(fsck.problems.prefix(3))") }
                    switch try state(m) {
                    case .success(let s):
                        if completed && s != 2 { failures.append("\(image.location): the swap returned, the image recovers to the before state") }
                        for n2 in again {
                            nested += 1
                            let s2 = try state(try Filesystem.mount(media: RecordingMedia(image: n2, capturesPayloads: false), options: options))
                            if case .success(let v) = s2, v == s { continue }
                            failures.append("\(image.location): a crash during recovery recovers to \(s2), not \(s)")
                        }
                    case .failure(let e): failures.append("\(image.location) [\(image.subset)]: \(e.message)")
                    }
                } catch {
                    failures.append("\(image.location) [\(image.subset)]: recovery: \(error)")
                }
            }
        }
        // The steps of a 64 KiB transaction (512 extents each), asked for: left to
        // itself a whole-file swap exchanges the two maps in one transaction.
        let plan = try fs.swapExtents(try fs.lookup("/big1"), try fs.lookup("/big2"), toEOF: true, stepExtents: 512)
        completed = true
        rec.fence(fileID: #fileID, line: #line)
        rec.onCrashPoint = nil
        print("crash: swap-extents of whole files, \(n) extents each (intent): \(plan.transactions) transactions, \(points) crash points, \(images) images, \(nested) nested, \(failures.count) failures")
        #expect(plan.extents1 == n && plan.usesIntent)
        #expect(points > plan.transactions, "only \(points) crash points for \(plan.transactions) transactions")
        #expect(failures.isEmpty, "\(failures.prefix(3).joined(separator: "\n"))")
    }

    @Test func mkfsLeavesNoFilesystemOrAnEmptyOne() throws {
        var r = Geometry.Request(regionSize: 1 << 20)
        r.logSize = 64 << 10
        r.checkpointSlotSize = 64 << 10
        let sb = try Geometry.plan(r, uuid: Array(0..<16), label: "crash", logSalt: 42, mkfsTime: 1)
        let rec = RecordingMedia(image: [UInt8](repeating: 0xCD, count: 1 << 20))
        var points = 0, images = 0
        var failures: [String] = []
        rec.onCrashPoint = { point in
            points += 1
            CrashImages(point: point, seed: 7, configuration: Self.harness.configuration).forEach { image in
                images += 1
                let media = RecordingMedia(image: image.materialize(base: point.media), capturesPayloads: false)
                do {
                    let fs = try Filesystem.mount(media: media)
                    try fs.checkInvariants()
                    let s = try FSSnapshot.take(fs)
                    if !s.entries.isEmpty { failures.append("\(image): a half-made filesystem holds \(s)") }
                } catch let e as DaxError where e.code == .ENODATA || e.code == .EFSCORRUPTED {
                    // No filesystem yet, or a recognisably unfinished one: the pre-state.
                } catch {
                    failures.append("\(image): \(error)")
                }
            }
        }
        Mkfs.write(sb, to: rec)
        rec.fence(fileID: #fileID, line: #line)
        rec.onCrashPoint = nil
        let done = try Filesystem.mount(media: RecordingMedia(image: rec.mediaImage))
        #expect(try FSSnapshot.take(done).entries.isEmpty)
        print("crash: mkfs: \(points) crash points, \(images) images, \(failures.count) failures")
        #expect(points > 0)
        #expect(failures.isEmpty, "\(failures.prefix(3))")
    }

    /// Each injected persistence bug, and a scenario whose crash images expose it.
    static let injected: [(fault: String, scenario: String)] = [
        ("noFenceBeforeCommit", "write append into a new file"),
        ("noFenceBeforeCommit, staged", "write append into a new file, deferred durability (staged)"),
        ("zeroesNotFlushed", "write unaligned append, growing the file"),
        // A small allocation is zeroed by its commit (Reservation.zeroAtCommit).
        ("zeroesNotFlushed, zeroed at commit", "fallocate allocate, deferred durability (staged)"),
        ("noFenceBeforeCommit, zeroed at commit", "fallocate allocate, deferred durability (staged)"),
        ("noFenceBeforeCommit, zeroed at commit, appended", "fallocate allocate past EOF"),
        ("unflushedEdgeLine", "write unaligned append, growing the file"),
        ("checkpointHeaderBeforeChunks", "checkpoint"),
        ("logTailBeforeRecord", "create"),
    ]

    static func fault(_ name: String) -> FaultInjection {
        switch name {
        case "noFenceBeforeCommit", "noFenceBeforeCommit, staged", "noFenceBeforeCommit, zeroed at commit",
             "noFenceBeforeCommit, zeroed at commit, appended": .noFenceBeforeCommit
        case "zeroesNotFlushed", "zeroesNotFlushed, zeroed at commit": .zeroesNotFlushed
        case "unflushedEdgeLine": .unflushedEdgeLine
        case "checkpointHeaderBeforeChunks": .checkpointHeaderBeforeChunks
        default: .logTailBeforeRecord
        }
    }

    @Test(arguments: injected.map(\.fault))
    func theHarnessCatchesAnInjectedBug(_ faultName: String) throws {
        let pair = try #require(Self.injected.first { $0.fault == faultName })
        var scenario = try #require(CrashScenarios.named(pair.scenario))
        scenario.options.faults = Self.fault(faultName)
        var harness = Self.harness
        harness.saveFailures = false
        let run = try harness.run(scenario, from: Self.starts[0].image, startName: "empty")
        print("crash: injected \(faultName): \(run)")
        #expect(!run.failures.isEmpty, "the harness did not catch \(faultName)")
    }

    /// Replays a saved failure: `DAXFS_CRASH_REPLAY=<dir> swift test --filter CrashTests.replaySavedFailure`.
    /// Without the variable, it proves the path works: it saves a failure of
    /// an injected bug into a scratch directory and replays that.
    @Test func replaySavedFailure() throws {
        var harness = Self.harness
        var directory = CrashFailure.replayDirectory
        let scratch = TempRegion("failures")
        if directory == nil {
            var scenario = try #require(CrashScenarios.named("write append into a new file"))
            scenario.options.faults = .noFenceBeforeCommit
            harness.failureRoot = scratch.directory
            let run = try harness.run(scenario, from: Self.starts[0].image, startName: "empty")
            directory = try #require(run.savedFailure, "an injected bug saved no failure")
        }
        let dir = try #require(directory)
        let lines = try String(contentsOfFile: dir + "/scenario.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        let scenario = try #require(CrashScenarios.named(lines[0]))
        let start = try #require(Self.starts.first { $0.name == lines[1] })
        let why = try harness.replay(dir, scenario: scenario, start: start.image)
        print("crash: replay of \(dir): \(why ?? "the image is consistent")")
        if CrashFailure.replayDirectory == nil {
            #expect(why != nil, "a saved failure did not reproduce")
        } else {
            #expect(why == nil, "\(why ?? "")")
        }
    }
}
