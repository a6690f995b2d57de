#if canImport(Glibc)
import Glibc
#endif
import DaxCore

/// File helpers for workloads: plain system calls, no mapping (mapping is PMem's).
enum Files {
    /// Creates `path` (which must not exist) as a sparse file of `size` bytes.
    static func createSparse(_ path: String, size: UInt64) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DaxError.syscall("open", path) }
        defer { close(fd) }
        if ftruncate(fd, off_t(size)) != 0 {
            let e = DaxError.syscall("ftruncate", path)
            unlink(path)
            throw e
        }
    }

    /// Creates `path` holding `bytes` bytes of data (a non-zero pattern that
    /// changes every 8 bytes, so nothing downstream can treat it as holes or zeroes).
    static func createData(_ path: String, bytes: Int) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DaxError.syscall("open", path) }
        defer { close(fd) }
        let chunk = 1 << 20
        var buffer = [UInt64](repeating: 0, count: chunk / 8)
        var written = 0
        while written < bytes {
            for i in buffer.indices { buffer[i] = UInt64(written / 8 + i) &* 0x9E37_79B9_7F4A_7C15 | 1 }
            let n = min(chunk, bytes - written)
            let w = buffer.withUnsafeBytes { write(fd, $0.baseAddress, n) }
            guard w == n else { unlink(path); throw DaxError.syscall("write", path) }
            written += n
        }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Creates a directory with mkdtemp from a template ending in XXXXXX.
    static func makeTemporaryDirectory(_ template: String) throws -> String {
        var t = Array(template.utf8CString)
        guard let p = mkdtemp(&t) else { throw DaxError.syscall("mkdtemp", template) }
        return String(cString: p)
    }

    /// Removes a directory tree (rm -rf), staying on its file system.
    static func removeTree(_ path: String) {
        _ = try? Subprocess.run(["rm", "-rf", "--one-file-system", path])
    }
}
