#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFSFormat
import PMem

/// The namespace: paths, lookup, create, mkdir, unlink, rmdir, rename, readdir.
///
/// Paths are absolute or relative to the root (there is no working
/// directory); empty components and "." are skipped and ".." goes to the
/// parent (the root's parent is the root). Names are 1–255 bytes of UTF-8
/// without '/' or NUL, compared byte for byte.
///
/// Every change here holds `nsLock` exclusive, then the inode locks of the
/// inodes it changes in inode-number order, and commits one transaction,
/// so each is atomic across a crash: rename (also over an existing file or
/// empty directory, which it replaces) is one INODE record plus the
/// removal of what it replaces. Removing a file with more extents than fit
/// one transaction logs a truncate intent with the remove flag in that
/// transaction instead, which hides the name at once; its blocks are then
/// freed in bounded transactions, and recovery finishes the job after a crash.
extension Filesystem {
    // MARK: paths

    /// The components of a path, validated for lookup.
    func components(_ path: String) throws -> [[UInt8]] {
        do {
            if let out = try path.utf8.withContiguousStorageIfAvailable(Self.components(of:)) { return out }
            return try Array(path.utf8).withUnsafeBufferPointer(Self.components(of:))
        } catch let e as DaxError {
            throw e.with("path", path)
        }
    }

    /// The names between slashes in `bytes`, in one pass. ENAMETOOLONG or
    /// EINVAL (a NUL) for a bad name.
    private static func components(of bytes: UnsafeBufferPointer<UInt8>) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var start = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x2F {
            defer { start = i + 1 }
            guard i > start else { continue }
            let name = Array(UnsafeBufferPointer(rebasing: bytes[start..<i]))
            if name.count > InodeRecord.maxNameLength {
                throw DaxError(.ENAMETOOLONG, "name is \(name.count) bytes; the limit is \(InodeRecord.maxNameLength)")
            }
            if name.contains(0) { throw DaxError(.EINVAL, "a name may not contain NUL") }
            out.append(name)
        }
        return out
    }

    /// Resolves `comps` to an inode. Called with `nsLock` held.
    func resolveLocked(_ comps: ArraySlice<[UInt8]>, path: String) throws -> Inode {
        guard var at = state.inodes[.root] else { preconditionFailure("no root inode") }
        for c in comps {
            if c == [0x2E] { continue }
            guard at.isDirectory else { throw DaxError(.ENOTDIR, "\(path): a component is not a directory").with("path", path) }
            if c == [0x2E, 0x2E] {
                at = state.inodes[at.record.parent] ?? at
                continue
            }
            guard let child = at.entries[c], let node = state.inodes[child] else {
                throw DaxError(.ENOENT, "\(path): no such file or directory").with("path", path)
            }
            at = node
        }
        return at
    }

    /// The parent directory and last name of a path that is to be created,
    /// removed or renamed. Called with `nsLock` held.
    func resolveParentLocked(_ path: String) throws -> (parent: Inode, name: [UInt8]) {
        let comps = try components(path)
        guard let last = comps.last else {
            throw DaxError(.EINVAL, "\(path.isEmpty ? "an empty path" : path) names the root directory").with("path", path)
        }
        let parent = try resolveLocked(comps.dropLast(), path: path)
        guard parent.isDirectory else { throw DaxError(.ENOTDIR, "\(path): a component is not a directory").with("path", path) }
        return (parent, last)
    }

    /// Checks a name for a new entry: EINVAL, ENAMETOOLONG or EEXIST for "." and "..".
    func checkNewName(_ name: [UInt8], path: String) throws {
        if name == [0x2E] || name == [0x2E, 0x2E] { throw DaxError(.EEXIST, "\(path): '.' and '..' always exist").with("path", path) }
        if let why = InodeRecord.nameProblem(name) {
            throw DaxError(name.count > InodeRecord.maxNameLength ? .ENAMETOOLONG : .EINVAL, "\(path): \(why)").with("path", path)
        }
    }

    /// The inode at `path`, or ENOENT/ENOTDIR.
    public func lookup(_ path: String) throws -> InodeNumber {
        try checkMounted()
        let comps = try components(path)
        return try nsLock.withReadLock { try resolveLocked(comps[...], path: path).ino }
    }

    /// The inode `ino`, or ENOENT. Takes `nsLock` shared only for the lookup.
    func node(_ ino: InodeNumber) throws -> Inode {
        try checkMounted()
        guard let n = nsLock.withReadLock({ state.inodes[ino] }) else {
            throw DaxError(.ENOENT, "inode \(ino) does not exist").with("ino", ino)
        }
        return n
    }

    // MARK: stat and readdir

    public func stat(_ path: String) throws -> InodeStat { try stat(ino: try lookup(path)) }

    public func stat(ino: InodeNumber) throws -> InodeStat {
        let n = try node(ino)
        let entries = nsLock.withReadLock { n.entries.count }
        return try n.withReadLock {
            if n.freed { throw DaxError(.ENOENT, "inode \(ino) does not exist").with("ino", ino) }
            let r = n.record
            return InodeStat(ino: r.ino.raw, parent: r.parent.raw, name: r.nameString, kind: r.kind, mode: r.mode,
                             uid: r.uid, gid: r.gid, size: r.size, blocks: n.extents.mappedBlocks, extents: n.extents.count,
                             nlink: r.nlink, allocUnit: UInt64(1) << r.allocShift, generation: r.generation,
                             change: r.change, atime: r.atime, mtime: r.mtime, ctime: r.ctime, btime: r.btime,
                             entries: entries)
        }
    }

    /// The entries of the directory at `path`, sorted by name bytes.
    public func readdir(_ path: String) throws -> [DirectoryEntry] {
        try checkMounted()
        let comps = try components(path)
        return try nsLock.withReadLock {
            let dir = try resolveLocked(comps[...], path: path)
            guard dir.isDirectory else { throw DaxError(.ENOTDIR, "\(path) is not a directory").with("path", path) }
            return dir.entries.compactMap { (name, ino) -> DirectoryEntry? in
                guard let n = state.inodes[ino] else { return nil }
                return DirectoryEntry(name: String(decoding: name, as: UTF8.self), nameBytes: name, ino: ino, kind: n.record.kind)
            }.sorted { $0.nameBytes.lexicographicallyPrecedes($1.nameBytes) }
        }
    }

    // MARK: create

    /// Creates an empty file. EEXIST when the name is taken.
    @discardableResult
    public func create(_ path: String, mode: UInt32 = 0o644) throws -> InodeNumber {
        try makeNode(path, kind: .file, mode: mode)
    }

    /// Creates a directory; with `parents`, also its missing ancestors, and an
    /// existing directory is not an error (mkdir -p).
    @discardableResult
    public func mkdir(_ path: String, mode: UInt32 = 0o755, parents: Bool = false) throws -> InodeNumber {
        guard parents else { return try makeNode(path, kind: .directory, mode: mode) }
        var prefix = ""
        var last = InodeNumber.root
        for c in try components(path) {
            prefix += "/" + String(decoding: c, as: UTF8.self)
            do {
                last = try makeNode(prefix, kind: .directory, mode: mode)
            } catch let e as DaxError where e.code == .EEXIST {
                last = try lookup(prefix)
                guard try stat(ino: last).kind == .directory else {
                    throw DaxError(.ENOTDIR, "\(prefix) exists and is not a directory").with("path", prefix)
                }
            }
        }
        return last
    }

    private func makeNode(_ path: String, kind: InodeKind, mode: UInt32) throws -> InodeNumber {
        try checkWritable()
        guard mode & ~0o7777 == 0 else { throw DaxError(.EINVAL, "mode \(String(mode, radix: 8)) has bits outside 07777").with("path", path) }
        return try nsLock.withWriteLock {
            let (parent, name) = try resolveParentLocked(path)
            try checkNewName(name, path: path)
            if parent.entries[name] != nil { throw DaxError(.EEXIST, "\(path) already exists").with("path", path) }
            if parent.removing { throw DaxError(.ENOENT, "\(path): the directory is being removed").with("path", path) }
            return try parent.withWriteLock {
                let now = inodeTimeNanoseconds()
                let ino = InodeNumber(state.nextIno)
                let r = InodeRecord(ino: ino, parent: parent.ino, kind: kind, name: name, mode: mode,
                                    uid: creator.uid, gid: creator.gid, atime: now, mtime: now, ctime: now,
                                    btime: now, generation: nextGeneration(),
                                    nlink: kind == .directory ? 2 : 1, allocShift: parent.record.allocShift)
                var tx = TransactionBuilder()
                tx.append(.inode(r))
                tx.append(.inodeAttr(touched(parent, now: now)))
                try commit(&tx)
                return ino
            }
        }
    }

    /// A generation number for a new inode: random-looking and never 0, from a
    /// SplitMix64 stream seeded once per mount (a system call per file
    /// would cost more than the rest of a create).
    func nextGeneration() -> UInt32 {
        var z = generationStream.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt32(truncatingIfNeeded: z ^ (z >> 31)) | 1
    }

    /// INODE_ATTR for a change to `n` at `now` that keeps its size.
    func touched(_ n: Inode, size: UInt64? = nil, now: Int64) -> InodeAttrRecord {
        InodeAttrRecord(ino: n.ino, size: size ?? n.record.size, change: n.record.change + 1, mtime: now, ctime: now)
    }

    // MARK: remove

    /// Removes the file or empty directory at `path` (rm / rmdir).
    /// `directory`: nil for either, true to require a directory, false a file.
    public func remove(_ path: String, directory: Bool? = nil) throws {
        try checkWritable()
        try nsLock.withWriteLock {
            let (parent, name) = try resolveParentLocked(path)
            if name == [0x2E] || name == [0x2E, 0x2E] { throw DaxError(.EINVAL, "\(path): cannot remove '.' or '..'").with("path", path) }
            guard let ino = parent.entries[name], let node = state.inodes[ino] else {
                throw DaxError(.ENOENT, "\(path): no such file or directory").with("path", path)
            }
            if directory == true && !node.isDirectory { throw DaxError(.ENOTDIR, "\(path) is not a directory").with("path", path) }
            if directory == false && node.isDirectory { throw DaxError(.EISDIR, "\(path) is a directory").with("path", path) }
            if node.isDirectory && !node.entries.isEmpty {
                throw DaxError(.ENOTEMPTY, "\(path): directory not empty (\(node.entries.count) entries)").with("path", path)
            }
            try node.withInvalidateExclusive(timeout: options.mappingDrainTimeout) {
                try withWriteLocks([parent, node]) {
                    let now = inodeTimeNanoseconds()
                    var tx = TransactionBuilder()
                    let intent = removalRecords(node, into: &tx)
                    tx.append(.inodeAttr(touched(parent, now: now)))
                    try commit(&tx)
                    if let i = intent { try finishingIntent(i) { try finishTruncate(i, node: node) } }
                }
            }
        }
    }

    /// Appends the records that remove `node` (its lock held exclusive): inline
    /// when its blocks fit one transaction, else a truncate intent with the
    /// remove flag, returned so the caller finishes it after the commit.
    func removalRecords(_ node: Inode, into tx: inout TransactionBuilder) -> IntentRecord? {
        if node.isDirectory || node.extents.isEmpty {
            tx.append(.inodeFree(node.ino, generation: node.record.generation))
            return nil
        }
        let runs = Self.mergedRuns(node.extents)
        if runs.count <= maxFreeRecordsPerTransaction {
            let first = node.extents.first!, last = node.extents.last!
            tx.append(.extentUnmap(node.ino, FileBlock(first.fileBlock), BlockCount(last.fileEnd - first.fileBlock)))
            for r in runs { tx.append(.free(r)) }
            tx.append(.inodeFree(node.ino, generation: node.record.generation))
            return nil
        }
        let intent = IntentRecord(id: reserveIntentID(), kind: .truncate, flags: IntentRecord.removeInodeFlag,
                                  ino1: node.ino, block1: 0, ino2: 0, block2: 0, count: 0, done: 0, size1: 0, size2: 0)
        tx.append(.intent(intent))
        return intent
    }

    /// Region runs of `extents`, sorted by region block and merged where adjacent.
    static func mergedRuns<S: Sequence>(_ extents: S) -> [BlockRange] where S.Element == Extent {
        let sorted = extents.map { $0.regionRange }.sorted { $0.start < $1.start }
        var out: [BlockRange] = []
        out.reserveCapacity(sorted.count)
        for r in sorted {
            if let l = out.last, l.end == r.start.raw { out[out.count - 1].count = BlockCount(l.count.raw + r.count.raw) }
            else { out.append(r) }
        }
        return out
    }

    /// FREE records that fit in one transaction next to a few others.
    var maxFreeRecordsPerTransaction: Int { max(1, (journal.maxTransactionBytes - Self.transactionOverhead) / (LogRecord.headerSize + BlockRange.size)) }

    /// Room kept in a transaction for its header and the few records that go
    /// with a batch of FREE or ALLOC+EXTENT_MAP records (INODE_ATTR, INODE_FREE,
    /// EXTENT_UNMAP, an INTENT).
    static let transactionOverhead = 384

    /// A fresh intent id (ids are never reused; one may be skipped when its
    /// transaction fails).
    func reserveIntentID() -> UInt64 {
        logLock.withLock {
            let id = state.nextIntentID
            state.nextIntentID += 1
            return id
        }
    }

    // MARK: rename

    /// Renames `from` to `to`, within a directory or across directories,
    /// atomically. An existing `to` is replaced as POSIX rename does: a file
    /// by a file, an empty directory by a directory.
    ///
    /// Errors: ENOENT, ENOTDIR, EISDIR (a file over a directory), ENOTEMPTY
    /// (over a directory that has entries), EINVAL (a directory into itself or
    /// its own subtree, or renaming the root, '.' or '..').
    public func rename(_ from: String, to: String) throws {
        try checkWritable()
        try nsLock.withWriteLock {
            let (sp, sname) = try resolveParentLocked(from)
            let (dp, dname) = try resolveParentLocked(to)
            if [sname, dname].contains(where: { $0 == [0x2E] || $0 == [0x2E, 0x2E] }) {
                throw DaxError(.EINVAL, "cannot rename '.' or '..'").with("path", from)
            }
            guard let sino = sp.entries[sname], let src = state.inodes[sino] else {
                throw DaxError(.ENOENT, "\(from): no such file or directory").with("path", from)
            }
            try checkNewName(dname, path: to)
            if src.isDirectory && state.isAncestor(src.ino, of: dp.ino) {
                throw DaxError(.EINVAL, "cannot move directory \(from) into itself (\(to))").with("path", from)
            }
            var victim: Inode?
            if let vino = dp.entries[dname], let v = state.inodes[vino] {
                if v.ino == src.ino { return }
                if src.isDirectory && !v.isDirectory { throw DaxError(.ENOTDIR, "\(to) is not a directory").with("path", to) }
                if !src.isDirectory && v.isDirectory { throw DaxError(.EISDIR, "\(to) is a directory").with("path", to) }
                if v.isDirectory && !v.entries.isEmpty { throw DaxError(.ENOTEMPTY, "\(to): directory not empty").with("path", to) }
                victim = v
            }
            // A file renamed over loses its blocks: its mappings must go first.
            let drain: (() throws -> Void) throws -> Void = { body in
                if let v = victim, !v.isDirectory {
                    try v.withInvalidateExclusive(timeout: self.options.mappingDrainTimeout) { try body() }
                } else {
                    try body()
                }
            }
            try drain { try withWriteLocks([sp, dp, src] + (victim.map { [$0] } ?? [])) {
                let now = inodeTimeNanoseconds()
                var tx = TransactionBuilder()
                let intent = victim.flatMap { removalRecords($0, into: &tx) }
                var r = src.record
                r.parent = dp.ino
                r.name = dname
                r.ctime = now
                r.change += 1
                tx.append(.inode(r))
                tx.append(.inodeAttr(touched(sp, now: now)))
                if dp !== sp { tx.append(.inodeAttr(touched(dp, now: now))) }
                try commit(&tx)
                if let i = intent, let v = victim { try finishingIntent(i) { try finishTruncate(i, node: v) } }
            } }
        }
    }

    /// Runs `body` holding the write locks of `nodes` (deduplicated), taken in
    /// inode-number order.
    func withWriteLocks<T>(_ nodes: [Inode], _ body: () throws -> T) rethrows -> T {
        var unique: [Inode] = []
        for n in nodes.sorted(by: { $0.ino < $1.ino }) where unique.last !== n { unique.append(n) }
        func nest(_ i: Int) throws -> T {
            if i == unique.count { return try body() }
            return try unique[i].withWriteLock { try nest(i + 1) }
        }
        return try nest(0)
    }
}

extension Filesystem {
    /// Removes `path` and, for a directory, everything under it, children
    /// first (rm -r). Each removal is its own transaction: a crash or an
    /// error part-way leaves what was not removed yet, as rm -r does.
    /// Returns the number of files and directories removed.
    @discardableResult
    public func removeTree(_ path: String) throws -> Int {
        let st = try stat(path)
        var removed = 0
        if st.kind == .directory {
            for e in try readdir(path) {
                removed += try removeTree(path.hasSuffix("/") ? path + e.name : path + "/" + e.name)
            }
        }
        if st.ino == InodeNumber.root.raw { return removed }   // rm -r / empties the root
        try remove(path)
        return removed + 1
    }
}
