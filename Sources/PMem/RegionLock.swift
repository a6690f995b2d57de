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
    private var fileID: FileID?
    public let path: String
    public let exclusive: Bool

    /// Takes the lock without waiting. Throws EBUSY naming the holder's pid.
    public init(path: String, exclusive: Bool) throws {
        self.path = path
        self.exclusive = exclusive
        fd = try Sys.open(path, exclusive ? O_RDWR : O_RDONLY)
        let type = Int16(exclusive ? F_WRLCK : F_RDLCK)
        if !RegionLock.take(fd: fd, type: type) {
            let e = Errno.current
            let id = try? FileID(fd: fd, path: path)
            let mine = id.map { i in RegionLock.heldLock.withLock { RegionLock.held.contains(i) } } ?? false
            let holder = mine ? getpid() : RegionLock.holder(fd: fd, type: type)
            Glibc.close(fd)
            fd = -1
            if e == .EAGAIN || e == .EACCES {
                let who = holder.map { $0 == getpid() ? "this process (pid \($0))" : "pid \($0)" } ?? "another process"
                throw DaxError(.EBUSY, "\(path) is in use by \(who)" + (exclusive ? "" : " (mounted read-write)"))
                    .with("region", path)
            }
            throw DaxError.syscall("fcntl(F_OFD_SETLK)", path, errno: e).with("region", path)
        }
        fileID = try? FileID(fd: fd, path: path)
        if let id = fileID { _ = RegionLock.heldLock.withLock { RegionLock.held.insert(id) } }
        publishOwner()
    }

    /// Takes the OFD lock, retrying for up to 50 ms while it is held.
    ///
    /// A process that forks (to run any program) lends its children every
    /// open file description until they exec, O_CLOEXEC or not, and with
    /// them the OFD locks on them: a lock its owner already dropped can
    /// still be held for a moment by a child on its way to exec. The retry
    /// rides that out; a real holder keeps it longer and gets EBUSY.
    private static func take(fd: Int32, type: Int16) -> Bool {
        for attempt in 0..<11 {
            var ofd = flock(l_type: type, l_whence: Int16(SEEK_SET), l_start: 0, l_len: 1, l_pid: 0)
            if fcntl(fd, daxfs_F_OFD_SETLK, &ofd) == 0 { return true }
            let e = Errno.current
            if (e != .EAGAIN && e != .EACCES) || attempt == 10 { return false }
            usleep(5_000)
        }
        return false
    }

    /// Regions locked by this process, so a refusal can say "this process".
    /// Read and changed only under `heldLock` (a pthread `Lock`, which
    /// ThreadSanitizer models; two mounts in one process take region locks
    /// from two threads).
    nonisolated(unsafe) private static var held = Set<FileID>()
    private static let heldLock = Lock()

    struct FileID: Hashable {
        var dev: UInt64, ino: UInt64
        init(fd: Int32, path: String) throws {
            let st = try Sys.fstat(fd, path: path)
            dev = UInt64(st.st_dev); ino = UInt64(st.st_ino)
        }
    }

    /// (Re)takes the POSIX lock on byte 1 that lets others read our pid.
    ///
    /// POSIX locks are dropped when the process closes *any* descriptor of
    /// the file (pmem_map_file opens and closes one), so callers call this
    /// again after mapping. Best effort: it only feeds the "in use by pid N" message.
    public func publishOwner() {
        guard fd >= 0 else { return }
        var posix = flock(l_type: Int16(exclusive ? F_WRLCK : F_RDLCK), l_whence: Int16(SEEK_SET), l_start: 1, l_len: 1, l_pid: 0)
        _ = fcntl(fd, F_SETLK, &posix)
    }

    private static func holder(fd: Int32, type: Int16) -> pid_t? {
        var q = flock(l_type: type, l_whence: Int16(SEEK_SET), l_start: 1, l_len: 1, l_pid: 0)
        if fcntl(fd, F_GETLK, &q) == 0, q.l_type != Int16(F_UNLCK), q.l_pid > 0 { return q.l_pid }
        return nil   // the holder closed a descriptor of the file, which dropped its POSIX lock
    }

    public func release() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        if let id = fileID { _ = RegionLock.heldLock.withLock { RegionLock.held.remove(id) }; fileID = nil }
    }

    deinit { release() }
}
