/// The problem table: every inconsistency fsck knows, with its pass, whether
/// preen (`-p`) may fix it without a human, and how it is fixed.
///
/// Codes are stable: they appear in the JSON report and in golden fixtures.
/// The fix of every problem from pass 2 onwards is the same mechanism: fsck
/// builds the corrected metadata state in DRAM and writes it as a fresh
/// checkpoint followed by an empty log (as xfs_repair rebuilds its btrees),
/// so a checksum is only ever computed over content that has been validated.
public enum ProblemCode: String, Sendable, Codable, CaseIterable {
    // Pass 1: superblocks.
    case primarySuperblockBad = "SB_PRIMARY_BAD"
    case backupSuperblockBad = "SB_BACKUP_BAD"
    case superblocksDiffer = "SB_COPIES_DIFFER"
    case stateWordInvalid = "SB_STATE_INVALID"
    case backupStateWord = "SB_BACKUP_STATE"
    case superblockReserved = "SB_RESERVED"
    // Pass 2: checkpoint and log.
    case checkpointHeaderBad = "CKPT_HEADER_BAD"
    case checkpointGeneration = "CKPT_GENERATION"
    case checkpointChunkBad = "CKPT_CHUNK_BAD"
    case checkpointEntryBad = "CKPT_ENTRY_BAD"
    case checkpointCounts = "CKPT_COUNTS"
    case checkpointReserved = "CKPT_RESERVED"
    case checkpointInconsistent = "CKPT_INCONSISTENT"
    case replaySeqSkipsLog = "CKPT_REPLAY_SEQ"
    case logTornTail = "LOG_TORN_TAIL"
    case logUnreachable = "LOG_UNREACHABLE"
    case logReplayFails = "LOG_REPLAY_FAILS"
    case intentInvalid = "INTENT_INVALID"
    case intentPending = "INTENT_PENDING"
    // Pass 3: inodes.
    case inodeDuplicate = "INODE_DUPLICATE"
    case inodeBad = "INODE_BAD"
    case rootBad = "ROOT_BAD"
    case rootMissing = "ROOT_MISSING"
    case inodeMode = "INODE_MODE"
    case inodeAllocUnit = "INODE_ALLOC_UNIT"
    case inodeFlags = "INODE_FLAGS"
    case inodeReserved = "INODE_RESERVED"
    case inodeName = "INODE_NAME"
    case nextInoLow = "NEXT_INO_LOW"
    case nextIntentLow = "NEXT_INTENT_LOW"
    case counterExhausted = "COUNTER_EXHAUSTED"
    // Pass 4: extent maps.
    case extentOutside = "EXTENT_OUTSIDE_DATA"
    case extentNoOwner = "EXTENT_NO_OWNER"
    case extentOverlap = "EXTENT_OVERLAP"
    case extentMisaligned = "EXTENT_MISALIGNED"
    // Pass 5: block ownership.
    case crossLinked = "BLOCKS_CROSS_LINKED"
    case freeAndOwned = "BLOCKS_FREE_AND_OWNED"
    case leaked = "BLOCKS_LEAKED"
    case freeMapBad = "FREE_MAP_BAD"
    // Pass 6: directory tree.
    case orphan = "INODE_ORPHAN"
    case directoryLoop = "DIR_LOOP"
    case nameDuplicate = "NAME_DUPLICATE"
    // Pass 7: counts.
    case sizeWrong = "SIZE_WRONG"
    case linkCount = "LINK_COUNT"
    case freeCount = "FREE_COUNT"

    /// The pass (1 to 7) that finds it.
    public var pass: Int { Self.table[self]!.pass }
    /// Whether preen (`-p`, `-a`) may fix it.
    public var preenSafe: Bool { Self.table[self]!.preen }
    /// How `-y` fixes it.
    public var fix: String { Self.table[self]!.fix }

    struct Entry { var pass: Int; var preen: Bool; var fix: String }

    static let table: [ProblemCode: Entry] = [
        .primarySuperblockBad: Entry(pass: 1, preen: false, fix: "restore the primary superblock from the backup"),
        .backupSuperblockBad: Entry(pass: 1, preen: true, fix: "rewrite the backup superblock from the primary"),
        .superblocksDiffer: Entry(pass: 1, preen: false, fix: "rewrite the copy whose checkpoint does not verify from the other"),
        .stateWordInvalid: Entry(pass: 1, preen: true, fix: "store the clean state word"),
        .backupStateWord: Entry(pass: 1, preen: true, fix: "rewrite the backup superblock with the clean state word"),
        .superblockReserved: Entry(pass: 1, preen: true, fix: "rewrite the superblocks with zero reserved bytes"),
        .checkpointHeaderBad: Entry(pass: 2, preen: false, fix: "rebuild the checkpoint from the chunks that verify"),
        .checkpointGeneration: Entry(pass: 2, preen: false, fix: "rebuild the checkpoint from the chunks that verify"),
        .checkpointChunkBad: Entry(pass: 2, preen: false, fix: "drop the chunk's entries; later passes reconnect or free what they held"),
        .checkpointEntryBad: Entry(pass: 2, preen: false, fix: "drop the entry; later passes reconnect or free what it held"),
        .checkpointCounts: Entry(pass: 2, preen: true, fix: "write a fresh checkpoint with the counts of its entries"),
        .checkpointReserved: Entry(pass: 2, preen: true, fix: "write a fresh checkpoint with zero reserved bytes"),
        .checkpointInconsistent: Entry(pass: 2, preen: false, fix: "write a fresh checkpoint of the repaired state"),
        .replaySeqSkipsLog: Entry(pass: 2, preen: false, fix: "replay the log from its first committed transaction, then write a fresh checkpoint"),
        .logTornTail: Entry(pass: 2, preen: true, fix: "cut the log at the last valid transaction (fresh checkpoint, empty log)"),
        .logUnreachable: Entry(pass: 2, preen: false, fix: "cut the log at the damage; the transactions after it are lost"),
        .logReplayFails: Entry(pass: 2, preen: false, fix: "cut the log before the transaction that does not fit"),
        .intentInvalid: Entry(pass: 2, preen: false, fix: "drop the intent"),
        .intentPending: Entry(pass: 2, preen: true, fix: "finish the intent through the engine's own recovery (read-write mount)"),
        .inodeDuplicate: Entry(pass: 3, preen: false, fix: "keep the first copy, drop the later one"),
        .inodeBad: Entry(pass: 3, preen: false, fix: "drop the inode; its blocks are freed and its children reconnected"),
        .rootBad: Entry(pass: 3, preen: false, fix: "make inode 1 a directory named \"\" whose parent is itself"),
        .rootMissing: Entry(pass: 3, preen: false, fix: "create a new root directory"),
        .inodeMode: Entry(pass: 3, preen: true, fix: "clear the mode bits outside 07777"),
        .inodeAllocUnit: Entry(pass: 3, preen: false, fix: "set the allocation unit to the block size or the root's"),
        .inodeFlags: Entry(pass: 3, preen: true, fix: "clear the flag bits version 1 does not define"),
        .inodeReserved: Entry(pass: 3, preen: true, fix: "rewrite the inode with zero reserved and padding bytes"),
        .inodeName: Entry(pass: 3, preen: false, fix: "move the inode to /lost+found as #INO"),
        .nextInoLow: Entry(pass: 3, preen: true, fix: "raise next_ino above the highest inode"),
        .nextIntentLow: Entry(pass: 3, preen: true, fix: "raise next_intent above the highest intent"),
        .counterExhausted: Entry(pass: 3, preen: true, fix: "lower next_ino or next_intent to one above the highest number in use"),
        .extentOutside: Entry(pass: 4, preen: false, fix: "remove the extent; its file range becomes a hole"),
        .extentNoOwner: Entry(pass: 4, preen: false, fix: "remove the extent; its blocks become free"),
        .extentOverlap: Entry(pass: 4, preen: false, fix: "cut the later extent's overlapping file range (a hole)"),
        .extentMisaligned: Entry(pass: 4, preen: false, fix: "trim the extent to its allocation unit; the rest becomes a hole"),
        .crossLinked: Entry(pass: 5, preen: false, fix: "cut the shared blocks from the later owner (higher region start, then higher inode); its range becomes a hole"),
        .freeAndOwned: Entry(pass: 5, preen: true, fix: "rebuild free space from the extent maps"),
        .leaked: Entry(pass: 5, preen: true, fix: "rebuild free space from the extent maps"),
        .freeMapBad: Entry(pass: 5, preen: true, fix: "rebuild free space from the extent maps"),
        .orphan: Entry(pass: 6, preen: false, fix: "reconnect the inode under /lost+found as #INO"),
        .directoryLoop: Entry(pass: 6, preen: false, fix: "break the loop: move one directory of it to /lost+found as #INO"),
        .nameDuplicate: Entry(pass: 6, preen: false, fix: "move the later inode to /lost+found as #INO"),
        .sizeWrong: Entry(pass: 7, preen: true, fix: "set the size (0 for a directory, at most 2^60 for a file)"),
        .linkCount: Entry(pass: 7, preen: true, fix: "set nlink to 1 for a file, 2 for a directory"),
        .freeCount: Entry(pass: 7, preen: true, fix: "write a fresh checkpoint with the counted free blocks"),
    ]
}

/// How fsck was asked to act.
public enum CheckMode: String, Sendable, Codable {
    /// `-n`: report only, map the region read-only.
    case check
    /// `-p` / `-a`: fix what is preen-safe; anything else stops with exit 4.
    case preen
    /// `-y`: fix everything.
    case repair
}

/// What was done about one problem.
public enum Action: String, Sendable, Codable {
    case fixed
    /// Reported only (`-n`, or preen met a problem that needs a human).
    case notFixed = "not-fixed"
}

/// The one place fsck decides whether to fix a problem.
///
/// `-n` fixes nothing. `-y` fixes everything. `-p` fixes a problem only when
/// every problem found is preen-safe: a repair rewrites the metadata as a
/// whole, so preen either makes the whole region consistent or leaves it
/// untouched and exits 4 ("UNEXPECTED INCONSISTENCY"), as e2fsck does.
public func decide(_ code: ProblemCode, mode: CheckMode, allFound: Set<ProblemCode>) -> Action {
    switch mode {
    case .check: return .notFixed
    case .repair: return .fixed
    case .preen: return allFound.allSatisfy(\.preenSafe) ? .fixed : .notFixed
    }
}
