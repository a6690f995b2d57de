#if canImport(Glibc)
import Glibc
#endif

/// The memory of this process, as Linux counts it in /proc/self: for fsck's
/// report and the benchmarks' memory rows. Both return 0 when /proc cannot
/// be read. O(1): one small read each.
public enum ProcessMemory {
    /// Peak resident set size of this program image: VmHWM of
    /// /proc/self/status. Unlike getrusage's ru_maxrss it starts again at
    /// exec, so it does not carry the parent's peak into a child spawned
    /// with vfork (as posix_spawn does).
    public static func peakResidentBytes() -> UInt64 { statusField("VmHWM:") }

    /// Anonymous resident memory now (RssAnon of /proc/self/status): the
    /// heap and stacks, without the pages of mapped files, so a mapped
    /// region's pages are not counted as the program's own memory.
    public static func anonymousResidentBytes() -> UInt64 { statusField("RssAnon:") }

    /// A "kB" field of /proc/self/status, in bytes.
    private static func statusField(_ name: String) -> UInt64 {
        guard let text = read("/proc/self/status") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let kib = line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { UInt64($0) }
            return (kib ?? 0) * 1024
        }
        return 0
    }

    private static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: bytes[0..<n], as: UTF8.self)
    }
}
