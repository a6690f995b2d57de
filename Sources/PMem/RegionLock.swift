#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import CDaxShims

/// The advisory lock that keeps two mounts off one region.
///
/// An open-file-description lock (F_OFD_SETLK) on byte 0 gives the exclusion:
/// it conflicts between processes and between two opens in one process.
/// A classic POSIX lock on byte 1 exists only so that a loser can learn the
/// holder's pid with F_GETLK ("in use by pid N"); OFD locks report pid -1.
/// Read-only mounts take both locks shared; read-write mounts take them exclusive.
///
/// The lock lives as long as the object; `release()` drops it early.
public final class RegionLock: @unchecked Sendable {
    private var fd: Int32
    public let path: String
    public let exclusive: Bool

    /// Takes the lock without waiting. Throws EBUSY naming the holder's pid.
    public init(path: String, exclusive: Bool) throws {
        self.path = path
        self.exclusive = exclusive
        fd = try Sys.open(path, exclusive ? O_RDWR : O_RDONLY)
        let type = Int16(exclusive ? F_WRLCK : F_RDLCK)
        var ofd = flock(l_type: type, l_whence: Int16(SEEK_SET), l_start: 0, l_len: 1, l_pid: 0)
        if fcntl(fd, daxfs_F_OFD_SETLK, &ofd) != 0 {
            let e = Errno.current
            let holder = RegionLock.holder(fd: fd, type: type)
            Glibc.close(fd)
            fd = -1
            if e == .EAGAIN || e == .EACCES {
                let who = holder.map { $0 == getpid() ? "this process (pid \($0))" : "pid \($0)" } ?? "another process"
                throw DaxError(.EBUSY, "\(path) is in use by \(who)" + (exclusive ? "" : " (mounted read-write)"))
                    .with("region", path)
            }
            throw DaxError.syscall("fcntl(F_OFD_SETLK)", path, errno: e).with("region", path)
        }
        var posix = flock(l_type: type, l_whence: Int16(SEEK_SET), l_start: 1, l_len: 1, l_pid: 0)
        _ = fcntl(fd, F_SETLK, &posix)   // best effort: only for reporting the pid
    }

    private static func holder(fd: Int32, type: Int16) -> pid_t? {
        var q = flock(l_type: type, l_whence: Int16(SEEK_SET), l_start: 1, l_len: 1, l_pid: 0)
        if fcntl(fd, F_GETLK, &q) == 0, q.l_type != Int16(F_UNLCK), q.l_pid > 0 { return q.l_pid }
        // Our own POSIX locks never conflict with us, so a holder that F_GETLK
        // cannot see is this very process (a second mount of the same region).
        return getpid()
    }

    public func release() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    deinit { release() }
}
