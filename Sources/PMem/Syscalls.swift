#if canImport(Glibc)
import Glibc
#endif
import CDaxShims
import DaxCore

/// Thin wrappers over the system calls PMem uses. The EINTR loop is written once here.
enum Sys {
    static func retrying<T: BinaryInteger>(_ body: () -> T) -> T {
        while true {
            let r = body()
            if r == -1 && errno == EINTR { continue }
            return r
        }
    }

    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws -> Int32 {
        let fd = retrying { Glibc.open(path, flags | O_CLOEXEC, mode) }
        if fd < 0 { throw DaxError.syscall("open", path).with("path", path) }
        return fd
    }

    /// pread(2) until `buffer` is full or the file ends; returns the count read.
    static func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        var got = 0
        while got < buffer.count {
            let r = retrying { Glibc.pread(fd, buffer.baseAddress! + got, buffer.count - got, off_t(offset) + off_t(got)) }
            if r < 0 { throw DaxError.syscall("pread", "cannot read file descriptor \(fd)") }
            if r == 0 { break }
            got += r
        }
        return got
    }

    /// write(2) until all of `buffer` is written.
    static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let r = retrying { Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done) }
            if r < 0 { throw DaxError.syscall("write", "cannot write file descriptor \(fd)") }
            done += r
        }
    }

    /// copy_file_range(2) of up to `count` bytes from `src` at `srcOffset` to
    /// `dst` at `dstOffset` (nil: at and moving its file position), repeated
    /// until `count` bytes are copied or the source ends. Returns the count
    /// copied, or nil when the kernel cannot copy between these two files
    /// (EXDEV, EINVAL, ENOSYS, EOPNOTSUPP, EBADF before anything was copied):
    /// the caller then copies another way. Throws any other error.
    static func copyFileRange(from src: Int32, at srcOffset: UInt64, to dst: Int32, at dstOffset: UInt64?,
                              count: Int) throws -> Int? {
        var inOff = Int64(srcOffset)
        var outOff = Int64(dstOffset ?? 0)
        var done = 0
        while done < count {
            let r = retrying {
                dstOffset == nil
                    ? daxfs_copy_file_range(src, &inOff, dst, nil, count - done, 0)
                    : daxfs_copy_file_range(src, &inOff, dst, &outOff, count - done, 0)
            }
            if r < 0 {
                let e = Errno.current
                if [Glibc.EXDEV, Glibc.EINVAL, Glibc.ENOSYS, Glibc.EOPNOTSUPP, Glibc.EBADF].contains(e.rawValue) { return done }
                throw DaxError.syscall("copy_file_range", "cannot copy between file descriptors \(src) and \(dst)", errno: e)
            }
            if r == 0 { break }
            done += r
        }
        return done
    }

    static func fstat(_ fd: Int32, path: String) throws -> Glibc.stat {
        var st = Glibc.stat()
        if Glibc.fstat(fd, &st) != 0 { throw DaxError.syscall("fstat", path) }
        return st
    }

    /// Reads a whole small text file (sysfs attribute), trimmed; nil when absent.
    static func readSmallFile(_ path: String) -> String? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { Glibc.close(fd) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = retrying { buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
        if n < 0 { return nil }
        var s = String(decoding: buf[0..<n], as: UTF8.self)
        while s.last == "\n" || s.last == " " { s.removeLast() }
        return s
    }

    static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buf, buf.count - 1)
        if n < 0 { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
