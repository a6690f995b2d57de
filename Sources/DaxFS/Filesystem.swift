import DaxCore
import DaxFSFormat
import PMem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A daxfs filesystem mounted in this process.
///
/// Mounting takes the region's advisory lock (exclusive for read-write,
/// shared for read-only), maps the region, verifies the superblock and its
/// features, loads the current checkpoint and replays the log after it
/// (`Recovery`). A read-write mount then marks the superblock dirty (one
/// atomic 8-byte store) before it changes anything, and finishes any intent
/// the log left pending. `unmount` writes a checkpoint and marks it clean.
/// A read-only mount never writes a byte.
///
/// ## Lock order (the whole library follows it)
/// 1. `nsLock`, the namespace lock (filesystem level): shared for lookups,
///    exclusive for anything that adds, removes or renames a name;
/// 2. inode invalidate locks (`Inode.invalidate`, an `InvalidateLock` stored in the inode),
///    several in inode-number order: shared for mappings (as long as they
///    live) and copy-style read and write, exclusive for truncate, every
///    fallocate mode, dig-holes, unlink, rename over a file and
///    swap-extents, which wait for mappings to be released (EBUSY after
///    `Options.mappingDrainTimeout`; EDEADLK for a thread that holds one);
/// 3. inode metadata locks (`Inode.withReadLock`/`withWriteLock`, one
///    `WordLock` each), several always in inode-number order
///    (`withWriteLocks`): shared to read a file's map, size or data,
///    exclusive to change them;
/// 4. `logLock`: commit (append, fence, apply), checkpoint, and the zeroing
///    of a small reservation (at most `Allocator.zeroAtCommitBytes`), which
///    its commit does before its data fence;
/// 5. the allocator's lock, innermost: nothing is called while it is held.
///
/// A lookup that drops `nsLock` before it takes the inode lock re-checks
/// afterwards that the inode still exists (`Inode.freed`).
///
/// ## Persistence order (the crash contract of every operation)
/// Blocks handed out by the allocator are zeroed (non-temporal fill) and the
/// caller's data is stored before the commit (a small reservation is zeroed
/// by the commit itself, before that fence); `commit` fences once so that
/// zeroes and data are durable, then appends the transaction and fences
/// again: that second fence is the commit point. A crash before it leaves
/// the pre-state (reserved blocks are free again, because their ALLOC
/// records are in the lost transaction); a crash after it, the post-state.
public final class Filesystem: @unchecked Sendable {
    public struct Options: Sendable {
        public var readOnly = false
        /// Checkpoint when this many records have been logged since the last
        /// checkpoint, which bounds replay at mount. 0 disables it.
        public var checkpointAfterRecords = 1_000_000
        /// Condense the space map (checkpoint) when the ALLOC and FREE records
        /// logged since the checkpoint outnumber the free runs that encode the
        /// same free space optimally by this factor, and there are at least
        /// `condenseMinimumRecords` of them. 0 disables it.
        public var condenseFactor = 4
        public var condenseMinimumRecords = 16_384
        /// Write a checkpoint at unmount (so the next mount replays nothing).
        public var checkpointOnUnmount = true
        /// A lower cap on the size of one transaction, in bytes (the default is
        /// a quarter of the log, at most 1 MiB). A smaller cap makes large
        /// removals and writes take the multi-transaction paths sooner.
        public var transactionLimit: Int?
        /// Finish pending intents at a read-write mount.
        public var finishIntentsAtMount = true
        /// When an operation's transaction becomes durable; see `Durability`.
        public var durability = Durability.eachOperation
        /// How long an operation that takes blocks away from a file (truncate,
        /// fallocate, unlink, ...) waits for the file's mappings to be
        /// released before it fails with EBUSY, in seconds.
        public var mappingDrainTimeout = 2.0
        /// Test-only persistence bugs; see `FaultInjection`.
        public var faults: FaultInjection = []
        public init(readOnly: Bool = false) { self.readOnly = readOnly }
    }

    /// When a committed operation is durable.
    public enum Durability: Sendable {
        /// Each operation is durable when it returns (a fence per commit).
        case eachOperation
        /// Operations are durable at the next `sync()` or `syncFile`, at
        /// unmount, at a checkpoint, or when an operation that cannot wait
        /// is logged. Transactions that only add (creates, renames,
        /// attributes that do not shrink a file, allocations) wait in a
        /// 64 KiB DRAM buffer and are written and fenced together
        /// (`Journal.stage`, a group commit); the others (frees, unmaps,
        /// shifts, swaps, intents, shrinking a size) write that buffer first
        /// and are then durable when they return, as under `eachOperation`.
        /// `Mapping.persist` makes stored bytes durable, not staged mappings. Every operation is still atomic, and a
        /// crash keeps a prefix of the operations, in order: replay stops at
        /// the first transaction that did not reach the media. `daxfs io`
        /// uses this and syncs at the end, as a journaling filesystem commits
        /// a batch of metadata at once.
        case deferred
    }

    public let path: String
    public let superblock: Superblock
    public let layout: Layout
    public let media: PersistentMedia
    public let options: Options
    /// True when mounted read-only, asked for or forced by unknown ro_compat features.
    public let isReadOnly: Bool
    /// Why the mount is read-only when the caller did not ask for it.
    public let readOnlyReason: String?
    /// The mount state found on media before this mount changed it.
    public let stateAtMount: MountState
    /// What mount found and replayed.
    public let recovery: RecoveryReport

    let state: MetadataState
    let journal: Journal
    let nsLock = RWLock()
    let logLock = Lock()
    let blockSize: UInt64
    let generationStream = Atomic<UInt64>(randomUInt64())
    /// The owner new inodes get: this process's real uid and gid, read once
    /// at mount (two system calls per create cost a twentieth of a batch of
    /// `touch`es). A process that changes its ids after mounting keeps the
    /// ones it mounted with, as files it creates through this mount.
    let creator = (uid: UInt32(getuid()), gid: UInt32(getgid()))
    private var lock: RegionLock?
    /// `unmountedBit` and `shutDownBit`: read without a lock by every
    /// operation's first check (a lock there cost two round trips a call).
    private let status = Atomic<UInt8>(0)
    private static let unmountedBit: UInt8 = 1, shutDownBit: UInt8 = 2
    private let shutDownLock = Lock()
    /// Set when an operation failed after its intent committed: the intent
    /// stays pending for the next mount to finish, so nothing may change the
    /// file (or anything) before then. Guarded by `shutDownLock`; set before
    /// `shutDownBit`, so a thread that sees the bit finds the reason.
    private var shutDownReason: String?

    /// Mounts the region at `path`.
    ///
    /// Errors: ENOENT, EISDIR, ENODEV (not a region), EBUSY (mounted by another
    /// process, named by pid), ENODATA (no daxfs here), EFSCORRUPTED (damaged
    /// superblock, checkpoint or log), EOPNOTSUPP (unknown incompat features).
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
        self.options = options
        let (sb, mountState) = try SuperblockReader.primary(media, path: path)
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
        blockSize = UInt64(sb.blockSize)
        isReadOnly = readOnly
        readOnlyReason = reason
        stateAtMount = mountState
        let recovered: Recovery.Result
        do {
            recovered = try Recovery.run(media: media, layout: layout)
        } catch let e as DaxError {
            throw e.with("region", path)
        }
        state = recovered.state
        journal = recovered.journal
        if let cap = options.transactionLimit { journal.transactionLimit = max(512, cap) }
        recovery = recovered.report
        if !readOnly {
            setState(.dirty)
            if recovery.transactionsDropped > 0 || mountState != .clean {
                logLock.withLock { journal.clearBeyondTail(tornTail: recovery.transactionsDropped > 0) }
            }
            if options.finishIntentsAtMount { try finishPendingIntents() }
        }
    }

    /// Stores the mount state word of the primary superblock and persists it.
    private func setState(_ s: MountState) {
        media.storeWord(s.word, at: Superblock.stateWordOffset)
        media.persist(at: Superblock.stateWordOffset, count: 8)
    }

    /// Checkpoints (unless nothing was logged since the last one), marks the
    /// filesystem clean and releases the region. Idempotent. The caller must
    /// have finished every operation on this filesystem.
    public func unmount() throws {
        let before = status.bitwiseOr(Self.unmountedBit, ordering: .acquiringAndReleasing).oldValue
        guard before & Self.unmountedBit == 0 else { return }
        defer {
            lock?.release()
            lock = nil
        }
        if !isReadOnly {
            sync()
            if options.checkpointOnUnmount {
                try logLock.withLock { if journal.tail > 0 { try checkpointLocked() } }
            }
            setState(.clean)
        }
    }

    /// Makes every committed operation durable: writes the staged
    /// transactions (fence, copy, fence) or, with none staged, one fence.
    /// Needed only with `Durability.deferred`; cheap otherwise.
    public func sync() {
        guard !isReadOnly else { return }
        logLock.withLock {
            if journal.stagedBytes > 0 { journal.writeStaged(faults: options.faults) } else { media.fence() }
        }
    }

    /// Refuses every later change (EIO) until the next mount: for an
    /// operation whose intent committed but whose later steps failed, so
    /// that recovery finishes the intent on the state it was logged against.
    func shutDown(_ why: String) {
        shutDownLock.withLock { if shutDownReason == nil { shutDownReason = why } }
        status.bitwiseOr(Self.shutDownBit, ordering: .releasing)
    }

    /// Throws EBADF after `unmount`. Takes no lock.
    func checkMounted() throws {
        if status.load(ordering: .acquiring) & Self.unmountedBit != 0 { throw notMounted }
    }

    private var notMounted: DaxError { DaxError(.EBADF, "\(path) is not mounted any more").with("region", path) }

    /// Throws EBADF after `unmount`, EIO after a shutdown, EROFS on a
    /// read-only mount. Takes no lock unless it throws EIO.
    func checkWritable() throws {
        let st = status.load(ordering: .acquiring)
        if st & Self.unmountedBit != 0 { throw notMounted }
        if st & Self.shutDownBit != 0 {
            let why = shutDownLock.withLock { shutDownReason ?? "" }
            throw DaxError(.EIO, "\(path) was shut down: \(why); unmount and mount again to finish it").with("region", path)
        }
        if isReadOnly {
            throw DaxError(.EROFS, "\(path) is mounted read-only" + (readOnlyReason.map { ": \($0)" } ?? "")).with("region", path)
        }
    }

    deinit {
        // A mount dropped without unmount stays dirty on media, as after a
        // crash; but what it committed reaches the log, as it would have
        // without staging (a crash, or kill -9, is what loses staged work).
        if !isReadOnly && journal.stagedBytes > 0 { journal.writeStaged(faults: options.faults) }
        lock?.release()
    }
}
