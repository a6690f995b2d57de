#if canImport(Glibc)
import Glibc
#endif
import DaxCore
import DaxFSFormat
import PMem

/// mkfs: formats a region.
///
/// It writes only metadata: the two superblocks, checkpoint slot 0 (the root
/// directory and one free extent covering the data area) and the header of
/// slot 1. The log area is never cleared, because replay recognises its own
/// transactions by the per-mkfs random salt, so the time taken does not
/// depend on the region size.
///
/// Persistence order: the primary superblock's magic is cleared first, so a
/// crash mid-mkfs leaves a region that is recognisably not a filesystem
/// instead of an old superblock that points at new metadata. The primary is
/// written last.
public enum Mkfs {
    public struct Options: Sendable {
        public var size: UInt64?
        public var sparse = false
        public var blockSize: UInt32 = Geometry.defaultBlockSize
        /// nil: the device alignment on a device-DAX, 4K on a file.
        public var allocUnit: UInt32?
        public var label = ""
        public var uuid: [UInt8]?
        public var force = false
        public var dryRun = false
        public var logSize: UInt64?
        public var checkpointSize: UInt64?
        public init() {}
    }

    public struct Result: Sendable {
        public var superblock: Superblock
        public var kind: RegionInfo.Kind
        public var created: Bool
        public var dryRun: Bool
        /// What was on the region before, when --force overwrote it.
        public var overwrote: String?
        public var persistencePath: PersistencePath?
        public var elapsedNanoseconds: UInt64
    }

    /// The allocation unit mkfs picks for a device alignment.
    public static func allocUnit(forDeviceAlignment a: UInt64) -> UInt32 {
        if a >= 1 << 30 { return 1 << 30 }
        if a >= 2 << 20 { return 2 << 20 }
        return 4096
    }

    /// Formats `path`. Every check happens before the first byte is written:
    /// on any error the region (and, for a file that did not exist, the
    /// file system around it) is left as it was.
    public static func run(_ path: String, _ o: Options) throws -> Result {
        let t0 = monotonicNanoseconds()
        let existing: RegionInfo?
        do {
            existing = try RegionPath.inspect(path)
        } catch let e as DaxError where e.code == .ENOENT {
            existing = nil
        }
        var request: Geometry.Request
        if let info = existing {
            if info.kind == .deviceDAX {
                if let s = o.size, s != info.size {
                    throw DaxError(.EINVAL, "\(path) is a device-DAX of \(ByteSize.exact(info.size)); its size is fixed (--size \(ByteSize.exact(s)) does not match)").with("region", path)
                }
                if o.sparse { throw DaxError(.EINVAL, "--sparse applies only to regular files; \(path) is a device-DAX").with("region", path) }
                request = Geometry.Request(regionSize: info.size)
                request.deviceAlignment = info.alignment
            } else {
                if let s = o.size, s != info.size, !o.force {
                    throw DaxError(.EINVAL, "\(path) exists with size \(ByteSize.exact(info.size)); --size \(ByteSize.exact(s)) differs (add --force to resize it)").with("region", path)
                }
                request = Geometry.Request(regionSize: o.size ?? info.size)
                if request.regionSize == 0 {
                    throw DaxError(.EINVAL, "\(path) is empty; give --size to format it").with("region", path)
                }
            }
        } else {
            guard let s = o.size else {
                throw DaxError(.ENOENT, "\(path) does not exist; give --size to create it as a file").with("region", path)
            }
            let parent = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
            var st = stat()
            if !parent.isEmpty && stat(parent, &st) != 0 {
                throw DaxError(.ENOENT, "cannot create \(path): directory \(parent) does not exist").with("region", path)
            }
            request = Geometry.Request(regionSize: s)
        }
        request.blockSize = o.blockSize
        request.allocUnit = o.allocUnit ?? allocUnit(forDeviceAlignment: request.deviceAlignment ?? 4096)
        request.logSize = o.logSize
        request.checkpointSlotSize = o.checkpointSize
        if let u = o.uuid, u.count != 16 { throw DaxError(.EINVAL, "a UUID has 16 bytes") }
        let sb = try Geometry.plan(request, uuid: o.uuid ?? randomUUID(), label: o.label,
                                   logSalt: randomUInt64() | 1, mkfsTime: UInt64(wallClockNanoseconds()))

        // Look at what is there now, under the exclusive lock so that a mounted region is refused.
        var lock: RegionLock?
        var overwrote: String?
        if let info = existing {
            lock = try RegionLock(path: path, exclusive: true)
            if info.size > 0 {
                let current = try MappedRegion.map(path, readOnly: true, lock: lock)
                if let found = describeExisting(current) {
                    if !o.force {
                        throw DaxError(.EEXIST, "\(path) already holds \(found); use --force to overwrite it").with("region", path)
                    }
                    overwrote = found
                }
            }
        }
        if o.dryRun {
            return Result(superblock: sb, kind: existing?.kind ?? .file, created: false, dryRun: true, overwrote: overwrote,
                          persistencePath: nil, elapsedNanoseconds: monotonicNanoseconds() - t0)
        }
        var created = false
        if existing == nil {
            try RegionPath.createFile(path, size: sb.regionSize, sparse: o.sparse)
            created = true
            lock = try RegionLock(path: path, exclusive: true)
        } else if existing?.kind == .file, existing?.size != sb.regionSize {
            try RegionPath.resizeFile(path, size: sb.regionSize, sparse: o.sparse)
        }
        defer { lock?.release() }
        let media: MappedRegion
        do {
            media = try MappedRegion.map(path, readOnly: false, lock: lock)
        } catch {
            if created { unlink(path) }
            throw error
        }
        write(sb, to: media)
        return Result(superblock: sb, kind: existing?.kind ?? .file, created: created, dryRun: false,
                      overwrote: overwrote, persistencePath: media.persistencePath,
                      elapsedNanoseconds: monotonicNanoseconds() - t0)
    }

    /// Writes a fresh filesystem described by `sb` through the choke point.
    /// The region must already have `sb.regionSize` bytes.
    public static func write(_ sb: Superblock, to media: PersistentMedia) {
        precondition(UInt64(media.size) == sb.regionSize)
        let layout = Layout(sb)
        // 1. Invalidate the primary superblock first.
        media.store([UInt8](repeating: 0, count: Superblock.size), at: 0)
        media.persist(at: 0, count: Superblock.size)
        // 2. Checkpoint slot 0: the root directory and the whole data area free.
        // The precise clock: the root's times and the first checkpoint's are
        // the filesystem's birth, as the superblock's mkfs time is.
        let now = wallClockNanoseconds()
        let root = InodeRecord(ino: .root, parent: .root, kind: .directory, name: [], mode: 0o755,
                               uid: UInt32(getuid()), gid: UInt32(getgid()), atime: now, mtime: now, ctime: now,
                               btime: now, generation: 1, nlink: 2,
                               allocShift: UInt8(UInt64(sb.allocUnit).trailingZeroBitCount))
        var content = CheckpointContent()
        content.inodes = [root]
        content.free = [BlockRange(start: sb.dataStartBlock, count: sb.dataBlockCount)]
        let header = CheckpointHeader(generation: 1, replaySeq: LogSequence(1), nextIno: InodeNumber(2), nextIntentID: 1,
                                      inodeCount: 0, extentCount: 0, freeExtentCount: 0, intentCount: 0,
                                      freeBlocks: sb.dataBlockCount.raw, chunkCount: 0, salt: sb.logSalt,
                                      time: UInt64(now))
        // The geometry guarantees room for two chunks, so this cannot fail.
        try! CheckpointIO.write(content, header: header, slot: 0, media: media, layout: layout)
        // 3. Slot 1 holds no checkpoint yet.
        let s1 = layout.slot(1).lowerBound
        media.store([UInt8](repeating: 0, count: CheckpointHeader.size), at: s1)
        media.persist(at: s1, count: CheckpointHeader.size)
        // 4. Backup, then primary.
        let bytes = sb.encode(state: .clean)
        media.store(bytes, at: Int(sb.backupOffset))
        media.persist(at: Int(sb.backupOffset), count: Superblock.size)
        media.store(bytes, at: 0)
        media.persist(at: 0, count: Superblock.size)
    }

    /// A description of a filesystem or other signature already on the region, or nil.
    public static func describeExisting(_ media: PersistentMedia) -> String? {
        switch Superblock.probe(media.view(at: 0, count: min(media.size, Superblock.size))) {
        case .valid(let sb, _):
            return "a daxfs filesystem (uuid \(sb.uuidString)" + (sb.label.isEmpty ? ")" : ", label \"\(sb.label)\")")
        case .corrupt(let why):
            return "a damaged daxfs superblock (\(why))"
        case .unsupported(let why):
            return "a daxfs filesystem of another format version (\(why))"
        case .absent:
            break
        }
        for bs in Geometry.blockSizes where media.size >= Int(bs) * 4 {
            if case .valid(let sb, _) = Superblock.probe(media.view(at: media.size - Int(bs), count: Superblock.size)) {
                return "a daxfs backup superblock (uuid \(sb.uuidString))"
            }
        }
        return ForeignSignature.detect(media.view(at: 0, count: min(media.size, ForeignSignature.probeLength)))
    }
}
