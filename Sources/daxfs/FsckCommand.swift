import ArgumentParser
import DaxCore
import DaxFS
import DaxFSCheck
import DaxFSFormat
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension Daxfs {
    struct Fsck: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fsck",
            abstract: "Check a region, and repair it.",
            discussion: """
                fsck reads the media itself, in seven passes: 1 superblocks; 2 checkpoint and log, \
                including pending intents; 3 inodes; 4 extent maps; 5 block ownership; 6 directory \
                tree; 7 counts and free space. Every problem has a code, a message, whether preen \
                may fix it, and how it is fixed; the report names each one and what was done.

                -n maps the region read-only and never writes (a region mounted read-write by \
                another process is still checked, with a warning). -p (or -a) fixes only what is \
                safe without a human; when anything else is found it fixes nothing and exits 4. \
                -y fixes everything. A repair refuses (exit 8) a region another process has mounted. \
                Without -f, a clean filesystem whose superblocks, checkpoint header and log tail \
                verify gets a quick check.

                Repairs: a damaged superblock copy is rewritten from the other; a torn or corrupt \
                log tail is cut at the last valid transaction; pending intents are finished by the \
                engine's own recovery (a read-write mount); extents outside the data area or on \
                metadata are removed and their range becomes a hole; cross-linked blocks stay with \
                the extent that starts first in the region (the lower inode on a tie) and are cut \
                from the later owner, whose range becomes a hole (no data is copied); free space is \
                rebuilt from the extent maps; sizes and link counts (1 for a file, 2 for a \
                directory) are corrected; orphans, a directory of a loop and names that are invalid \
                or taken twice move to /lost+found as #INO. Everything past pass 1 is repaired by \
                writing one fresh checkpoint of the validated state and an empty log, so checksums \
                are only written over content that has been checked.

                -C FD writes progress lines "PASS CURRENT MAX REGION" to file descriptor FD, as \
                e2fsck does; -C 0 draws a bar on the terminal (standard output, or standard error \
                with --json), and nothing when that is not a terminal.

                EXIT STATUS (e2fsck's bitmask): 0 no problems; 1 problems found and all corrected; \
                4 problems left uncorrected (-n, or preen met one that needs a human); 8 operational \
                error (the region cannot be opened, no usable superblock, mounted by another process \
                for a repair, unknown features); 16 usage error; 32 cancelled by SIGINT or SIGTERM \
                before anything was written; 128 internal error.

                JSON (--json), schema 1: region, mode ("check", "preen" or "repair"), quick, \
                problems [{code, pass, message, preen_safe, fix, action ("fixed" or "not-fixed")}], \
                counts {inodes, files, directories, extents, data_blocks, used_blocks, free_blocks, \
                pending_intents, log_transactions, log_records}, writes [what a repair wrote, in \
                order], warnings, exit_status, elapsed_nanoseconds and peak_memory_bytes (the \
                process's peak resident memory).
                """)

        @Argument(help: "The region: a file or a device-DAX (/dev/daxX.Y).", completion: .file())
        var region: String

        @Flag(name: .customShort("n"), help: "Check only: map the region read-only and never write.")
        var checkOnly = false

        @Flag(name: .customShort("p"), help: "Preen: fix only what is safe without a human; exit 4 on anything else.")
        var preen = false

        @Flag(name: .customShort("a"), help: "The same as -p.")
        var automatic = false

        @Flag(name: .customShort("y"), help: "Fix every problem.")
        var yes = false

        @Flag(name: .customShort("f"), help: "Check fully even when the filesystem is marked clean.")
        var force = false

        @Option(name: .customShort("C"), help: ArgumentHelp("Write progress lines to this file descriptor (0: a bar on the terminal, if it is one).", valueName: "fd"))
        var progressFD: Int32?

        @Flag(name: .customShort("v"), help: "Verbose: also say how each problem left alone would be fixed.")
        var verbose = false

        @Flag(help: "Print the report as JSON.")
        var json = false

        func validate() throws {
            let modes = [checkOnly, preen || automatic, yes].filter { $0 }.count
            if modes > 1 { throw ValidationError("-n, -p/-a and -y exclude each other") }
            if let fd = progressFD, fd < 0 { throw ValidationError("-C needs a file descriptor of 0 or more") }
        }

        func run() throws {
            var options = CheckOptions(mode: yes ? .repair : (preen || automatic) ? .preen : .check, force: force)
            var progress = progressFD.map { FsckProgress(fd: $0, region: region, bar: $0 == 0, toStderr: json) }
            if let p = progress, p.bar, !p.onTerminal { progress = nil }   // no terminal shows a bar
            if let progress { options.progress = { progress.update(pass: $0, current: $1, max: $2) } }
            options.keepStateAtExit = true          // the process exits right after the report
            Cancellation.install()
            options.isCancelled = { Cancellation.requested.load(ordering: .relaxed) }
            var report: CheckReport
            do {
                report = try DaxFSCheck.Fsck.check(path: region, options: options)
            } catch is CheckCancelled {
                progress?.finish()
                fail("\(region): cancelled; nothing was written", status: FsckExit.cancelled)
            } catch let e as InternalError {
                progress?.finish()
                fail("\(region): \(e)", status: FsckExit.internal)
            } catch let e as DaxError {
                progress?.finish()
                fail(e.description, status: FsckExit.operational)
            }
            progress?.finish()
            for w in report.warnings { warn(w) }
            report.peakMemoryBytes = ProcessMemory.peakResidentBytes()
            if json {
                try JSONOutput.print(report)
            } else {
                Out.line(Self.text(report, verbose: verbose))
            }
            try Out.flush()
            throw ExitCode(report.exitStatus)
        }

        static let passNames = ["superblocks", "checkpoint and log", "inodes", "extent maps", "block ownership",
                                "directory tree", "counts and free space"]

        /// The text report: one heading per pass, its problems under it, what was written, a summary.
        static func text(_ r: CheckReport, verbose: Bool) -> String {
            var lines: [String] = []
            let lastPass = r.quick ? 2 : 7
            for pass in 1...lastPass {
                lines.append("Pass \(pass): \(passNames[pass - 1])")
                for p in r.problems where p.pass == pass {
                    lines.append("  \(p.code.rawValue): \(p.message)")
                    switch p.action {
                    case .fixed: lines.append("    fixed: \(p.fix)")
                    case .notFixed: lines.append("    not fixed" + (verbose || r.mode == .preen ? " (-y would \(p.fix))" : ""))
                    }
                }
            }
            for w in r.writes { lines.append("wrote: \(w)") }
            let c = r.counts
            let usage = "\(c.inodes) inodes, \(c.extents) extents, \(c.usedBlocks)/\(c.dataBlocks) blocks"
            if r.quick {
                lines.append("\(r.region): clean (quick check; -f checks fully), \(usage)")
            } else {
                lines.append("\(r.region): \(c.inodes) inodes (\(c.files) files, \(c.directories) directories), \(c.extents) extents, \(c.usedBlocks)/\(c.dataBlocks) blocks, \(c.pendingIntents) pending intents")
                if verbose { lines.append("log: \(c.logTransactions) transactions, \(c.logRecords) records") }
            }
            if verbose {
                let ms = Double(r.elapsedNanoseconds) / 1e6, mib = Double(r.peakMemoryBytes) / 1_048_576
                lines.append("time: \(Int(ms.rounded())) ms; peak memory: \(Int(mib.rounded())) MiB")
            }
            switch r.exitStatus {
            case FsckExit.clean: if !r.quick { lines.append("\(r.region): clean") }
            case FsckExit.corrected: lines.append("\(r.region): \(r.problemsFixed) problems fixed\n***** FILESYSTEM WAS MODIFIED *****")
            default:
                if r.mode == .preen {
                    lines.append("\(r.region): UNEXPECTED INCONSISTENCY; RUN daxfs fsck -y MANUALLY (nothing was changed)")
                } else {
                    lines.append("\(r.region): \(r.problemsLeft) problems left uncorrected")
                }
            }
            return lines.joined(separator: "\n")
        }
    }
}

/// SIGINT and SIGTERM ask a running fsck to stop before it writes.
enum Cancellation {
    static let requested = Atomic<Bool>(false)
    static func install() {
        signal(SIGINT) { _ in Cancellation.requested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in Cancellation.requested.store(true, ordering: .relaxed) }
        // A process starts with the signal mask of the thread that spawned
        // it, and a libdispatch worker thread (Foundation's Process run from
        // one, say) blocks nearly every signal: fsck would then never see
        // the signals its exit status 32 promises to honour, and a -y would
        // go on to write. Take them unblocked on this thread, which runs the check.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

/// `-C FD`: e2fsck's progress lines ("pass current max device") or, for fd
/// 0, a bar on standard output (standard error with --json), drawn only
/// when that is a terminal: carriage returns and an erase sequence in a
/// pipe or a file would only garble the report.
final class FsckProgress: @unchecked Sendable {
    let fd: Int32
    let region: String
    let bar: Bool
    let toStderr: Bool
    private let lock = Mutex<(pass: Int, permille: Int)>((0, -1))

    init(fd: Int32, region: String, bar: Bool, toStderr: Bool) {
        self.fd = fd; self.region = region; self.bar = bar; self.toStderr = toStderr
    }

    /// Whether the bar's descriptor is a terminal.
    var onTerminal: Bool { isatty(toStderr ? 2 : 1) == 1 }

    func update(pass: Int, current: Int, max: Int) {
        if bar {
            // Seven passes share the bar equally.
            let within = max > 0 ? Double(current) / Double(max) : 1
            let permille = Int((Double(pass - 1) + within) / 7 * 1000)
            let changed = lock.withLock { s -> Bool in
                if s.permille == permille && s.pass == pass { return false }
                s = (pass, permille); return true
            }
            guard changed else { return }
            let width = 40, filled = permille * width / 1000
            let text = "\r\(region): |" + String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
                + "| \(permille / 10).\(permille % 10)%  pass \(pass)"
            write(toStderr ? 2 : 1, text)
        } else {
            write(fd, "\(pass) \(current) \(max) \(region)\n")
        }
    }

    func finish() { if bar { write(toStderr ? 2 : 1, "\r\u{1B}[K") } }

    private func write(_ fd: Int32, _ s: String) {
        if fd == 1 { try? Out.flush() }
        var bytes = Array(s.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n <= 0 { break }
            off += n
        }
    }
}
