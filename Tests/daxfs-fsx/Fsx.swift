import ArgumentParser
import DaxCore
import DaxFSTestSupport
import Foundation

/// Runs the fsx-style exerciser (`Exerciser`) from the command line, in a
/// release build, for long runs: every operation is followed by a check of
/// every file's complete contents against the model. CI runs
/// `daxfs-fsx --ops 100000`; a failure writes its op log and the command
/// that replays it.
@main
struct Fsx: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daxfs-fsx",
        abstract: "Random file operations on daxfs, each checked against an in-memory model.")

    @Option(help: "Operations in all, spread over the seeds.")
    var ops = 100_000

    @Option(help: "Seeds to run, comma-separated.")
    var seeds = "1,2,3,4"

    @Option(help: "Replay this op log instead of running seeds.")
    var replay: String?

    @Option(help: "Where a failing run writes its op log.")
    var failures = "crash-failures"

    func run() throws {
        if let file = replay {
            let x = try Exerciser()
            try x.replay(try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "\n"))
            print("fsx: replayed \(x.log.count) operations from \(file): no difference")
            return
        }
        let list = seeds.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty else { throw ValidationError("--seeds needs at least one number") }
        let per = max(1, ops / list.count)
        let t0 = Date()
        for seed in list {
            let x = try Exerciser()
            let t = Date()
            do {
                try x.run(seed: seed, count: per)
                try x.fs.checkInvariants()
            } catch {
                try FileManager.default.createDirectory(atPath: failures, withIntermediateDirectories: true)
                let file = "\(failures)/fsx-seed-\(seed).log"
                try x.logText.write(toFile: file, atomically: true, encoding: .utf8)
                print("fsx: seed \(seed) FAILED: \(error)")
                print("fsx: op log \(file); replay with: swift run -c release daxfs-fsx --replay \(file)")
                throw ExitCode(1)
            }
            print("fsx: seed \(seed): \(per) operations in \(String(format: "%.1f", Date().timeIntervalSince(t))) s, all files checked after each; \(x.tally.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))")
        }
        print("fsx: \(per * list.count) operations, \(list.count) seeds, \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }
}
