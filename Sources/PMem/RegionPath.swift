#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import CDaxShims

/// What a region path names, found with stat(2) and sysfs, before any mapping.
public struct RegionInfo: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable { case file, deviceDAX = "devdax" }
    public var path: String
    public var kind: Kind
    /// Size in bytes: st_size for a file; from libdaxctl or sysfs for a device-DAX
    /// (stat reports 0 for a character device).
    public var size: UInt64
    /// Mapping alignment: the device alignment for a device-DAX, the page size for a file.
    public var alignment: UInt64
    /// The device, for a device-DAX.
    public var device: DaxDevice?
}

public enum RegionPath {
    public static let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))

    /// Classifies an existing region path.
    ///
    /// Throws ENOENT when it is missing, EISDIR for a directory, ENODEV for a
    /// character device that is not a device-DAX, EOPNOTSUPP for a block
    /// device or anything else that is neither a regular file nor a device-DAX.
    public static func inspect(_ path: String) throws -> RegionInfo {
        var st = Glibc.stat()
        if stat(path, &st) != 0 {
            let e = Errno.current
            if e == .ENOENT { throw DaxError(.ENOENT, "\(path): no such file or device").with("region", path) }
            throw DaxError.syscall("stat", path, errno: e).with("region", path)
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            return RegionInfo(path: path, kind: .file, size: UInt64(st.st_size), alignment: pageSize, device: nil)
        case S_IFDIR:
            throw DaxError(.EISDIR, "\(path) is a directory, not a region (a file or a /dev/daxX.Y device)").with("region", path)
        case S_IFCHR:
            let ma = daxfs_major(st.st_rdev), mi = daxfs_minor(st.st_rdev)
            guard DaxDevices.isDaxCharDevice(major: ma, minor: mi), let dev = DaxDevices.device(major: ma, minor: mi) else {
                throw DaxError(.ENODEV, "\(path) is a character device (\(ma):\(mi)) but not a device-DAX").with("region", path)
            }
            return RegionInfo(path: path, kind: .deviceDAX, size: dev.size, alignment: dev.align, device: dev)
        case S_IFBLK:
            throw DaxError(.EOPNOTSUPP, "\(path) is a block device; daxfs needs a regular file or a device-DAX (/dev/daxX.Y)").with("region", path)
        default:
            throw DaxError(.EOPNOTSUPP, "\(path) is neither a regular file nor a device-DAX").with("region", path)
        }
    }

    /// Creates a new regular file of `size` bytes for mkfs: preallocated with
    /// posix_fallocate(3) unless `sparse`. Fails with EEXIST if it exists.
    /// On failure the half-made file is removed.
    public static func createFile(_ path: String, size: UInt64, sparse: Bool) throws {
        let fd = try Sys.open(path, O_RDWR | O_CREAT | O_EXCL, 0o644)
        var ok = false
        defer {
            Glibc.close(fd)
            if !ok { unlink(path) }
        }
        if ftruncate(fd, off_t(size)) != 0 { throw DaxError.syscall("ftruncate", path).with("region", path) }
        if !sparse {
            let r = posix_fallocate(fd, 0, off_t(size))
            if r != 0 {
                let e = Errno(rawValue: r)
                throw DaxError(e, "cannot preallocate \(ByteSize.human(size)) for \(path): \(e.strerror)" + (e == .ENOSPC ? " (use --sparse, or a smaller --size)" : ""))
                    .with("region", path)
            }
        }
        ok = true
    }

    /// Resizes an existing regular file (mkfs --size --force on an existing file).
    public static func resizeFile(_ path: String, size: UInt64, sparse: Bool) throws {
        let fd = try Sys.open(path, O_RDWR)
        defer { Glibc.close(fd) }
        if ftruncate(fd, off_t(size)) != 0 { throw DaxError.syscall("ftruncate", path).with("region", path) }
        if !sparse {
            let r = posix_fallocate(fd, 0, off_t(size))
            if r != 0 { throw DaxError(Errno(rawValue: r), "cannot preallocate \(path): \(Errno(rawValue: r).strerror)").with("region", path) }
        }
    }

    /// The byte ranges of a regular file that hold data (SEEK_DATA/daxfs_SEEK_HOLE),
    /// used to show that mkfs writes only metadata.
    public static func dataRanges(_ path: String) throws -> [Range<UInt64>] {
        let fd = try Sys.open(path, O_RDONLY)
        defer { Glibc.close(fd) }
        let end = try Sys.fstat(fd, path: path).st_size
        var out: [Range<UInt64>] = []
        var pos: off_t = 0
        while pos < end {
            let d = lseek(fd, pos, daxfs_SEEK_DATA)
            if d < 0 { break }
            let h = lseek(fd, d, daxfs_SEEK_HOLE)
            if h < 0 { break }
            out.append(UInt64(d)..<UInt64(h))
            pos = h
        }
        return out
    }
}
