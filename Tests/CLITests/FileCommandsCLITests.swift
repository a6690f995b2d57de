import Foundation
import Testing
import DaxCore
import DaxFS
import DaxFSFormat
import PMem
import DaxFSTestSupport

/// The file commands through the real binary: data in and out, listings,
/// batch mode, and every bad input leaving the image as it was.
@Suite(.serialized) struct FileCommandsCLITests {
    func hostFile(_ r: TempRegion, _ name: String, _ bytes: [UInt8]) -> String {
        let p = r.directory + "/" + name
        FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    @Test func putGetCatAndByteExactIO() throws {
        let r = CLI.formatted()
        var rng = SeededRandom(seed: 9)
        let data = rng.bytes(3 << 20)
        let src = hostFile(r, "src", data)
        #expect(CLI.run(["mkdir", r.path, "-p", "/a/b"]).status == 0)
        let put = CLI.run(["put", r.path, src, "/a/b/f"])
        #expect(put.status == 0, "\(put.stderr)")
        let out = r.directory + "/out"
        #expect(CLI.run(["get", r.path, "/a/b/f", out]).status == 0)
        #expect(FileManager.default.contents(atPath: out) == Data(data))
        let cat = CLI.run(["cat", r.path, "/a/b/f"])
        #expect(cat.status == 0 && cat.stdout.utf8.count > 0)
        // write at an offset past EOF, then read it back byte for byte
        let patch = hostFile(r, "patch", Array("0123456789".utf8))
        #expect(CLI.run(["write", r.path, "/a/b/f", "--offset", "4M", "--from", patch]).status == 0)
        let read = CLI.run(["read", r.path, "/a/b/f", "--offset", "4M", "--length", "10"])
        #expect(read.stdout == "0123456789")
        let gap = CLI.run(["read", r.path, "/a/b/f", "--offset", "\(3 << 20)", "--length", "16"])
        #expect(gap.stdout == String(repeating: "\0", count: 16))
        let stdinWrite = CLI.run(["write", r.path, "/new", "--offset", "0"], stdin: Data("from stdin".utf8))
        #expect(stdinWrite.status == 0)
        #expect(CLI.run(["cat", r.path, "/new"]).stdout == "from stdin")
        #expect(CLI.run(["truncate", r.path, "/new", "4"]).status == 0)
        #expect(CLI.run(["cat", r.path, "/new"]).stdout == "from")
        #expect(CLI.run(["mv", r.path, "/new", "/a"]).status == 0)
        #expect(CLI.run(["ls", r.path, "/a"]).stdout == "b/\nnew\n")
        #expect(CLI.run(["rm", r.path, "-r", "/a"]).status == 0)
        #expect(CLI.run(["ls", r.path]).stdout == "")
        #expect(CLI.run(["df", r.path, "--json"]).stdout.contains("\"used_blocks\" : 0"))
    }

    @Test func sparseHostFilesStaySparse() throws {
        let r = CLI.formatted()
        let src = r.directory + "/sparse"
        FileManager.default.createFile(atPath: src, contents: nil)
        let h = FileHandle(forWritingAtPath: src)!
        try h.truncate(atOffset: 8 << 20)
        try h.seek(toOffset: 1 << 20); h.write(Data(repeating: 7, count: 4096))
        try h.seek(toOffset: 6 << 20); h.write(Data(repeating: 9, count: 8192))
        try h.close()
        #expect(CLI.run(["put", r.path, src, "/s"]).status == 0)
        let bmap = CLI.run(["bmap", r.path, "/s", "--json"])
        let j = try #require(CLI.json(bmap))
        #expect(j["extents"] as? Int == 2)
        #expect(j["blocks"] as? Int == 3)
        #expect(j["size"] as? Int == 8 << 20)
        let out = r.directory + "/back"
        #expect(CLI.run(["get", r.path, "/s", out]).status == 0)
        #expect(FileManager.default.contents(atPath: out) == FileManager.default.contents(atPath: src))
        let ranges = try RegionPath.dataRanges(out)
        #expect(ranges.reduce(0) { $0 + $1.count } <= 64 << 10, "get filled holes: \(ranges)")
        let text = CLI.run(["bmap", r.path, "-v", "/s"]).stdout
        #expect(text.contains("hole") && text.contains("aligned"))
    }

    @Test func listingsHaveJSONWithDocumentedKeys() throws {
        let r = CLI.formatted()
        _ = CLI.run(["write", r.path, "/f", "--offset", "0"], stdin: Data("x".utf8))
        for (cmd, args) in [("ls", ["ls", r.path, "--json", "/"]), ("stat", ["stat", r.path, "--json", "/f"]),
                            ("bmap", ["bmap", r.path, "--json", "/f"]), ("df", ["df", r.path, "--json"])] {
            let res = CLI.run(args)
            #expect(res.status == 0, "\(cmd): \(res.stderr)")
            let j = try #require(CLI.json(res), "\(cmd) --json")
            var keys = Set(j.keys)
            if let e = (j["entries"] as? [[String: Any]])?.first { keys.formUnion(e.keys) }
            if let e = (j["map"] as? [[String: Any]])?.first { keys.formUnion(e.keys) }
            let help = CLI.run([cmd, "--help"]).stdout
            for k in keys { #expect(help.contains(k), "\(cmd) --json key \(k) is not documented in its help") }
        }
        let stat = try #require(CLI.json(CLI.run(["stat", r.path, "--json", "/f"])))
        #expect(stat["size"] as? Int == 1)
        #expect((stat["token"] as? String)?.contains(":") == true)
    }

    @Test func batchModeRunsUnderOneMountAndStopsAtTheFirstFailure() throws {
        let r = CLI.formatted()
        let ok = CLI.run(["io", r.path, "-c", "mkdir -p /d/e", "-c", "write /d/e/f --offset 0", "-c", "ls -l /d/e"], stdin: Data("hello".utf8))
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains(" 5 ") && ok.stdout.contains("f"))
        let script = hostFile(r, "script", Array("# a comment\n\nmkdir /x\nrm /missing\nmkdir /y\n".utf8))
        let stop = CLI.run(["io", r.path, "-f", script])
        #expect(stop.status == 66)
        #expect(stop.stderr.contains("daxfs: line 4: rm /missing"))
        #expect(CLI.run(["ls", r.path]).stdout == "d/\nx/\n")
        let going = CLI.run(["io", r.path, "--keep-going", "-c", "rm /missing", "-c", "mkdir /z"])
        #expect(going.status == 66)
        #expect(CLI.run(["ls", r.path]).stdout == "d/\nx/\nz/\n")
        // A syntax error anywhere stops the batch before anything runs.
        let before = r.fingerprint
        let bad = CLI.run(["io", r.path, "-c", "mkdir /q", "-c", "ls --no-such-flag"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("line 2"))
        #expect(r.fingerprint == before)
        let quoted = CLI.run(["io", r.path, "-c", "mkdir '/with space'", "-c", "ls"])
        #expect(quoted.stdout.contains("with space/"))
    }

    /// Each bad input: a documented non-zero status, a "daxfs: " message that
    /// says what is wrong, and an image that is byte for byte unchanged.
    @Test func badInputChangesNothing() throws {
        let r = CLI.formatted("16M")
        _ = CLI.run(["io", r.path, "-c", "mkdir -p /dir/sub", "-c", "write /file --offset 0"], stdin: Data("data".utf8))
        let long = String(repeating: "n", count: 256)
        let cases: [(args: [String], status: Int32, says: String)] = [
            (["stat", r.path, "/missing"], 66, "no such file"),
            (["mkdir", r.path, "/file/x"], 66, "not a directory"),
            (["mkdir", r.path, "/" + long], 64, "256 bytes"),
            (["rmdir", r.path, "/dir"], 1, "not empty"),
            (["rm", r.path, "/dir"], 66, "is a directory"),
            (["mv", r.path, "/dir", "/dir/sub/inside"], 64, "into itself"),
            (["write", r.path, "/file", "--offset", "-5"], 64, "must not be negative"),
            (["write", r.path, "/file", "--offset", "\(1 << 60)"], 1, "maximum file size"),
            (["put", r.path, r.directory + "/no-such-host-file", "/p"], 66, "cannot read"),
            (["put", r.path, r.directory, "/p"], 66, "directory"),
            (["truncate", r.path, "/file", "2E"], 1, "maximum file size"),
            (["get", r.path, "/dir", r.directory + "/o"], 66, "is a directory"),
            (["ls", r.path, "/missing"], 66, "no such file"),
            (["io", r.path, "-c", "frobnicate /x"], 64, "unknown command"),
            (["fallocate", r.path, "/file", "-c", "-o", "1", "-l", "4K"], 64, "multiples of the file's allocation unit"),
            (["fallocate", r.path, "/file", "-i", "-o", "0", "-l", "100"], 64, "multiples of the file's allocation unit"),
            (["fallocate", r.path, "/file", "-c", "-o", "0", "-l", "4K"], 64, "must end before the end of the file"),
            (["fallocate", r.path, "/file", "-i", "-o", "4K", "-l", "4K"], 64, "must be below the end of the file"),
            (["fallocate", r.path, "/file", "-l", "0"], 64, "not greater than 0"),
            (["fallocate", r.path, "/file", "-o", "-4096", "-l", "1"], 64, "must not be negative"),
            (["fallocate", r.path, "/file", "-p", "-z", "-l", "1"], 64, "mutually exclusive"),
            (["fallocate", r.path, "/file", "-x", "-n", "-l", "1"], 64, "mutually exclusive"),
            (["fallocate", r.path, "/file", "-z"], 64, "no length"),
            (["fallocate", r.path, "/file", "-c", "-n", "-o", "0", "-l", "4K"], 69, "cannot be combined with keep size"),
            (["fallocate", r.path, "/file", "-i", "-n", "-o", "0", "-l", "4K"], 69, "cannot be combined with keep size"),
            (["fallocate", r.path, "/file", "-o", "1E", "-l", "1"], 1, "maximum file size"),
            (["fallocate", r.path, "/file", "-i", "-o", "0", "-l", "1E"], 1, "maximum file size"),
            (["fallocate", r.path, "/file", "-l", "1G"], 1, "no space left"),
            (["fallocate", r.path, "/file", "-z", "-l", "1G"], 1, "no space left"),
            (["fallocate", r.path, "/dir", "-l", "4K"], 66, "is a directory"),
            (["fallocate", r.path, "/missing", "-l", "4K"], 66, "no such file"),
            (["fallocate", r.path, "/file", "-d", "-x", "-l", "4K"], 64, "mutually exclusive"),
            (["chattr", r.path, "/file", "--alloc-unit", "2M"], 75, "has blocks"),
            (["chattr", r.path, "/file", "--alloc-unit", "8K"], 64, "is not 4K, 2M or 1G"),
            (["chattr", r.path, "/missing", "--alloc-unit", "2M"], 66, "no such file"),
            (["lsattr", r.path, "/missing"], 66, "no such file"),
        ]
        for c in cases {
            let before = r.fingerprint
            let res = CLI.run(c.args)
            #expect(res.status == c.status, "\(c.args.dropFirst(2)): status \(res.status), stderr \(res.stderr)")
            #expect(res.stderr.hasPrefix("daxfs: ") && res.stderr.contains(c.says), "\(c.args.dropFirst(2)): \(res.stderr)")
            #expect(r.fingerprint == before, "\(c.args.dropFirst(2)) changed the image")
        }
    }

    @Test func putThatRunsOutOfSpaceLeavesNoFile() throws {
        let r = CLI.formatted("4M")
        var rng = SeededRandom(seed: 3)
        let big = hostFile(r, "big", rng.bytes(6 << 20))
        let free0 = try #require(CLI.json(CLI.run(["df", r.path, "--json"]))?["free_blocks"] as? Int)
        let before = r.fingerprint
        let res = CLI.run(["put", r.path, big, "/big"])
        #expect(res.status == 1 && res.stderr.contains("ENOSPC") || res.stderr.contains("free"), "\(res.stderr)")
        #expect(r.fingerprint == before, "a put that cannot fit must fail before writing")
        // From a pipe the size is unknown: the partial file is removed again.
        let piped = CLI.run(["put", r.path, "-", "/piped"], stdin: Data(rng.bytes(6 << 20)))
        #expect(piped.status == 1, "\(piped.stderr)")
        #expect(CLI.run(["ls", r.path, "-l", "/"]).stdout == "")
        #expect(try #require(CLI.json(CLI.run(["df", r.path, "--json"]))?["free_blocks"] as? Int) == free0)
    }

    /// Every fallocate mode through the binary, in one batch and as
    /// subcommands, with the result held against `FallocateModel`.
    @Test func fallocateModesThroughTheBinary() throws {
        let r = CLI.formatted()
        var rng = SeededRandom(seed: 21)
        var model = rng.bytes(100_000)
        let src = hostFile(r, "src", model)
        #expect(CLI.run(["put", r.path, src, "/f"]).status == 0)
        let steps: [(flags: [String], mode: FallocateMode, off: Int64, len: Int64)] = [
            (["-p"], [.punchHole, .keepSize], 1_000, 20_000),
            (["-z"], .zeroRange, 50_000, 70_000),
            (["-z", "-n"], [.zeroRange, .keepSize], 110_000, 50_000),
            (["-c"], .collapseRange, 8_192, 16_384),
            (["-i"], .insertRange, 4_096, 12_288),
            (["-n"], .keepSize, 0, 300_000),
            ([], [], 120_000, 10_000),
            (["-x"], [], 0, 140_000),
        ]
        for s in steps {
            let res = CLI.run(["fallocate", r.path, "/f"] + s.flags + ["-o", "\(s.off)", "-l", "\(s.len)", "-v"])
            #expect(res.status == 0, "\(s.flags): \(res.stderr)")
            #expect(res.stdout.contains("/f: ") && res.stdout.contains("at offset \(s.off)"), "\(s.flags): \(res.stdout)")
            #expect(FallocateModel.apply(&model, mode: s.mode, offset: s.off, length: s.len, unit: 4096) == nil)
            let out = r.directory + "/out"
            #expect(CLI.run(["get", r.path, "/f", out]).status == 0)
            #expect(FileManager.default.contents(atPath: out) == Data(model), "after \(s.flags) the file differs from the model")
        }
        // dig holes: the zeroed range goes back to free space, the bytes stay.
        let before = try #require(CLI.json(CLI.run(["bmap", r.path, "/f", "--json"]))?["blocks"] as? Int)
        let dig = CLI.run(["io", r.path, "-c", "fallocate /f --dig-holes -v"])
        #expect(dig.status == 0 && dig.stdout.contains("converted to sparse holes"), "\(dig.stderr)")
        let after = try #require(CLI.json(CLI.run(["bmap", r.path, "/f", "--json"]))?["blocks"] as? Int)
        #expect(after < before, "dig holes freed nothing: \(before) -> \(after) blocks")
        let out = r.directory + "/out"
        #expect(CLI.run(["get", r.path, "/f", out]).status == 0)
        #expect(FileManager.default.contents(atPath: out) == Data(model))
    }

    /// chattr and lsattr: a directory's unit is inherited, a 2M file gets
    /// 2M-aligned extents.
    @Test func allocationUnitsThroughTheBinary() throws {
        let r = CLI.formatted("256M")
        #expect(CLI.run(["io", r.path, "-c", "mkdir /huge", "-c", "chattr /huge --alloc-unit 2M", "-c", "touch /huge/f"]).status == 0)
        #expect(CLI.run(["lsattr", r.path, "/huge", "/huge/f"]).stdout == "2M\t/huge\n2M\t/huge/f\n")
        let j = CLI.run(["lsattr", r.path, "--json", "/huge/f"])
        #expect(j.stdout.contains("\"alloc_unit\" : 2097152"), "\(j.stdout)")
        #expect(CLI.run(["write", r.path, "/huge/f", "--offset", "1M"], stdin: Data("x".utf8)).status == 0)
        let bmap = try #require(CLI.json(CLI.run(["bmap", r.path, "/huge/f", "--json"])))
        #expect(bmap["blocks"] as? Int == 512, "one 2M unit: \(bmap)")
    }
}
