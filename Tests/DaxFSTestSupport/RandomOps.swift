import DaxCore
import DaxFS
import DaxFSFormat

/// Seeded random file operations applied to a filesystem and to a
/// `FileModel` side by side: the engine's small exerciser.
public struct RandomOps {
    public var rng: SeededRandom
    public var model = FileModel()
    /// Largest file offset a write or truncate touches.
    public var maxOffset: Int
    public var maxWrite: Int
    public var fileCount: Int
    /// A line per operation, for replaying a failure by eye.
    public private(set) var log: [String] = []

    public init(seed: UInt64, maxOffset: Int = 256 << 10, maxWrite: Int = 64 << 10, fileCount: Int = 4) {
        rng = SeededRandom(seed: seed)
        self.maxOffset = maxOffset; self.maxWrite = maxWrite; self.fileCount = fileCount
    }

    mutating func pick(_ n: Int) -> Int { rng.below(n) }

    /// Performs one random operation. ENOSPC is accepted (the model is left
    /// unchanged, as the write contract promises for one-step writes).
    public mutating func step(_ fs: Filesystem) throws {
        let path = "/f\(pick(fileCount))"
        let exists = model.files[path] != nil
        switch pick(10) {
        case 0...4 where exists:
            let off = pick(maxOffset), len = 1 + pick(maxWrite)
            let data = rng.bytes(len)
            log.append("write \(path) \(off) \(len)")
            do {
                try fs.write(try fs.lookup(path), at: UInt64(off), data)
                var f = model.files[path]!
                if f.count < off + len { f += [UInt8](repeating: 0, count: off + len - f.count) }
                f.replaceSubrange(off..<(off + len), with: data)
                model.files[path] = f
            } catch let e as DaxError where e.code == .ENOSPC {}
        case 5...6 where exists:
            let size = pick(maxOffset + maxWrite)
            log.append("truncate \(path) \(size)")
            try fs.truncate(try fs.lookup(path), size: UInt64(size))
            var f = model.files[path]!
            if size < f.count { f.removeSubrange(size...) } else { f += [UInt8](repeating: 0, count: size - f.count) }
            model.files[path] = f
        case 7 where exists:
            log.append("unlink \(path)")
            try fs.remove(path)
            model.files[path] = nil
        case 8 where exists:
            let to = "/f\(pick(fileCount))"
            log.append("rename \(path) \(to)")
            try fs.rename(path, to: to)
            if to != path {
                model.files[to] = model.files[path]
                model.files[path] = nil
            }
        default:
            if !exists {
                log.append("create \(path)")
                try fs.create(path)
                model.files[path] = []
            } else {
                let off = pick(maxOffset), len = pick(maxWrite) + 1
                log.append("read \(path) \(off) \(len)")
                let got = try fs.read(try fs.lookup(path), at: UInt64(off), count: len)
                let f = model.files[path]!
                let want = off < f.count ? Array(f[off..<min(f.count, off + len)]) : []
                if got != want { throw DaxError(.EIO, "read \(path) \(off) \(len) differs from the model") }
            }
        }
    }
}
