import Foundation
import Testing
import DaxFSTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `daxfs fsck` through the real binary: modes, exit bitmask, the lock,
/// progress lines and bar, cancellation and the JSON schema.
@Suite(.serialized) struct FsckCLITests {
    func image(_ fixture: String) throws -> TempRegion {
        let r = TempRegion(fixture)
        FileManager.default.createFile(atPath: r.path, contents: Data(try FsckFixtures.build(fixture)))
        return r
    }

    @Test func cleanRegionQuickAndFullCheck() throws {
        let r = try image("f_clean")
        let quick = CLI.run(["fsck", "-n", r.path])
        #expect(quick.status == 0, "\(quick.stdout)\(quick.stderr)")
        #expect(quick.stdout.contains("quick check"))
        let full = CLI.run(["fsck", "-fn", r.path])
        #expect(full.status == 0)
        #expect(full.stdout.contains("Pass 7: counts and free space"))
    }

    @Test func checkOnlyNeverWritesAndExitsFour() throws {
        let r = try image("f_cross_linked")
        let before = r.fingerprint
        // The image is marked clean: without -f it gets the quick check, which does not read the extents.
        #expect(CLI.run(["fsck", "-n", r.path]).status == 0)
        let n = CLI.run(["fsck", "-fn", r.path])
        #expect(n.status == 4, "\(n.stdout)\(n.stderr)")
        #expect(n.stdout.contains("BLOCKS_CROSS_LINKED"))
        #expect(r.fingerprint == before, "fsck -n changed the region")
    }

    @Test func preenStopsOnWhatNeedsAHuman() throws {
        let r = try image("f_cross_linked")
        let before = r.fingerprint
        for flag in ["-p", "-a"] {
            let p = CLI.run(["fsck", flag, "-f", r.path])
            #expect(p.status == 4, "\(p.stdout)\(p.stderr)")
            #expect(p.stdout.contains("UNEXPECTED INCONSISTENCY"))
            #expect(r.fingerprint == before, "preen changed a region it could not fully repair")
        }
        let y = CLI.run(["fsck", "-fy", r.path])
        #expect(y.status == 1, "\(y.stdout)\(y.stderr)")
        #expect(CLI.run(["fsck", "-fn", r.path]).status == 0)
    }

    @Test func preenFixesWhatIsSafe() throws {
        let r = try image("f_free_leaked")
        let p = CLI.run(["fsck", "-p", "-f", r.path])
        #expect(p.status == 1, "\(p.stdout)\(p.stderr)")
        #expect(CLI.run(["fsck", "-fn", r.path]).status == 0)
    }

    @Test func refusesToRepairAMountedRegion() throws {
        let r = try image("f_clean")
        let fs = try mountForTest(r.path)
        defer { try? fs.unmount() }
        let y = CLI.run(["fsck", "-fy", r.path])
        #expect(y.status == 8, "\(y.stdout)\(y.stderr)")
        #expect(y.stderr.contains("refusing to repair"), "\(y.stderr)")
        let n = CLI.run(["fsck", "-fn", r.path])
        #expect(n.status == 0 || n.status == 4, "\(n.stderr)")
        #expect(n.stderr.contains("mounted read-write"), "\(n.stderr)")
    }

    @Test func usageAndOperationalErrors() throws {
        let r = try image("f_clean")
        #expect(CLI.run(["fsck", "-n", "-y", r.path]).status == 16)
        #expect(CLI.run(["fsck", "--no-such-option", r.path]).status == 16)
        #expect(CLI.run(["fsck"]).status == 16)
        #expect(CLI.run(["fsck", "-n", r.directory + "/missing.img"]).status == 8)
        let empty = TempRegion("not-daxfs")
        empty.fill(size: 1 << 20, byte: 0)
        let e = CLI.run(["fsck", "-n", empty.path])
        #expect(e.status == 8, "\(e.stderr)")
        #expect(e.stderr.hasPrefix("daxfs: "))
    }

    @Test func progressLinesInE2fsckFormat() throws {
        let r = try image("f_orphan")
        let run = CLI.run(["fsck", "-fn", "-C", "2", r.path])
        #expect(run.status == 4)
        let lines = run.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        var passes: Set<Int> = []
        for l in lines {
            let f = l.split(separator: " ", maxSplits: 3)
            #expect(f.count == 4 && Int(f[0]) != nil && Int(f[1]) != nil && Int(f[2]) != nil && String(f[3]) == r.path, "bad progress line \(l)")
            if let p = Int(f[0]) { passes.insert(p) }
        }
        #expect(passes == Set(1...7))
    }

    @Test func jsonReportIsDocumented() throws {
        let r = try image("f_orphan")
        let run = CLI.run(["fsck", "-fy", "--json", r.path])
        #expect(run.status == 1)
        let j = try #require(CLI.json(run))
        #expect(j["schema"] as? Int == 1)
        #expect(j["exit_status"] as? Int == 1)
        #expect(j["mode"] as? String == "repair")
        // The checking process's own peak (VmHWM): a Swift process holds more than 1 MiB, and far less than 4 GiB here.
        let peak = try #require(j["peak_memory_bytes"] as? Int)
        #expect(peak > 1 << 20 && peak < 4 << 30)
        let problems = try #require(j["problems"] as? [[String: Any]])
        #expect(problems.contains { $0["code"] as? String == "INODE_ORPHAN" && $0["action"] as? String == "fixed" })
        let help = CLI.run(["fsck", "--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
        for key in j.keys { #expect(help.contains(key), "fsck --json key \(key) is not documented") }
        for p in problems { for key in p.keys { #expect(help.contains(key), "problem key \(key) is not documented") } }
        let counts = try #require(j["counts"] as? [String: Any])
        for key in counts.keys { #expect(help.contains(key), "counts key \(key) is not documented") }
    }

    /// `-C 0` on a terminal: a bar is drawn over one line (carriage returns,
    /// a 40-column gauge), reaches 100% in pass 7, and is erased before the
    /// report, which then reads exactly as it does without a bar.
    @Test func progressBarOnATerminal() throws {
        let r = try image("f_clean")
        let plain = CLI.run(["fsck", "-fn", r.path])
        let run = CLI.runOnTerminal(["fsck", "-fn", "-C", "0", r.path])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let out = run.stdout
        let bar = "\r\(r.path): |"
        let clear = "\r\u{1B}[K"
        let draws = out.components(separatedBy: bar).dropFirst()
        #expect(draws.count >= 7, "the bar was drawn \(draws.count) times: \(out.debugDescription)")
        for d in draws {
            // "=====     | 42.8%  pass 3", then the next draw or the erase.
            let gauge = d.prefix { $0 != "|" }
            #expect(gauge.count == 40 && gauge.allSatisfy { $0 == "=" || $0 == " " }, "bad gauge \(d.debugDescription)")
        }
        let last = try #require(out.range(of: bar, options: .backwards))
        let erase = try #require(out.range(of: clear, options: .backwards), "the bar is never erased: \(out.debugDescription)")
        #expect(last.upperBound < erase.lowerBound)
        #expect(out[last.upperBound..<erase.lowerBound].hasSuffix("| 100.0%  pass 7"), "\(out[last.upperBound...].debugDescription)")
        // After the erase, only the report, as a terminal shows it.
        let report = String(out[erase.upperBound...]).replacingOccurrences(of: "\r\n", with: "\n")
        #expect(report == plain.stdout, "\(report.debugDescription)\n--- without -C 0:\n\(plain.stdout.debugDescription)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")
    }

    /// `-C 0` when standard output is not a terminal (a pipe, a file, a
    /// script): no bar and no terminal control bytes; the report is the
    /// same as without `-C 0`, and --json stays parsable.
    @Test func progressBarIsNotDrawnWhenOutputIsNotATerminal() throws {
        let r = try image("f_orphan")
        let plain = CLI.run(["fsck", "-fn", r.path])
        let run = CLI.run(["fsck", "-fn", "-C", "0", r.path])
        #expect(run.status == 4)
        #expect(run.stdout == plain.stdout, "\(run.stdout.debugDescription)")
        for text in [run.stdout, run.stderr] {
            #expect(!text.contains("\u{1B}") && !text.contains("\r"), "terminal control bytes in \(text.debugDescription)")
        }
        let json = CLI.run(["fsck", "-fn", "-C", "0", "--json", r.path])
        #expect(json.status == 4)
        #expect(CLI.json(json) != nil, "\(json.stdout)")
        #expect(!json.stdout.contains("\u{1B}") && !json.stderr.contains("\u{1B}") && !json.stderr.contains("\r"), "\(json.stderr.debugDescription)")
    }

    /// The progress lines `fsck ARGS -C 2 REGION` writes before the first line of `pass`.
    func progressBefore(pass: Int, _ args: [String], _ r: TempRegion) -> [String] {
        let lines = CLI.run(["fsck"] + args + ["-C", "2", r.path]).stderr.split(separator: "\n").map { String($0) + "\n" }
        return Array(lines.prefix { !$0.hasPrefix("\(pass) ") })
    }

    /// Exit 32: SIGINT while `fsck -n` is in pass 1 (held there by its own
    /// progress output, so the signal surely arrives while it runs) stops it
    /// at the end of the pass: no report, the region byte for byte as it was.
    @Test func sigintCancelsACheck() throws {
        let r = try image("f_cross_linked")
        let before = r.fingerprint
        let lines = progressBefore(pass: 2, ["-fn"], r)
        try #require(lines.count == 2, "\(lines)")   // "1 0 1 REGION" and "1 1 1 REGION"
        // Held at pass 1's last line, before its check for cancellation.
        let held = HeldCLI(["fsck", "-fn", "-C", "2", r.path], room: lines[0].utf8.count)
        try #require(held.waitUntilHeld(), "fsck did not reach its progress line")
        held.signal(SIGINT)
        let run = held.finish()
        #expect(run.status == 32, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("cancelled; nothing was written"), "\(run.stderr)")
        #expect(!run.stderr.contains("\n2 "), "it went on to pass 2: \(run.stderr)")
        #expect(run.stdout.isEmpty, "a cancelled check printed a report: \(run.stdout)")
        #expect(r.fingerprint == before, "a cancelled fsck -n changed the region")
        #expect(CLI.run(["fsck", "-fn", r.path]).status == 4)
    }

    /// Exit 32: SIGTERM while `fsck -y` runs passes 3 to 7 (held at the
    /// first line of pass 3, after the superblocks, the checkpoint and the
    /// log were read) stops it before the repair writes anything, as
    /// documented; the region is as it was, and a later `fsck -y` repairs it
    /// to clean.
    @Test func sigtermCancelsARepairBeforeItWrites() throws {
        let r = try image("f_orphan")
        let before = r.fingerprint
        let lines = progressBefore(pass: 3, ["-fn"], r)
        try #require(lines.count >= 4 && lines.last!.hasPrefix("2 "), "\(lines)")
        let held = HeldCLI(["fsck", "-fy", "-C", "2", r.path], room: lines.reduce(0) { $0 + $1.utf8.count })
        try #require(held.waitUntilHeld(), "fsck did not reach pass 3")
        held.signal(SIGTERM)
        let run = held.finish()
        #expect(run.status == 32, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("cancelled; nothing was written"), "\(run.stderr)")
        #expect(run.stderr.contains("\n7 "), "cancelled before passes 3 to 7 ran: \(run.stderr)")
        #expect(run.stdout.isEmpty, "\(run.stdout)")
        #expect(r.fingerprint == before, "a cancelled fsck -y wrote to the region")
        let again = CLI.run(["fsck", "-fy", r.path])
        #expect(again.status == 1, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("INODE_ORPHAN"))
        #expect(CLI.run(["fsck", "-fn", r.path]).status == 0)
    }
}
