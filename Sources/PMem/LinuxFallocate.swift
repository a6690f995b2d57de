#if canImport(Glibc)
import Glibc
#endif

/// fallocate(2) from the C library, for the benchmarks and the
/// differential tests that hold daxfs against Linux. Swift's Glibc module
/// does not import it (it needs _GNU_SOURCE), and posix_fallocate would hide
/// a fallback; the symbol is looked up once.
/// Returns 0, or -1 with `errno` set, as the C call does.
public func linuxFallocate(_ fd: Int32, _ mode: Int32, _ offset: Int64, _ length: Int64) -> Int32 {
    guard let f = LinuxFallocate.function else { errno = ENOSYS; return -1 }
    return f(fd, mode, off_t(offset), off_t(length))
}

private enum LinuxFallocate {
    typealias Function = @convention(c) (Int32, Int32, off_t, off_t) -> Int32
    static let function: Function? = dlsym(nil, "fallocate").map { unsafeBitCast($0, to: Function.self) }
}
