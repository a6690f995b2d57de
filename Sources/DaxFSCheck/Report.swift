/// The report of one fsck run: every problem found, what was done about it,
/// and the counts. Encoded as JSON by `daxfs fsck --json` (schema 1,
/// documented in daxfs(8)); the field names are stable.
public struct CheckReport: Sendable, Codable, Equatable {
    public struct Problem: Sendable, Codable, Equatable {
        public var code: ProblemCode
        public var pass: Int
        public var message: String
        public var preenSafe: Bool
        public var fix: String
        public var action: Action
    }

    public struct Counts: Sendable, Codable, Equatable {
        public var inodes = 0
        public var files = 0
        public var directories = 0
        public var extents = 0
        public var dataBlocks: UInt64 = 0
        public var usedBlocks: UInt64 = 0
        public var freeBlocks: UInt64 = 0
        public var pendingIntents = 0
        public var logTransactions = 0
        public var logRecords = 0
        public init() {}
    }

    public var schema = 1
    public var region: String
    public var mode: CheckMode
    /// True when the filesystem was clean and `-f` was not given: only the
    /// superblocks, the checkpoint header and the log tail were checked.
    public var quick = false
    public var problems: [Problem] = []
    public var counts = Counts()
    /// What a repair wrote, in order ("restored primary superblock", ...).
    public var writes: [String] = []
    /// Things the operator should know that are not problems of the filesystem.
    public var warnings: [String] = []
    /// The e2fsck exit bitmask: 0, 1 or 4 here (8, 16, 32 and 128 never reach a report).
    public var exitStatus: Int32 = 0
    public var elapsedNanoseconds: UInt64 = 0
    /// The checking process's peak resident memory (VmHWM), filled in by
    /// the command line tool just before it prints the report; 0 otherwise.
    public var peakMemoryBytes: UInt64 = 0

    public init(region: String, mode: CheckMode) { self.region = region; self.mode = mode }

    public var problemsFixed: Int { problems.filter { $0.action == .fixed }.count }
    public var problemsLeft: Int { problems.filter { $0.action == .notFixed }.count }
}

/// e2fsck's exit status bits.
public enum FsckExit {
    public static let clean: Int32 = 0
    public static let corrected: Int32 = 1
    public static let uncorrected: Int32 = 4
    public static let operational: Int32 = 8
    public static let usage: Int32 = 16
    public static let cancelled: Int32 = 32
    public static let `internal`: Int32 = 128
}
