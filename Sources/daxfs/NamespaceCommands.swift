import ArgumentParser
import DaxCore
import DaxFS
import DaxFSFormat

struct MkdirArguments: PathListCommand {
    static let commandName = "mkdir"
    static let writes = true
    static let abstract = "Create directories."
    static let discussion = "A new directory inherits its parent's allocation unit."

    @Flag(name: .short, help: "Create missing parents too; an existing directory is not an error.")
    var parents = false

    @Option(name: .short, help: ArgumentHelp("Permission bits, in octal (default 755).", valueName: "mode"))
    var mode: String = "755"

    @Argument(help: "The directories to create.")
    var paths: [String]

    mutating func setDefaults() {
        parents = false
        mode = "755"
    }

    func run(on fs: Filesystem) throws {
        let m = try parseMode(mode)
        for p in paths { try fs.mkdir(p, mode: m, parents: parents) }
    }
}

struct TouchArguments: PathListCommand {
    static let commandName = "touch"
    static let writes = true
    static let abstract = "Create empty files, or set the times of existing ones to now."
    static let discussion = "Each path is one transaction. A new file inherits its parent's allocation unit."

    @Argument(help: "The files to create (empty) or whose times to set to now.")
    var paths: [String]

    func run(on fs: Filesystem) throws { try Self.run(operands: paths, on: fs) }

    static func run(operands: [String], on fs: Filesystem) throws {
        for p in operands { try fs.touch(p) }
    }
}

struct RmArguments: PathListCommand {
    static let commandName = "rm"
    static let writes = true
    static let abstract = "Remove files, or with -r directory trees."
    static let discussion = """
        Removing a file is one transaction (or, for a file with more extents than one \
        transaction holds, an intent that recovery finishes): after a crash the file is \
        either there whole or gone. rm -r removes one entry at a time, children first.
        """

    @Flag(name: .short, help: "Remove directories and everything in them.")
    var recursive = false

    @Argument(help: "The files (or, with -r, directories) to remove.")
    var paths: [String]

    mutating func setDefaults() { recursive = false }

    func run(on fs: Filesystem) throws {
        for p in paths {
            if recursive {
                try fs.removeTree(p)
            } else {
                do {
                    try fs.remove(p, directory: false)
                } catch let e as DaxError where e.code == .EISDIR {
                    throw DaxError(.EISDIR, "\(p) is a directory (use rm -r, or rmdir for an empty one)").with("path", p)
                }
            }
        }
    }
}

struct RmdirArguments: PathListCommand {
    static let commandName = "rmdir"
    static let writes = true
    static let abstract = "Remove empty directories."
    static let discussion = "A directory that has entries is refused (ENOTEMPTY) and left as it is."

    @Argument(help: "The empty directories to remove.")
    var paths: [String]

    func run(on fs: Filesystem) throws { try Self.run(operands: paths, on: fs) }

    static func run(operands: [String], on fs: Filesystem) throws {
        for p in operands { try fs.remove(p, directory: true) }
    }
}

struct MvArguments: FileCommand {
    static let commandName = "mv"
    static let writes = true
    static let abstract = "Rename or move a file or directory, atomically."
    static let discussion = """
        One transaction: after a crash the entry is under its old name or its new one. \
        An existing file at DESTINATION is replaced, as rename(2) does; an existing \
        directory receives SOURCE under its own name. A directory cannot move into itself.
        """

    @Argument(help: "The file or directory to move.")
    var source: String

    @Argument(help: "The new path; an existing directory receives SOURCE under its own name.")
    var destination: String

    func run(on fs: Filesystem) throws {
        var target = destination
        if let st = try? fs.stat(destination), st.kind == .directory {
            let src = try fs.stat(source)
            if src.ino != st.ino, let name = source.split(separator: "/").last { target = joinPath(destination, String(name)) }
        }
        try fs.rename(source, to: target)
    }
}

