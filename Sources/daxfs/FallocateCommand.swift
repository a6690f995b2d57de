import ArgumentParser
import DaxCore
import DaxFS

/// `daxfs fallocate REGION PATH`: fallocate(2) with the flags of
/// util-linux fallocate(1).
struct FallocateArguments: FileCommand {
    static let commandName = "fallocate"
    static let writes = true
    static let abstract = "Preallocate, punch, zero, collapse or insert a range of a file, or dig holes."
    static let discussion = """
        With no mode flag, every block of the range that is not allocated gets a fresh, \
        zeroed extent (allocated blocks keep their data) and the size grows to \
        offset+length unless --keep-size is given; on ENOSPC nothing is allocated. \
        --punch-hole frees the range (partial blocks are zeroed in place; the size never \
        changes). --zero-range makes the range read as zeroes: holes get zeroed extents, \
        mapped bytes are zeroed in place. --collapse-range removes the range and shifts the \
        rest of the file down; --insert-range opens a hole and shifts the rest up; both need \
        an offset and length that are multiples of the file's allocation unit, a collapse \
        must end before EOF and an insert must start below it. --dig-holes frees every \
        allocation unit that reads as all zeroes. Each operation is one transaction, or an \
        intent that recovery finishes: after a crash the file is wholly before or after it.

        Errors are fallocate(2)'s: EINVAL (a bad alignment, a length of 0, a range outside \
        the file, or two mode flags at once; exit 64), EOPNOTSUPP (--keep-size with \
        --collapse-range or --insert-range, which Linux refuses; exit 69), EFBIG and ENOSPC \
        (exit 1), EISDIR and ENOENT (exit 66). A failed command changes nothing.
        """

    @Argument(help: "The daxfs file.")
    var path: String

    @Option(name: [.short, .long], parsing: .unconditional, help: "Offset of the range in bytes (K/M/G/T suffixes).")
    var offset: String = "0"

    @Option(name: [.short, .long], parsing: .unconditional, help: "Length of the range in bytes (K/M/G/T suffixes); required except with --dig-holes.")
    var length: String?

    @Flag(name: [.customShort("n"), .long], help: "Do not change the file size.")
    var keepSize = false

    @Flag(name: [.short, .long], help: "Punch a hole: free the range (implies --keep-size).")
    var punchHole = false

    @Flag(name: [.short, .long], help: "Zero the range.")
    var zeroRange = false

    @Flag(name: [.short, .long], help: "Remove the range and shift the rest of the file down.")
    var collapseRange = false

    @Flag(name: [.short, .long], help: "Insert a hole and shift the rest of the file up.")
    var insertRange = false

    @Flag(name: [.short, .long], help: "Free the allocation units of the range that are entirely zero.")
    var digHoles = false

    @Flag(name: [.customShort("x"), .long], help: "Allocate the posix_fallocate(3) way (the same as the default mode).")
    var posix = false

    @Flag(name: [.short, .long], help: "Say what was done.")
    var verbose = false

    /// The mode flags given, as util-linux spells them.
    private var modeFlags: [String] {
        [(punchHole, "--punch-hole"), (zeroRange, "--zero-range"), (collapseRange, "--collapse-range"),
         (insertRange, "--insert-range"), (digHoles, "--dig-holes"), (posix, "--posix")].filter(\.0).map(\.1)
    }

    func validate() throws {
        let flags = modeFlags
        if flags.count > 1 { throw ValidationError("mutually exclusive arguments: \(flags.joined(separator: " "))") }
        if posix && keepSize { throw ValidationError("mutually exclusive arguments: --posix --keep-size") }
        if length == nil && !digHoles { throw ValidationError("no length argument specified (--length)") }
    }

    func run(on fs: Filesystem) throws {
        let off = try parseBytes(offset, "offset")
        let len = try length.map { try parseBytes($0, "length") }
        let ino = try fs.lookup(path)
        if digHoles {
            // As util-linux: a length of 0 (or none) means to the end of the file.
            let freed: UInt64
            do { freed = try fs.digHoles(ino, offset: off, length: len == 0 ? nil : len) } catch let e as DaxError { throw e.with("path", path) }
            if verbose { Out.line("\(path): \(ByteSize.human(freed)) (\(freed) bytes) converted to sparse holes.") }
            return
        }
        guard let len else { preconditionFailure("validate() requires --length") }
        guard off <= UInt64(Int64.max), len <= UInt64(Int64.max) else {
            throw DaxError(.EFBIG, "range [\(off), +\(len)) passes the maximum file size").with("path", path)
        }
        var mode: FallocateMode = keepSize ? .keepSize : []
        if punchHole { mode.formUnion([.punchHole, .keepSize]) }
        if zeroRange { mode.insert(.zeroRange) }
        if collapseRange { mode.insert(.collapseRange) }
        if insertRange { mode.insert(.insertRange) }
        do {
            try fs.fallocate(ino, mode: mode, offset: Int64(off), length: Int64(len))
        } catch let e as DaxError {
            throw e.with("path", path)
        }
        if verbose {
            let what = punchHole ? "punched a hole of" : zeroRange ? "zeroed" : collapseRange ? "collapsed" :
                insertRange ? "inserted a hole of" : "allocated"
            Out.line("\(path): \(what) \(ByteSize.human(len)) (\(len) bytes) at offset \(off); size is now \(try fs.stat(ino: ino).size) bytes")
        }
    }
}
