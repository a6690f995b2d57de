import Foundation
import Testing
import DaxCore
import DaxFS
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
        ("zeroesNotFlushed", "write unaligned append, growing the file"),
        ("unflushedEdgeLine", "write unaligned append, growing the file"),
        ("checkpointHeaderBeforeChunks", "checkpoint"),
        ("logTailBeforeRecord", "create"),
    ]

    static func fault(_ name: String) -> FaultInjection {
        switch name {
        case "noFenceBeforeCommit": .noFenceBeforeCommit
        case "zeroesNotFlushed": .zeroesNotFlushed
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
