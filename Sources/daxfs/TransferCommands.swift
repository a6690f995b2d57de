import ArgumentParser
import DaxCore
import DaxFS
import DaxFSFormat
import PMem
#if canImport(Glibc)
import Glibc
#endif

/// How much put and get move per step.
let transferChunk = 8 << 20

struct PutArguments: FileCommand {
    static let commandName = "put"
    static let writes = true
    static let abstract = "Copy a host file (or standard input) into daxfs."
    static let discussion = """
        put streams in steps of 8 MiB and keeps the holes of a sparse host file \
        (found with SEEK_DATA and SEEK_HOLE). A regular host file whose data does not \
        fit in the free space fails with ENOSPC before anything is written. Otherwise \
        put writes to a temporary name beside PATH and renames it over PATH at the end, \
        so PATH is replaced whole: on any failure (ENOSPC from a pipe that outgrew the \
        free space, a read error) the temporary file is removed and PATH is left as it \
        was. Progress is shown on a terminal for files of 64 MiB and more.
        """

    @Argument(help: "The host file to copy in, or - for standard input.", completion: .file())
    var source: String

    @Argument(help: "The daxfs path; an existing directory receives the file under the host file's name.")
    var path: String

    func run(on fs: Filesystem) throws {
        let host = try HostFile.openForReading(source)
        var target = path
        if let st = try? fs.stat(path), st.kind == .directory {
            guard source != "-", let name = source.split(separator: "/").last else {
                throw DaxError(.EISDIR, "\(path) is a directory; name the file to write from standard input").with("path", path)
            }
            target = joinPath(path, String(name))
        }
        // The copy goes to a temporary name beside the target and is renamed
        // over it at the end: a failure (ENOSPC, a read error) removes the
        // temporary file and leaves the target as it was.
        let slash = target.lastIndex(of: "/")
        let dir = slash.map { String(target[..<$0]) } ?? ""
        let base = slash.map { String(target[target.index(after: $0)...]) } ?? target
        let temp = (dir.isEmpty ? "" : dir) + "/.\(base).daxfs-put-\(getpid())"
        if let size = host.regularSize {
            // A regular file that cannot fit fails before anything is created.
            let unit = try fs.stat(dir.isEmpty ? "/" : dir).allocUnit
            let need = host.dataRanges(size: size).reduce(UInt64(0)) { $0 + ($1.upperBound - $1.lowerBound + unit - 1) / unit * unit }
            let free = try fs.usage()
            if need > free.freeBlocks * free.blockSize {
                throw DaxError(.ENOSPC, "\(source) needs \(ByteSize.human(need)) but \(ByteSize.human(free.freeBlocks * free.blockSize)) is free; nothing was written")
                    .with("path", target)
            }
        }
        let ino = try fs.create(temp)
        do {
            try copyIn(host, to: ino, fs: fs)
            try fs.rename(temp, to: target)
        } catch {
            try? fs.remove(temp)
            throw error
        }
    }

    /// Streams the host file into `ino`: only its data ranges when it is a
    /// regular file (holes stay holes), the whole stream otherwise.
    func copyIn(_ host: HostFile, to ino: InodeNumber, fs: Filesystem) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: transferChunk, alignment: 4096)
        defer { buffer.deallocate() }
        if let size = host.regularSize {
            var progress = Progress("put", total: size)
            var done: UInt64 = 0
            for range in host.dataRanges(size: size) {
                var at = range.lowerBound
                while at < range.upperBound {
                    // Straight from the host file into the region, no bounce buffer.
                    let n = Int(min(UInt64(transferChunk) * 4, range.upperBound - at))
                    try fs.write(ino, at: at, fromFile: host.fd, fileOffset: at, count: n)
                    at += UInt64(n)
                    done += UInt64(n)
                    progress.update(done)
                }
            }
            if try fs.stat(ino: ino).size != size { try fs.truncate(ino, size: size) }
            progress.finish()
        } else {
            var at: UInt64 = 0
            while true {
                let n = try host.read(into: buffer)
                if n == 0 { break }
                try fs.write(ino, at: at, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                at += UInt64(n)
            }
        }
    }
}

/// Streams the daxfs file `ino` to `host` with no copy in between: from the
/// region file's page cache with copy_file_range(2) when the region is a
/// file and the host file can take it (as cp does), else straight from the
/// region's mapping with write(2) (`PersistentMedia.copyToFile`). Holes are skipped over (left as holes) when
/// the host file is a regular file, and written as zeroes to a pipe.
func copyOut(_ fs: Filesystem, _ ino: InodeNumber, to host: HostFile, label: String) throws {
    let size = try fs.stat(ino: ino).size
    let seekable = host.regularSize != nil
    let zeroes = UnsafeMutableRawBufferPointer.allocate(byteCount: transferChunk, alignment: 4096)
    defer { zeroes.deallocate() }
    zeroes.initializeMemory(as: UInt8.self, repeating: 0)
    var progress = Progress(label, total: size)
    var pos: UInt64 = 0
    // In steps, so that progress moves and the inode lock is not held for the whole file.
    while pos < size {
        let step = min(UInt64(transferChunk) * 4, size - pos)
        try fs.withContentRuns(ino, at: pos, count: step) { regionOffset, length in
            if let regionOffset {
                try host.copy(from: fs.media, at: regionOffset, count: length)
            } else if !(seekable && host.skip(UInt64(length))) {
                var left = length
                while left > 0 {
                    let n = min(left, transferChunk)
                    try host.write(UnsafeRawBufferPointer(rebasing: zeroes[0..<n]))
                    left -= n
                }
            }
        }
        pos += step
        progress.update(pos)
    }
    if seekable { try host.setSize(size) }
    progress.finish()
}

struct GetArguments: FileCommand {
    static let commandName = "get"
    static let writes = false
    static let abstract = "Copy a daxfs file out to a host file (or standard output)."
    static let discussion = """
        get streams in steps of 8 MiB. The holes of the daxfs file stay holes in a \
        host regular file and are written as zeroes to a pipe. Progress is shown on \
        a terminal for files of 64 MiB and more.
        """

    @Argument(help: "The daxfs file to copy out.")
    var path: String

    @Argument(help: "The host file to write, or - for standard output.", completion: .file())
    var destination: String

    func run(on fs: Filesystem) throws {
        let ino = try fs.lookup(path)
        if try fs.stat(ino: ino).kind == .directory { throw DaxError(.EISDIR, "\(path) is a directory").with("path", path) }
        if destination == "-" { try Out.flush() }
        let host = try HostFile.openForWriting(destination)
        try copyOut(fs, ino, to: host, label: "get")
    }
}

struct CatArguments: PathListCommand {
    static let commandName = "cat"
    static let writes = false
    static let abstract = "Print daxfs files to standard output."

    @Argument(help: "The daxfs files to print, in order.")
    var paths: [String]

    func run(on fs: Filesystem) throws {
        try Out.flush()
        for p in paths {
            let ino = try fs.lookup(p)
            if try fs.stat(ino: ino).kind == .directory { throw DaxError(.EISDIR, "\(p) is a directory").with("path", p) }
            try copyOut(fs, ino, to: .standardOutput, label: "cat")
        }
    }
}

