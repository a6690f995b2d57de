import ArgumentParser
import DaxCore
import DaxFS
import DaxFSFormat

/// `stat --json` and the entries of `ls --json`.
struct StatJSON: Encodable {
    var path: String
    var ino: UInt64
    var kind: String
    var mode: String
    var nlink: UInt32
    var uid: UInt32
    var gid: UInt32
    var size: UInt64
    var blocks: UInt64
    var extents: Int
    var allocUnit: UInt64
    var generation: UInt32
    var change: UInt64
    var token: String
    var atimeNs: Int64
    var mtimeNs: Int64
    var ctimeNs: Int64
    var btimeNs: Int64
    var entries: Int?

    init(_ s: InodeStat, path: String) {
        self.path = path; ino = s.ino; kind = s.kind == .directory ? "directory" : "file"
        mode = "0" + String(s.mode, radix: 8); nlink = s.nlink; uid = s.uid; gid = s.gid; size = s.size
        blocks = s.blocks; extents = s.extents; allocUnit = s.allocUnit; generation = s.generation; change = s.change
        token = "\(s.generation):\(s.change)"
        atimeNs = s.atime; mtimeNs = s.mtime; ctimeNs = s.ctime; btimeNs = s.btime
        entries = s.kind == .directory ? s.entries : nil
    }

    static let schema = """
        path, ino, kind ("file" or "directory"), mode (octal string), nlink, uid, gid, size \
        (bytes), blocks (region blocks mapped), extents, alloc_unit (bytes), generation, change \
        (the change counter), token ("generation:change", for swap-extents --if-unchanged), \
        atime_ns, mtime_ns, ctime_ns, btime_ns, entries (directories only)
        """
}

func joinPath(_ dir: String, _ name: String) -> String { dir.hasSuffix("/") ? dir + name : dir + "/" + name }

struct LsArguments: FileCommand {
    static let commandName = "ls"
    static let writes = false
    static let abstract = "List a directory."
    static let discussion = """
        Entries are sorted by name bytes; directories end in '/'. \
        JSON (--json): {path, entries: [\(StatJSON.schema)]}.
        """

    @Flag(name: .short, help: "Long listing: mode, links, owner, size, modification time (UTC), name.")
    var long = false

    @Flag(help: "Print the listing as JSON.")
    var json = false

    @Argument(help: "A directory (its entries are listed) or a file (default: /).")
    var path: String = "/"

    func run(on fs: Filesystem) throws {
        let st = try fs.stat(path)
        let rows: [(String, InodeStat)]
        if st.kind == .directory {
            rows = try fs.readdir(path).map { ($0.name, try fs.stat(ino: $0.ino)) }
        } else {
            rows = [(path, st)]
        }
        if json {
            struct Listing: Encodable { var path: String; var entries: [StatJSON] }
            try JSONOutput.print(Listing(path: path, entries: rows.map {
                StatJSON($0.1, path: st.kind == .directory ? joinPath(path, $0.0) : path)
            }))
            return
        }
        for (name, s) in rows {
            if long {
                let size = String(s.size)
                Out.line("\(modeString(s.kind, s.mode)) \(s.nlink) \(s.uid) \(s.gid) \(String(repeating: " ", count: max(0, 12 - size.count)))\(size) \(timeString(s.mtime)) \(name)\(s.kind == .directory ? "/" : "")")
            } else {
                Out.line(name + (s.kind == .directory ? "/" : ""))
            }
        }
    }
}

struct StatArguments: FileCommand {
    static let commandName = "stat"
    static let writes = false
    static let abstract = "Show the attributes of a file or directory."
    static let discussion = "JSON (--json): {\(StatJSON.schema)}."

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Argument(help: "The file or directory.")
    var path: String

    func run(on fs: Filesystem) throws {
        let s = try fs.stat(path)
        if json { try JSONOutput.print(StatJSON(s, path: path)); return }
        Out.line("""
              path: \(path)
             inode: \(s.ino)   generation: \(s.generation)   change: \(s.change)
              type: \(s.kind == .directory ? "directory" : "regular file")
              size: \(s.size)   blocks: \(s.blocks)   extents: \(s.extents)   alloc unit: \(ByteSize.exact(s.allocUnit))
            access: (\("0" + String(s.mode, radix: 8))/\(modeString(s.kind, s.mode)))   uid: \(s.uid)   gid: \(s.gid)   links: \(s.nlink)
            modify: \(timeString(s.mtime))
            change: \(timeString(s.ctime))
             birth: \(timeString(s.btime))
            """ + (s.kind == .directory ? "\n  entries: \(s.entries)" : ""))
    }
}

