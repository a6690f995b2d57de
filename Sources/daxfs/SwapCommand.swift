import ArgumentParser
import DaxCore
import DaxFS
import DaxFSFormat

/// `daxfs swap-extents REGION FILE1 FILE2`: exchange the block mappings of
/// two file ranges atomically (XFS_IOC_EXCHANGE_RANGE, and with
/// --if-unchanged XFS_IOC_COMMIT_RANGE).
struct SwapExtentsArguments: FileCommand {
    static let commandName = "swap-extents"
    static let writes = true
    static let abstract = "Exchange the extents of two file ranges atomically, without copying data."
    static let discussion = """
        Without --offset1, --offset2 and --length, the whole files are exchanged, sizes \
        included. With --length, [offset1, +length) of FILE1 and [offset2, +length) of FILE2 \
        are exchanged and the sizes stay; both ranges must lie inside their files. With \
        --to-eof, everything from the offsets to the end of both files is exchanged and the \
        sizes are swapped to match. Offsets and length must be multiples of the files' \
        allocation unit (both files must have the same unit), except a length that reaches \
        the end of both files. Ranges of one file must not overlap, and --to-eof needs two files.

        The swap is all or nothing, also across a crash: when it needs more than one \
        transaction, an intent is logged first and the next read-write mount (or fsck) \
        finishes it. Its cost grows with the number of extents, never with the bytes. \
        Whole files whose extents all lie inside the exchanged ranges (no preallocation \
        past EOF) exchange their extent maps outright: one transaction whatever the \
        number of extents, as XFS swaps inode forks, unless --step-extents is given.

        --if-unchanged TOKEN commits only if FILE2 has not changed since TOKEN was taken \
        from 'daxfs stat --json FILE2' (the "token" field, generation:change): write a new \
        version into a temporary file, then swap it in only if nobody changed the original. \
        --dry-run checks everything and reports what would move, changing nothing.

        Errors: EINVAL (alignment, a range outside its file, overlapping ranges, different \
        allocation units, a bad token; exit 64), EISDIR and ENOENT (exit 66), EBUSY (FILE2 \
        changed since the token, or its mappings are held; exit 75), EFBIG and ENOSPC \
        (exit 1). A failed command changes nothing. JSON (--json): {ino1, ino2, offset1, \
        offset2, length, blocks, extents1, extents2, mapped_blocks1, mapped_blocks2, \
        size_before1, size_before2, size_after1, size_after2, uses_intent, transactions, \
        dry_run}.
        """

    @Argument(help: "The first daxfs file.")
    var file1: String

    @Argument(help: "The second daxfs file.")
    var file2: String

    @Option(parsing: .unconditional, help: "Offset of the range in FILE1 in bytes (K/M/G/T suffixes).")
    var offset1: String?

    @Option(parsing: .unconditional, help: "Offset of the range in FILE2 in bytes (K/M/G/T suffixes).")
    var offset2: String?

    @Option(parsing: .unconditional, help: "Length of both ranges in bytes (K/M/G/T suffixes).")
    var length: String?

    @Flag(help: "Exchange from the offsets to the end of both files, and swap the sizes to match.")
    var toEof = false

    @Flag(help: "Check every precondition and report what would move; change nothing.")
    var dryRun = false

    @Option(help: ArgumentHelp("Swap only if FILE2's token (from 'daxfs stat --json') is unchanged; else EBUSY.", valueName: "token"))
    var ifUnchanged: String?

    @Option(help: ArgumentHelp("Extents of each range one step moves (default: 1/128 of the transaction limit in bytes, 8192); smaller steps make more, shorter transactions; given, it also turns off the exchange of whole maps.", valueName: "n"))
    var stepExtents: Int?

    @Flag(help: "Print what was swapped as JSON.")
    var json = false

    @Flag(name: [.short, .long], help: "Say what was swapped.")
    var verbose = false

    var readOnly: Bool { dryRun }

    func validate() throws {
        if toEof && length != nil { throw ValidationError("--to-eof and --length are mutually exclusive") }
        if !toEof && length == nil && (offset1 != nil || offset2 != nil) {
            throw ValidationError("with --offset1 or --offset2, give --length or --to-eof")
        }
        if let n = stepExtents, n < 1 { throw ValidationError("--step-extents must be at least 1") }
        if let t = ifUnchanged, ChangeToken(t) == nil {
            throw ValidationError("--if-unchanged takes a token \"generation:change\" as 'daxfs stat --json' prints it, not '\(t)'")
        }
    }

    func run(on fs: Filesystem) throws {
        let o1 = try offset1.map { try parseBytes($0, "offset1") } ?? 0
        let o2 = try offset2.map { try parseBytes($0, "offset2") } ?? 0
        let len = try length.map { try parseBytes($0, "length") }
        let i1: InodeNumber, i2: InodeNumber
        do { i1 = try fs.lookup(file1) } catch let e as DaxError { throw e.with("path", file1) }
        do { i2 = try fs.lookup(file2) } catch let e as DaxError { throw e.with("path", file2) }
        let plan: SwapPlan
        do {
            plan = try fs.swapExtents(i1, i2, offset1: o1, offset2: o2, length: len, toEOF: len == nil,
                                      ifUnchanged: ifUnchanged.flatMap(ChangeToken.init), dryRun: dryRun,
                                      stepExtents: stepExtents)
        } catch let e as DaxError {
            throw e.with("file1", file1).with("file2", file2)
        }
        if json { try JSONOutput.print(plan); return }
        if verbose || dryRun {
            let verb = dryRun ? "would swap" : "swapped"
            Out.line("\(file1) [\(plan.offset1), +\(plan.length)) <-> \(file2) [\(plan.offset2), +\(plan.length)): \(verb) \(plan.blocks) blocks; "
                + "\(plan.extents1) extents (\(plan.mappedBlocks1) blocks mapped) <-> \(plan.extents2) extents (\(plan.mappedBlocks2) blocks mapped)")
            if plan.sizeAfter1 != plan.sizeBefore1 || plan.sizeAfter2 != plan.sizeBefore2 {
                Out.line("sizes: \(file1) \(plan.sizeBefore1) -> \(plan.sizeAfter1), \(file2) \(plan.sizeBefore2) -> \(plan.sizeAfter2)")
            }
            Out.line("\(plan.transactions) transaction\(plan.transactions == 1 ? "" : "s")" + (plan.usesIntent ? ", behind an intent that recovery finishes" : ""))
        }
    }
}
