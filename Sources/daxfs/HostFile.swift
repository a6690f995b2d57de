#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import PMem

/// A file of the host (or standard input/output) that put, get, write and
/// cat stream through. Reads and writes retry on EINTR and partial counts.
final class HostFile {
    let fd: Int32
    let name: String
    private let owned: Bool

    /// SEEK_DATA and SEEK_HOLE from <unistd.h> (Linux values; Swift's Glibc
    /// does not export them without _GNU_SOURCE).
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4

    private init(fd: Int32, name: String, owned: Bool) { self.fd = fd; self.name = name; self.owned = owned }

    static var standardInput: HostFile { HostFile(fd: 0, name: "standard input", owned: false) }
    static var standardOutput: HostFile { HostFile(fd: 1, name: "standard output", owned: false) }

    /// Opens `path` for reading, or standard input for "-".
    static func openForReading(_ path: String) throws -> HostFile {
        if path == "-" { return standardInput }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = Errno.current
            throw DaxError(e, "cannot read \(path): \(e.strerror)").with("host file", path)
        }
        var st = Glibc.stat()
        if fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR {
            close(fd)
            throw DaxError(.EISDIR, "cannot read \(path): it is a directory").with("host file", path)
        }
        return HostFile(fd: fd, name: path, owned: true)
    }

    /// Creates or truncates `path` for writing, or standard output for "-".
    static func openForWriting(_ path: String) throws -> HostFile {
        if path == "-" { return standardOutput }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let e = Errno.current
            throw DaxError(e, "cannot write \(path): \(e.strerror)").with("host file", path)
        }
        return HostFile(fd: fd, name: path, owned: true)
    }

    deinit { if owned { close(fd) } }

    /// The size of a regular file, or nil for pipes and terminals.
    var regularSize: UInt64? {
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        return UInt64(st.st_size)
    }

    /// The data ranges of a regular file, found with SEEK_DATA/SEEK_HOLE (one
    /// range covering the file where the file system does not support them).
    func dataRanges(size: UInt64) -> [Range<UInt64>] {
        var out: [Range<UInt64>] = []
        var pos: off_t = 0
        while UInt64(pos) < size {
            let d = lseek(fd, pos, HostFile.seekData)
            if d < 0 { break }                        // ENXIO: only a hole remains
            var h = lseek(fd, d, HostFile.seekHole)
            if h < 0 { h = off_t(size) }
            out.append(UInt64(d)..<UInt64(h))
            pos = h
        }
        if out.isEmpty && size > 0 && lseek(fd, 0, HostFile.seekData) < 0 && Errno.current != .ENXIO {
            return [0..<size]                         // no SEEK_DATA support: treat it all as data
        }
        return out
    }

    /// Reads up to `buffer.count` bytes at `offset` (pread), or from the
    /// stream when `offset` is nil; returns the count, 0 at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64? = nil) throws -> Int {
        var got = 0
        while got < buffer.count {
            let p = buffer.baseAddress! + got, n = buffer.count - got
            let r = offset.map { pread(fd, p, n, off_t($0) + off_t(got)) } ?? Glibc.read(fd, p, n)
            if r < 0 {
                if errno == EINTR { continue }
                let e = Errno.current
                throw DaxError(e, "cannot read \(name): \(e.strerror)").with("host file", name)
            }
            if r == 0 { break }
            got += r
        }
        return got
    }

    /// Writes all of `buffer` at the current position.
    func write(_ buffer: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let r = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
            if r < 0 {
                if errno == EINTR { continue }
                let e = Errno.current
                throw DaxError(e, "cannot write \(name): \(e.strerror)").with("host file", name)
            }
            done += r
        }
    }

    /// Writes `count` bytes of the region at `offset` at the current
    /// position, copied by the kernel where it can (`PersistentMedia.copyToFile`).
    func copy(from media: PersistentMedia, at offset: Int, count: Int) throws {
        do {
            try media.copyToFile(fd, from: offset, count: count)
        } catch let e as DaxError {
            throw DaxError(e.code, "cannot write \(name): \(e.code.strerror)").with("host file", name)
        }
    }

    /// Moves the position forward by `count` bytes (leaving a hole) when the
    /// output is a regular file; returns false when it cannot seek.
    func skip(_ count: UInt64) -> Bool {
        lseek(fd, off_t(count), SEEK_CUR) >= 0
    }

    /// Sets the size of a regular file (after skipping a final hole).
    func setSize(_ size: UInt64) throws {
        if ftruncate(fd, off_t(size)) != 0 {
            let e = Errno.current
            throw DaxError(e, "cannot set the size of \(name): \(e.strerror)").with("host file", name)
        }
    }
}
