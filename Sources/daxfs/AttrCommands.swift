import ArgumentParser
import DaxCore
import DaxFS

/// `daxfs chattr REGION PATH --alloc-unit 4K|2M|1G`.
struct ChattrArguments: FileCommand {
    static let commandName = "chattr"
    static let writes = true
    static let abstract = "Set the allocation unit of a file or directory."
    static let discussion = """
        The allocation unit (4K, 2M or 1G) aligns and sizes every extent a file gets, so \
        that a file with a 2M unit can be mapped with huge pages. New files and \
        directories inherit their directory's unit. A file's unit can change only while \
        it has no blocks and no mappings (EBUSY, exit 75, otherwise); a directory's at \
        any time. Another unit is EINVAL (exit 64).
        """

    @Argument(help: "The file or directory.")
    var path: String

    @Option(name: .customLong("alloc-unit"), help: ArgumentHelp("The allocation unit: 4K, 2M or 1G.", valueName: "unit"))
    var allocUnit: String

    func run(on fs: Filesystem) throws {
        try fs.setAllocUnit(path, unit: try parseBytes(allocUnit, "allocation unit"))
    }
}

/// `daxfs lsattr REGION PATH...`.
struct LsattrArguments: PathListCommand {
    static let commandName = "lsattr"
    static let writes = false
    static let abstract = "Show the allocation unit of files and directories."
    static let discussion = "One line per path: the unit, then the path. JSON (--json): [{path, alloc_unit, kind}]."

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Argument(help: "Files or directories.")
    var paths: [String] = []

    mutating func setDefaults() { json = false }

    struct Entry: Encodable {
        var path: String
        var allocUnit: UInt64
        var kind: String
    }

    func run(on fs: Filesystem) throws {
        var out: [Entry] = []
        for p in paths {
            let s = try fs.stat(p)
            out.append(Entry(path: p, allocUnit: s.allocUnit, kind: s.kind == .directory ? "directory" : "file"))
        }
        if json { try JSONOutput.print(out); return }
        for e in out { Out.line("\(ByteSize.exact(e.allocUnit))\t\(e.path)") }
    }
}
