import Foundation
import Testing
import DaxCore
import DaxFS
import DaxFSTestSupport

/// The fsx-style exerciser, briefly, in the debug test run. The long runs
/// use the release-built command: CI runs `daxfs-fsx --ops 100000`, and
/// `swift run -c release daxfs-fsx --ops 1000000` runs a million. A failure
/// saves its op log under crash-failures/; `daxfs-fsx --replay LOG` (or
/// `DAXFS_FSX_REPLAY=LOG swift test --filter ExerciserTests.replay`) runs it again.
@Suite struct ExerciserTests {
    static let totalOps = Int(ProcessInfo.processInfo.environment["DAXFS_FSX_OPS"] ?? "") ?? 2_000
    static let seeds: [UInt64] = [1, 2, 3, 4]

    @Test(arguments: seeds)
    func randomOperationsMatchTheModel(seed: UInt64) throws {
        let x = try Exerciser()
        let count = Self.totalOps / Self.seeds.count
        let t0 = Date()
        do {
            try x.run(seed: seed, count: count)
        } catch {
            let dir = packageRoot + "/crash-failures"
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let file = "\(dir)/fsx-seed-\(seed).log"
            try? x.logText.write(toFile: file, atomically: true, encoding: .utf8)
            Issue.record("seed \(seed): \(error)\nop log: \(file) (DAXFS_FSX_REPLAY=\(file) swift test --filter ExerciserTests.replay)")
            return
        }
        try x.fs.checkInvariants()
        print("fsx: seed \(seed): \(count) operations in \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }

    /// Replays `DAXFS_FSX_REPLAY`; without it, checks that a recorded log
    /// replays to the same files as the run that recorded it.
    @Test func replay() throws {
        let lines: [String]
        if let file = ProcessInfo.processInfo.environment["DAXFS_FSX_REPLAY"] {
            lines = try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "\n")
        } else {
            let first = try Exerciser()
            try first.run(seed: 77, count: 500)
            lines = first.logText.components(separatedBy: "\n")
            let again = try Exerciser()
            try again.replay(lines)
            #expect(again.log == first.log)
            #expect(try FSSnapshot.take(again.fs) == (try FSSnapshot.take(first.fs)))
            return
        }
        try Exerciser().replay(lines)
    }

    @Test func theCheckCatchesADifference() throws {
        // The exerciser must be able to fail: a byte changed behind the model's back is found.
        let x = try Exerciser()
        try x.apply(.create(file: 0))
        try x.apply(.write(file: 0, offset: 0, length: 100, seed: 5))
        try x.fs.write(try x.fs.lookup("/file0"), at: 50, [0xAA])
        #expect(throws: DaxError.self) { try x.check() }
    }
}
