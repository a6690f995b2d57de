import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A kernel file system (ext4 by default) on a loop device over a sparse
/// file on /dev/shm, mounted at a temporary directory: Linux itself as the
/// oracle for differential tests. Needs root, losetup, mount and the mkfs
/// program; `unavailableReason` says what is missing, so a test can skip
/// with a clear message.
public final class LoopMount: @unchecked Sendable {
    public let mountPoint: String
    private let image: String
    private let device: String

    /// Why a loop mount of `fsType` cannot be made here, or nil when it can.
    public static func unavailableReason(_ fsType: String = "ext4") -> String? {
        if geteuid() != 0 { return "needs root for a loop device (running as uid \(geteuid()))" }
        for tool in ["losetup", "mount", "umount", "mkfs.\(fsType)"] where which(tool) == nil {
            return "needs \(tool), which is missing"
        }
        if access("/dev/loop-control", F_OK) != 0 { return "this machine has no loop driver (/dev/loop-control)" }
        return nil
    }

    /// Formats and mounts a `size`-byte `fsType` with 4 KiB blocks.
    public init(_ fsType: String = "ext4", size: UInt64 = 256 << 20) throws {
        if let why = Self.unavailableReason(fsType) { throw LoopMountError(why) }
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        image = "/dev/shm/daxfs-oracle-\(tag).img"
        mountPoint = "/tmp/daxfs-oracle-\(tag)"
        guard FileManager.default.createFile(atPath: image, contents: nil), truncate(image, off_t(size)) == 0 else {
            throw LoopMountError("cannot create \(image)")
        }
        device = try Self.run(["losetup", "--find", "--show", image]).trimmingCharacters(in: .whitespacesAndNewlines)
        let opts = fsType == "xfs" ? ["-q", "-f", "-b", "size=4096"] : ["-q", "-F", "-b", "4096", "-E", "nodiscard"]
        do {
            _ = try Self.run(["mkfs.\(fsType)"] + opts + [device])
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            _ = try Self.run(["mount", "-t", fsType, device, mountPoint])
        } catch {
            _ = try? Self.run(["losetup", "-d", device])
            unlink(image)
            throw error
        }
    }

    deinit {
        if (try? Self.run(["umount", mountPoint])) == nil { _ = try? Self.run(["umount", "-l", mountPoint]) }
        _ = try? Self.run(["losetup", "-d", device])
        rmdir(mountPoint)
        unlink(image)
    }

    @discardableResult
    static func run(_ argv: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: which(argv[0]) ?? argv[0])
        p.arguments = Array(argv.dropFirst())
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else { throw LoopMountError("\(argv.joined(separator: " ")) failed: \(text)") }
        return text
    }

    static func which(_ tool: String) -> String? {
        for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] where access("\(dir)/\(tool)", X_OK) == 0 { return "\(dir)/\(tool)" }
        return nil
    }
}

public struct LoopMountError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
