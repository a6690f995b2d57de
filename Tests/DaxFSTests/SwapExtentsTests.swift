import Foundation
import Testing
import DaxCore
import DaxFS
import DaxFSFormat
import DaxFSTestSupport

/// swap-extents in the engine: a seeded model of the bytes, every error,
/// the token, the intent and its recovery.
@Suite(.serialized) struct SwapExtentsTests {
    func bytes(_ n: Int, _ seed: UInt64) -> [UInt8] { var r = SeededRandom(seed: seed); return r.bytes(n) }

    /// The byte model of a swap: ranges exchanged; with `toEOF` the tails
    /// from the offsets are exchanged, sizes included.
    static func model(_ files: inout [[UInt8]], _ i: Int, _ j: Int, o1: Int, o2: Int, length: Int?) {
        if let len = length {
            if i == j {
                let a = Array(files[i][o1..<o1 + len]), b = Array(files[i][o2..<o2 + len])
                files[i].replaceSubrange(o1..<o1 + len, with: b)
                files[i].replaceSubrange(o2..<o2 + len, with: a)
            } else {
                let a = Array(files[i][o1..<o1 + len]), b = Array(files[j][o2..<o2 + len])
                files[i].replaceSubrange(o1..<o1 + len, with: b)
                files[j].replaceSubrange(o2..<o2 + len, with: a)
            }
        } else {
            let a = files[i], b = files[j]
            files[i] = Array(a[..<o1]) + Array(b[o2...])
            files[j] = Array(b[..<o2]) + Array(a[o1...])
        }
    }

    /// Random fragmented files, random swaps of every kind (partial, whole
    /// file, to-eof with unequal sizes, two ranges of one file), with
    /// transactions small enough that most swaps go through an intent in
    /// many steps. After each: the bytes equal the model, no block was
    /// allocated or freed, and the invariants hold; after a remount too.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomSwapsMatchTheByteModel(seed: UInt64) throws {
        let r = TempRegion()
        try r.format(size: 32 << 20)
        var o = Filesystem.Options()
        o.transactionLimit = 2048
        var rng = SeededRandom(seed: seed)
        let bs = 4096
        var files: [[UInt8]] = []
        var intents = 0
        try withMount(r, o) { fs in
            var inos: [InodeNumber] = []
            for k in 0..<4 {
                let f = try fs.create("/f\(k)")
                inos.append(f)
                files.append([])
            }
            // Interleaved writes make many extents; punches make holes.
            for step in 0..<160 {
                let k = Int(rng.next() % 4)
                let off = Int(rng.next() % 96) * bs + (step % 3 == 0 ? Int(rng.next() % 4000) : 0)
                let data = bytes(Int(rng.next() % 3 + 1) * bs / 2, seed &* 1000 + UInt64(step))
                try fs.write(inos[k], at: UInt64(off), data)
                if files[k].count < off + data.count { files[k] += [UInt8](repeating: 0, count: off + data.count - files[k].count) }
                files[k].replaceSubrange(off..<off + data.count, with: data)
                if step % 7 == 0 {
                    let p = Int(rng.next() % 64) * bs
                    try fs.fallocate(inos[k], mode: [.punchHole, .keepSize], offset: Int64(p), length: Int64(2 * bs))
                    if p < files[k].count { for x in p..<min(files[k].count, p + 2 * bs) { files[k][x] = 0 } }
                }
            }
            for step in 0..<60 {
                let i = Int(rng.next() % 4), j = Int(rng.next() % 4)
                let free = try fs.usage().freeBlocks
                let blocks1 = files[i].count / bs, blocks2 = files[j].count / bs
                let plan: SwapPlan
                switch rng.next() % 3 {
                case 0 where i != j:                        // whole files: in steps, or as whole maps
                    plan = try fs.swapExtents(inos[i], inos[j], toEOF: true, stepExtents: step % 2 == 0 ? 16 : nil)
                    Self.model(&files, i, j, o1: 0, o2: 0, length: nil)
                case 1 where i != j:                        // to EOF from aligned offsets
                    let o1 = Int(rng.next() % UInt64(blocks1 + 1)) * bs, o2 = Int(rng.next() % UInt64(blocks2 + 1)) * bs
                    plan = try fs.swapExtents(inos[i], inos[j], offset1: UInt64(o1), offset2: UInt64(o2), toEOF: true)
                    Self.model(&files, i, j, o1: o1, o2: o2, length: nil)
                default:                                    // a range inside both (maybe one file)
                    let maxLen = i == j ? blocks1 / 2 : min(blocks1, blocks2)
                    guard maxLen > 0 else { continue }
                    let len = Int(rng.next() % UInt64(maxLen)) * bs + bs
                    var o1 = Int(rng.next() % UInt64(blocks1 - len / bs + 1)) * bs
                    var o2 = Int(rng.next() % UInt64(blocks2 - len / bs + 1)) * bs
                    if i == j {
                        o1 = Int(rng.next() % UInt64(blocks1 - 2 * len / bs + 1)) * bs
                        o2 = o1 + len + Int(rng.next() % UInt64(blocks1 - (o1 + 2 * len) / bs + 1)) * bs
                    }
                    plan = try fs.swapExtents(inos[i], inos[j], offset1: UInt64(o1), offset2: UInt64(o2), length: UInt64(len))
                    Self.model(&files, i, j, o1: o1, o2: o2, length: len)
                }
                if plan.usesIntent { intents += 1 }
                #expect(try fs.usage().freeBlocks == free, "step \(step): a swap allocated or freed blocks")
                for k in 0..<4 {
                    let got = try fs.read(inos[k], at: 0, count: files[k].count + 1)
                    let same = got == files[k]
                    #expect(same, "seed \(seed) step \(step): /f\(k) differs from the model after \(plan)")
                    if !same { return }
                }
                try fs.checkInvariants()
            }
        }
        try withMount(r, o) { fs in
            for k in 0..<4 {
                let same = try fs.read(try fs.lookup("/f\(k)"), at: 0, count: files[k].count + 1) == files[k]
                #expect(same, "seed \(seed): /f\(k) differs from the model after a remount")
            }
            try fs.checkInvariants()
        }
        #expect(intents > 5, "seed \(seed): only \(intents) swaps took the intent path")
    }

    /// The mappings move; the data is never copied: each file ends up with
    /// exactly the region blocks the other had.
    @Test func theBlocksMoveAndNoByteIsCopied() throws {
        let r = TempRegion()
        try r.format(size: 16 << 20)
        try withMount(r) { fs in
            let a = try fs.create("/a"), b = try fs.create("/b")
            for i in 0..<20 {                              // interleaved: 20 extents each
                try fs.write(a, at: UInt64(i) * 4096, bytes(4096, UInt64(i)))
                try fs.write(b, at: UInt64(i) * 4096, bytes(4096, UInt64(100 + i)))
            }
            let ea = try fs.extents(a), eb = try fs.extents(b)
            let plan = try fs.swapExtents(a, b, toEOF: true)
            #expect(plan.extents1 == 20 && plan.extents2 == 20 && plan.blocks == 20)
            #expect(try fs.extents(a).map(\.regionBlock) == eb.map(\.regionBlock))
            #expect(try fs.extents(b).map(\.regionBlock) == ea.map(\.regionBlock))
        }
    }

    /// Whole files whose extents all lie inside the ranges exchange their
    /// maps: one transaction and no intent whatever the extent count, the
    /// same blocks moved, and the same state after a remount (replay takes
    /// the same path). A step size asked for keeps the steps.
    @Test func wholeFilesExchangeTheirMapsInOneTransaction() throws {
        let r = TempRegion()
        try r.format(size: 32 << 20)
        var o = Filesystem.Options()
        o.transactionLimit = 2048                          // 16 extents a step
        o.checkpointOnUnmount = false                      // the remount replays the EXTENT_SWAP
        var ea: [Extent] = [], eb: [Extent] = []
        try withMount(r, o) { fs in
            let a = try fs.create("/a"), b = try fs.create("/b")
            for i in 0..<300 {                             // 300 and 150 extents
                try fs.write(a, at: UInt64(i) * 8192, bytes(4096, UInt64(i)))
                if i % 2 == 0 { try fs.write(b, at: UInt64(i) * 8192 + 4096, bytes(4096, UInt64(1000 + i))) }
            }
            ea = try fs.extents(a); eb = try fs.extents(b)
            let plan = try fs.swapExtents(a, b, toEOF: true)
            #expect(plan.extents1 == 300 && plan.extents2 == 150)
            #expect(!plan.usesIntent && plan.transactions == 1, "\(plan)")
            #expect(try fs.extents(a) == eb && fs.extents(b) == ea)
            let stepped = try fs.swapExtents(a, b, toEOF: true, stepExtents: 16)
            #expect(stepped.usesIntent && stepped.transactions == 19, "\(stepped)")
            #expect(try fs.extents(a) == ea && fs.extents(b) == eb)
            try fs.swapExtents(a, b, toEOF: true)
        }
        try withMount(r, o) { fs in
            #expect(fs.recovery.recordsApplied > 0)
            #expect(try fs.extents(try fs.lookup("/a")) == eb && fs.extents(try fs.lookup("/b")) == ea)
            try fs.checkInvariants()
        }
    }

    @Test func everyErrorChangesNothing() throws {
        let r = TempRegion()
        try r.format(size: 64 << 20, allocUnit: nil)
        try withMount(r) { fs in
            let a = try fs.create("/a"), b = try fs.create("/b")
            try fs.write(a, at: 0, bytes(40_960, 1))
            try fs.write(b, at: 0, bytes(20_480, 2))
            try fs.mkdir("/d")
            try fs.mkdir("/huge")
            try fs.setAllocUnit("/huge", unit: 2 << 20)
            let h = try fs.create("/huge/h")
            try fs.write(h, at: 0, bytes(8192, 3))
            let d = try fs.lookup("/d")
            let token = { (ino: InodeNumber) throws -> ChangeToken in
                let s = try fs.stat(ino: ino)
                return ChangeToken(generation: s.generation, change: s.change)
            }
            let cases: [(String, Errno, () throws -> Void)] = [
                ("a directory", .EISDIR, { try fs.swapExtents(a, d, toEOF: true) }),
                ("a missing inode", .ENOENT, { try fs.swapExtents(a, InodeNumber(999), toEOF: true) }),
                ("an unaligned offset", .EINVAL, { try fs.swapExtents(a, b, offset1: 100, offset2: 0, length: 4096) }),
                ("an unaligned length inside the files", .EINVAL, { try fs.swapExtents(a, b, offset1: 0, offset2: 0, length: 5000) }),
                ("a range past EOF", .EINVAL, { try fs.swapExtents(a, b, offset1: 0, offset2: 16_384, length: 8192) }),
                ("a length of 0", .EINVAL, { try fs.swapExtents(a, b, offset1: 0, offset2: 0, length: 0) }),
                ("overlapping ranges of one file", .EINVAL, { try fs.swapExtents(a, a, offset1: 0, offset2: 4096, length: 8192) }),
                ("different allocation units", .EINVAL, { try fs.swapExtents(a, h, toEOF: true) }),
                ("an offset past EOF with to-eof", .EINVAL, { try fs.swapExtents(a, b, offset1: 0, offset2: 24_576, toEOF: true) }),
                ("a stale token", .EBUSY, { try fs.swapExtents(a, b, toEOF: true, ifUnchanged: ChangeToken(generation: 1, change: 1)) }),
                ("a range past the maximum size", .EINVAL, { try fs.swapExtents(a, b, offset1: UInt64.max - 4095, offset2: 0, length: 8192) }),
            ]
            let before = (try fs.read(a, at: 0, count: 1 << 20), try fs.read(b, at: 0, count: 1 << 20), try fs.usage(), try token(a), try token(b))
            for (what, code, body) in cases {
                do {
                    try body()
                    Issue.record("\(what): the swap succeeded")
                } catch let e as DaxError {
                    #expect(e.code == code, "\(what): \(e)")
                }
                let now = (try fs.read(a, at: 0, count: 1 << 20), try fs.read(b, at: 0, count: 1 << 20), try fs.usage(), try token(a), try token(b))
                #expect(now == before, "\(what) changed something")
            }
            // The token of the unchanged file lets the swap through; a dry run changes nothing.
            let dry = try fs.swapExtents(a, b, toEOF: true, ifUnchanged: try token(b), dryRun: true)
            #expect(dry.dryRun && dry.sizeAfter1 == 20_480 && dry.sizeAfter2 == 40_960)
            #expect((try fs.read(a, at: 0, count: 1 << 20), try token(b)) == (before.0, before.4))
            try fs.swapExtents(a, b, toEOF: true, ifUnchanged: try token(b))
            #expect(try fs.read(a, at: 0, count: 1 << 20) == bytes(20_480, 2))
            #expect(try fs.read(b, at: 0, count: 1 << 20) == bytes(40_960, 1))
            // After the swap the old token is stale.
            #expect(throws: DaxError.self) { try fs.swapExtents(a, b, toEOF: true, ifUnchanged: before.4) }
            try fs.checkInvariants()
        }
    }

    /// A thread holding a mapping of either file gets EDEADLK; another
    /// thread's mapping makes the swap wait, then fail with EBUSY.
    @Test func mappingsBlockTheSwap() throws {
        let r = TempRegion()
        try r.format()
        var o = Filesystem.Options()
        o.mappingDrainTimeout = 0.2
        try withMount(r, o) { fs in
            let a = try fs.create("/a"), b = try fs.create("/b")
            try fs.write(a, at: 0, bytes(8192, 1))
            try fs.write(b, at: 0, bytes(8192, 2))
            try fs.withMapping(b, offset: 0, length: 4096, for: .read) { _ in
                do { try fs.swapExtents(a, b, toEOF: true); Issue.record("swap under a held mapping succeeded") }
                catch let e as DaxError { #expect(e.code == .EDEADLK, "\(e)") }
            }
            let m = try fs.map(a, offset: 0, length: 4096, for: .read)
            let t = Thread { do { try fs.swapExtents(a, b, toEOF: true) } catch let e as DaxError { Self.busy.withLock { $0 = e.code } } catch {} }
            t.start()
            while Self.busy.withLock({ $0 }) == nil { usleep(10_000) }
            #expect(Self.busy.withLock { $0 } == .EBUSY)
            m.release()
            try fs.swapExtents(a, b, toEOF: true)
            #expect(try fs.read(a, at: 0, count: 8192) == bytes(8192, 2))
        }
    }
    static let busy = NSLockedValue<Errno?>(nil)

    /// A swap whose steps fail after its intent committed shuts the
    /// filesystem down; the next mount finishes it: the after state, once.
    /// A read-only mount meanwhile refuses to read either file.
    @Test func aFailedSwapIsFinishedByTheNextMount() throws {
        let r = TempRegion()
        try r.format(size: 16 << 20)
        var o = Filesystem.Options()
        o.transactionLimit = 2048
        var a0: [UInt8] = [], b0: [UInt8] = []
        try withMount(r, o) { fs in
            let a = try fs.create("/a"), b = try fs.create("/b")
            for i in 0..<60 {
                try fs.write(a, at: UInt64(i) * 4096, bytes(4096, UInt64(i)))
                try fs.write(b, at: UInt64(i) * 4096 + 8192, bytes(4096, UInt64(500 + i)))
            }
            a0 = try fs.read(a, at: 0, count: 1 << 20)
            b0 = try fs.read(b, at: 0, count: 1 << 20)
        }
        o.faults = .intentStepsFail
        do {
            let fs = try Filesystem.mount(r.path, options: o)
            let a = try fs.lookup("/a"), b = try fs.lookup("/b")
            #expect(throws: DaxError.self) { try fs.swapExtents(a, b, toEOF: true, stepExtents: 16) }
            do { try fs.write(a, at: 0, [1]); Issue.record("a write landed after a failed swap") }
            catch let e as DaxError { #expect(e.code == .EIO, "\(e)") }
        }
        // info lists the pending swap with its progress.
        let report = try RegionReport.read(r.path)
        let pending = try #require(report.pendingIntents.first)
        #expect(report.pendingIntents.count == 1 && pending.kind == "swap-extents")
        #expect(pending.done > 0 && pending.done < pending.count && pending.count == 62, "\(pending)")
        #expect(pending.description.contains("swap-extents of inode") && pending.description.contains("of 62 blocks done"), "\(pending)")
        do {
            let fs = try Filesystem.mount(r.path, options: .init(readOnly: true))
            #expect(fs.recovery.pendingIntents == 1)
            do { _ = try fs.read(try fs.lookup("/a"), at: 0, count: 10); Issue.record("read of a half-swapped file on a read-only mount") }
            catch let e as DaxError { #expect(e.code == .EAGAIN, "\(e)") }
            try fs.unmount()
        }
        try withMount(r) { fs in
            #expect(try fs.read(try fs.lookup("/a"), at: 0, count: 1 << 20) == b0)
            #expect(try fs.read(try fs.lookup("/b"), at: 0, count: 1 << 20) == a0)
            try fs.checkInvariants()
        }
    }
}

/// A value behind a lock, for a test's threads.
final class NSLockedValue<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ v: T) { value = v }
    func withLock<R>(_ body: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}
