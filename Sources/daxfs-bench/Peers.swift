#if canImport(Glibc)
import Glibc
#endif

/// A peer file system, ext4 or XFS, on a loop device over a sparse file on
/// /dev/shm, mounted at a temporary directory: the kernel's own file systems
/// on the same memory daxfs runs on, for side-by-side figures.
///
/// `LoopPeer.with` creates the backing file, attaches it, formats it, mounts
/// it, runs the body, then unmounts, detaches and removes everything, also
/// when the body throws and (best effort, with a lazy unmount) on SIGINT or
/// SIGTERM. It throws `BenchSkip` when not root, or when losetup, mount or
/// the mkfs program is missing, or when no loop device can be attached.
///
/// Caveat: the loop driver adds a block layer between the file system and
/// tmpfs; the peer pays for it, daxfs does not.
struct LoopPeer: Sendable {
    enum Kind: String, Sendable {
        case ext4, xfs

        var mkfs: String { "mkfs.\(rawValue)" }
        /// No discard, so formatting does not punch the backing file; ext4 -F
        /// and xfs -f overwrite whatever is there.
        var mkfsOptions: [String] {
            switch self {
            case .ext4: ["-q", "-F", "-E", "nodiscard"]
            case .xfs: ["-q", "-f", "-K"]
            }
        }
        var package: String { self == .ext4 ? "e2fsprogs" : "xfsprogs" }
    }

    let kind: Kind
    /// The backing file on /dev/shm.
    let image: String
    /// The loop device, for example /dev/loop3.
    let device: String
    /// Where it is mounted.
    let mountPoint: String

    /// Throws `BenchSkip` with the reason when this machine cannot host `kind`.
    static func checkAvailable(_ kind: Kind) throws {
        if geteuid() != 0 {
            throw BenchSkip("\(kind.rawValue) peer needs root and loop devices (running as uid \(geteuid()))")
        }
        for tool in ["losetup", "mount", "umount"] where Subprocess.which(tool) == nil {
            throw BenchSkip("\(kind.rawValue) peer needs \(tool), which is missing (util-linux)")
        }
        if Subprocess.which(kind.mkfs) == nil {
            throw BenchSkip("\(kind.rawValue) peer needs \(kind.mkfs), which is missing (apt-get install \(kind.package))")
        }
    }

    /// Sets up a `kind` peer of `size` bytes with its backing file in
    /// `directory`, runs `body` with it, and tears it down whatever happens.
    static func with<T>(_ kind: Kind, size: UInt64, in directory: String,
                        _ body: (LoopPeer) throws -> T) throws -> T {
        try checkAvailable(kind)
        let image = "\(directory)/peer-\(kind.rawValue)-\(getpid()).img"
        try Files.createSparse(image, size: size)
        let removeImage = Cleanup.push("remove \(image)") { unlink(image) }
        defer { Cleanup.pop(removeImage) }

        let device = try attach(image)
        let detach = Cleanup.push("detach \(device)") { _ = try? Subprocess.run(["losetup", "-d", device]) }
        defer { Cleanup.pop(detach) }

        try Subprocess.run([kind.mkfs] + kind.mkfsOptions + [device])

        let mountPoint = try Files.makeTemporaryDirectory("/tmp/daxfs-bench-\(kind.rawValue)-XXXXXX")
        let removeMountPoint = Cleanup.push("remove \(mountPoint)") { rmdir(mountPoint) }
        defer { Cleanup.pop(removeMountPoint) }

        try Subprocess.run(["mount", "-t", kind.rawValue, device, mountPoint])
        let unmount = Cleanup.push("unmount \(mountPoint)") { unmountOrDetachLazily(mountPoint) }
        defer { Cleanup.pop(unmount) }

        return try body(LoopPeer(kind: kind, image: image, device: device, mountPoint: mountPoint))
    }

    /// A copy of the file system as it stands, to `restore` before each
    /// sample: a fragmented file that takes XFS seconds to build is built
    /// once per row instead of once per sample. Unmounts, copies the backing
    /// file (sparse: only metadata and written blocks take space), mounts
    /// again. The copy is in the same scratch directory.
    func saveTemplate() throws -> String {
        let template = image + ".template"
        try Subprocess.run(["umount", mountPoint])
        defer { _ = try? Subprocess.run(["mount", "-t", kind.rawValue, device, mountPoint]) }
        try Subprocess.run(["cp", "--sparse=always", image, template])
        return template
    }

    /// Puts the file system back as `saveTemplate` saw it: unmounts, copies
    /// the template over the backing file, drops the loop device's cached
    /// blocks (`blockdev --flushbufs`, or the old metadata would be read
    /// back), and mounts again. Not timed by any row.
    func restore(_ template: String) throws {
        try Subprocess.run(["umount", mountPoint])
        try Subprocess.run(["cp", "--sparse=always", template, image])
        try Subprocess.run(["blockdev", "--flushbufs", device])
        try Subprocess.run(["mount", "-t", kind.rawValue, device, mountPoint])
    }

    /// Walks every data and hole boundary of the open file with lseek
    /// (SEEK_DATA, SEEK_HOLE), so that the peer has read the file's whole
    /// extent map into memory before a timed call, as it had when it built
    /// the file. Untimed; O(extents) system calls.
    static func warmExtentMap(_ fd: Int32) {
        let seekData: Int32 = 3, seekHole: Int32 = 4     // SEEK_DATA, SEEK_HOLE: Glibc does not export them to Swift
        var at: off_t = 0
        while true {
            let data = lseek(fd, at, seekData)
            if data < 0 { return }
            let hole = lseek(fd, data, seekHole)
            if hole <= data { return }
            at = hole
        }
    }

    /// `losetup --find --show`: the device it attached. A failure is a skip:
    /// the machine has no free loop device or no loop driver.
    private static func attach(_ image: String) throws -> String {
        do {
            let dev = try Subprocess.capture(["losetup", "--find", "--show", image])
            guard dev.hasPrefix("/dev/") else { throw BenchSkip("cannot attach a loop device: losetup printed '\(dev)'") }
            return dev
        } catch let f as Subprocess.Failure {
            throw BenchSkip("cannot attach a loop device: \(f.output.isEmpty ? "losetup failed" : f.output)")
        }
    }

    /// umount, once more after a sync when the first try fails (a straggling
    /// reference), and a lazy unmount as the last resort so that the loop
    /// device can still be detached.
    private static func unmountOrDetachLazily(_ mountPoint: String) {
        if (try? Subprocess.run(["umount", mountPoint])) != nil { return }
        sync()
        if (try? Subprocess.run(["umount", mountPoint])) != nil { return }
        Console.status("umount \(mountPoint) failed twice; unmounting lazily")
        _ = try? Subprocess.run(["umount", "-l", mountPoint])
    }
}
