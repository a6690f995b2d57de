#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFS

/// Files from the shell: creating many files in one batch, and copying a
/// large file in and out, each as whole `daxfs` processes (start-up, mount
/// and unmount included) beside the same work on the kernel's file systems.
enum FileRows {
    static var group: BenchGroup {
        BenchGroup(
            title: "Files",
            layout: .comparisons,
            caption: "Whole daxfs processes (start-up and mount included) on a fresh, preallocated /dev/shm region per run (mkfs not timed). create: files per second; put/get: GB/s (10^9 bytes/s).",
            rows: [createFiles, put, get])
    }

    /// A region with room for a file of `bytes` twice over, as mkfs takes it.
    static func regionSize(for bytes: Int) -> String { "\(bytes / (1 << 20) * 2 + 64)M" }

    /// A region made as users make one by default: preallocated (mkfs is not timed).
    static func freshRegion(_ ctx: BenchContext, size: String, options: [String] = []) throws -> String {
        let bin = try ctx.requireDaxfsBinary()
        let path = ctx.scratchPath("files-region")
        try Subprocess.run([bin, "mkfs", path, "--size", size, "-q"] + options)
        return path
    }

    /// `daxfs io REGION -f SCRIPT` with one `touch /fN` a line, against a loop
    /// creating the same files with open(O_CREAT|O_EXCL)+close on XFS.
    static let createFiles = BenchRow(
        name: "create empty files in one directory, one batch", unit: .callsPerSecond, goal: .speedupAtLeast(5),
        reference: "open(O_CREAT)+close loop on XFS, loop device over /dev/shm") { ctx in
        let files = ctx.pick(quick: 20_000, full: 100_000)
        let bin = try ctx.requireDaxfsBinary()
        let script = ctx.scratchPath("touch-script")
        try (0..<files).map { "touch /f\($0)" }.joined(separator: "\n").write(toFile: script)
        defer { unlink(script) }
        return try LoopPeer.with(.xfs, size: 4 << 30, in: ctx.scratchDirectory) { peer in
            var round = 0
            let pair = try ctx.measurePair(daxfs: {
                // A 1 GiB region's default checkpoint slot (8 MiB) holds about 65,000 inodes.
                let region = try freshRegion(ctx, size: "1G", options: ["--checkpoint-size", "64M"])
                defer { unlink(region) }
                let r = try Subprocess.run([bin, "io", region, "-f", script])
                return Double(files) / r.seconds
            }, reference: {
                round += 1
                let dir = "\(peer.mountPoint)/round\(round)"
                guard mkdir(dir, 0o755) == 0 else { throw DaxError.syscall("mkdir", dir) }
                let t0 = monotonicNanoseconds()
                for i in 0..<files {
                    let fd = open("\(dir)/f\(i)", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                    guard fd >= 0 else { throw DaxError.syscall("open", dir) }
                    close(fd)
                }
                return Double(files) / (Double(monotonicNanoseconds() - t0) / 1e9)
            })
            return .compared(daxfs: pair.daxfs, reference: pair.reference)
        }
    }

    /// `daxfs put` of a file of non-zero data into a fresh region, against `cp`
    /// of the same file to a fresh /dev/shm file. Both write fresh tmpfs pages.
    static let put = BenchRow(
        name: "put a large file", unit: .gigabytesPerSecond, goal: .speedupAtLeast(0.8),
        reference: "cp between two /dev/shm files") { ctx in
        let bytes = References.cpBytes(ctx)
        let bin = try ctx.requireDaxfsBinary()
        let source = ctx.scratchPath("put-source"), destination = ctx.scratchPath("cp-destination")
        try Files.createData(source, bytes: bytes)
        defer { unlink(source); unlink(destination) }
        let size = regionSize(for: bytes)
        let pair = try ctx.measurePair(warmup: 1, daxfs: {
            let region = try freshRegion(ctx, size: size)
            defer { unlink(region) }
            let r = try Subprocess.run([bin, "put", region, source, "/f"])
            return Double(bytes) / Double(max(r.nanoseconds, 1))
        }, reference: {
            try References.cpRate(source: source, destination: destination, bytes: bytes)
        })
        return .compared(daxfs: pair.daxfs, reference: pair.reference)
    }

    /// `daxfs get` of that file to a fresh /dev/shm file, against `cp`.
    static let get = BenchRow(
        name: "get a large file", unit: .gigabytesPerSecond, goal: .speedupAtLeast(0.8),
        reference: "cp between two /dev/shm files") { ctx in
        let bytes = References.cpBytes(ctx)
        let bin = try ctx.requireDaxfsBinary()
        let source = ctx.scratchPath("get-source"), out = ctx.scratchPath("get-out"), destination = ctx.scratchPath("cp-destination")
        try Files.createData(source, bytes: bytes)
        let region = try freshRegion(ctx, size: regionSize(for: bytes))
        defer { unlink(source); unlink(out); unlink(destination); unlink(region) }
        try Subprocess.run([bin, "put", region, source, "/f"])
        let pair = try ctx.measurePair(warmup: 1, daxfs: {
            unlink(out)
            let r = try Subprocess.run([bin, "get", region, "/f", out])
            return Double(bytes) / Double(max(r.nanoseconds, 1))
        }, reference: {
            try References.cpRate(source: source, destination: destination, bytes: bytes)
        })
        return .compared(daxfs: pair.daxfs, reference: pair.reference)
    }
}

extension String {
    /// Writes the string to `path` (created or truncated).
    func write(toFile path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DaxError.syscall("open", path) }
        defer { close(fd) }
        var bytes = Array(utf8)
        let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw DaxError.syscall("write", path) }
    }
}
