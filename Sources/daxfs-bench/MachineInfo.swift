#if canImport(Glibc)
import Glibc
#endif
import DaxCore

/// The facts of the report's header: when, on what machine and kernel, which
/// persistence path, which build. Read from /proc, /sys and uname; a fact that
/// cannot be read says "unknown" rather than stopping the run.
enum MachineInfo {
    /// "2025-01-31 14:02:11 UTC".
    static func date() -> String {
        var t = time(nil)
        var tm = tm()
        gmtime_r(&t, &tm)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday)) \(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) UTC"
    }

    /// "AMD EPYC, 2 cores online, 23.4 GiB memory".
    static func machine() -> String {
        let cpu = readText("/proc/cpuinfo")?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimming(" \t") } ?? "unknown CPU"
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        let memKiB = readText("/proc/meminfo")?.split(separator: "\n")
            .first { $0.hasPrefix("MemTotal:") }
            .flatMap { $0.split(separator: " ").dropFirst().first }
            .flatMap { UInt64($0) }
        let memory = memKiB.map { ByteSize.human($0 * 1024) } ?? "unknown"
        return "\(cpu), \(cores) cores online, \(memory) memory"
    }

    /// "Linux 6.1.0 #1 SMP ... x86_64".
    static func kernel() -> String {
        Subprocess.output(["uname", "-srvm"]) ?? "unknown"
    }

    /// The 1, 5 and 15 minute load averages at the start: how busy the machine was.
    static func load() -> String {
        readText("/proc/loadavg")?.split(separator: " ").prefix(3).joined(separator: " ") ?? "unknown"
    }

    /// The transparent huge page policy of tmpfs (the bracketed value), which
    /// decides whether a cold first touch faults 4 KiB or 2 MiB at a time.
    static func shmemHugePages() -> String {
        guard let s = readText("/sys/kernel/mm/transparent_hugepage/shmem_enabled"),
              let open = s.firstIndex(of: "["), let close = s.firstIndex(of: "]") else { return "unknown" }
        return String(s[s.index(after: open)..<close])
    }

    /// "tmpfs" for /dev/shm, from stat -f.
    static func fileSystemType(_ path: String) -> String {
        Subprocess.output(["stat", "-f", "-c", "%T", path]) ?? "unknown"
    }

    /// "release" or "debug", from the compiler's DEBUG condition.
    static var buildConfiguration: String {
        #if DEBUG
        "debug"
        #else
        "release"
        #endif
    }

    /// The directory of this executable (/proc/self/exe).
    static func executableDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return "." }
        let path = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
    }

    /// The package root, found from this source file at build time.
    static let packageRoot: String = {
        var path = #filePath
        for _ in 0..<3 { path = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? path }
        return path
    }()

    /// "1c19a8e" plus " (uncommitted changes)" when the tree is dirty; nil outside a git checkout.
    static func commit() -> String? {
        guard let head = Subprocess.output(["git", "-C", packageRoot, "rev-parse", "--short", "HEAD"]) else { return nil }
        let dirty = Subprocess.output(["git", "-C", packageRoot, "status", "--porcelain", "--untracked-files=no"])
        return head + ((dirty?.isEmpty ?? true) ? "" : " (uncommitted changes)")
    }

    /// A warning when the daxfs binary is older than a source file it is
    /// built from (any of Sources/ but daxfs-bench's own): `swift run
    /// daxfs-bench` builds only daxfs-bench, so the daxfs binary the mkfs rows
    /// run may be stale. By modification time, so a checkout can warn falsely.
    static func staleBinaryWarning(_ binary: String) -> String? {
        guard Files.exists(binary),
              let newer = Subprocess.output(["find", packageRoot + "/Sources", "-path", packageRoot + "/Sources/daxfs-bench", "-prune",
                                             "-o", "-type", "f", "-newer", binary, "-print", "-quit"]),
              !newer.isEmpty else { return nil }
        return "\(binary) is older than \(newer); run `swift build -c release` (with the same --scratch-path) first"
    }

    static func readText(_ path: String) -> String? {
        let s = Subprocess.readFile(path)
        return s.isEmpty ? nil : s
    }
}

extension StringProtocol {
    /// Without the leading and trailing characters that are in `set`.
    func trimming(_ set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
