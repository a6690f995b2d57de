#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFS

/// The DRAM a mount holds: anonymous resident memory (RssAnon) after
/// mounting a region, minus before, in a fresh `daxfs-bench` process.
///
/// Why a child process: inside a long-running bench, memory freed by the
/// rows before is reused by the mount and hides its cost, and glibc's
/// dynamic mmap threshold makes that reuse differ from run to run. Why
/// anonymous memory: the pages of the mapped region (the checkpoint read at
/// mount) are file pages, not memory the filesystem holds.
enum MountMemory {
    /// Runs in the child (`daxfs-bench --mount-memory-of PATH`): mounts,
    /// measures, unmounts without a checkpoint; returns the bytes added.
    static func measureHere(_ path: String) throws -> UInt64 {
        let before = ProcessMemory.anonymousResidentBytes()
        var options = Filesystem.Options()
        options.checkpointOnUnmount = false
        let fs = try Filesystem.mount(path, options: options)
        let after = ProcessMemory.anonymousResidentBytes()
        try fs.unmount()
        return after - min(after, before)
    }

    /// Spawns the child on `path` and returns what it measured, in bytes.
    static func measure(_ path: String) throws -> Double {
        let bench = MachineInfo.executableDirectory() + "/daxfs-bench"
        let out = try Subprocess.capture([bench, "--mount-memory-of", path])
        guard let bytes = Double(out.split(separator: "\n").last ?? "") else {
            throw BenchSkip("daxfs-bench --mount-memory-of printed '\(out)'")
        }
        return bytes
    }
}
