#if canImport(Glibc)
import Glibc
#endif

/// Runs other programs (the daxfs binary, mkfs.xfs, cp, losetup, ...) with
/// posix_spawn, timing the whole process: from spawn to the end of waitpid.
/// Both sides of a comparison are run the same way, so the spawn cost is in
/// both figures.
///
/// Standard input is /dev/null; standard output and error go to one file in
/// /tmp that is read back only when it is wanted (a failure's message, or
/// `output`).
enum Subprocess {
    struct Result {
        var status: Int32
        var nanoseconds: UInt64
        var seconds: Double { Double(nanoseconds) / 1e9 }
    }

    struct Failure: Error, CustomStringConvertible {
        var command: [String]
        var status: Int32
        var output: String
        var description: String {
            let tail = output.split(separator: "\n").suffix(3).joined(separator: " / ")
            return "\(command.joined(separator: " ")) exited with status \(status)" + (tail.isEmpty ? "" : ": \(tail)")
        }
    }

    /// Runs `argv` and waits; argv[0] is a path, or a name looked up in PATH
    /// and the sbin directories. Throws `BenchSkip` when the program is not
    /// installed, and `Failure` on a non-zero exit status.
    @discardableResult
    static func run(_ argv: [String]) throws -> Result {
        let out = "/tmp/daxfs-bench-\(getpid())-spawn.out"
        defer { unlink(out) }
        let r = try spawn(argv, outputPath: out)
        if r.status != 0 { throw Failure(command: argv, status: r.status, output: readFile(out)) }
        return r
    }

    /// Standard output and error of `argv`, trimmed. Throws like `run`.
    static func capture(_ argv: [String]) throws -> String {
        let out = "/tmp/daxfs-bench-\(getpid())-capture.out"
        defer { unlink(out) }
        let r = try spawn(argv, outputPath: out)
        let text = readFile(out).trimmingTrailingWhitespace
        if r.status != 0 { throw Failure(command: argv, status: r.status, output: text) }
        return text
    }

    /// Like `capture`, nil when the program is missing or fails.
    static func output(_ argv: [String]) -> String? { try? capture(argv) }

    /// The full path of `name` in PATH or the sbin directories (losetup and
    /// mkfs.xfs live there and are often missing from a user's PATH).
    static func which(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    private static func spawn(_ argv: [String], outputPath: String) throws -> Result {
        precondition(!argv.isEmpty)
        guard let exe = argv[0].contains("/") ? argv[0] : which(argv[0]) else {
            throw BenchSkip("\(argv[0]) is not installed")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        // The bench catches SIGINT and SIGTERM to clean up; children get the defaults back.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid = pid_t()
        let t0 = monotonicNow()
        let rc = posix_spawn(&pid, exe, &actions, &attr, cargs, environ)
        guard rc == 0 else {
            throw Failure(command: argv, status: -1, output: "posix_spawn: \(String(cString: strerror(rc)))")
        }
        var wstatus: Int32 = 0
        while waitpid(pid, &wstatus, 0) < 0 && errno == EINTR {}
        let t1 = monotonicNow()
        // WIFEXITED and WEXITSTATUS, written out: Swift does not import the macros.
        let status: Int32 = (wstatus & 0x7f) == 0 ? (wstatus >> 8) & 0xff : 128 + (wstatus & 0x7f)
        return Result(status: status, nanoseconds: t1 - t0)
    }

    static func readFile(_ path: String) -> String {
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes += buf[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

extension String {
    var trimmingTrailingWhitespace: String {
        var s = Substring(self)
        while let c = s.last, c == "\n" || c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
