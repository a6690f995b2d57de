import Foundation
import Testing
import DaxCore
import DaxFS
import DaxFSFormat
import PMem
import DaxFSTestSupport

/// swap-extents through the real binary: every error leaves the image as it
/// was, --dry-run changes nothing, the commit-range token, and a process
/// killed with SIGKILL in the middle of a swap of 100,000 extents.
@Suite(.serialized) struct SwapExtentsCLITests {
    func populate(_ r: TempRegion) {
        let res = CLI.run(["io", r.path, "-c", "mkdir /dir", "-c", "mkdir /huge", "-c", "chattr /huge --alloc-unit 2M",
                           "-c", "write /a --offset 0 --length 40960", "-c", "write /b --offset 0 --length 20480",
                           "-c", "write /huge/h --offset 0 --length 8192"],
                          stdin: Data((0..<40960 + 20480 + 8192).map { UInt8(truncatingIfNeeded: $0 &* 7) }))
        precondition(res.status == 0, res.stderr)
    }

    @Test func everyErrorLeavesTheImageUnchanged() throws {
        let r = CLI.formatted()
        populate(r)
        let p = r.path
        let cases: [(args: [String], status: Int32, says: String)] = [
            (["swap-extents", p, "/a", "/dir"], 66, "is a directory"),
            (["swap-extents", p, "/a", "/missing"], 66, "no such file"),
            (["swap-extents", p, "/a", "/b", "--offset1", "100", "--length", "4K"], 64, "multiples of the files' allocation unit"),
            (["swap-extents", p, "/a", "/b", "--length", "5000"], 64, "unless it reaches the end of both files"),
            (["swap-extents", p, "/a", "/b", "--offset2", "16K", "--length", "8K"], 64, "passes the end of its file"),
            (["swap-extents", p, "/a", "/b", "--length", "0"], 64, "greater than 0"),
            (["swap-extents", p, "/a", "/a", "--offset2", "4K", "--length", "8K"], 64, "overlap"),
            (["swap-extents", p, "/a", "/huge/h"], 64, "different allocation units"),
            (["swap-extents", p, "/a", "/b", "--offset2", "24K", "--to-eof"], 64, "must not pass the ends"),
            (["swap-extents", p, "/a", "/b", "--if-unchanged", "1:1"], 75, "changed since token"),
            (["swap-extents", p, "/a", "/b", "--if-unchanged", "banana"], 64, "generation:change"),
            (["swap-extents", p, "/a", "/b", "--offset1", "4K"], 64, "give --length or --to-eof"),
            (["swap-extents", p, "/a", "/b", "--to-eof", "--length", "4K"], 64, "mutually exclusive"),
            (["swap-extents", p, "/a", "/b", "--offset1", "1E", "--length", "8K"], 64, "passes the end of its file"),
            (["swap-extents", p, "/a"], 64, "Missing expected argument"),
            (["io", p, "-c", "swap-extents /a /nope"], 66, "no such file"),
        ]
        for c in cases {
            let before = r.fingerprint
            let res = CLI.run(c.args)
            #expect(res.status == c.status, "\(c.args.dropFirst(2)): status \(res.status), stderr \(res.stderr)")
            #expect(res.stderr.contains(c.says), "\(c.args.dropFirst(2)): \(res.stderr)")
            #expect(r.fingerprint == before, "\(c.args.dropFirst(2)) changed the image")
        }
    }

    @Test func dryRunTokenAndSwapThroughTheBinary() throws {
        let r = CLI.formatted()
        populate(r)
        let a0 = CLI.run(["cat", r.path, "/a"]).stdout, b0 = CLI.run(["cat", r.path, "/b"]).stdout
        let before = r.fingerprint
        let dry = CLI.run(["swap-extents", r.path, "/a", "/b", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("would swap 10 blocks"), "\(dry.stdout) \(dry.stderr)")
        #expect(dry.stdout.contains("/a 40960 -> 20480, /b 20480 -> 40960"), "\(dry.stdout)")
        let dryJSON = try #require(CLI.json(CLI.run(["swap-extents", r.path, "/a", "/b", "--dry-run", "--json"])))
        #expect(dryJSON["dry_run"] as? Bool == true && dryJSON["blocks"] as? Int == 10, "\(dryJSON)")
        #expect(r.fingerprint == before, "--dry-run changed the image")

        let token = try #require(CLI.json(CLI.run(["stat", r.path, "/b", "--json"]))?["token"] as? String)
        _ = CLI.run(["write", r.path, "/a", "--offset", "0"], stdin: Data("a changes; /b does not".utf8))
        let a1 = CLI.run(["cat", r.path, "/a"]).stdout
        let ok = CLI.run(["swap-extents", r.path, "/a", "/b", "--if-unchanged", token, "--json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(CLI.json(ok)?["dry_run"] as? Bool == false)
        #expect(CLI.run(["cat", r.path, "/a"]).stdout == b0 && CLI.run(["cat", r.path, "/b"]).stdout == a1)
        #expect(a1 != a0)
        // The token is stale now: /b changed.
        let stale = CLI.run(["swap-extents", r.path, "/a", "/b", "--if-unchanged", token])
        #expect(stale.status == 75 && stale.stderr.contains("changed since token"), "\(stale.stderr)")
        // A partial swap in a batch, back and forth.
        let batch = CLI.run(["io", r.path, "-c", "swap-extents /a /b --offset1 4K --offset2 8K --length 8K -v",
                             "-c", "swap-extents /a /b --offset1 4K --offset2 8K --length 8K"])
        #expect(batch.status == 0 && batch.stdout.contains("swapped 2 blocks"), "\(batch.stdout) \(batch.stderr)")
        #expect(CLI.run(["cat", r.path, "/a"]).stdout == b0 && CLI.run(["cat", r.path, "/b"]).stdout == a1)
    }

    /// A swap whose steps failed after its intent committed: `info` lists
    /// the pending intent, `fsck -n` reports it (exit 4), `fsck -y`
    /// finishes it (exit 1), and then the files are in the after state and
    /// fsck finds nothing.
    @Test func infoListsAndFsckFinishesAPendingSwap() throws {
        let r = TempRegion()
        try r.format(size: 32 << 20)
        var o = Filesystem.Options()
        o.transactionLimit = 2048
        var a0: [UInt8] = [], b0: [UInt8] = []
        do {
            let fs = try Filesystem.mount(r.path, options: o)
            let a = try fs.create("/a"), b = try fs.create("/b")
            for i in 0..<40 {
                var x = SeededRandom(seed: UInt64(i)), y = SeededRandom(seed: UInt64(100 + i))
                try fs.write(a, at: UInt64(i) * 4096, x.bytes(4096))
                try fs.write(b, at: UInt64(i) * 4096, y.bytes(4096))
            }
            a0 = try fs.read(a, at: 0, count: 1 << 20)
            b0 = try fs.read(b, at: 0, count: 1 << 20)
            try fs.unmount()
        }
        o.faults = .intentStepsFail
        do {
            let fs = try Filesystem.mount(r.path, options: o)
            #expect(throws: DaxError.self) { try fs.swapExtents(try fs.lookup("/a"), try fs.lookup("/b"), toEOF: true, stepExtents: 4) }
        }                                                   // dropped without unmount, as after a crash
        let info = CLI.run(["info", r.path])
        #expect(info.stdout.contains("swap-extents of inode 2") && info.stdout.contains("of 40 blocks done"), "\(info.stdout)")
        let json = try #require(CLI.json(CLI.run(["info", r.path, "--json"])))
        let pending = try #require(json["pending_intents"] as? [[String: Any]])
        #expect(pending.count == 1 && pending[0]["kind"] as? String == "swap-extents" && pending[0]["done"] as? Int == 4, "\(pending)")
        let check = CLI.run(["fsck", r.path, "-fn"])
        #expect(check.status == 4 && check.stdout.contains("INTENT_PENDING"), "\(check.status): \(check.stdout) \(check.stderr)")
        let fix = CLI.run(["fsck", r.path, "-fy"])
        #expect(fix.status == 1, "\(fix.status): \(fix.stdout) \(fix.stderr)")
        #expect(CLI.run(["fsck", r.path, "-fn"]).status == 0)
        #expect(CLI.run(["info", r.path]).stdout.contains("no intents"))
        let fs = try Filesystem.mount(r.path, options: .init(readOnly: true))
        #expect(try fs.read(try fs.lookup("/a"), at: 0, count: 1 << 20) == b0)
        #expect(try fs.read(try fs.lookup("/b"), at: 0, count: 1 << 20) == a0)
        try fs.unmount()
    }

    /// SIGKILL the `daxfs swap-extents` process at random moments while it
    /// swaps two files of 100,000 one-block extents each. After every kill
    /// the next mount finds both files wholly before or wholly after the
    /// swap (every block carries a tag naming its file and index), the
    /// invariants hold, and `fsck -fn` finds nothing.
    @Test func sigkillDuringASwapOf100000Extents() throws {
        let r = TempRegion()
        let n = 100_000
        try r.format(size: 1 << 30, logSize: 8 << 20, checkpointSize: 16 << 20, sentinel: nil)
        var o = Filesystem.Options()
        o.durability = .deferred
        do {
            let fs = try Filesystem.mount(r.path, options: o)
            let a = try fs.create("/a"), b = try fs.create("/b")
            var block = [UInt8](repeating: 0, count: 4096)
            for i in 0..<n {
                for (f, tag) in [(a, UInt64(1)), (b, UInt64(2))] {
                    block.withUnsafeMutableBytes { $0.storeBytes(of: (tag << 32 | UInt64(i)).littleEndian, as: UInt64.self) }
                    try fs.write(f, at: UInt64(i) * 4096, block)
                }
            }
            #expect(try fs.extents(a).count == n && fs.extents(b).count == n)
            try fs.unmount()
        }
        /// Which file's blocks /a holds: 1 (before an even number of swaps) or 2; nil if mixed.
        func owner(_ fs: Filesystem, _ path: String) throws -> UInt64? {
            let f = try fs.lookup(path)
            var first: UInt64?
            for i in stride(from: 0, to: n, by: 1) {
                let t = try fs.read(f, at: UInt64(i) * 4096, count: 8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                guard t & 0xFFFF_FFFF == UInt64(i) else { return nil }
                if first == nil { first = t >> 32 } else if first != t >> 32 { return nil }
            }
            return first
        }
        // Steps of 25 extents (4,000 steps, not 13), so that the swap itself
        // lasts long enough to be hit, and kills aimed at it.
        let args = ["swap-extents", r.path, "/a", "/b", "--step-extents", "25"]
        // A mount is timed with a read-only command; a mount and the
        // checkpoint at unmount with a touch; what the swap adds is its own.
        let t0 = Date()
        #expect(CLI.run(["stat", r.path, "/a"]).status == 0)
        let mount = Date().timeIntervalSince(t0)
        let t1 = Date()
        #expect(CLI.run(["touch", r.path, "/a"]).status == 0)
        let overhead = Date().timeIntervalSince(t1)
        let t2 = Date()
        let full = CLI.run(args)
        let window = Date().timeIntervalSince(t2)
        #expect(full.status == 0, "\(full.stderr)")
        let swapTime = max(0.05, window - overhead)
        var expectedA: UInt64 = 2
        var rng = SeededRandom(seed: 99)
        var midSwap = 0, killed = 0
        for round in 0..<10 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CLI.binary)
            p.arguments = args
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            let delay = mount + swapTime * Double(rng.next() % 1000) / 1000
            usleep(UInt32(delay * 1_000_000))
            if p.isRunning { kill(p.processIdentifier, SIGKILL); killed += 1 }
            p.waitUntilExit()
            let completed = p.terminationReason == .exit && p.terminationStatus == 0
            // A read-only mount first: is a swap intent pending?
            let ro = try Filesystem.mount(r.path, options: .init(readOnly: true))
            if ro.recovery.pendingIntents > 0 { midSwap += 1 }
            try ro.unmount()
            let fs = try Filesystem.mount(r.path)
            let a = try owner(fs, "/a"), b = try owner(fs, "/b")
            #expect(a != nil && b != nil && a != b, "round \(round): /a is \(a.map(String.init) ?? "mixed"), /b is \(b.map(String.init) ?? "mixed")")
            if completed { #expect(a == 3 - expectedA, "round \(round): the swap completed but /a holds file \(a ?? 0)'s blocks") }
            if let a { expectedA = a }
            try fs.checkInvariants()
            try fs.unmount()
            let fsck = CLI.run(["fsck", r.path, "-fn"])
            #expect(fsck.status == 0, "round \(round): fsck -fn after the kill: \(fsck.stdout) \(fsck.stderr)")
        }
        print("swap-extents SIGKILL: process \(String(format: "%.3f", window)) s (mount \(String(format: "%.3f", mount)) s, swap about \(String(format: "%.3f", swapTime)) s), 10 rounds, \(killed) killed, \(midSwap) with the intent pending")
        #expect(killed >= 5, "too few kills landed while the process ran")
        #expect(midSwap >= 1, "no kill landed in the middle of the swap")
    }
}
