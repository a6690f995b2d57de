#if canImport(Glibc)
import Glibc
#endif

/// mkfs at 4 GiB and 1 TiB: the `daxfs` binary of this build against
/// `mkfs.xfs -K -f` and `mkfs.ext4 -E nodiscard`, each run on a fresh sparse
/// file of the same size on /dev/shm, as whole-process wall time (spawn to
/// exit, so process start-up is in both figures). The file is created before
/// the clock starts and removed after it stops. Goals: daxfs no slower than
/// each peer (speedup ≥ 1), and no growth with size (1 TiB / 4 GiB time ≤ 1.2,
/// the 0.2 being room for the noise between two medians of a short process).
///
/// daxfs formats the existing file (no --size: it keeps the file's size), so
/// it does the same work as the peers: no preallocation. The peers format the
/// file directly, not a loop device: the same page-cache path as daxfs's
/// mapping, and no root needed.
enum MkfsRows {
    struct Size: Sendable {
        var label: String
        var bytes: UInt64
    }
    static let sizes = [Size(label: "4 GiB", bytes: 4 << 30), Size(label: "1 TiB", bytes: 1 << 40)]

    struct Peer: Sendable {
        var name: String
        var argv: [String]
        var package: String
    }
    static let peers = [
        Peer(name: "mkfs.xfs -K -f", argv: ["mkfs.xfs", "-q", "-K", "-f"], package: "xfsprogs"),
        Peer(name: "mkfs.ext4 -E nodiscard", argv: ["mkfs.ext4", "-q", "-F", "-E", "nodiscard"], package: "e2fsprogs"),
    ]

    static var group: BenchGroup {
        var rows: [BenchRow] = []
        for size in sizes {
            for peer in peers {
                rows.append(BenchRow(name: "mkfs \(size.label), sparse file", unit: .milliseconds,
                                     goal: .speedupAtLeast(1.0), reference: "\(peer.name), same size") { ctx in
                    let daxfs = try ctx.requireDaxfsBinary()
                    guard Subprocess.which(peer.argv[0]) != nil else {
                        throw BenchSkip("\(peer.argv[0]) is missing (apt-get install \(peer.package))")
                    }
                    let (d, r) = try ctx.measurePair(runs: cheapRuns(ctx), warmup: 1, daxfs: {
                        try milliseconds(of: [daxfs, "mkfs", "--quiet"], size: size.bytes, ctx)
                    }, reference: {
                        try milliseconds(of: peer.argv, size: size.bytes, ctx)
                    })
                    return .compared(daxfs: d, reference: r)
                })
            }
        }
        let small = sizes[0], large = sizes[1]
        rows.append(BenchRow(name: "mkfs growth, \(large.label) / \(small.label) time", unit: .milliseconds,
                             goal: .ratioAtMost(1.2), reference: "daxfs mkfs at \(small.label)") { ctx in
            let daxfs = try ctx.requireDaxfsBinary()
            let (l, s) = try ctx.measurePair(runs: cheapRuns(ctx), warmup: 1, daxfs: {
                try milliseconds(of: [daxfs, "mkfs", "--quiet"], size: large.bytes, ctx)
            }, reference: {
                try milliseconds(of: [daxfs, "mkfs", "--quiet"], size: small.bytes, ctx)
            })
            return .compared(daxfs: l, reference: s)
        })
        return BenchGroup(
            title: "mkfs",
            layout: .comparisons,
            caption: "Whole-process wall time on a fresh sparse /dev/shm file per run (ms); ratio = peer time / daxfs time, or for growth the plain time ratio.",
            rows: rows)
    }

    /// Runs per figure: each run takes well under a second, so at least 15,
    /// which steadies the medians of a process that lives a few milliseconds.
    static func cheapRuns(_ ctx: BenchContext) -> Int { max(ctx.runs, 15) }

    /// Whole-process time, in milliseconds, of `argv + [file]` on a fresh
    /// sparse file of `size` bytes.
    static func milliseconds(of argv: [String], size: UInt64, _ ctx: BenchContext) throws -> Double {
        let path = ctx.scratchPath("mkfs") + ".img"
        try Files.createSparse(path, size: size)
        defer { unlink(path) }
        return try Subprocess.run(argv + [path]).seconds * 1e3
    }
}
