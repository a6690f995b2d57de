#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFS
import DaxFSFormat
import PMem

/// swap-extents of a file of 100,000 extents (4 KiB at every other block,
/// 800 MB of file) with a contiguous file of the same size, against
/// `xfs_io -c 'swapext'` (XFS_IOC_SWAPEXT) on the same pair on XFS over a
/// loop device on /dev/shm, measured alternately. --quick uses 10,000
/// extents: building the XFS file dominates the row.
///
/// Two rows: the swap in-process (`Filesystem.swapExtents` plus the sync
/// that makes it durable: 13 EXTENT_SWAP steps behind an intent) against
/// the xfs_io process, and the whole `daxfs swap-extents` process (mount,
/// swap, checkpoint at unmount) against the same xfs_io process. The second
/// row is dominated by loading and writing the checkpoint of 200,000
/// extents, which xfs_io never pays: XFS reads only the inodes it opens.
enum SwapRows {
    static func extents(_ ctx: BenchContext) -> Int { ctx.pick(quick: 10_000, full: 100_000) }
    static let stride: Int64 = 8192
    static let regionSize: UInt64 = 3 << 30

    static var group: BenchGroup {
        BenchGroup(
            title: "swap-extents",
            layout: .comparisons,
            caption: "Exchange all the extents of a file of 100,000 extents (10,000 with --quick; 4 KiB at every other block, 800 MB) with a contiguous file of the same size, both built untimed before each sample (daxfs checkpoints, untimed, so that the log starts empty; XFS builds them once and restores a saved copy of its file system before each later sample, then reads their extent maps back in, untimed). Reference: xfs_io -c 'swapext' (XFS_IOC_SWAPEXT), the whole process, on XFS over a loop device on /dev/shm. daxfs on a file-backed region (the persistence path the header names). Goal: 4x.",
            rows: [
                BenchRow(name: "swap 100,000 extents (10,000 with --quick) with a contiguous file, in-process", unit: .milliseconds, goal: .speedupAtLeast(4),
                         reference: "xfs_io -c swapext on xfs, loop device over /dev/shm") { ctx in try measure(ctx, process: false) },
                BenchRow(name: "swap 100,000 extents (10,000 with --quick) with a contiguous file, daxfs swap-extents process", unit: .milliseconds, goal: .speedupAtLeast(4),
                         reference: "xfs_io -c swapext on xfs, loop device over /dev/shm") { ctx in try measure(ctx, process: true) },
            ])
    }

    /// Builds the fragmented file and the contiguous one on `fs`.
    static func buildPair(_ fs: Filesystem, round: Int, extents: Int) throws -> (InodeNumber, InodeNumber) {
        let fileSize = Int64(extents) * stride
        let a = try fs.create("/frag\(round)"), b = try fs.create("/flat\(round)")
        for i in 0..<Int64(extents) { try fs.fallocate(a, mode: [], offset: i * stride, length: 4096) }
        try fs.truncate(a, size: UInt64(fileSize))
        try fs.fallocate(b, mode: [], offset: 0, length: fileSize)
        fs.sync()
        try fs.checkpoint()
        return (a, b)
    }

    static func measure(_ ctx: BenchContext, process: Bool) throws -> RowOutcome {
        let binary = process ? try ctx.requireDaxfsBinary() : ""
        guard let xfsIO = Subprocess.which("xfs_io") else { throw BenchSkip("xfs_io is not installed (apt-get install xfsprogs)") }
        return try LoopPeer.with(.xfs, size: 3 << 30, in: ctx.scratchDirectory) { peer in
            let path = try EngineRows.region(ctx, size: regionSize)
            defer { unlink(path) }
            let extents = extents(ctx), fileSize = Int64(extents) * stride
            var round = 0
            var template: String?
            let pair = try ctx.measurePair(daxfs: {
                round += 1
                var options = Filesystem.Options()
                options.durability = .deferred
                let fs = try Filesystem.mount(path, options: options)
                let (a, b) = try buildPair(fs, round: round, extents: extents)
                var ms: Double
                if process {
                    try fs.unmount()
                    let t0 = monotonicNanoseconds()
                    try Subprocess.run([binary, "swap-extents", path, "/frag\(round)", "/flat\(round)"])
                    ms = Double(monotonicNanoseconds() - t0) / 1e6
                } else {
                    let t0 = monotonicNanoseconds()
                    let plan = try fs.swapExtents(a, b, toEOF: true)
                    fs.sync()
                    ms = Double(monotonicNanoseconds() - t0) / 1e6
                    precondition(plan.extents1 == extents, "the swap moved \(plan.extents1) extents, not \(extents)")
                    try fs.unmount()
                }
                let clean = try Filesystem.mount(path)
                try clean.remove("/frag\(round)")
                try clean.remove("/flat\(round)")
                try clean.unmount()
                return ms
            }, reference: {
                // Built once (XFS takes seconds for the fragmented file), saved with the
                // file system, restored before every later sample; extent maps read back in.
                let frag = "\(peer.mountPoint)/frag", flat = "\(peer.mountPoint)/flat"
                if let template { try peer.restore(template) } else {
                    for (file, fragmented) in [(frag, true), (flat, false)] {
                        let fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                        guard fd >= 0 else { throw DaxError.syscall("open", file) }
                        defer { close(fd) }
                        if fragmented {
                            for i in 0..<Int64(extents) where linuxFallocate(fd, 0, i * stride, 4096) != 0 { throw DaxError.syscall("fallocate", file) }
                            guard ftruncate(fd, Int(fileSize)) == 0 else { throw DaxError.syscall("ftruncate", file) }
                        } else if linuxFallocate(fd, 0, 0, fileSize) != 0 {
                            throw DaxError.syscall("fallocate", file)
                        }
                        guard fsync(fd) == 0 else { throw DaxError.syscall("fsync", file) }
                    }
                    template = try peer.saveTemplate()
                }
                for file in [frag, flat] {
                    let fd = open(file, O_RDONLY | O_CLOEXEC)
                    guard fd >= 0 else { throw DaxError.syscall("open", file) }
                    LoopPeer.warmExtentMap(fd)
                    close(fd)
                }
                let r = try Subprocess.run([xfsIO, "-c", "swapext \(flat)", frag])
                return Double(r.nanoseconds) / 1e6
            })
            return .compared(daxfs: pair.daxfs, reference: pair.reference)
        }
    }
}
