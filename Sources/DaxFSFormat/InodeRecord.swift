import DaxCore

/// The kind of an inode.
public enum InodeKind: UInt16, Sendable, Codable {
    case file = 1
    case directory = 2
}

/// An inode as it is stored: in a log INODE record and in a checkpoint
/// inode chunk. 96 fixed bytes, then the name (no NUL), padded to 8 bytes.
///
/// daxfs has no hard links, so every inode has exactly one parent and one
/// name, and the name lives in the inode. A directory's entries are the
/// inodes whose parent it is; the in-memory directory index is rebuilt from
/// them at mount. Rename is therefore one record, and atomic.
public struct InodeRecord: Equatable, Sendable {
    public var ino: InodeNumber
    public var parent: InodeNumber
    public var size: UInt64
    /// Bumped by every change to the inode or its data; with the generation
    /// it forms the `--if-unchanged` token of swap-extents.
    public var change: UInt64
    public var atime: Int64
    public var mtime: Int64
    public var ctime: Int64
    public var btime: Int64
    public var generation: UInt32
    /// Permission bits (0o7777).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var nlink: UInt32
    public var kind: InodeKind
    /// log2 of the allocation unit: 12 (4 KiB), 21 (2 MiB) or 30 (1 GiB).
    public var allocShift: UInt8
    public var flags: UInt8
    /// 1 to 255 bytes of UTF-8 without '/' or NUL; empty only for the root.
    public var name: [UInt8]

    @inlinable public init(ino: InodeNumber, parent: InodeNumber, kind: InodeKind, name: [UInt8], mode: UInt32,
                uid: UInt32 = 0, gid: UInt32 = 0, size: UInt64 = 0, change: UInt64 = 0,
                atime: Int64 = 0, mtime: Int64 = 0, ctime: Int64 = 0, btime: Int64 = 0,
                generation: UInt32 = 0, nlink: UInt32 = 1, allocShift: UInt8 = 12, flags: UInt8 = 0) {
        self.ino = ino; self.parent = parent; self.kind = kind; self.name = name; self.mode = mode
        self.uid = uid; self.gid = gid; self.size = size; self.change = change; self.atime = atime
        self.mtime = mtime; self.ctime = ctime; self.btime = btime; self.generation = generation
        self.nlink = nlink; self.allocShift = allocShift; self.flags = flags
    }

    // Computed and inlinable, like `encodedSize`, so that another module's
    // decode loop folds them to constants (a stored `static let` of another
    // module is read through a call each time).
    @inlinable public static var fixedSize: Int { 96 }
    @inlinable public static var maxNameLength: Int { 255 }
    public static let validAllocShifts: [UInt8] = [12, 21, 30]
    /// True for the shifts in `validAllocShifts`; a switch, not a search of
    /// the array (it runs for every inode a mount decodes).
    @inlinable public static func isValidAllocShift(_ s: UInt8) -> Bool {
        switch s {
        case 12, 21, 30: true
        default: false
        }
    }

    /// The fields, computed and inlinable (not stored) so that `decode`,
    /// inlined into another module's loop, reads constant offsets.
    public enum F {
        @inlinable public static var ino: Field { Field("ino", 0, 8, .u64) }
        @inlinable public static var parent: Field { Field("parent", 8, 8, .u64) }
        @inlinable public static var size: Field { Field("size", 16, 8, .u64) }
        @inlinable public static var change: Field { Field("change", 24, 8, .u64) }
        @inlinable public static var atime: Field { Field("atime", 32, 8, .i64) }
        @inlinable public static var mtime: Field { Field("mtime", 40, 8, .i64) }
        @inlinable public static var ctime: Field { Field("ctime", 48, 8, .i64) }
        @inlinable public static var btime: Field { Field("btime", 56, 8, .i64) }
        @inlinable public static var generation: Field { Field("generation", 64, 4, .u32) }
        @inlinable public static var mode: Field { Field("mode", 68, 4, .u32) }
        @inlinable public static var uid: Field { Field("uid", 72, 4, .u32) }
        @inlinable public static var gid: Field { Field("gid", 76, 4, .u32) }
        @inlinable public static var nlink: Field { Field("nlink", 80, 4, .u32) }
        @inlinable public static var kind: Field { Field("kind", 84, 2, .u16) }
        @inlinable public static var allocShift: Field { Field("alloc_shift", 86, 1, .u8) }
        @inlinable public static var flags: Field { Field("flags", 87, 1, .u8) }
        @inlinable public static var nameLength: Field { Field("name_len", 88, 2, .u16) }
        @inlinable public static var reserved: Field { Field("reserved", 90, 6, .bytes) }
    }

    public static let layout = RecordLayout(name: "inode", size: fixedSize, fields: [
        F.ino, F.parent, F.size, F.change, F.atime, F.mtime, F.ctime, F.btime, F.generation, F.mode,
        F.uid, F.gid, F.nlink, F.kind, F.allocShift, F.flags, F.nameLength, F.reserved,
    ])

    /// Encoded length: the fixed part plus the name padded to 8 bytes.
    @inlinable public var encodedSize: Int { InodeRecord.fixedSize + pad8(name.count) }

    public func encode(into p: UnsafeMutableRawBufferPointer, at o: Int) {
        p.setLE(ino.raw, at: o + F.ino.offset)
        p.setLE(parent.raw, at: o + F.parent.offset)
        p.setLE(size, at: o + F.size.offset)
        p.setLE(change, at: o + F.change.offset)
        p.setLE(atime, at: o + F.atime.offset)
        p.setLE(mtime, at: o + F.mtime.offset)
        p.setLE(ctime, at: o + F.ctime.offset)
        p.setLE(btime, at: o + F.btime.offset)
        p.setLE(generation, at: o + F.generation.offset)
        p.setLE(mode, at: o + F.mode.offset)
        p.setLE(uid, at: o + F.uid.offset)
        p.setLE(gid, at: o + F.gid.offset)
        p.setLE(nlink, at: o + F.nlink.offset)
        p.setLE(kind.rawValue, at: o + F.kind.offset)
        p.setLE(allocShift, at: o + F.allocShift.offset)
        p.setLE(flags, at: o + F.flags.offset)
        p.setLE(UInt16(name.count), at: o + F.nameLength.offset)
        for i in 0..<6 { p[o + F.reserved.offset + i] = 0 }
        p.setBytes(name, at: o + InodeRecord.fixedSize)
        let padded = pad8(name.count)
        for i in name.count..<padded { p[o + InodeRecord.fixedSize + i] = 0 }
    }

    /// Decodes and validates one inode at `o`, reading at most `limit` bytes.
    /// Throws EFSCORRUPTED naming the first problem. Never traps.
    /// Inlined into its two callers: mount decodes 100,000 of them in a
    /// row, and inlined, the record is built where it is used instead of
    /// copied out of a call.
    ///
    /// `checked: false` skips `problem()` (the field and name checks) and
    /// nothing else: the bounds and the kind are always checked, so no
    /// bytes make it trap. Only for a decode whose result is used only if
    /// `check` passes the same bytes (mount decodes a checkpoint while
    /// another thread checks it).
    @inlinable @inline(__always) public static func decode(_ p: UnsafeRawBufferPointer, at o: Int, limit: Int,
                                                           checked: Bool = true) throws -> InodeRecord {
        let (nameLen, kind) = try frame(p, at: o, limit: limit)
        // `frame` bounds every field read below (all lie in the first
        // `fixedSize` bytes at o), so they need no check of their own.
        @inline(__always) func le<T: FixedWidthInteger>(_ f: Field, _: T.Type = T.self) -> T {
            assert(f.end <= fixedSize && f.size == MemoryLayout<T>.size)
            return T(littleEndian: p.loadUnaligned(fromByteOffset: o + f.offset, as: T.self))
        }
        let r = InodeRecord(
            ino: InodeNumber(le(F.ino)), parent: InodeNumber(le(F.parent)),
            kind: kind, name: p.bytes(o + fixedSize, nameLen), mode: le(F.mode),
            uid: le(F.uid), gid: le(F.gid), size: le(F.size),
            change: le(F.change), atime: le(F.atime), mtime: le(F.mtime),
            ctime: le(F.ctime), btime: le(F.btime),
            generation: le(F.generation), nlink: le(F.nlink),
            allocShift: le(F.allocShift), flags: le(F.flags))
        if checked, let problem = r.problem() { throw corrupt("inode \(r.ino): \(problem)") }
        return r
    }

    /// What `check` read of an inode it passed.
    public struct Checked {
        public var ino: InodeNumber
        public var parent: InodeNumber
        public var allocShift: UInt8
        public var encodedSize: Int
        /// The name bytes, in the buffer that was checked.
        public var name: UnsafeRawBufferPointer

        @inlinable init(ino: InodeNumber, parent: InodeNumber, allocShift: UInt8, encodedSize: Int, name: UnsafeRawBufferPointer) {
            self.ino = ino; self.parent = parent; self.allocShift = allocShift; self.encodedSize = encodedSize; self.name = name
        }
    }

    /// The checks of `decode`, in its order and with its errors, without
    /// building the record (no copy of the name): for a pass that only
    /// checks. Never traps.
    @inlinable @inline(__always) public static func check(_ p: UnsafeRawBufferPointer, at o: Int, limit: Int) throws -> Checked {
        let (nameLen, kind) = try frame(p, at: o, limit: limit)
        @inline(__always) func le<T: FixedWidthInteger>(_ f: Field, _: T.Type = T.self) -> T {
            T(littleEndian: p.loadUnaligned(fromByteOffset: o + f.offset, as: T.self))
        }
        let ino = InodeNumber(le(F.ino)), parent = InodeNumber(le(F.parent))
        let allocShift: UInt8 = le(F.allocShift)
        let name = UnsafeRawBufferPointer(rebasing: p[(o + fixedSize)..<(o + fixedSize + nameLen)])
        if let problem = problem(ino: ino, parent: parent, kind: kind, allocShift: allocShift,
                                 size: le(F.size), mode: le(F.mode), name: name) {
            throw corrupt("inode \(ino): \(problem)")
        }
        return Checked(ino: ino, parent: parent, allocShift: allocShift, encodedSize: fixedSize + pad8(nameLen), name: name)
    }

    /// The bounds and the kind of the inode at `o`: its name length and
    /// kind, after which the fixed part and the name are known to lie
    /// within `p` and within `limit` bytes of `o`.
    @inlinable @inline(__always) static func frame(_ p: UnsafeRawBufferPointer, at o: Int, limit: Int) throws -> (nameLength: Int, kind: InodeKind) {
        guard o >= 0, limit >= fixedSize, o + fixedSize <= p.count else { throw corrupt("inode record truncated") }
        let nameLen = Int(p.u16(o + F.nameLength.offset))
        guard nameLen <= maxNameLength else { throw corrupt("inode name length \(nameLen) exceeds \(maxNameLength)") }
        guard fixedSize + pad8(nameLen) <= limit, o + fixedSize + nameLen <= p.count else { throw corrupt("inode name runs past its record") }
        guard let kind = InodeKind(rawValue: p.u16(o + F.kind.offset)) else {
            throw corrupt("inode kind \(p.u16(o + F.kind.offset)) is unknown")
        }
        return (nameLen, kind)
    }

    /// Self-consistency of one inode, independent of the rest of the filesystem.
    public func problem() -> String? {
        name.withUnsafeBytes {
            InodeRecord.problem(ino: ino, parent: parent, kind: kind, allocShift: allocShift, size: size, mode: mode, name: $0)
        }
    }

    /// `problem()` of an inode given by its fields and its name bytes in place.
    @usableFromInline static func problem(ino: InodeNumber, parent: InodeNumber, kind: InodeKind, allocShift: UInt8,
                                          size: UInt64, mode: UInt32, name: UnsafeRawBufferPointer) -> String? {
        if ino.raw == 0 { return "inode number 0" }
        if parent.raw == 0 { return "parent inode number 0" }
        if !InodeRecord.isValidAllocShift(allocShift) { return "allocation unit shift \(allocShift) is not 12, 21 or 30" }
        if size > Geometry.maximumFileSize { return "size \(size) exceeds the maximum file size" }
        if mode & ~0o7777 != 0 { return "mode \(String(mode, radix: 8)) has bits outside 07777" }
        if ino == .root {
            if kind != .directory || parent != .root || !name.isEmpty { return "the root must be a directory named \"\" whose parent is itself" }
        } else if let why = InodeRecord.nameProblem(name) {
            return why
        }
        if ino != .root && parent == ino { return "inode is its own parent" }
        return nil
    }

    /// Why a name is not valid, or nil: 1–255 bytes of UTF-8, no '/' or NUL, not "." or "..".
    /// O(n), one pass; names of plain ASCII never build a String.
    public static func nameProblem(_ name: [UInt8]) -> String? {
        name.withUnsafeBytes { nameProblem($0) }
    }

    /// `nameProblem` of name bytes in place (fsck reads them on the media).
    public static func nameProblem(_ name: UnsafeRawBufferPointer) -> String? {
        if name.isEmpty { return "empty name" }
        if name.count > maxNameLength { return "name is \(name.count) bytes; the limit is \(maxNameLength)" }
        if isPlainASCII(name) { return name.count <= 2 && name.allSatisfy({ $0 == 0x2E }) ? "name is '.' or '..'" : nil }
        var ascii = true
        for b in name {
            if b == 0x2F || b == 0 { return "name contains '/' or NUL" }
            if b >= 0x80 { ascii = false }
        }
        if name.count <= 2 && name.allSatisfy({ $0 == 0x2E }) { return "name is '.' or '..'" }
        if !ascii && String(validating: name, as: UTF8.self) == nil { return "name is not valid UTF-8" }
        return nil
    }

    /// True when every byte is ASCII other than NUL and '/', tested 8 bytes
    /// at a time with no loop over bytes (mount checks 100,000 names, most
    /// shorter than 8 bytes): words cover the name, the last one overlapping
    /// the one before it, and a name under 8 bytes is covered by two
    /// overlapping loads packed into one word, the rest of it 'a'. A name
    /// for which this is false gets the byte-by-byte checks, which name the
    /// problem.
    static func isPlainASCII(_ name: UnsafeRawBufferPointer) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let letters: UInt64 = 0x6161_6161_6161_6161
        @inline(__always) func hasZeroByte(_ w: UInt64) -> Bool { (w &- ones) & ~w & highs != 0 }
        @inline(__always) func plain(_ w: UInt64) -> Bool { w & highs == 0 && !hasZeroByte(w) && !hasZeroByte(w ^ (ones &* 0x2F)) }
        @inline(__always) func load<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> UInt64 {
            UInt64(T(littleEndian: name.loadUnaligned(fromByteOffset: at, as: T.self)))
        }
        let n = name.count
        switch n {
        case 0: return true
        case 1: return plain(load(0, UInt8.self) | letters << 8)
        case 2...3: return plain(load(0, UInt16.self) | load(n - 2, UInt16.self) << 16 | letters << 32)
        case 4...7: return plain(load(0, UInt32.self) | load(n - 4, UInt32.self) << 32)
        default:
            var i = 0
            while i + 8 <= n {
                if !plain(load(i, UInt64.self)) { return false }
                i += 8
            }
            return i == n || plain(load(n - 8, UInt64.self))
        }
    }

    public var nameString: String { String(decoding: name, as: UTF8.self) }
}

@inlinable @inline(__always) public func pad8(_ n: Int) -> Int { (n + 7) & ~7 }

@usableFromInline func corrupt(_ message: String) -> DaxError { DaxError(.EFSCORRUPTED, message) }
