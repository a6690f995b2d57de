import DaxCore
import DaxFS
import DaxFSFormat
import PMem

/// What a user can see of a filesystem: every path, its kind, and for a
/// file its size and every byte. Times, generations and block placement
/// are left out, so two runs of the same operations compare equal.
public struct FSSnapshot: Equatable, Sendable, CustomStringConvertible {
    public enum Entry: Equatable, Sendable {
        case directory
        case file([UInt8])
    }
    public var entries: [String: Entry] = [:]
    public init() {}

    /// Walks the whole tree from the root. Also checks, for every file, that
    /// no mapped block (inside or beyond EOF) reads the stale-data sentinel;
    /// a sentinel is reported as an EIO error naming the file and offset.
    public static func take(_ fs: Filesystem, sentinel: UInt8? = 0xCD) throws -> FSSnapshot {
        var s = FSSnapshot()
        var stack = ["/"]
        let bs = Int(fs.superblock.blockSize)
        while let dir = stack.popLast() {
            for e in try fs.readdir(dir) {
                let path = dir == "/" ? "/" + e.name : dir + "/" + e.name
                switch e.kind {
                case .directory:
                    s.entries[path] = .directory
                    stack.append(path)
                case .file:
                    let st = try fs.stat(ino: e.ino)
                    s.entries[path] = .file(try fs.read(e.ino, at: 0, count: Int(st.size)))
                    if let sentinel {
                        for x in try fs.extents(e.ino) {
                            let raw = fs.media.view(at: Int(x.regionBlock) * bs, count: Int(x.count) * bs)
                            if let i = raw.firstIndex(of: sentinel) {
                                throw DaxError(.EIO, "\(path): the mapped byte at file offset \(Int(x.fileBlock) * bs + i) reads the stale-data sentinel")
                            }
                        }
                    }
                }
            }
        }
        return s
    }

    public var description: String {
        entries.keys.sorted().map { k in
            switch entries[k]! {
            case .directory: "\(k)/"
            case .file(let b): "\(k) (\(b.count) bytes, crc \(hex32(CRC32C.checksum(b))))"
            }
        }.joined(separator: ", ")
    }

    /// A short account of how `self` differs from `other`.
    public func difference(from other: FSSnapshot) -> String {
        var out: [String] = []
        for k in Set(entries.keys).union(other.entries.keys).sorted() {
            switch (entries[k], other.entries[k]) {
            case (nil, _): out.append("\(k) missing")
            case (_, nil): out.append("\(k) unexpected")
            case (.file(let a)?, .file(let b)?) where a != b:
                if a.count != b.count { out.append("\(k) size \(a.count) vs \(b.count)") }
                else if let i = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                    out.append("\(k) byte \(i): \(a[i]) vs \(b[i])")
                }
            case (let a?, let b?) where a != b: out.append("\(k) kind differs")
            default: break
            }
        }
        return out.isEmpty ? "no difference" : out.prefix(5).joined(separator: "; ")
    }
}
