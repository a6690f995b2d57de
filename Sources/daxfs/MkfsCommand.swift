import ArgumentParser
import DaxCore
import DaxFS
import DaxFSFormat
import PMem

extension Daxfs {
    struct Mkfs: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mkfs",
            abstract: "Format a region with daxfs.",
            discussion: """
                A regular file that does not exist is created at --size, preallocated \
                unless --sparse is given. An existing file keeps its size. A \
                device-DAX keeps its size, and the allocation unit defaults to its \
                alignment. mkfs writes only metadata, never the data area, so its \
                time does not grow with the region.

                mkfs refuses a region that already holds daxfs or another \
                recognisable signature unless --force is given, and a region that \
                another process has mounted.

                JSON (--json), schema 1: region, kind, dry_run, created, overwrote (what \
                --force replaced, or absent), uuid, label, region_size, block_size, alloc_unit, \
                log_offset, log_size, checkpoint_offset, checkpoint_slot_size, data_offset, \
                data_size, backup_offset (bytes), persistence ("msync" or "flush+fence"; absent for \
                --dry-run) and elapsed_ns.
                """)

        @Argument(help: "The region: a file or a device-DAX (/dev/daxX.Y).", completion: .file())
        var region: String

        @Option(name: .shortAndLong, help: ArgumentHelp("Size of a new file region: bytes or K/M/G/T, KiB/MiB/GiB/TiB, KB/MB/GB/TB.", valueName: "size"))
        var size: String?

        @Flag(help: "Create a new file region sparse instead of preallocating it.")
        var sparse = false

        @Option(name: .shortAndLong, help: ArgumentHelp("Block size: 4K (default), 8K, 16K, 32K or 64K.", valueName: "size"))
        var blockSize: String = "4K"

        @Option(name: .shortAndLong, help: ArgumentHelp("Default allocation unit for files: 4K, 2M or 1G (default: the device alignment, or 4K for a file).", valueName: "unit"))
        var allocUnit: String?

        @Option(name: .shortAndLong, help: ArgumentHelp("Filesystem label, up to 64 bytes of UTF-8.", valueName: "label"))
        var label: String = ""

        @Option(name: .shortAndLong, help: ArgumentHelp("Filesystem UUID (default: random).", valueName: "uuid"))
        var uuid: String?

        @Option(help: ArgumentHelp("Size of the metadata log (default: 1/128 of the region, 64K to 256M).", valueName: "size"))
        var logSize: String?

        @Option(help: ArgumentHelp("Size of each of the two checkpoint slots (default: 1/128 of the region, 64K to 2G).", valueName: "size"))
        var checkpointSize: String?

        @Flag(name: .shortAndLong, help: "Overwrite an existing filesystem or signature, or resize an existing file to --size.")
        var force = false

        @Flag(name: [.customShort("n"), .long], help: "Check everything and print the layout, but write nothing.")
        var dryRun = false

        @Flag(name: .shortAndLong, help: "Print nothing on success.")
        var quiet = false

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            var o = DaxFS.Mkfs.Options()
            if let s = size { o.size = try ByteSize.parse(s, what: "--size") }
            o.sparse = sparse
            o.blockSize = try parseUnit(blockSize, what: "--block-size")
            if let a = allocUnit {
                o.allocUnit = try parseUnit(a, what: "--alloc-unit")
                try checkUnitAgainstDevice(o.allocUnit!)
            }
            o.label = label
            if let u = uuid {
                guard let bytes = UUIDText.parse(u) else { throw DaxError(.EINVAL, "invalid --uuid '\(u)': expected 32 hex digits, as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx") }
                o.uuid = bytes
            }
            if let s = logSize { o.logSize = try ByteSize.parse(s, what: "--log-size") }
            if let s = checkpointSize { o.checkpointSize = try ByteSize.parse(s, what: "--checkpoint-size") }
            o.force = force
            o.dryRun = dryRun
            let r = try DaxFS.Mkfs.run(region, o)
            if json {
                try JSONOutput.print(MkfsJSON(r, region: region))
            } else if !quiet {
                print(describe(r))
            }
        }

        /// A device-DAX guarantees physical alignment only up to its own
        /// alignment, so a larger allocation unit would make extents that the
        /// mapping cannot honour (a "2M" extent on a 4K-aligned device is not
        /// 2M-aligned in memory and can never get a huge page). Refused here
        /// with the way out, before anything is written.
        func checkUnitAgainstDevice(_ unit: UInt32) throws {
            guard let info = try? RegionPath.inspect(region), info.kind == .deviceDAX,
                  UInt64(unit) > info.alignment else { return }
            let u = ByteSize.exact(UInt64(unit)), a = ByteSize.exact(info.alignment)
            throw DaxError(.EINVAL, "\(region) has a device alignment of \(a), which cannot honour --alloc-unit \(u): " +
                           "its extents would not be \(u)-aligned in the mapping; leave out --alloc-unit (the default " +
                           "is the device alignment, \(a)), or recreate the namespace with " +
                           "'ndctl create-namespace -m devdax --align \(u)'").with("region", region)
        }

        func parseUnit(_ text: String, what: String) throws -> UInt32 {
            let v = try ByteSize.parse(text, what: what)
            guard v > 0, v <= UInt64(UInt32.max) else { throw DaxError(.EINVAL, "invalid \(what) '\(text)'") }
            return UInt32(v)
        }

        func describe(_ r: DaxFS.Mkfs.Result) -> String {
            let sb = r.superblock
            var lines: [String] = []
            if let o = r.overwrote { lines.append("\(r.dryRun ? "would overwrite" : "overwrote") \(o)") }
            lines.append("\(r.dryRun ? "would format" : "formatted") \(region) (\(r.kind == .deviceDAX ? "device-DAX" : "file"), \(ByteSize.human(sb.regionSize)))")
            lines.append("  uuid        \(sb.uuidString)")
            if !sb.label.isEmpty { lines.append("  label       \(sb.label)") }
            lines.append("  block size  \(ByteSize.exact(UInt64(sb.blockSize)))   alloc unit \(ByteSize.exact(UInt64(sb.allocUnit)))")
            lines.append("  log         \(ByteSize.exact(sb.logSize)) at \(sb.logOffset)")
            lines.append("  checkpoint  2 x \(ByteSize.exact(sb.checkpointSlotSize)) at \(sb.checkpointOffset)")
            lines.append("  data        \(ByteSize.human(sb.dataSize)) (\(sb.dataBlockCount.raw) blocks) at \(sb.dataOffset)")
            if let p = r.persistencePath { lines.append("  persistence \(p.rawValue)") }
            return lines.joined(separator: "\n")
        }
    }
}

/// `mkfs --json`: the layout that was (or would be) written.
struct MkfsJSON: Encodable {
    var region: String
    var kind: String
    var dryRun: Bool
    var created: Bool
    var overwrote: String?
    var uuid: String
    var label: String
    var regionSize: UInt64
    var blockSize: UInt32
    var allocUnit: UInt32
    var logOffset: UInt64
    var logSize: UInt64
    var checkpointOffset: UInt64
    var checkpointSlotSize: UInt64
    var dataOffset: UInt64
    var dataSize: UInt64
    var backupOffset: UInt64
    var persistence: String?
    var elapsedNs: UInt64

    init(_ r: DaxFS.Mkfs.Result, region: String) {
        let sb = r.superblock
        self.region = region; kind = r.kind.rawValue; dryRun = r.dryRun; created = r.created; overwrote = r.overwrote
        uuid = sb.uuidString; label = sb.label; regionSize = sb.regionSize; blockSize = sb.blockSize
        allocUnit = sb.allocUnit; logOffset = sb.logOffset; logSize = sb.logSize; checkpointOffset = sb.checkpointOffset
        checkpointSlotSize = sb.checkpointSlotSize; dataOffset = sb.dataOffset; dataSize = sb.dataSize
        backupOffset = sb.backupOffset; persistence = r.persistencePath?.rawValue; elapsedNs = r.elapsedNanoseconds
    }
}
