import ArgumentParser
import DaxCore
import DaxFS
import DaxFSFormat

struct WriteArguments: FileCommand {
    static let commandName = "write"
    static let writes = true
    static let abstract = "Write bytes at an offset of a file."
    static let discussion = """
        The bytes come from --from HOSTFILE or from standard input. A write that \
        extends the file allocates zeroed blocks for it; bytes between the old end of \
        the file and OFFSET read as zeroes. Each step of up to 16 MiB commits as one \
        transaction (see daxfs(5)).
        """

    @Option(name: .shortAndLong, parsing: .unconditional, help: ArgumentHelp("Byte offset to write at (K/M/G/T suffixes).", valueName: "offset"))
    var offset: String

    @Option(name: .shortAndLong, parsing: .unconditional, help: ArgumentHelp("Bytes to write; the source must hold that many (default: all of it).", valueName: "length"))
    var length: String?

    @Option(name: .customLong("from"), help: ArgumentHelp("The host file to read the bytes from (default: standard input).", valueName: "hostfile"),
            completion: .file())
    var source: String?

    @Argument(help: "The daxfs file; created if it does not exist.")
    var path: String

    func run(on fs: Filesystem) throws {
        let off = try parseBytes(offset, "--offset")
        let want = try length.map { try parseBytes($0, "--length") }
        if let w = want, off.addingReportingOverflow(w).overflow || off + w > Geometry.maximumFileSize {
            throw DaxError(.EFBIG, "--offset \(off) plus --length \(w) passes the maximum file size \(Geometry.maximumFileSize)")
        }
        if off >= Geometry.maximumFileSize {
            throw DaxError(.EFBIG, "--offset \(off) is at or past the maximum file size \(Geometry.maximumFileSize)")
        }
        let host = try HostFile.openForReading(source ?? "-")
        if let w = want, let size = host.regularSize, size < w {
            throw DaxError(.EINVAL, "\(host.name) holds \(size) bytes; --length asks for \(w)").with("host file", host.name)
        }
        let ino: InodeNumber
        do { ino = try fs.lookup(path) } catch let e as DaxError where e.code == .ENOENT { ino = try fs.create(path) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: transferChunk, alignment: 4096)
        defer { buffer.deallocate() }
        var done: UInt64 = 0
        while want.map({ done < $0 }) ?? true {
            let n = try host.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(UInt64(transferChunk), (want ?? UInt64.max) - done))]))
            if n == 0 { break }
            try fs.write(ino, at: off + done, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            done += UInt64(n)
        }
        if let w = want, done < w {
            throw DaxError(.EINVAL, "\(host.name) held \(done) bytes; --length asked for \(w) (the \(done) bytes read were written)")
        }
    }
}

struct ReadArguments: FileCommand {
    static let commandName = "read"
    static let writes = false
    static let abstract = "Print bytes at an offset of a file, raw, to standard output."

    @Option(name: .shortAndLong, parsing: .unconditional, help: ArgumentHelp("Byte offset to read at.", valueName: "offset"))
    var offset: String

    @Option(name: .shortAndLong, parsing: .unconditional, help: ArgumentHelp("Bytes to read (fewer at the end of the file).", valueName: "length"))
    var length: String

    @Argument(help: "The daxfs file.")
    var path: String

    func run(on fs: Filesystem) throws {
        let off = try parseBytes(offset, "--offset"), len = try parseBytes(length, "--length")
        let ino = try fs.lookup(path)
        if try fs.stat(ino: ino).kind == .directory { throw DaxError(.EISDIR, "\(path) is a directory").with("path", path) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: transferChunk, alignment: 4096)
        defer { buffer.deallocate() }
        var done: UInt64 = 0
        while done < len {
            let n = try fs.read(ino, at: off + done, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(UInt64(transferChunk), len - done))]))
            if n == 0 { break }
            try Out.bytes(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            done += UInt64(n)
        }
    }
}

struct TruncateArguments: FileCommand {
    static let commandName = "truncate"
    static let writes = true
    static let abstract = "Set the size of a file."
    static let discussion = """
        Shrinking frees every allocation unit wholly past the new size; growing adds a \
        hole that reads as zeroes. One transaction (or an intent that recovery finishes, \
        for a file with very many extents).
        """

    @Argument(help: "The daxfs file.")
    var path: String

    @Argument(help: "The new size in bytes (K/M/G/T suffixes).")
    var size: String

    func run(on fs: Filesystem) throws {
        try fs.truncate(try fs.lookup(path), size: try parseBytes(size, "size"))
    }
}

