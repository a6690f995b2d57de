import Foundation
import Testing
import Synchronization
import DaxCore
import DaxFS
import DaxFSFormat
import DaxFSTestSupport

/// Direct access: mappings, the invalidate lock's EDEADLK and EBUSY, the
/// seed-001 race (two write-mappings of one hole), allocation units, and a
/// t_mmap_collision-style stress of mappings against every operation that
/// takes blocks away. `.ci/run` runs this suite under ThreadSanitizer too.
@Suite(.serialized) struct DirectAccessTests {
    func mounted(_ size: UInt64 = 64 << 20, allocUnit: UInt32? = nil, timeout: Double = 2) throws -> (TempRegion, Filesystem) {
        let r = TempRegion("dax")
        try r.format(size: size, allocUnit: allocUnit)
        var o = Filesystem.Options()
        o.mappingDrainTimeout = timeout
        return (r, try Filesystem.mount(r.path, options: o))
    }

    @Test func writeMappingAllocatesZeroedBlocksAndPersists() throws {
        let (r, fs) = try mounted()
        let f = try fs.create("/m")
        try fs.withMapping(f, offset: 4096, length: 3 * 4096, for: .write) { m in
            #expect(m.segments.count == 1 && m.pointer != nil)
            #expect(m.bytes().allSatisfy { $0 == 0 }, "fresh blocks must read as zeroes")
            m.pointer!.initializeMemory(as: UInt8.self, repeating: 0x5A, count: 3 * 4096)
            m.persist()
        }
        #expect(try fs.stat(ino: f).size == 4 * 4096)
        try fs.unmount()
        let fs2 = try Filesystem.mount(r.path)
        let f2 = try fs2.lookup("/m")
        #expect(try fs2.read(f2, at: 0, count: 4096) == [UInt8](repeating: 0, count: 4096))
        #expect(try fs2.read(f2, at: 4096, count: 3 * 4096) == [UInt8](repeating: 0x5A, count: 3 * 4096))
        try fs2.withMapping(f2, offset: 0, length: 4 * 4096, for: .read) { m in
            #expect(m.segments.count == 2 && m.segments[0].base == nil && m.segments[1].base != nil)
        }
        #expect(throws: DaxError.self) { try fs2.map(f2, offset: 0, length: 5 * 4096, for: .read) }
        let file = try fs2.open("/m")
        #expect(try file.withMapping(4096, 4096, for: .read) { $0.bytes() } == [UInt8](repeating: 0x5A, count: 4096))
        try file.sync()
        try fs2.unmount()
    }

    @Test func fillAndCopyStoreThroughTheChokePoint() throws {
        let (_, fs) = try mounted()
        let f = try fs.create("/nt")
        try fs.withMapping(f, offset: 100, length: 10_000, for: .write) { m in
            m.fill(0x33)
            let src: [UInt8] = Array(0..<200)
            src.withUnsafeBytes { m.copy($0, to: 5_000) }
        }
        var want = [UInt8](repeating: 0, count: 10_100)
        for i in 100..<10_100 { want[i] = 0x33 }
        for i in 0..<200 { want[5_000 + i] = UInt8(i) }
        #expect(try fs.read(f, at: 0, count: 20_000) == want)
        try fs.unmount()
    }

    @Test func holderThatChangesItsOwnFileGetsEDEADLK() throws {
        let (_, fs) = try mounted()
        let f = try fs.create("/d")
        try fs.write(f, at: 0, [UInt8](repeating: 1, count: 8192))
        let m = try fs.map(f, offset: 0, length: 4096, for: .read)
        let t0 = ContinuousClock.now
        for op in [{ try fs.truncate(f, size: 0) },
                   { try fs.fallocate(f, mode: [.punchHole, .keepSize], offset: 0, length: 4096) },
                   { try fs.remove("/d") }] {
            do { try op(); Issue.record("a holder changed its own file's blocks") }
            catch let e as DaxError { #expect(e.code == .EDEADLK, "\(e)") }
        }
        #expect(ContinuousClock.now - t0 < .milliseconds(500), "EDEADLK must come at once")
        // Copy-style I/O and another read mapping are fine while holding one.
        #expect(try fs.read(f, at: 0, count: 4) == [1, 1, 1, 1])
        try fs.withMapping(f, offset: 4096, length: 4096, for: .read) { _ in }
        m.release()
        try fs.truncate(f, size: 0)
        try fs.unmount()
    }

    @Test func exclusiveWaitsForMappingsThenTimesOutWithEBUSY() throws {
        let (_, fs) = try mounted(timeout: 0.3)
        let f = try fs.create("/b")
        try fs.write(f, at: 0, [UInt8](repeating: 2, count: 8192))
        let mapped = Atomic<Bool>(false), release = Atomic<Bool>(false)
        let holder = Thread {
            let m = try! fs.map(f, offset: 0, length: 8192, for: .read)
            mapped.store(true, ordering: .releasing)
            while !release.load(ordering: .acquiring) { usleep(1000) }
            m.release()
        }
        holder.start()
        while !mapped.load(ordering: .acquiring) { usleep(1000) }
        let t0 = ContinuousClock.now
        do { try fs.fallocate(f, mode: .collapseRange, offset: 0, length: 4096); Issue.record("collapse ran under a live mapping") }
        catch let e as DaxError { #expect(e.code == .EBUSY, "\(e)") }
        #expect(ContinuousClock.now - t0 >= .milliseconds(250), "EBUSY before the timeout")
        #expect(try fs.stat(ino: f).size == 8192, "a failed collapse changed the file")
        // Released while a truncate waits: the truncate then goes through.
        let waiter = Thread { usleep(100_000); release.store(true, ordering: .releasing) }
        waiter.start()
        var o = fs.options
        o.mappingDrainTimeout = 5
        try fs.truncate(f, size: 100)
        #expect(try fs.stat(ino: f).size == 100)
        try fs.unmount()
    }

    /// Seed 001: two threads write-map the same hole at once. They must get
    /// the same blocks, and neither one's stores may be wiped by zeroing on
    /// the other's behalf.
    @Test func racingWriteMappingsOfOneHoleShareZeroedBlocksOnce() throws {
        let (_, fs) = try mounted()
        let f = try fs.create("/race")
        for round in 0..<200 {
            let offset = UInt64(round) * 16384
            let go = Atomic<Int>(0)
            let pointer0 = Atomic<Int>(0), pointer1 = Atomic<Int>(0)     // atomics, which ThreadSanitizer sees
            let threads = (0..<2).map { t in
                Thread {
                    go.add(1, ordering: .acquiringAndReleasing)
                    while go.load(ordering: .acquiring) < 2 {}
                    let m = try! fs.map(f, offset: offset, length: 16384, for: .write)
                    if t == 0 { pointer0.store(Int(bitPattern: m.pointer), ordering: .releasing) }
                    else { pointer1.store(Int(bitPattern: m.pointer), ordering: .releasing) }
                    // Each thread stores its own byte into its own half.
                    (m.pointer! + t * 8192).initializeMemory(as: UInt8.self, repeating: UInt8(0x10 + t), count: 8192)
                    m.persist()
                    m.release()
                }
            }
            threads.forEach { $0.start() }
            while threads.contains(where: { !$0.isFinished }) { usleep(100) }
            let p = [pointer0.load(ordering: .acquiring), pointer1.load(ordering: .acquiring)]
            #expect(p[0] != 0 && p[0] == p[1], "round \(round): the two mappings got different blocks")
            let got = try fs.read(f, at: offset, count: 16384)
            #expect(got[0..<8192].allSatisfy { $0 == 0x10 } && got[8192...].allSatisfy { $0 == 0x11 },
                    "round \(round): a thread's stores were lost (zeroes or the other's bytes)")
        }
        try fs.checkInvariants()
        try fs.unmount()
    }

    @Test func allocationUnitChangesOnlyWithoutBlocksOrMappings() throws {
        let (_, fs) = try mounted(256 << 20)
        try fs.mkdir("/huge")
        try fs.setAllocUnit("/huge", unit: 2 << 20)
        let f = try fs.create("/huge/f")
        #expect(try fs.stat(ino: f).allocUnit == 2 << 20, "a new file inherits its directory's unit")
        try fs.withMapping(f, offset: 4096, length: 4096, for: .write) { m in
            #expect(m.segments.count == 1)
            do { try fs.setAllocUnit("/huge/f", unit: 4096); Issue.record("changed the unit under a mapping") }
            catch let e as DaxError { #expect(e.code == .EBUSY) }
        }
        #expect(try fs.extents(f).allSatisfy { $0.regionBlock % 512 == 0 && $0.count % 512 == 0 && $0.fileBlock % 512 == 0 })
        do { try fs.setAllocUnit("/huge/f", unit: 4096); Issue.record("changed the unit of a file with blocks") }
        catch let e as DaxError { #expect(e.code == .EBUSY) }
        do { try fs.setAllocUnit("/huge/f", unit: 8192); Issue.record("accepted an 8K unit") }
        catch let e as DaxError { #expect(e.code == .EINVAL) }
        try fs.truncate(f, size: 0)
        try fs.setAllocUnit("/huge/f", unit: 4096)
        #expect(try fs.stat(ino: f).allocUnit == 4096)
        try fs.unmount()
    }

    // MARK: collision stress

    enum Mutation: String, CaseIterable { case punch, zero, collapse, insert, truncate, unlink, swap }

    static var seconds: Double { Double(ProcessInfo.processInfo.environment["DAXFS_COLLISION_SECONDS"] ?? "") ?? 2 }

    /// In the spirit of xfstests t_mmap_collision: mappers read and write
    /// two files through mappings while a mutator punches, zeroes,
    /// collapses, inserts, truncates, unlinks or swaps extents in them, for
    /// `seconds` per pairing and seed. (A swap exchanges two ranges of one
    /// file, so that a block keeps its file's tag wherever it moves.) Every block a mapper writes starts with its file's
    /// tag; a reader must never see the other file's tag or the 0xCD
    /// sentinel, and a writer reads back what it stored while it still holds
    /// the mapping.
    @Test(arguments: Mutation.allCases) func mappingsNeverSeeAnotherFilesBlocks(_ mutation: Mutation) throws {
        for seed in [UInt64(1), 2] {
            let (_, fs) = try mounted(128 << 20, timeout: 5)
            for name in ["/a", "/b"] { try fs.write(try fs.create(name), at: 0, [UInt8](repeating: 0, count: 1)) }
            let stop = Atomic<Bool>(false)
            let failures = LockedList()
            let counts = Atomic<Int>(0), mutated = Atomic<Int>(0)
            @Sendable func fail(_ s: String) { failures.append(s) }
            let blocks = 64
            var threads: [Thread] = []
            for t in 0..<3 {
                threads.append(Thread {
                    var rng = SeededRandom(seed: seed &* 1000 &+ UInt64(t))
                    while !stop.load(ordering: .relaxed) {
                        let which = rng.below(2), path = which == 0 ? "/a" : "/b"
                        let tag = UInt64(which + 1) * 0x0101_0101_0101_0101
                        guard let ino = try? fs.lookup(path) else { continue }
                        let write = t == 0 || rng.below(2) == 0
                        // A writer stays in its own third of the file, so that a
                        // changed block under its live mapping can only be a lost store.
                        let slice = blocks / 3
                        let first = write ? t * slice + rng.below(slice - 4) : rng.below(blocks - 4), count = 1 + rng.below(4)
                        let off = UInt64(first * 4096), len = UInt64(count * 4096)
                        if write {
                            // Through an open handle: mapping again below must not look
                            // the inode up (the namespace lock comes before mappings).
                            guard let file = try? fs.open(ino), let m = try? file.map(off, len, for: .write) else { continue }
                            let generation = rng.next() & 0x7F7F_7F7F_7F7F_7F7F      // no byte is the 0xCD sentinel
                            for s in m.segments {
                                guard let b = s.base else { fail("a write mapping with a hole"); continue }
                                for k in stride(from: 0, to: s.count, by: 4096) {
                                    b.storeBytes(of: tag, toByteOffset: k, as: UInt64.self)
                                    b.storeBytes(of: generation, toByteOffset: k + 8, as: UInt64.self)
                                }
                            }
                            m.persist()
                            usleep(20)                   // hold the mapping a while: a wider window for a wrong unmap
                            // A second mapping of the same range, taken now, must reach
                            // the same blocks: a change of the map under the live mapping
                            // (a swap, a punch) would show here as other bytes or a hole.
                            if let again = try? file.map(off, len, for: .read) {
                                for s in again.segments {
                                    for k in stride(from: 0, to: s.count, by: 4096) where s.base?.load(fromByteOffset: k + 8, as: UInt64.self) != generation {
                                        fail("\(path): the file's blocks changed under a live write mapping")
                                    }
                                }
                                again.release()
                            }
                            for s in m.segments {
                                for k in stride(from: 0, to: s.count, by: 4096) where s.base!.load(fromByteOffset: k + 8, as: UInt64.self) != generation
                                    || s.base!.load(fromByteOffset: k, as: UInt64.self) != tag {
                                    fail("\(path): a store through a live mapping was lost")
                                }
                            }
                            m.release()
                        } else {
                            guard let m = try? fs.map(ino, offset: off, length: len, for: .read) else { continue }
                            usleep(20)
                            for s in m.segments {
                                guard let b = s.base else { continue }
                                if memchr(b, 0xCD, s.count) != nil { fail("\(path): a mapping shows the 0xCD sentinel") }
                                for k in stride(from: 0, to: s.count, by: 4096) {
                                    let seen = b.load(fromByteOffset: k, as: UInt64.self)
                                    if seen != 0 && seen != tag { fail("\(path): a mapping shows another file's tag \(String(seen, radix: 16))") }
                                }
                            }
                            m.release()
                        }
                        counts.add(1, ordering: .relaxed)
                    }
                })
            }
            let mutator = Thread {
                var rng = SeededRandom(seed: seed &+ 77)
                while !stop.load(ordering: .relaxed) {
                    let path = rng.below(2) == 0 ? "/a" : "/b"
                    guard let ino = try? fs.lookup(path) else { continue }
                    let off = Int64(rng.below(blocks) * 4096), len = Int64((1 + rng.below(8)) * 4096)
                    do {
                        switch mutation {
                        case .punch: try fs.fallocate(ino, mode: [.punchHole, .keepSize], offset: off, length: len)
                        case .zero: try fs.fallocate(ino, mode: .zeroRange, offset: off, length: len)
                        case .collapse: try fs.fallocate(ino, mode: .collapseRange, offset: off, length: len)
                        case .insert: try fs.fallocate(ino, mode: .insertRange, offset: off, length: len)
                        case .truncate: try fs.truncate(ino, size: UInt64(off))
                        case .unlink:
                            try fs.remove(path)
                            try fs.create(path)
                        case .swap:
                            let first = rng.below(blocks / 2) * 4096
                            try fs.swapExtents(ino, ino, offset1: UInt64(first), offset2: UInt64(first + Int(len) + rng.below(8) * 4096), length: UInt64(len))
                        }
                        mutated.add(1, ordering: .relaxed)
                        if try fs.stat(ino: ino).size > UInt64(blocks * 4096 * 2) { try fs.truncate(ino, size: UInt64(blocks * 4096)) }
                    } catch let e as DaxError where [.EINVAL, .EBUSY, .ENOENT, .EFBIG].contains(e.code) {
                    } catch {
                        fail("\(mutation) failed: \(error)")
                    }
                }
            }
            threads.forEach { $0.start() }
            mutator.start()
            usleep(useconds_t(Self.seconds * 1_000_000))
            stop.store(true, ordering: .relaxed)
            while (threads + [mutator]).contains(where: { !$0.isFinished }) { usleep(1000) }
            let found = failures.items
            #expect(found.isEmpty, "\(mutation), seed \(seed): \(found.joined(separator: "; "))")
            #expect(counts.load(ordering: .relaxed) > 100, "\(mutation), seed \(seed): only \(counts.load(ordering: .relaxed)) mappings in \(Self.seconds) s")
            #expect(mutated.load(ordering: .relaxed) > 20, "\(mutation), seed \(seed): only \(mutated.load(ordering: .relaxed)) mutations went through")
            print("collision: \(mutation), seed \(seed): \(counts.load(ordering: .relaxed)) mappings, \(mutated.load(ordering: .relaxed)) mutations")
            try fs.checkInvariants()
            try fs.unmount()
        }
    }
}

/// A few strings under NSLock (pthread-based, so ThreadSanitizer sees it,
/// unlike `Synchronization.Mutex`'s futex).
final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ s: String) { lock.lock(); if list.count < 5 { list.append(s) }; lock.unlock() }
    var items: [String] { lock.lock(); defer { lock.unlock() }; return list }
}
