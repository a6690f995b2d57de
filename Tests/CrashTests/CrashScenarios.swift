import DaxCore
import DaxFS
import DaxFSFormat
import DaxFSTestSupport

/// The operations under crash test, and the starting images they run from.
///
/// Later issues add their operations here (fallocate modes, swap-extents,
/// fsck repair). Every scenario runs from both starting images.
enum CrashScenarios {
    /// Transactions are capped at 1 KiB in the crash runs, so that removals
    /// of a few dozen extents already take the intent path.
    static let transactionLimit = 1024

    static var options: Filesystem.Options {
        var o = Filesystem.Options()
        o.transactionLimit = transactionLimit
        return o
    }

    static func bytes(_ n: Int, seed: UInt64) -> [UInt8] {
        var r = SeededRandom(seed: seed)
        return r.bytes(n)
    }

    /// A file of `runs` separate extents (every other block), so that freeing
    /// it cannot merge them into fewer FREE records.
    static func fragmented(_ fs: Filesystem, _ path: String, runs: Int) throws {
        let f = try fs.create(path)
        for i in 0..<runs { try fs.write(f, at: UInt64(i) * 8192, bytes(100, seed: UInt64(i))) }
    }

    /// (The swap scenarios take steps of 2 to 4 extents, so that a crash can
    /// land between many of them.)
    ///
    /// Two files of `blocks` one-block extents each, written alternately so
    /// that no two blocks of one file are adjacent; every block differs.
    static func interleaved(_ fs: Filesystem, _ p1: String, _ p2: String, blocks: Int) throws {
        let a = try fs.create(p1), b = try fs.create(p2)
        for i in 0..<blocks {
            try fs.write(a, at: UInt64(i) * 4096, bytes(4096, seed: 1000 + UInt64(i)))
            try fs.write(b, at: UInt64(i) * 4096, bytes(4096, seed: 2000 + UInt64(i)))
        }
    }

    /// The empty filesystem, and one that holds every kind of log record
    /// (INODE, INODE_FREE, INODE_ATTR, EXTENT_MAP, EXTENT_UNMAP, ALLOC, FREE,
    /// INTENT, INTENT_DONE) in its checkpoint and in its log.
    static func startingImages() throws -> [(name: String, image: [UInt8])] {
        let empty = try CrashHarness.formattedImage()
        let populated = try CrashHarness.image(from: empty, options: options) { fs in
            try fs.mkdir("/d1/d2", parents: true)
            let a = try fs.create("/d1/a")
            try fs.write(a, at: 0, bytes(12_000, seed: 1))
            try fs.write(a, at: 40_000, bytes(4_000, seed: 2))
            try fs.write(a, at: 100_000, bytes(9_000, seed: 3))
            try fs.write(try fs.create("/d1/d2/b"), at: 0, bytes(100, seed: 4))
            let c = try fs.create("/c")
            try fs.write(c, at: 0, bytes(20_000, seed: 5))
            try fs.truncate(c, size: 3_000)                       // EXTENT_UNMAP and FREE
            try fs.write(try fs.create("/gone"), at: 0, bytes(5_000, seed: 6))
            try fs.remove("/gone")                                // INODE_FREE
            try fs.checkpoint()                                   // the rest stays in the log
            try fragmented(fs, "/frag", runs: 40)
            try fs.remove("/frag")                                // INTENT ... INTENT_DONE (40 runs > one 1 KiB transaction)
            try fs.rename("/d1/d2/b", to: "/d1/b2")               // INODE
            try fs.write(try fs.create("/after"), at: 0, bytes(3_000, seed: 7))
        }
        return [("empty", empty), ("populated", populated)]
    }

    /// Punch and zero range zero bytes in place after their intent commits;
    /// under deferred durability that commit does not fence by itself.
    static let deferredFallocate: [CrashScenario] = [
        ("fallocate punch hole, unaligned, deferred durability", FallocateMode([.punchHole, .keepSize]), Int64(1_000), Int64(14_000)),
        ("fallocate zero range, deferred durability", FallocateMode.zeroRange, 3_000, 5_000),
    ].map { name, mode, off, len in
        var s = CrashScenario(name, setup: { fs in try fs.write(try fs.create("/fdef"), at: 0, bytes(20_000, seed: 38)) }) { fs in
            try fs.fallocate(try fs.lookup("/fdef"), mode: mode, offset: off, length: len)
            fs.sync()
        }
        s.options.durability = .deferred
        return s
    }

    /// Transactions that only add are staged in DRAM under deferred
    /// durability and written at the sync (`Journal.stage`): the blocks they
    /// expose (zeroed by the allocator, or holding the written data) must be
    /// durable before the staged log is.
    static let deferredStaged: [CrashScenario] = {
        var allocate = CrashScenario("fallocate allocate, deferred durability (staged)", setup: { fs in
            try fs.write(try fs.create("/fdef"), at: 0, bytes(5_000, seed: 39))
        }) { fs in
            try fs.fallocate(try fs.lookup("/fdef"), mode: [], offset: 6_000, length: 30_000)
            fs.sync()
        }
        allocate.options.durability = .deferred
        var write = CrashScenario("write append into a new file, deferred durability (staged)", contract: .write("/w"),
                                  setup: { fs in try fs.create("/w") }) { fs in
            try fs.write(try fs.lookup("/w"), at: 0, bytes(6_000, seed: 40))
            fs.sync()
        }
        write.options.durability = .deferred
        // A size that shrinks within a block is not staged: growing the file
        // again zeroes the old tail in place, which must not reach the media
        // while the old size is still the durable one.
        let original = bytes(8_000, seed: 41)
        let shrunk = Array(original[0..<5_000])
        let grown = shrunk + [UInt8](repeating: 0, count: 7_000)
        let prefix = CrashContract(name: "prefix") { s, pre, _ in
            var expected = pre
            if s == expected { return true }
            expected.entries["/t"] = .file(shrunk)
            if s == expected { return true }
            expected.entries["/t"] = .file(grown)
            return s == expected
        }
        var shrinkThenGrow = CrashScenario("truncate down within a block, then up, deferred durability", contract: prefix,
                                           setup: { fs in try fs.write(try fs.create("/t"), at: 0, original) }) { fs in
            let t = try fs.lookup("/t")
            try fs.truncate(t, size: 5_000)
            try fs.truncate(t, size: 12_000)
            fs.sync()
        }
        shrinkThenGrow.options.durability = .deferred
        return [allocate, write, shrinkThenGrow]
    }()

    /// Every scenario, with the crash runs' transaction cap.
    static var all: [CrashScenario] {
        (plain + deferredFallocate + deferredStaged + [condense, deferredBatch]).map {
            var s = $0
            s.options.transactionLimit = transactionLimit
            s.fsckEveryImage = s.name.hasPrefix("swap-extents")      // the swap-extents issue asks for fsck on every image
            return s
        }
    }

    /// Three creates under deferred durability (as `daxfs io` runs them),
    /// then a sync: a crash keeps a prefix of them, in order, each whole.
    static let deferredBatch: CrashScenario = {
        let names = ["/batch-a", "/batch-b", "/batch-c"]
        let prefix = CrashContract(name: "prefix") { s, pre, _ in
            var expected = pre
            if s == expected { return true }
            for n in names {
                expected.entries[n] = .file([])
                if s == expected { return true }
            }
            return false
        }
        var s = CrashScenario("three creates, deferred durability, then sync", contract: prefix) { fs in
            for n in names { try fs.create(n) }
            fs.sync()
        }
        s.options.durability = .deferred
        return s
    }()

    static let plain: [CrashScenario] = [
        CrashScenario("create") { fs in try fs.create("/new") },
        CrashScenario("mkdir") { fs in try fs.mkdir("/newdir") },
        CrashScenario("write append into a new file", contract: .write("/w"), setup: { fs in try fs.create("/w") }) { fs in
            try fs.write(try fs.lookup("/w"), at: 0, bytes(6_000, seed: 10))
        },
        CrashScenario("write overwrite in place", contract: .write("/w"), setup: { fs in
            try fs.write(try fs.create("/w"), at: 0, bytes(8_192, seed: 11))
        }) { fs in
            try fs.write(try fs.lookup("/w"), at: 1_000, bytes(5_000, seed: 12))
        },
        CrashScenario("write unaligned, straddling a 64-byte line", contract: .write("/w"), setup: { fs in
            try fs.write(try fs.create("/w"), at: 0, bytes(300, seed: 13))
        }) { fs in
            try fs.write(try fs.lookup("/w"), at: 60, bytes(10, seed: 14))
        },
        CrashScenario("write unaligned append, growing the file", contract: .write("/w"), setup: { fs in
            try fs.write(try fs.create("/w"), at: 0, bytes(100, seed: 15))
        }) { fs in
            try fs.write(try fs.lookup("/w"), at: 4_090, bytes(20, seed: 16))
        },
        CrashScenario("truncate down", setup: { fs in try fs.write(try fs.create("/t"), at: 0, bytes(20_000, seed: 17)) }) { fs in
            try fs.truncate(try fs.lookup("/t"), size: 5_000)
        },
        CrashScenario("truncate up", setup: { fs in
            let t = try fs.create("/t")
            try fs.write(t, at: 0, bytes(3_000, seed: 18))
            try fs.truncate(t, size: 1_000)
        }) { fs in
            try fs.truncate(try fs.lookup("/t"), size: 9_000)
        },
        CrashScenario("unlink", setup: { fs in try fs.write(try fs.create("/u"), at: 0, bytes(9_000, seed: 19)) }) { fs in
            try fs.remove("/u")
        },
        CrashScenario("unlink of a fragmented file (intent)", setup: { fs in try fragmented(fs, "/frag2", runs: 45) }) { fs in
            try fs.remove("/frag2")
        },
        CrashScenario("truncate of a fragmented file (intent)", setup: { fs in try fragmented(fs, "/frag3", runs: 45) }) { fs in
            try fs.truncate(try fs.lookup("/frag3"), size: 8192)
        },
        CrashScenario("rename within a directory", setup: { fs in try fs.write(try fs.create("/r"), at: 0, bytes(10, seed: 20)) }) { fs in
            try fs.rename("/r", to: "/r2")
        },
        CrashScenario("rename across directories", setup: { fs in
            try fs.mkdir("/x/y", parents: true)
            try fs.write(try fs.create("/x/r"), at: 0, bytes(10, seed: 21))
        }) { fs in
            try fs.rename("/x/r", to: "/x/y/r")
        },
        CrashScenario("rename over an existing file", setup: { fs in
            try fs.write(try fs.create("/src"), at: 0, bytes(5_000, seed: 22))
            try fs.write(try fs.create("/dst"), at: 0, bytes(7_000, seed: 23))
        }) { fs in
            try fs.rename("/src", to: "/dst")
        },
        CrashScenario("rmdir", setup: { fs in try fs.mkdir("/empty") }) { fs in try fs.remove("/empty") },
        // fallocate: every mode is all-or-nothing as the file is read.
        CrashScenario("fallocate allocate past EOF", setup: { fs in try fs.write(try fs.create("/fa"), at: 0, bytes(5_000, seed: 30)) }) { fs in
            try fs.fallocate(try fs.lookup("/fa"), mode: [], offset: 2_000, length: 30_000)
        },
        CrashScenario("fallocate keep-size", setup: { fs in try fs.write(try fs.create("/fa"), at: 0, bytes(5_000, seed: 31)) }) { fs in
            try fs.fallocate(try fs.lookup("/fa"), mode: .keepSize, offset: 0, length: 40_000)
        },
        CrashScenario("fallocate punch hole, whole blocks", setup: { fs in try fs.write(try fs.create("/fp"), at: 0, bytes(20_000, seed: 32)) }) { fs in
            try fs.fallocate(try fs.lookup("/fp"), mode: [.punchHole, .keepSize], offset: 4_096, length: 8_192)
        },
        CrashScenario("fallocate punch hole, unaligned (intent)", setup: { fs in try fs.write(try fs.create("/fp"), at: 0, bytes(20_000, seed: 33)) }) { fs in
            try fs.fallocate(try fs.lookup("/fp"), mode: [.punchHole, .keepSize], offset: 1_000, length: 14_000)
        },
        CrashScenario("fallocate punch hole of a fragmented file (intent)", setup: { fs in try fragmented(fs, "/fpf", runs: 45) }) { fs in
            try fs.fallocate(try fs.lookup("/fpf"), mode: [.punchHole, .keepSize], offset: 50, length: 400_000)
        },
        CrashScenario("fallocate zero range, growing (intent)", setup: { fs in try fs.write(try fs.create("/fz"), at: 0, bytes(10_000, seed: 34)) }) { fs in
            try fs.fallocate(try fs.lookup("/fz"), mode: .zeroRange, offset: 3_000, length: 17_000)
        },
        CrashScenario("fallocate zero range over a hole", setup: { fs in
            let f = try fs.create("/fz")
            try fs.write(f, at: 0, bytes(1_000, seed: 35))
            try fs.truncate(f, size: 30_000)
        }) { fs in
            try fs.fallocate(try fs.lookup("/fz"), mode: [.zeroRange, .keepSize], offset: 8_192, length: 12_288)
        },
        CrashScenario("fallocate collapse range", setup: { fs in try fs.write(try fs.create("/fc"), at: 0, bytes(20_000, seed: 36)) }) { fs in
            try fs.fallocate(try fs.lookup("/fc"), mode: .collapseRange, offset: 4_096, length: 8_192)
        },
        CrashScenario("fallocate collapse range of a fragmented file (intent)", setup: { fs in try fragmented(fs, "/fcf", runs: 45) }) { fs in
            try fs.fallocate(try fs.lookup("/fcf"), mode: .collapseRange, offset: 0, length: 40 * 8_192)
        },
        CrashScenario("fallocate insert range", setup: { fs in try fragmented(fs, "/fi", runs: 6) }) { fs in
            try fs.fallocate(try fs.lookup("/fi"), mode: .insertRange, offset: 8_192, length: 12_288)
        },
        CrashScenario("fallocate dig holes", setup: { fs in
            let f = try fs.create("/fd")
            try fs.write(f, at: 0, [UInt8](repeating: 0, count: 16_384))
            try fs.write(f, at: 5_000, bytes(10, seed: 37))
        }) { fs in
            try fs.digHoles(try fs.lookup("/fd"), offset: 0, length: nil)
        },
        // swap-extents: exactly the before or the after state of both files.
        CrashScenario("swap-extents of whole files, 1 extent each", setup: { fs in
            try fs.write(try fs.create("/s1"), at: 0, bytes(8_192, seed: 40))
            try fs.write(try fs.create("/s2"), at: 0, bytes(5_000, seed: 41))
        }) { fs in
            try fs.swapExtents(try fs.lookup("/s1"), try fs.lookup("/s2"), toEOF: true)
        },
        CrashScenario("swap-extents of whole files, 40 and 20 extents (whole maps, one transaction)", setup: { fs in
            try interleaved(fs, "/s1", "/s2", blocks: 40)
            try fs.truncate(try fs.lookup("/s2"), size: 20 * 4096)
        }) { fs in
            try fs.swapExtents(try fs.lookup("/s1"), try fs.lookup("/s2"), toEOF: true)
        },
        CrashScenario("swap-extents of whole files, 10 extents each (intent)", setup: { fs in try interleaved(fs, "/s1", "/s2", blocks: 10) }) { fs in
            try fs.swapExtents(try fs.lookup("/s1"), try fs.lookup("/s2"), toEOF: true, stepExtents: 2)
        },
        CrashScenario("swap-extents to EOF from offsets, unequal sizes (intent)", setup: { fs in
            try interleaved(fs, "/s1", "/s2", blocks: 20)
            try fs.truncate(try fs.lookup("/s2"), size: 14 * 4096 + 100)
        }) { fs in
            try fs.swapExtents(try fs.lookup("/s1"), try fs.lookup("/s2"), offset1: 4096, offset2: 8192, toEOF: true, stepExtents: 4)
        },
        CrashScenario("swap-extents of two ranges of one file (intent)", setup: { fs in try interleaved(fs, "/s1", "/s2", blocks: 24) }) { fs in
            try fs.swapExtents(try fs.lookup("/s1"), try fs.lookup("/s1"), offset1: 0, offset2: 12 * 4096, length: 11 * 4096, stepExtents: 3)
        },
        CrashScenario("checkpoint", contract: .unchanged) { fs in try fs.checkpoint() },
        CrashScenario("mount and recovery", contract: .unchanged, crashDuringMount: true) { _ in },
    ]

    /// A commit that condenses the space map: thresholds low enough that
    /// the truncate's FREE records trigger a checkpoint inside the commit.
    static let condense: CrashScenario = {
        var s = CrashScenario("space-map condensation", setup: { fs in
            try fs.write(try fs.create("/cz"), at: 0, bytes(20_000, seed: 24))
        }) { fs in
            try fs.truncate(try fs.lookup("/cz"), size: 0)
        }
        s.options.condenseMinimumRecords = 1
        s.options.condenseFactor = 1
        return s
    }()

    static func named(_ name: String) -> CrashScenario? { all.first { $0.name == name } }
}

