#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFS
import PMem

/// fallocate on a file of 100,000 extents (4 KiB at every other block, 800
/// MB of file): punching the whole file, collapsing 256 MiB at the front,
/// inserting 256 MiB at the front. --quick builds 10,000 extents and shifts
/// 64 MiB, because building the peers' fragmented file dominates the row
/// (XFS allocates about 13,000 extents per second here). daxfs against fallocate(2) on ext4 and
/// on XFS, each on a loop device over /dev/shm, measured alternately.
enum FallocateRows {
    static func extents(_ ctx: BenchContext) -> Int { ctx.pick(quick: 10_000, full: 100_000) }
    static let stride: Int64 = 8192
    static func shift(_ ctx: BenchContext) -> Int64 { ctx.pick(quick: 64 << 20, full: 256 << 20) }
    static let peerSize: UInt64 = 2 << 30

    struct Operation: Sendable {
        let name: String
        let mode: FallocateMode
        /// The range, given the number of extents of the file and the shift.
        let range: @Sendable (_ extents: Int, _ shift: Int64) -> (offset: Int64, length: Int64)
    }

    static let operations = [
        Operation(name: "punch the whole file", mode: [.punchHole, .keepSize]) { n, _ in (0, Int64(n) * stride) },
        Operation(name: "collapse 256 MiB (64 MiB with --quick) at the front", mode: .collapseRange) { _, s in (0, s) },
        Operation(name: "insert 256 MiB (64 MiB with --quick) at the front", mode: .insertRange) { _, s in (0, s) },
    ]

    static var group: BenchGroup {
        var rows: [BenchRow] = []
        for op in operations {
            for kind in [LoopPeer.Kind.ext4, .xfs] {
                rows.append(BenchRow(name: "\(op.name), 100,000 extents (10,000 with --quick)", unit: .milliseconds, goal: .speedupAtLeast(10),
                                     reference: "fallocate(2) on \(kind.rawValue), loop device over /dev/shm") { ctx in
                    try measure(op, against: kind, ctx)
                })
            }
        }
        return BenchGroup(
            title: "fallocate",
            layout: .comparisons,
            caption: "One fallocate call on a file of 100,000 extents (10,000 with --quick; 4 KiB at every other block), built untimed before each sample (daxfs then checkpoints, untimed, so that the log starts empty as the peer's journal starts clean; the peer builds it once and restores a saved copy of its file system before each later sample, then reads the file's extent map back in, untimed). daxfs: Filesystem.fallocate plus the sync that makes it durable, on a file-backed region (the persistence path the header names); peers: fallocate(2), no fsync. Goal: 10x the faster peer, so each peer row must reach it.",
            rows: rows)
    }

    static func measure(_ op: Operation, against kind: LoopPeer.Kind, _ ctx: BenchContext) throws -> RowOutcome {
        try LoopPeer.with(kind, size: peerSize, in: ctx.scratchDirectory) { peer in
            let path = try EngineRows.region(ctx, size: peerSize)
            defer { unlink(path) }
            var options = Filesystem.Options()
            options.durability = .deferred
            let fs = try Filesystem.mount(path, options: options)
            defer { try? fs.unmount() }
            let extents = extents(ctx), (offset, length) = op.range(extents, shift(ctx))
            var round = 0
            var template: String?
            let pair = try ctx.measurePair(daxfs: {
                round += 1
                let name = "/f\(round)"
                let f = try fs.create(name)
                for i in 0..<Int64(extents) { try fs.fallocate(f, mode: [], offset: i * stride, length: 4096) }
                fs.sync()
                try fs.checkpoint()                      // start from an empty log, as the peer starts from a clean journal
                let t0 = monotonicNanoseconds()
                try fs.fallocate(f, mode: op.mode, offset: offset, length: length)
                fs.sync()
                let ms = Double(monotonicNanoseconds() - t0) / 1e6
                try fs.remove(name)
                fs.sync()
                return ms
            }, reference: {
                // The fragmented file is built once (XFS takes seconds), saved with the
                // file system, and the file system is restored before every later sample.
                let file = "\(peer.mountPoint)/fragmented"
                if let template { try peer.restore(template) } else {
                    do {
                        let fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                        guard fd >= 0 else { throw DaxError.syscall("open", file) }
                        defer { close(fd) }
                        for i in 0..<Int64(extents) where linuxFallocate(fd, 0, i * stride, 4096) != 0 {
                            throw DaxError.syscall("fallocate", file)
                        }
                        guard fsync(fd) == 0 else { throw DaxError.syscall("fsync", file) }
                    }
                    template = try peer.saveTemplate()      // the file is closed: the unmount needs that
                }
                let fd = open(file, O_RDWR | O_CLOEXEC)
                guard fd >= 0 else { throw DaxError.syscall("open", file) }
                defer { close(fd) }
                LoopPeer.warmExtentMap(fd)
                let t0 = monotonicNanoseconds()
                if linuxFallocate(fd, op.mode.rawValue, offset, length) != 0 { throw DaxError.syscall("fallocate", file) }
                return Double(monotonicNanoseconds() - t0) / 1e6
            })
            return .compared(daxfs: pair.daxfs, reference: pair.reference)
        }
    }
}
