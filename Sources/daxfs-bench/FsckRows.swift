#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFS

/// fsck of a populated region beside e2fsck of ext4 holding the same files.
enum FsckRows {
    static var group: BenchGroup {
        BenchGroup(
            title: "fsck",
            layout: .comparisons,
            caption: "Whole processes: `daxfs fsck -fn` on a /dev/shm region against `e2fsck -fn` on ext4 on a loop device over /dev/shm, the same files in both (populating is not timed). ms per check.",
            rows: [fullCheck])
    }

    /// 100 directories of `files / 100` files of 4 KiB each.
    static let fullCheck = BenchRow(
        name: "fsck -fn, 100,000 files of 4 KiB in 100 directories (20,000 with --quick)", unit: .milliseconds,
        goal: .speedupAtLeast(2), reference: "e2fsck -fn, ext4 with the same files, loop device over /dev/shm") { ctx in
        let files = ctx.pick(quick: 20_000, full: 100_000)
        let bin = try ctx.requireDaxfsBinary()
        let block = [UInt8](repeating: 0xA5, count: 4096)
        try LoopPeer.checkAvailable(.ext4)
        let region = ctx.scratchPath("fsck-region")
        defer { unlink(region) }
        try Subprocess.run([bin, "mkfs", region, "--size", "1G", "--checkpoint-size", "64M", "-q"])
        ctx.progress("populating daxfs with \(files) files")
        var options = Filesystem.Options()
        options.durability = .deferred
        let fs = try Filesystem.mount(region, options: options)
        for d in 0..<100 {
            try fs.mkdir("/d\(d)")
            for f in 0..<(files / 100) { try fs.write(try fs.create("/d\(d)/f\(f)"), at: 0, block) }
        }
        try fs.unmount()
        return try LoopPeer.with(.ext4, size: 2 << 30, in: ctx.scratchDirectory) { peer in
            ctx.progress("populating ext4 with \(files) files")
            for d in 0..<100 {
                let dir = "\(peer.mountPoint)/d\(d)"
                guard mkdir(dir, 0o755) == 0 else { throw DaxError.syscall("mkdir", dir) }
                for f in 0..<(files / 100) {
                    let fd = open("\(dir)/f\(f)", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                    guard fd >= 0 else { throw DaxError.syscall("open", dir) }
                    _ = block.withUnsafeBytes { write(fd, $0.baseAddress, 4096) }
                    close(fd)
                }
            }
            // e2fsck checks an unmounted file system; mount it again for the teardown.
            try Subprocess.run(["umount", peer.mountPoint])
            defer { _ = try? Subprocess.run(["mount", "-t", "ext4", peer.device, peer.mountPoint]) }
            let pair = try ctx.measurePair(daxfs: {
                Double(try Subprocess.run([bin, "fsck", "-fn", region]).nanoseconds) / 1e6
            }, reference: {
                Double(try Subprocess.run(["e2fsck", "-fn", peer.device]).nanoseconds) / 1e6
            })
            return .compared(daxfs: pair.daxfs, reference: pair.reference)
        }
    }
}
