#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFS
import PMem

/// Small allocations: 4 KiB at every other block of one file, on daxfs
/// (`Filesystem.allocate`, one mount, every page of the data area
/// faulted in first) and with `fallocate(2)`
/// (`References.fallocateRate`) on ext4 (the reference of record) and XFS,
/// each on a loop device over /dev/shm, measured alternately.
enum AllocationRows {
    /// The size of a peer's backing file (sparse): room for 100,000
    /// allocations spread over 800 MiB, and the journal.
    static let peerSize: UInt64 = 2 << 30

    static var group: BenchGroup {
        BenchGroup(
            title: "Allocation",
            layout: .comparisons,
            caption: "4 KiB at offsets 0, 8192, 16384, ... of one file; calls per second of the timed loop. daxfs: Filesystem.allocate in one mount, each call a transaction that is durable when it returns, or (deferred) durable at the sync that ends the loop, as daxfs io does; peers: fallocate(fd, 0, offset, 4096), no fsync.",
            rows: [(LoopPeer.Kind.ext4, Goal.speedupAtLeast(10), Filesystem.Durability.eachOperation),
                   (.ext4, .speedupAtLeast(10), .deferred), (.xfs, .none, .eachOperation)].map { kind, goal, durability in
                BenchRow(name: "allocate 4 KiB, every other block" + (durability == .deferred ? ", deferred durability" : ", each durable"),
                         unit: .callsPerSecond, goal: goal,
                         reference: "fallocate(2) on \(kind.rawValue), loop device over /dev/shm") { ctx in
                    let calls = References.fallocateCalls(ctx)
                    return try LoopPeer.with(kind, size: peerSize, in: ctx.scratchDirectory) { peer in
                        let path = try EngineRows.region(ctx, size: peerSize)
                        defer { unlink(path) }
                        var options = Filesystem.Options()
                        options.durability = durability
                        let fs = try Filesystem.mount(path, options: options)
                        defer { try? fs.unmount() }
                        // Warm: fault in every page of the data area. Rounds land
                        // wherever the allocator puts them, and a page of a
                        // /dev/shm file faulted in during the loop would time
                        // tmpfs's page allocation, which device-DAX never pays.
                        guard let mapping = fs.media as? MappedRegion else { throw BenchSkip("the region is not a libpmem mapping") }
                        let dataOffset = Int(fs.superblock.dataOffset)
                        Calibration.prefault(mapping, offset: dataOffset, count: Int(peerSize) - dataOffset)
                        var round = 0
                        let pair = try ctx.measurePair(warmup: 1, daxfs: {
                            round += 1
                            let f = try fs.create("/a\(round)")
                            let t0 = monotonicNanoseconds()
                            for i in 0..<UInt64(calls) { try fs.allocate(f, offset: i * 8192, length: 4096) }
                            fs.sync()
                            let rate = Double(calls) / (Double(monotonicNanoseconds() - t0) / 1e9)
                            try fs.remove("/a\(round)")
                            return rate
                        }, reference: {
                            try References.fallocateRate(directory: peer.mountPoint, calls: calls)
                        })
                        return .compared(daxfs: pair.daxfs, reference: pair.reference)
                    }
                }
            })
    }
}
