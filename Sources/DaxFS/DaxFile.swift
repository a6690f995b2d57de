import DaxCore
import DaxFSFormat

/// An open file of a mounted filesystem, for direct access: `map`,
/// `withMapping` and `sync`, as `Filesystem`'s functions of the same names
/// do, without looking the inode up again. It does not keep the file alive:
/// after an unlink, mapping it fails with ENOENT.
public struct DaxFile: Sendable {
    public let fs: Filesystem
    let node: Inode

    init(fs: Filesystem, node: Inode) {
        self.fs = fs
        self.node = node
    }

    public var ino: InodeNumber { node.ino }

    /// See `Filesystem.map`.
    public func map(_ offset: UInt64, _ length: UInt64, for access: MapAccess) throws -> Mapping {
        try fs.map(node, offset: offset, length: length, for: access)
    }

    /// See `Filesystem.withMapping`.
    public func withMapping<T>(_ offset: UInt64, _ length: UInt64, for access: MapAccess, _ body: (Mapping) throws -> T) throws -> T {
        let m = try map(offset, length, for: access)
        defer { m.release() }
        return try body(m)
    }

    /// See `Filesystem.syncFile`.
    public func sync() throws { try fs.syncFile(node.ino) }
}
