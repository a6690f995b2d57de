import ArgumentParser
import DaxCore
import DaxFS
import DaxFSFormat
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A command that works on a mounted filesystem: everything after REGION.
///
/// Each one is a subcommand (`daxfs ls REGION PATH`, which mounts the region
/// for that one command) and a batch command (`daxfs io REGION -c 'ls PATH'`,
/// where one mount serves every command). Both parse the same arguments, so
/// the grammar is the same.
protocol FileCommand: ParsableArguments {
    /// The name in `daxfs io` scripts; the same as the subcommand's.
    static var commandName: String { get }
    /// The subcommand's one-line help and its longer description.
    static var abstract: String { get }
    static var discussion: String { get }
    /// True when the command changes the filesystem (it mounts read-write).
    static var writes: Bool { get }
    /// Whether this invocation mounts read-only: `!writes`, unless the
    /// arguments say otherwise (a `--dry-run` of a command that writes).
    var readOnly: Bool { get }
    func run(on fs: Filesystem) throws
}

extension FileCommand {
    static var discussion: String { "" }
    var readOnly: Bool { !Self.writes }
}

/// The subcommand of a file command: REGION, then the command's own
/// arguments; it mounts the region for that one command.
struct FileSubcommand<A: FileCommand>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: A.commandName, abstract: A.abstract, discussion: A.discussion)
    }

    @Argument(help: regionHelp, completion: .file())
    var region: String

    @OptionGroup var args: A

    func run() throws { try args.mountAndRun(region) }
}

/// Commands whose arguments are a list of paths and options with defaults.
/// `setDefaults` must give every option its default value: a property
/// wrapper that is neither parsed nor assigned traps when it is read.
protocol PathListCommand: FileCommand {
    var paths: [String] { get set }
    mutating func setDefaults()
    /// Runs the command on `operands` with every option at its default, as
    /// `run(on:)` of a command parsed from those words would.
    ///
    /// `daxfs io` runs a line whose words are all operands (none starts with
    /// '-') this way, without building the command: the argument parser's
    /// property wrappers cost about 5 µs a line to make and fill, a tenth of
    /// a batch of 100,000 `touch` lines. A command whose `run(on:)` reads only
    /// `paths` implements this and has `run(on:)` call it.
    static func run(operands: [String], on fs: Filesystem) throws
}

extension PathListCommand {
    mutating func setDefaults() {}

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one path") }
    }

    static func run(operands: [String], on fs: Filesystem) throws {
        var c = Self()
        c.paths = operands
        c.setDefaults()
        try c.run(on: fs)
    }
}

extension FileCommand {
    /// Mounts `region` (read-only unless the command writes), runs, unmounts.
    func mountAndRun(_ region: String) throws {
        let fs = try Filesystem.mount(region, options: .init(readOnly: readOnly))
        defer { try? fs.unmount() }
        try run(on: fs)
        try fs.unmount()
    }
}

/// Every file command, for `daxfs io`.
enum FileCommands {
    static let all: [any FileCommand.Type] = [
        LsArguments.self, StatArguments.self, MkdirArguments.self, TouchArguments.self, RmArguments.self, RmdirArguments.self,
        MvArguments.self, PutArguments.self, GetArguments.self, CatArguments.self, WriteArguments.self,
        ReadArguments.self, TruncateArguments.self, FallocateArguments.self, BmapArguments.self, DfArguments.self,
        ChattrArguments.self, LsattrArguments.self, SwapExtentsArguments.self,
    ]

    static func named(_ name: String) -> (any FileCommand.Type)? { all.first { $0.commandName == name } }

    /// Their subcommands, in the same order.
    static var subcommands: [ParsableCommand.Type] { all.map { subcommand($0) } }

    private static func subcommand<A: FileCommand>(_ type: A.Type) -> ParsableCommand.Type { FileSubcommand<A>.self }
}

/// The help text of the REGION argument, shared by every file command.
let regionHelp = ArgumentHelp("The region: a file or a device-DAX (/dev/daxX.Y).")

/// Standard output for the file commands: lines and raw bytes through one
/// buffer, written to descriptor 1 in large writes, so that batch output
/// stays in order and binary output is not reinterpreted.
enum Out {
    private static let buffer = Mutex<[UInt8]>([])
    private static let limit = 1 << 20

    static func line(_ s: String) {
        let full = buffer.withLock { b -> Bool in
            b.append(contentsOf: s.utf8)
            b.append(0x0A)
            return b.count >= limit
        }
        if full { try? flush() }
    }

    static func bytes(_ bytes: UnsafeRawBufferPointer) throws {
        try flush()
        try HostFile.standardOutput.write(bytes)
    }

    /// Writes what is buffered. Throws when standard output cannot take it.
    static func flush() throws {
        let pending = buffer.withLock { b -> [UInt8] in
            defer { b.removeAll(keepingCapacity: true) }
            return b
        }
        try pending.withUnsafeBytes { try HostFile.standardOutput.write($0) }
    }
}

/// Parses a byte count or offset as users type it (K/M/G/T suffixes).
/// Negative values and garbage give EINVAL naming the option.
func parseBytes(_ text: String, _ what: String) throws -> UInt64 {
    try ByteSize.parse(text, what: what)
}

/// A mode like 644 or 0o755.
func parseMode(_ text: String) throws -> UInt32 {
    let digits = text.hasPrefix("0o") ? String(text.dropFirst(2)) : text
    guard let m = UInt32(digits, radix: 8), m <= 0o7777 else {
        throw DaxError(.EINVAL, "invalid mode '\(text)': expected octal digits up to 7777")
    }
    return m
}

/// `ls -l`-style permission string for a kind and mode.
func modeString(_ kind: InodeKind, _ mode: UInt32) -> String {
    var s = kind == .directory ? "d" : "-"
    let bits: [(UInt32, Character)] = [(0o400, "r"), (0o200, "w"), (0o100, "x"), (0o040, "r"), (0o020, "w"), (0o010, "x"),
                                       (0o004, "r"), (0o002, "w"), (0o001, "x")]
    for (bit, c) in bits { s.append(mode & bit != 0 ? c : Character("-")) }
    return s
}

/// A time in nanoseconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC).
func timeString(_ ns: Int64) -> String {
    var t = time_t(ns / 1_000_000_000)
    var tm = Glibc.tm()
    gmtime_r(&t, &tm)
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday)) \(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))"
}

/// Progress on a terminal: one line on standard error, redrawn at most
/// ten times a second, only when standard error is a terminal and the job
/// is large enough to be worth watching.
struct Progress {
    let label: String
    let total: UInt64
    let enabled: Bool
    private var last: UInt64 = 0

    init(_ label: String, total: UInt64, threshold: UInt64 = 64 << 20) {
        self.label = label
        self.total = total
        enabled = total >= threshold && isatty(2) != 0
    }

    mutating func update(_ done: UInt64) {
        guard enabled else { return }
        let now = monotonicNanoseconds()
        guard now - last >= 100_000_000 || done == total else { return }
        last = now
        let pct = total == 0 ? 100 : Int(done * 100 / total)
        writeStderr("\r\(label): \(ByteSize.human(done)) of \(ByteSize.human(total)) (\(pct)%)\u{1B}[K")
    }

    func finish() {
        if enabled { writeStderr("\r\u{1B}[K") }
    }
}
