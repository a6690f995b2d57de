#if canImport(Glibc)
import Glibc
#endif
import DaxCore

/// Copying a file in and out: `cp` between two /dev/shm files
/// (`References.cpRate`), as whole-process wall time.
///
/// PENDING ENGINE: daxfs put/get do not exist yet. The row measures and
/// shows the cp figure only, and says so; it has no goal until the daxfs
/// side is added. To add it, time `daxfs put` (and `get`) of the same source
/// as whole processes, interleaved with cp:
///
///     let (d, r) = try ctx.measurePair(daxfs: { /* daxfs put, GB/s */ },
///                                      reference: { try References.cpRate(source: src, destination: dst, bytes: n) })
///     return .compared(daxfs: d, reference: r)
///
/// and give the row its goal (`.speedupAtLeast(x)`).
enum CopyRows {
    static var group: BenchGroup {
        BenchGroup(
            title: "Copy",
            layout: .comparisons,
            caption: "A file of non-zero data copied between /dev/shm files; GB/s (10^9 bytes/s) of whole-process wall time.",
            rows: [
                BenchRow(name: "copy a file (daxfs put, get)", unit: .gigabytesPerSecond, goal: .none,
                         reference: "cp between two /dev/shm files") { ctx in
                    let bytes = References.cpBytes(ctx)
                    let source = ctx.scratchPath("cp-source")
                    let destination = ctx.scratchPath("cp-destination")
                    try Files.createData(source, bytes: bytes)
                    defer { unlink(source); unlink(destination) }
                    let cp = try ctx.measure(warmup: 1) {
                        try References.cpRate(source: source, destination: destination, bytes: bytes)
                    }
                    return .pending(reference: cp, note: "daxfs side: pending engine; \(ByteSize.human(UInt64(bytes))) per run")
                },
            ])
    }
}
