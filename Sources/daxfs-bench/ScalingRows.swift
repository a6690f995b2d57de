#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFS
import DaxFSFormat

/// How each cost grows: the same workloads at 10^3, 10^5 and 10^6 extents
/// in one file (10^3, 10^4 and 10^5 with --quick), and at region sizes of
/// 1 GiB (preallocated), 16 GiB and 1 TiB (sparse). Each row says which
/// growth the code's doc comment promises, which one the figures show, and
/// whether they stay within the promise.
///
/// The extent-count regions are built once per size (`BenchContext.fixture`)
/// and shared by the rows: every row leaves the file as it found it.
enum ScalingRows {
    static let stride: UInt64 = 8192

    static var extentGroup: BenchGroup {
        BenchGroup(
            title: "Scaling with the number of extents",
            layout: .scaling,
            caption: "One file of n extents of 4 KiB at every other block, on a 16 GiB sparse region in this process (msync or flush+fence, as the header says), built untimed once per n; every workload leaves the file as it found it. Figures are median (min–max) over the runs. The growth class comes from the exponent of the last step (≥ 0.75: O(n)) and the growth over the whole span (≤ 1.5×: O(1); ≤ 1.5 × the growth of log₂ n: O(log n)); a promise of O(n log n) is checked as O(n). \"Within the promise\" means the cost grows no faster than the doc comment says.",
            rows: [readRandom, mapRandom, fillAndPunch, insertCollapse, checkpoint, cleanMount, fsckTime, fsckMemory, mountMemory])
    }

    static var sizeGroup: BenchGroup {
        BenchGroup(
            title: "Scaling with the region size",
            layout: .scaling,
            caption: "The same workloads on regions of 1 GiB (preallocated), 16 GiB and 1 TiB (sparse), each freshly formatted with 1,000 files; n is the region size. Every cost here is promised not to grow with the region, only with its metadata.",
            rows: [mkfsBySize, mountBySize, allocateBySize, checkpointBySize, fsckTimeBySize, fsckMemoryBySize])
    }

    // MARK: - Sizes and fixtures

    static func extentCounts(_ ctx: BenchContext) -> [Int] {
        ctx.pick(quick: [1_000, 10_000, 100_000], full: [1_000, 100_000, 1_000_000])
    }

    static func label(_ n: Int) -> String {
        var e = 0, v = n
        while v >= 10 && v % 10 == 0 { v /= 10; e += 1 }
        return v == 1 ? "10^\(e)" : "\(n)"
    }

    /// A 16 GiB sparse region whose file /many has `n` extents of 4 KiB at
    /// every other block, cleanly unmounted (its state in a checkpoint).
    static func extentRegion(_ ctx: BenchContext, _ n: Int) throws -> String {
        try ctx.fixture("scaling-extents-\(n)") {
            ctx.progress("building a file of \(n) extents")
            let path = try EngineRows.region(ctx, size: 16 << 30)
            var o = Filesystem.Options()
            o.durability = .deferred
            let fs = try Filesystem.mount(path, options: o)
            let f = try fs.create("/many")
            for i in 0..<UInt64(n) { try fs.allocate(f, offset: i * stride, length: 4096) }
            try fs.unmount()
            return path
        }
    }

    /// One size of an axis: its label, its n (extents, or region bytes) and
    /// the shared region built for it.
    struct AxisPoint {
        var label: String
        var n: Int
        var path: String
    }

    /// The extent-count axis: one region per count (built on first use).
    static func extentAxis(_ ctx: BenchContext) throws -> [AxisPoint] {
        try extentCounts(ctx).map { AxisPoint(label: label($0) + " extents", n: $0, path: try extentRegion(ctx, $0)) }
    }

    /// The region-size axis: one region per size (built on first use).
    static func sizeAxis(_ ctx: BenchContext) throws -> [AxisPoint] {
        try regionSizes.map { AxisPoint(label: $0.label, n: Int($0.bytes), path: try sizedRegion(ctx, $0)) }
    }

    /// One scaling row: `sample(point)` returns one figure in the row's
    /// unit, taken after one warm-up run, `ctx.runs` times per point.
    static func over(_ axis: [AxisPoint], _ ctx: BenchContext, promised: Growth,
                     _ sample: (AxisPoint) throws -> Double) throws -> RowOutcome {
        var points: [ScalePoint] = []
        for p in axis {
            points.append(ScalePoint(label: p.label, n: Double(p.n), stats: try ctx.measure(warmup: 1) { try sample(p) }))
        }
        return .scaling(points, promised: promised)
    }

    /// Like `over`, but one mount per point serves the warm-up run and every
    /// sample, so the figures are of warm pages and lookups alone.
    static func overMounted(_ axis: [AxisPoint], _ ctx: BenchContext, promised: Growth,
                            _ sample: (Filesystem, AxisPoint) throws -> Double) throws -> RowOutcome {
        var points: [ScalePoint] = []
        for p in axis {
            let fs = try Filesystem.mount(p.path)
            defer { try? fs.unmount() }
            points.append(ScalePoint(label: p.label, n: Double(p.n), stats: try ctx.measure(warmup: 1) { try sample(fs, p) }))
        }
        return .scaling(points, promised: promised)
    }

    // MARK: - Workloads measured on both axes

    /// A mount of `path` after a clean unmount, in ms.
    static func cleanMountMilliseconds(_ path: String) throws -> Double {
        let t0 = monotonicNanoseconds()
        let fs = try Filesystem.mount(path)
        let dt = monotonicNanoseconds() - t0
        try fs.unmount()
        return Double(dt) / 1e6
    }

    /// One checkpoint of the mounted `fs`, in ms.
    static func checkpointMilliseconds(_ fs: Filesystem) throws -> Double {
        let t0 = monotonicNanoseconds()
        try fs.checkpoint()
        return Double(monotonicNanoseconds() - t0) / 1e6
    }

    /// A whole `daxfs fsck -fn` process on `path`, in ms.
    static func fsckMilliseconds(_ bin: String, _ path: String) throws -> Double {
        Double(try Subprocess.run([bin, "fsck", "-fn", path]).nanoseconds) / 1e6
    }

    /// A small xorshift generator: the same offsets in every run.
    struct Random {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        mutating func next(below bound: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(bound))
        }
    }

    // MARK: - Rows over the extent count

    /// Operations per sample of the per-operation rows.
    static func perOp(_ ctx: BenchContext) -> Int { ctx.pick(quick: 2_000, full: 10_000) }

    static let readRandom = BenchRow(
        name: "read 4 KiB at a random mapped offset", unit: .nanoseconds, goal: .none,
        reference: "Filesystem.read, Filesystem+Data.swift: O(log n + extents touched + bytes)") { ctx in
        let ops = perOp(ctx)
        return try overMounted(try extentAxis(ctx), ctx, promised: .logarithmic) { fs, p in
            let f = try fs.lookup("/many")
            var buffer = [UInt8](repeating: 0, count: 4096)
            var rng = Random()
            let t0 = monotonicNanoseconds()
            for _ in 0..<ops {
                let at = UInt64(rng.next(below: p.n)) * stride
                _ = try buffer.withUnsafeMutableBytes { try fs.read(f, at: at, into: $0) }
            }
            return Double(monotonicNanoseconds() - t0) / Double(ops)
        }
    }

    static let mapRandom = BenchRow(
        name: "take and release a 4 KiB read mapping at a random mapped offset", unit: .nanoseconds, goal: .none,
        reference: "DaxFile.map, Filesystem+Mapping.swift: O(log n + extents in the range)") { ctx in
        let ops = perOp(ctx)
        return try overMounted(try extentAxis(ctx), ctx, promised: .logarithmic) { fs, p in
            let file = try fs.open("/many")
            var rng = Random()
            let t0 = monotonicNanoseconds()
            for _ in 0..<ops {
                let m = try file.map(UInt64(rng.next(below: p.n)) * stride, 4096, for: .read)
                m.release()
            }
            return Double(monotonicNanoseconds() - t0) / Double(ops)
        }
    }

    static let fillAndPunch = BenchRow(
        name: "fill a 4 KiB hole and punch it again, random offset, each durable", unit: BenchUnit(symbol: "µs", higherIsBetter: false),
        goal: .none,
        reference: "ExtentMap.swift: map and unmap O(log n) plus SortedChunks insert O(log n + L + n/L), L = 256") { ctx in
        let ops = perOp(ctx)
        return try overMounted(try extentAxis(ctx), ctx, promised: .logarithmic) { fs, p in
            let f = try fs.lookup("/many")
            var rng = Random()
            let pairs = ops / 10
            let t0 = monotonicNanoseconds()
            for _ in 0..<pairs {
                let hole = Int64(rng.next(below: p.n)) * Int64(stride) + 4096
                try fs.fallocate(f, mode: [], offset: hole, length: 4096)
                try fs.fallocate(f, mode: [.punchHole, .keepSize], offset: hole, length: 4096)
            }
            return Double(monotonicNanoseconds() - t0) / 1e3 / Double(pairs)
        }
    }

    static let insertCollapse = BenchRow(
        name: "insert 4 KiB at the front, then collapse it, each durable", unit: .milliseconds, goal: .none,
        reference: "Filesystem.fallocate, Filesystem+Fallocate.swift: collapse and insert O(n) in the extents after the offset") { ctx in
        try overMounted(try extentAxis(ctx), ctx, promised: .linear) { fs, _ in
            let f = try fs.lookup("/many")
            let pairs = 5
            let t0 = monotonicNanoseconds()
            for _ in 0..<pairs {
                try fs.fallocate(f, mode: .insertRange, offset: 0, length: 4096)
                try fs.fallocate(f, mode: .collapseRange, offset: 0, length: 4096)
            }
            return Double(monotonicNanoseconds() - t0) / 1e6 / Double(pairs)
        }
    }

    static let checkpoint = BenchRow(
        name: "checkpoint", unit: .milliseconds, goal: .none,
        reference: "Filesystem.checkpoint, MetadataState.swift: O(inodes + extents + free runs)") { ctx in
        try overMounted(try extentAxis(ctx), ctx, promised: .linear) { fs, _ in try checkpointMilliseconds(fs) }
    }

    static let cleanMount = BenchRow(
        name: "mount after a clean unmount", unit: .milliseconds, goal: .none,
        reference: "Filesystem.mount, Recovery.swift: O(checkpoint size + log bytes)") { ctx in
        try over(try extentAxis(ctx), ctx, promised: .linear) { try cleanMountMilliseconds($0.path) }
    }

    static let mountMemory = BenchRow(
        name: "anonymous resident memory a mount holds (a fresh process)", unit: BenchUnit(symbol: "MiB", higherIsBetter: false), goal: .none,
        reference: "ExtentMap.swift and FreeSpace.swift: O(1) per extent and per free run") { ctx in
        try over(try extentAxis(ctx), ctx, promised: .linear) { try MountMemory.measure($0.path) / 1_048_576 }
    }

    static let fsckTime = BenchRow(
        name: "daxfs fsck -fn, whole process", unit: .milliseconds, goal: .none,
        reference: "StateRepair.swift: O((inodes + extents + free runs) log n)") { ctx in
        let bin = try ctx.requireDaxfsBinary()
        return try over(try extentAxis(ctx), ctx, promised: .linear) { try fsckMilliseconds(bin, $0.path) }
    }

    static let fsckMemory = BenchRow(
        name: "daxfs fsck -fn, peak resident memory", unit: BenchUnit(symbol: "MiB", higherIsBetter: false), goal: .none,
        reference: "StateRepair.swift: memory O(inodes + extents + free runs), never O(region size)") { ctx in
        let bin = try ctx.requireDaxfsBinary()
        return try over(try extentAxis(ctx), ctx, promised: .linear) { try fsckPeakMiB(bin, $0.path) }
    }

    /// The peak resident memory of a `daxfs fsck -fn --json` process, as it
    /// reports it (VmHWM). Not wait4's ru_maxrss: posix_spawn's vfork makes
    /// that carry this process's own peak into the child.
    static func fsckPeakMiB(_ bin: String, _ path: String) throws -> Double {
        let json = try Subprocess.capture([bin, "fsck", "-fn", "--json", path])
        let key = "\"peak_memory_bytes\""
        guard let line = json.split(separator: "\n").first(where: { $0.contains(key) }),
              let bytes = Double(String(line.split(separator: ":").last ?? "").filter(\.isNumber)) else {
            throw BenchSkip("fsck --json printed no peak_memory_bytes")
        }
        return bytes / 1_048_576
    }

    // MARK: - Rows over the region size

    struct RegionSize: Sendable {
        var label: String
        var bytes: UInt64
        var sparse: Bool
    }
    static let regionSizes = [
        RegionSize(label: "1 GiB", bytes: 1 << 30, sparse: false),
        RegionSize(label: "16 GiB, sparse", bytes: 16 << 30, sparse: true),
        RegionSize(label: "1 TiB, sparse", bytes: 1 << 40, sparse: true),
    ]
    static let filesPerRegion = 1_000

    /// A region of `size` with 1,000 empty files in /, cleanly unmounted.
    static func sizedRegion(_ ctx: BenchContext, _ size: RegionSize) throws -> String {
        try ctx.fixture("scaling-size-\(size.bytes)") {
            let path = ctx.scratchPath("region")
            var o = Mkfs.Options()
            o.size = size.bytes
            o.sparse = size.sparse
            _ = try Mkfs.run(path, o)
            var m = Filesystem.Options()
            m.durability = .deferred
            let fs = try Filesystem.mount(path, options: m)
            for i in 0..<filesPerRegion { _ = try fs.create("/f\(i)") }
            try fs.unmount()
            return path
        }
    }

    static let mkfsBySize = BenchRow(
        name: "daxfs mkfs of an existing file, whole process", unit: .milliseconds, goal: .none,
        reference: "Mkfs.swift: writes only metadata, so its time does not depend on the region size") { ctx in
        let bin = try ctx.requireDaxfsBinary()
        var points: [ScalePoint] = []
        for size in regionSizes {
            let path = ctx.scratchPath("mkfs")
            defer { unlink(path) }
            if size.sparse {
                try Files.createSparse(path, size: size.bytes)
            } else {
                try Subprocess.run([bin, "mkfs", path, "--size", "\(size.bytes)", "-q"])
            }
            let stats = try ctx.measure(warmup: 1) {
                Double(try Subprocess.run([bin, "mkfs", path, "--force", "-q"]).nanoseconds) / 1e6
            }
            points.append(ScalePoint(label: size.label, n: Double(size.bytes), stats: stats))
        }
        return .scaling(points, promised: .constant)
    }

    static let mountBySize = BenchRow(
        name: "mount after a clean unmount, 1,000 files", unit: .milliseconds, goal: .none,
        reference: "Recovery.swift: O(checkpoint size + log bytes), neither of which grows with the region") { ctx in
        try over(try sizeAxis(ctx), ctx, promised: .constant) { try cleanMountMilliseconds($0.path) }
    }

    static let allocateBySize = BenchRow(
        name: "allocate 4 KiB at every other block, 10,000 calls (2,000 with --quick), each durable, then remove the file", unit: .nanoseconds, goal: .none,
        reference: "Allocator.swift: O(r log n) for r runs handed out, n the free runs") { ctx in
        let ops = perOp(ctx)
        return try overMounted(try sizeAxis(ctx), ctx, promised: .constant) { fs, _ in
            let f = try fs.create("/alloc")
            defer { try? fs.remove("/alloc") }
            let t0 = monotonicNanoseconds()
            for i in 0..<UInt64(ops) { try fs.allocate(f, offset: i * stride, length: 4096) }
            return Double(monotonicNanoseconds() - t0) / Double(ops)
        }
    }

    static let checkpointBySize = BenchRow(
        name: "checkpoint, 1,000 files", unit: .milliseconds, goal: .none,
        reference: "MetadataState.swift: O(inodes + extents + free runs)") { ctx in
        try overMounted(try sizeAxis(ctx), ctx, promised: .constant) { fs, _ in try checkpointMilliseconds(fs) }
    }

    static let fsckTimeBySize = BenchRow(
        name: "daxfs fsck -fn, whole process, 1,000 files", unit: .milliseconds, goal: .none,
        reference: "StateRepair.swift: O((inodes + extents + free runs) log n), never O(region size)") { ctx in
        let bin = try ctx.requireDaxfsBinary()
        return try over(try sizeAxis(ctx), ctx, promised: .constant) { try fsckMilliseconds(bin, $0.path) }
    }

    static let fsckMemoryBySize = BenchRow(
        name: "daxfs fsck -fn, peak resident memory, 1,000 files", unit: BenchUnit(symbol: "MiB", higherIsBetter: false), goal: .none,
        reference: "StateRepair.swift: memory O(inodes + extents + free runs), never O(region size)") { ctx in
        let bin = try ctx.requireDaxfsBinary()
        return try over(try sizeAxis(ctx), ctx, promised: .constant) { try fsckPeakMiB(bin, $0.path) }
    }
}
