import Foundation
import DaxCore
import DaxFS
import DaxFSFormat

extension TempRegion {
    /// Fills the region with `sentinel` (0xCD, as xfstests generic/042 does)
    /// and formats it, so that any byte of stale media that leaks into a file
    /// shows up as the sentinel.
    @discardableResult
    public func format(size: UInt64 = 8 << 20, logSize: UInt64? = nil, checkpointSize: UInt64? = nil,
                       allocUnit: UInt32? = nil, sentinel: UInt8? = 0xCD) throws -> Superblock {
        if let s = sentinel { fill(size: Int(size), byte: s) }
        var o = Mkfs.Options()
        o.size = size
        o.logSize = logSize
        o.checkpointSize = checkpointSize
        o.allocUnit = allocUnit
        return try Mkfs.run(path, o).superblock
    }
}

/// An in-memory model of file contents, checked against a mounted filesystem.
public struct FileModel: Sendable {
    public var files: [String: [UInt8]] = [:]
    public init() {}

    /// Every file's size and every byte match the model; no mapped byte of
    /// any file (inside or beyond EOF) reads the sentinel. Returns the first
    /// mismatch, or nil.
    public func mismatch(in fs: Filesystem, sentinel: UInt8 = 0xCD) -> String? {
        for (path, want) in files.sorted(by: { $0.key < $1.key }) {
            do {
                let ino = try fs.lookup(path)
                let st = try fs.stat(ino: ino)
                if st.size != UInt64(want.count) { return "\(path): size \(st.size), model \(want.count)" }
                let got = try fs.read(ino, at: 0, count: want.count + 1)
                if got.count != want.count { return "\(path): read \(got.count) bytes, model \(want.count)" }
                if got.withUnsafeBytes({ g in want.withUnsafeBytes { memcmp(g.baseAddress!, $0.baseAddress!, want.count) } }) != 0 {
                    let i = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }!.offset
                    return "\(path): byte \(i) is \(got[i]), model \(want[i])"
                }
                let bs = Int(fs.superblock.blockSize)
                for e in try fs.extents(ino) {
                    let raw = fs.media.view(at: Int(e.regionBlock) * bs, count: Int(e.count) * bs)
                    if let hit = memchr(raw.baseAddress!, Int32(sentinel), raw.count) {
                        let i = raw.baseAddress!.distance(to: UnsafeRawPointer(hit))
                        return "\(path): mapped block at file offset \(Int(e.fileBlock) * bs + i) reads the sentinel 0x\(String(sentinel, radix: 16))"
                    }
                }
            } catch {
                return "\(path): \(error)"
            }
        }
        return nil
    }
}
