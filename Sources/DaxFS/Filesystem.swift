import DaxCore
import DaxFSFormat
import PMem

/// A daxfs filesystem mounted in this process.
///
/// Mounting takes the region's advisory lock (exclusive for read-write,
/// shared for read-only), maps the region, verifies the superblock and its
/// features, loads the current checkpoint and scans the log after it. A
/// read-write mount marks the superblock dirty (one atomic 8-byte store)
/// before it changes anything; `unmount` marks it clean again. A read-only
/// mount never writes a byte.
///
/// Lock order (whole library): filesystem-level locks, then inode
/// invalidate locks in inode-number order, then the inode metadata lock,
/// then the allocator.
public final class Filesystem: @unchecked Sendable {
    public struct Options: Sendable {
        public var readOnly = false
        public init(readOnly: Bool = false) { self.readOnly = readOnly }
    }

    public let path: String
    public let superblock: Superblock
    public let layout: Layout
    public let media: PersistentMedia
    /// True when mounted read-only, asked for or forced by unknown ro_compat features.
    public let isReadOnly: Bool
    /// Why the mount is read-only when the caller did not ask for it.
    public let readOnlyReason: String?
    /// The mount state found on media before this mount changed it.
    public let stateAtMount: MountState
    public let checkpointSlot: Int
    public let checkpoint: CheckpointHeader
    public let logScan: LogScan
    private var lock: RegionLock?
    private var mounted = true

    /// Mounts the region at `path`.
    ///
    /// Errors: ENOENT, EISDIR, ENODEV (not a region), EBUSY (mounted by another
    /// process, named by pid), ENODATA (no daxfs here), EFSCORRUPTED (damaged
    /// superblock or checkpoint), EOPNOTSUPP (unknown incompat features).
    public static func mount(_ path: String, options: Options = Options()) throws -> Filesystem {
        _ = try RegionPath.inspect(path)
        let lock = try RegionLock(path: path, exclusive: !options.readOnly)
        let media = try MappedRegion.map(path, readOnly: options.readOnly, lock: lock)
        return try Filesystem(path: path, media: media, lock: lock, options: options)
    }

    /// Mounts over an already-mapped media (test doubles, crash images).
    public static func mount(media: PersistentMedia, options: Options = Options(), name: String = "<media>") throws -> Filesystem {
        try Filesystem(path: name, media: media, lock: nil, options: options)
    }

    private init(path: String, media: PersistentMedia, lock: RegionLock?, options: Options) throws {
        self.path = path
        self.media = media
        self.lock = lock
        let (sb, state) = try SuperblockReader.primary(media, path: path)
        let unknownIncompat = sb.features.unknownIncompat
        if unknownIncompat != 0 {
            throw DaxError(.EOPNOTSUPP, "\(path) uses incompatible features this daxfs does not know (\(FeatureMasks.names(unknownIncompat).joined(separator: ", "))); refusing to mount").with("region", path)
        }
        var readOnly = options.readOnly || media.isReadOnly
        var reason: String?
        if sb.features.unknownRoCompat != 0 && !readOnly {
            readOnly = true
            reason = "read-only compatible features unknown to this daxfs (\(FeatureMasks.names(sb.features.unknownRoCompat).joined(separator: ", ")))"
        }
        superblock = sb
        layout = Layout(sb)
        isReadOnly = readOnly
        readOnlyReason = reason
        stateAtMount = state
        let (slot, header) = try CheckpointIO.current(media: media, layout: layout)
        _ = try CheckpointIO.read(header: header, slot: slot, media: media, layout: layout)
        checkpointSlot = slot
        checkpoint = header
        logScan = LogScan.scan(media: media, layout: layout, replaySeq: header.replaySeq)
        if !readOnly { setState(.dirty) }
    }

    /// Stores the mount state word of the primary superblock and persists it.
    private func setState(_ s: MountState) {
        media.storeWord(s.word, at: Superblock.stateWordOffset)
        media.persist(at: Superblock.stateWordOffset, count: 8)
    }

    /// Marks the filesystem clean (read-write mounts) and releases the region.
    /// Idempotent.
    public func unmount() throws {
        guard mounted else { return }
        mounted = false
        if !isReadOnly { setState(.clean) }
        lock?.release()
        lock = nil
    }

    deinit {
        // A mount dropped without unmount stays dirty on media, as after a crash.
        lock?.release()
    }
}
