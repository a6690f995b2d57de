// daxfs-bench: the benchmark harness. One command, one table, every figure
// beside its reference, measured in the same run on the same machine.
//
//     swift build -c release && swift run -c release daxfs-bench [--quick] [--filter S] [--runs N] [--out FILE]
//
// How to add a row
// ----------------
// 1. Put the rows of one workload family in their own file, as an enum with
//    a `static var group: BenchGroup` (see MkfsRows.swift), and list that
//    group in Registry.swift.
// 2. A row is a `BenchRow`: a name, a `BenchUnit` (.milliseconds,
//    .nanoseconds, .gigabytesPerSecond, .callsPerSecond, or your own with
//    `higherIsBetter`), a `Goal` (.speedupAtLeast(x): ratio oriented so that
//    above 1 means daxfs is better; .ratioAtMost(x): plain daxfs/reference;
//    .atMost(bound): an absolute bound in the row's unit; .none), the name of
//    its reference, and `measure`, a closure from `BenchContext` to a
//    `RowOutcome`.
// 3. In `measure`, take one figure per run in the row's unit and let the
//    context fold the runs: `ctx.measurePair(daxfs:reference:)` interleaves
//    both sides over `ctx.runs` runs and returns min/median/max of each
//    (`ctx.measure` for one side). Return `.compared(daxfs:reference:)`.
//    Size the workload with `ctx.pick(quick:full:)` so --quick stays under
//    2 minutes in total; put files in `ctx.scratchDirectory` (/dev/shm).
// 4. A row that cannot run here throws `BenchSkip("why")`: the run goes on
//    and the table says "skipped: why". Any other error is shown as "failed".
//    Set up outside state (mounts, loop devices) with `LoopPeer.with` or
//    with `Cleanup.push`/`pop` in a defer, so it is undone even on a throw.
// 5. Physical limits come from `PMem.Calibration` (PMem alone may call
//    libpmem or map memory); reference workloads on ext4/XFS/cp live in
//    References.swift; run the daxfs binary of this build through
//    `ctx.requireDaxfsBinary()` and `Subprocess.run` for whole-process times.
// Never assert on a time in a test: figures belong here, as ratios.

#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import DaxCore
import PMem

@main
struct DaxfsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daxfs-bench",
        abstract: "Measure daxfs against its references, side by side in one run.",
        discussion: """
            Every figure is min / median / max over --runs runs, beside a reference \
            measured in the same run on the same machine; the ratio is of medians. \
            The report goes to standard output and, as the same Markdown, to --out; \
            progress and skip lines go to standard error. Rows that need root, loop \
            devices or a missing program say why they were skipped.
            """)

    @Flag(help: "Smaller workloads; the whole run takes under 2 minutes.")
    var quick = false

    @Option(help: ArgumentHelp("Run only the rows whose group, name or reference contains this (case-insensitive).", valueName: "substring"))
    var filter: String?

    @Option(help: ArgumentHelp("Runs per figure (at least 5).", valueName: "n"))
    var runs = 5

    @Option(help: ArgumentHelp("Where to write the Markdown report.", valueName: "file"))
    var out = "bench-results/latest.md"

    @Flag(help: "List the rows and exit.")
    var list = false

    /// Internal: the memory rows run this process again with this option, so
    /// that a mount is measured in a fresh process (see `MountMemory`).
    @Option(help: .hidden)
    var mountMemoryOf: String?

    func validate() throws {
        guard runs >= 5 else { throw ValidationError("--runs must be at least 5: every figure is min / median / max over at least 5 runs") }
    }

    func run() throws {
        if let path = mountMemoryOf {
            print(try MountMemory.measureHere(path))
            return
        }
        let selected = Registry.groups.compactMap { group -> (BenchGroup, [BenchRow])? in
            let rows = group.rows.filter { matches(group, $0) }
            return rows.isEmpty ? nil : (group, rows)
        }
        if list {
            for (group, rows) in selected {
                for row in rows { print("\(group.title): \(row.name) [vs \(row.reference)]") }
            }
            return
        }
        if selected.isEmpty { throw ValidationError("no row matches --filter '\(filter ?? "")'; see --list") }

        let start = monotonicNow()
        Cleanup.installSignalHandlers()
        let base = Files.exists("/dev/shm") ? "/dev/shm" : "/tmp"
        let scratch = try Files.makeTemporaryDirectory("\(base)/daxfs-bench-XXXXXX")
        let removeScratch = Cleanup.push("remove \(scratch)") { Files.removeTree(scratch) }
        defer { Cleanup.pop(removeScratch) }

        let daxfs = MachineInfo.executableDirectory() + "/daxfs"
        let ctx = BenchContext(quick: quick, runs: runs, scratchDirectory: scratch, daxfsBinary: daxfs)
        let header = headerFacts(scratch: scratch, daxfs: daxfs)

        var results: [(BenchGroup, [RowResult])] = []
        for (group, rows) in selected {
            var done: [RowResult] = []
            for row in rows {
                ctx.progress("\(group.title): \(row.name) [vs \(row.reference)] ...")
                let t0 = monotonicNow()
                let state: RowResult.State
                do {
                    state = .measured(try row.measure(ctx))
                } catch let skip as BenchSkip {
                    state = .skipped(skip.reason)
                    ctx.progress("skipped: \(group.title): \(row.name): \(skip.reason)")
                } catch {
                    state = .failed("\(error)")
                    ctx.progress("failed: \(group.title): \(row.name): \(error)")
                }
                let seconds = Double(monotonicNow() - t0) / 1e9
                ctx.progress("  took \(Format.number(seconds, digits: 3)) s")
                done.append(RowResult(row: row, state: state, seconds: seconds))
            }
            results.append((group, done))
        }

        let all = results.flatMap(\.1)
        let skipped = all.filter { if case .skipped = $0.state { true } else { false } }.count
        let failed = all.filter { if case .failed = $0.state { true } else { false } }.count
        let footer: [(String, String)] = [
            ("rows", "\(all.count) (\(skipped) skipped, \(failed) failed)"),
            ("total wall time", Format.duration(Double(monotonicNow() - start) / 1e9)),
            ("slowest rows", all.sorted { $0.seconds > $1.seconds }.prefix(3)
                .map { "\($0.row.name) (\(Format.duration($0.seconds)))" }.joined(separator: "; ")),
        ]
        let text = Report.markdown(header: header, groups: results, footer: footer)
        print(text, terminator: "")
        try write(text, to: out)
        ctx.progress("report written to \(out)")
    }

    private func matches(_ group: BenchGroup, _ row: BenchRow) -> Bool {
        guard let f = filter?.lowercased(), !f.isEmpty else { return true }
        return "\(group.title) \(row.name) \(row.reference)".lowercased().contains(f)
    }

    private func headerFacts(scratch: String, daxfs: String) -> [(String, String)] {
        let force = getenv("PMEM_IS_PMEM_FORCE").map { String(cString: $0) }
        let path = (try? Calibration.persistencePath(directory: scratch).rawValue) ?? "unknown"
        var facts: [(String, String)] = [
            ("date", MachineInfo.date()),
            ("machine", MachineInfo.machine()),
            ("kernel", MachineInfo.kernel()),
            ("load average at start", MachineInfo.load()),
            ("persistence path measured", "\(path) (a mapping of a file in \(scratch); PMEM_IS_PMEM_FORCE=\(force ?? "unset"))"),
            ("scratch file system", "\(MachineInfo.fileSystemType(scratch)), transparent huge pages for shmem: \(MachineInfo.shmemHugePages())"),
            ("build", "\(MachineInfo.buildConfiguration); daxfs binary \(daxfs)"),
            ("mode", "\(quick ? "quick" : "full"), \(runs) runs per figure" + (filter.map { ", filter '\($0)'" } ?? "")),
        ]
        if let c = MachineInfo.commit() { facts.append(("commit", c)) }
        if let warning = MachineInfo.staleBinaryWarning(daxfs) {
            facts.append(("warning", warning))
            Console.status("warning: \(warning)")
        }
        return facts
    }

    /// Writes the report, creating its directory.
    private func write(_ text: String, to path: String) throws {
        var dir = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/").dropLast() {
            dir += "/" + part
            mkdir(dir, 0o755)
        }
        guard let f = fopen(path, "w") else { throw DaxError.syscall("fopen", path) }
        defer { fclose(f) }
        guard fputs(text, f) >= 0 else { throw DaxError.syscall("write", path) }
    }
}
