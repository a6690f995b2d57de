import Foundation
import Testing
import DaxCore
import DaxFS
import DaxFSFormat
import DaxFSTestSupport

/// fallocate in the engine: the cases the differential test cannot reach
/// (ENOSPC, EFBIG, 2 MiB allocation units, very many extents, the intents).
@Suite(.serialized) struct FallocateEngineTests {
    func bytes(_ n: Int, _ seed: UInt64) -> [UInt8] { var r = SeededRandom(seed: seed); return r.bytes(n) }

    @Test func enospcAllocatesNothingAndLeaksNothing() throws {
        let r = TempRegion()
        try r.format(size: 8 << 20)
        try withMount(r) { fs in
            let f = try fs.create("/f")
            try fs.write(f, at: 0, bytes(10_000, 1))
            let before = try fs.usage(), extents = try fs.extents(f), size = try fs.stat(ino: f).size
            for mode: FallocateMode in [[], .keepSize, .zeroRange, [.zeroRange, .keepSize]] {
                #expect(throws: DaxError.self) { try fs.fallocate(f, mode: mode, offset: 1 << 20, length: 64 << 20) }
                #expect(try fs.usage() == before)
                #expect(try fs.extents(f) == extents)
                #expect(try fs.stat(ino: f).size == size)
            }
            try fs.checkInvariants()
        }
        try withMount(r) { fs in #expect(try fs.usage().freeBlocks > 0); try fs.checkInvariants() }
    }

    /// Both zeroing routes hand out zeroes: a request of at most
    /// `Allocator.zeroAtCommitBytes` (64 KiB) is zeroed by its commit, one
    /// run or many, and a larger one by the allocator; under both
    /// durabilities, and again after a remount. The region starts as the
    /// stale-data sentinel, and the free space is fragmented into single
    /// blocks that held an earlier file's bytes, so that every run is one
    /// block that was written before.
    @Test(arguments: [Filesystem.Durability.eachOperation, .deferred])
    func smallAndLargeAllocationsReadZeroesOnEitherZeroingRoute(_ durability: Filesystem.Durability) throws {
        let r = TempRegion()
        try r.format(size: 8 << 20)
        var o = Filesystem.Options()
        o.durability = durability
        let bs = 4096
        try withMount(r, o) { fs in
            let old = try fs.create("/old")
            try fs.write(old, at: 0, bytes(64 * bs, 5))
            try fs.fallocate(try fs.create("/filler"), mode: [], offset: 0, length: Int64(try fs.usage().freeBlocks) * Int64(bs))
            #expect(try fs.usage().freeBlocks == 0)
            for k in stride(from: 0, to: 64, by: 2) {
                try fs.fallocate(old, mode: [.punchHole, .keepSize], offset: Int64(k * bs), length: Int64(bs))
            }
            // 16 blocks, zeroed by the commit: 16 runs of one block.
            let a = try fs.create("/a")
            try fs.fallocate(a, mode: [], offset: 0, length: Int64(16 * bs))
            #expect(try fs.extents(a).count == 16)
            #expect(try fs.read(a, at: 0, count: 16 * bs) == [UInt8](repeating: 0, count: 16 * bs))
            try fs.remove("/a")
            // 17 blocks, zeroed by the allocator.
            let b = try fs.create("/b")
            try fs.fallocate(b, mode: [], offset: 0, length: Int64(17 * bs))
            #expect(try fs.extents(b).count == 17)
            #expect(try fs.read(b, at: 0, count: 17 * bs) == [UInt8](repeating: 0, count: 17 * bs))
            // One block past the end of a file, zeroed by the commit.
            let c = try fs.create("/c")
            try fs.fallocate(c, mode: [], offset: Int64(3 * bs), length: Int64(bs))
            #expect(try fs.read(c, at: 0, count: 4 * bs) == [UInt8](repeating: 0, count: 4 * bs))
            try fs.checkInvariants()
        }
        try withMount(r) { fs in
            #expect(try fs.read(try fs.lookup("/b"), at: 0, count: 17 * bs) == [UInt8](repeating: 0, count: 17 * bs))
            #expect(try fs.read(try fs.lookup("/c"), at: 0, count: 4 * bs) == [UInt8](repeating: 0, count: 4 * bs))
            try fs.checkInvariants()
        }
    }

    @Test func insertPastTheMaximumSizeIsEFBIG() throws {
        let r = TempRegion()
        try r.format()
        try withMount(r) { fs in
            let f = try fs.create("/f")
            try fs.write(f, at: 0, bytes(8192, 2))
            let huge = Int64(Geometry.maximumFileSize) - 4096
            do {
                try fs.fallocate(f, mode: .insertRange, offset: 0, length: huge)
                Issue.record("insert past the maximum size succeeded")
            } catch let e as DaxError {
                #expect(e.code == .EFBIG)
            }
            #expect(try fs.read(f, at: 0, count: 8192) == bytes(8192, 2))
        }
    }

    /// With a 2 MiB unit, collapse and insert need 2 MiB alignment, and punch
    /// frees whole units only, zeroing the rest in place.
    @Test func twoMegabyteUnitsAlignTheShiftsAndThePunch() throws {
        let r = TempRegion()
        try r.format(size: 64 << 20, allocUnit: 2 << 20)
        try withMount(r) { fs in
            let f = try fs.create("/f")
            let data = bytes(6 << 20, 3)
            try fs.write(f, at: 0, data)
            var model = data
            do {
                try fs.fallocate(f, mode: .collapseRange, offset: 4096, length: 4096)
                Issue.record("a 4 KiB collapse in a 2 MiB-unit file succeeded")
            } catch let e as DaxError { #expect(e.code == .EINVAL) }
            try fs.fallocate(f, mode: [.punchHole, .keepSize], offset: 1 << 20, length: 3 << 20)
            _ = FallocateModel.apply(&model, mode: [.punchHole, .keepSize], offset: 1 << 20, length: 3 << 20, unit: 2 << 20)
            #expect(try fs.read(f, at: 0, count: model.count) == model)
            #expect(try fs.extents(f).allSatisfy { $0.fileBlock % 512 == 0 && $0.count % 512 == 0 && $0.regionBlock % 512 == 0 })
            #expect(try fs.extents(f).map(\.count).reduce(0, +) == 512 * 2, "the whole unit [2M, 4M) is freed, the partial ones kept")
            try fs.fallocate(f, mode: .insertRange, offset: 2 << 20, length: 2 << 20)
            _ = FallocateModel.apply(&model, mode: .insertRange, offset: 2 << 20, length: 2 << 20, unit: 2 << 20)
            try fs.fallocate(f, mode: .collapseRange, offset: 0, length: 2 << 20)
            _ = FallocateModel.apply(&model, mode: .collapseRange, offset: 0, length: 2 << 20, unit: 2 << 20)
            #expect(try fs.read(f, at: 0, count: model.count + 1) == model)
            try fs.checkInvariants()
        }
    }

    /// Punch, collapse and insert over 5,000 extents with small
    /// transactions, so that punch and collapse take the intent path; the
    /// result survives a remount that replays the log.
    @Test func manyExtentsTakeTheIntentPath() throws {
        let r = TempRegion()
        try r.format(size: 256 << 20)
        var o = Filesystem.Options()
        o.transactionLimit = 2048
        var model: [UInt8] = []
        try withMount(r, o) { fs in
            let f = try fs.create("/f")
            let block = [UInt8](repeating: 7, count: 4096)
            for i in 0..<5_000 { try fs.write(f, at: UInt64(i) * 8192, block) }
            model = try fs.read(f, at: 0, count: 5_000 * 8192)
            let steps: [(FallocateMode, Int64, Int64)] = [
                (.collapseRange, 819_200, 16_384_000),                 // 2,000 extents at extent 100
                (.insertRange, 81_920, 8_192_000),
                ([.punchHole, .keepSize], 1000, 12_288_000),
            ]
            for (mode, off, len) in steps {
                try fs.fallocate(f, mode: mode, offset: off, length: len)
                #expect(FallocateModel.apply(&model, mode: mode, offset: off, length: len, unit: 4096) == nil)
                #expect(try fs.read(f, at: 0, count: model.count + 1) == model, "after mode \(mode.rawValue)")
            }
            try fs.checkInvariants()
        }
        let fs = try Filesystem.mount(r.path)            // replays the log written above
        #expect(try fs.read(try fs.lookup("/f"), at: 0, count: model.count + 1) == model)
        try fs.checkInvariants()
        try fs.unmount()
    }

    /// A failure after a collapse intent commits shuts the filesystem down:
    /// nothing else lands before the next mount finishes the collapse, once.
    @Test func aFailedIntentShutsDownUntilTheNextMount() throws {
        let r = TempRegion()
        try r.format(size: 64 << 20)
        var o = Filesystem.Options()
        o.transactionLimit = 1024
        var model: [UInt8] = []
        try withMount(r, o) { fs in
            let f = try fs.create("/f")
            for i in 0..<60 { try fs.write(f, at: UInt64(i) * 8192, bytes(4096, UInt64(i))) }
            model = try fs.read(f, at: 0, count: 60 * 8192)
        }
        o.faults = .intentStepsFail
        do {                                                        // the mount is dropped at the end, as after a crash
            let fs = try Filesystem.mount(r.path, options: o)
            let f = try fs.lookup("/f")
            #expect(throws: DaxError.self) { try fs.fallocate(f, mode: .collapseRange, offset: 0, length: 8192 * 50) }
            do { try fs.write(f, at: 0, [1, 2, 3]); Issue.record("a write landed after a failed intent") }
            catch let e as DaxError { #expect(e.code == .EIO && e.message.contains("shut down"), "\(e)") }
        }
        try withMount(r) { fs in
            #expect(FallocateModel.apply(&model, mode: .collapseRange, offset: 0, length: 8192 * 50, unit: 4096) == nil)
            #expect(try fs.read(try fs.lookup("/f"), at: 0, count: model.count + 1) == model, "recovery did not finish the collapse exactly once")
            try fs.checkInvariants()
        }
    }

    /// ENOSPC in a later hole gives back the runs of the earlier ones: a
    /// 2 MiB-unit file whose first hole finds the one free aligned unit and
    /// whose second finds none, on a region with plenty of free blocks in
    /// pieces no unit fits.
    @Test func enospcInALaterHoleGivesBackTheEarlierHoles() throws {
        let r = TempRegion()
        try r.format(size: 64 << 20)
        try withMount(r) { fs in
            let a = try fs.create("/a")
            try fs.allocate(a, offset: 0, length: try fs.usage().freeBlocks * 4096)
            let ext = try fs.extents(a)
            func fileBlock(_ rb: UInt64) -> UInt64? {
                ext.first { rb >= $0.regionBlock && rb < $0.regionEnd }.map { $0.fileBlock + (rb - $0.regionBlock) }
            }
            // The file blocks of /a behind every 2 MiB-aligned unit of the region it holds whole.
            var units: [UInt64] = []
            var rb = (ext.map(\.regionBlock).min()! + 511) / 512 * 512
            while let fb = fileBlock(rb), fileBlock(rb + 511) == fb + 511 { units.append(fb); rb += 512 }
            #expect(units.count >= 8)
            func punch(_ fb: UInt64, _ bytes: Int64) throws {
                try fs.fallocate(a, mode: [.punchHole, .keepSize], offset: Int64(fb * 4096), length: bytes)
            }
            // Half of every unit but the last two: many free blocks, no free unit.
            for fb in units.dropLast(2) { try punch(fb, 1 << 20) }
            let b = try fs.create("/b")
            try fs.setAllocUnit("/b", unit: 2 << 20)
            try punch(units[units.count - 2], 2 << 20)
            try fs.allocate(b, offset: 2 << 20, length: 2 << 20)        // takes that unit
            try punch(units[units.count - 1], 2 << 20)                   // one unit free: room for one hole of two
            let before = try fs.usage(), extents = try fs.extents(b)
            #expect(before.freeBlocks >= 1024)
            do {
                try fs.allocate(b, offset: 0, length: 6 << 20)
                Issue.record("two holes of a unit each were filled from one free unit")
            } catch let e as DaxError { #expect(e.code == .ENOSPC) }
            #expect(try fs.usage() == before)
            #expect(try fs.extents(b) == extents)
            try fs.checkInvariants()
            try fs.allocate(b, offset: 0, length: 2 << 20)              // the unit the failed call took is free again
            try fs.checkInvariants()
        }
    }

    /// Each hole continues the extent just before it in the file, the
    /// map's or one just placed: the file ends up two extents, where
    /// continuing the run placed for the previous hole would have split the
    /// second hole's blocks away from the extent they follow.
    @Test func eachHoleContinuesTheExtentBeforeIt() throws {
        let r = TempRegion()
        try r.format(size: 16 << 20)
        try withMount(r) { fs in
            let f = try fs.create("/f"), h = try fs.create("/h")
            try fs.allocate(f, offset: 0, length: 4 * 4096)              // E1 at R
            let e1 = try fs.extents(f)[0]
            try fs.allocate(h, offset: 0, length: 16 * 4096)             // R+4 ..< R+20
            #expect(try fs.extents(h) == [Extent(fileBlock: 0, regionBlock: e1.regionEnd, count: 16)])
            try fs.allocate(f, offset: 8 * 4096, length: 4 * 4096)       // E2 after /h's blocks
            let e2 = try fs.extents(f)[1]
            #expect(e2.regionBlock == e1.regionEnd + 16)
            try fs.remove("/h")                                          // R+4 ..< R+20 free again
            try fs.allocate(f, offset: 0, length: 16 * 4096)             // holes [4, 8) and [12, 16)
            #expect(try fs.extents(f) == [Extent(fileBlock: 0, regionBlock: e1.regionBlock, count: 8),
                                          Extent(fileBlock: 8, regionBlock: e2.regionBlock, count: 8)])
            try fs.checkInvariants()
        }
    }
}
