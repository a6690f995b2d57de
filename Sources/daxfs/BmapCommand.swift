import ArgumentParser
import DaxCore
import DaxFS
import DaxFSFormat

/// One row of `bmap`: a mapped extent or a hole, in file order.
struct BmapRow: Encodable {
    var fileOffset: UInt64
    var length: UInt64
    var fileBlock: UInt64
    var blocks: UInt64
    /// The first region block, absent for a hole.
    var regionBlock: UInt64?
    var hole: Bool
    /// Aligned to the file's allocation unit, in the file and in the region.
    var aligned: Bool
}

struct BmapArguments: FileCommand {
    static let commandName = "bmap"
    static let writes = false
    static let abstract = "Show the extent map of a file, in the spirit of xfs_bmap -v."
    static let discussion = "Holes are shown up to the end of the file. JSON (--json): \(BmapArguments.schema)."

    @Flag(name: .short, help: "Verbose: byte ranges, region byte offsets and flags, as xfs_bmap -v.")
    var verbose = false

    @Flag(help: "Print the map as JSON.")
    var json = false

    @Argument(help: "The daxfs file.")
    var path: String

    static let schema = """
        {path, ino, size, block_size, alloc_unit, extents (mapped extents), blocks (mapped \
        blocks), map: [{file_offset, length (bytes), file_block, blocks, region_block (absent \
        for a hole), hole, aligned}]}
        """

    func run(on fs: Filesystem) throws {
        let ino = try fs.lookup(path)
        let st = try fs.stat(ino: ino)
        if st.kind == .directory { throw DaxError(.EISDIR, "\(path) is a directory").with("path", path) }
        let bs = UInt64(fs.superblock.blockSize)
        let unit = max(1, st.allocUnit / bs)
        let endBlock = (st.size + bs - 1) / bs
        var rows: [BmapRow] = []
        var at: UInt64 = 0
        let extents = try fs.extents(ino)
        for e in extents {
            if e.fileBlock > at {
                rows.append(BmapRow(fileOffset: at * bs, length: (e.fileBlock - at) * bs, fileBlock: at, blocks: e.fileBlock - at,
                                    regionBlock: nil, hole: true, aligned: false))
            }
            rows.append(BmapRow(fileOffset: e.fileBlock * bs, length: e.count * bs, fileBlock: e.fileBlock, blocks: e.count,
                                regionBlock: e.regionBlock, hole: false,
                                aligned: e.fileBlock % unit == 0 && e.regionBlock % unit == 0 && e.count % unit == 0))
            at = e.fileEnd
        }
        if at < endBlock {
            rows.append(BmapRow(fileOffset: at * bs, length: (endBlock - at) * bs, fileBlock: at, blocks: endBlock - at,
                                regionBlock: nil, hole: true, aligned: false))
        }
        if json {
            struct Map: Encodable {
                var path: String; var ino: UInt64; var size: UInt64; var blockSize: UInt64; var allocUnit: UInt64
                var extents: Int; var blocks: UInt64; var map: [BmapRow]
            }
            try JSONOutput.print(Map(path: path, ino: st.ino, size: st.size, blockSize: bs, allocUnit: st.allocUnit,
                                     extents: extents.count, blocks: st.blocks, map: rows))
            return
        }
        Out.line("\(path): \(extents.count) extent\(extents.count == 1 ? "" : "s"), \(st.blocks) blocks of \(ByteSize.exact(bs)), size \(st.size), alloc unit \(ByteSize.exact(st.allocUnit))")
        if verbose {
            Out.line(" EXT: FILE-OFFSET (bytes)                 REGION-OFFSET (bytes)               BLOCKS  FLAGS")
        } else {
            Out.line(" EXT: FILE-BLOCKS            REGION-BLOCKS")
        }
        var n = 0
        for r in rows {
            let ext = r.hole ? "   -" : String(repeating: " ", count: max(0, 4 - String(n).count)) + String(n)
            if !r.hole { n += 1 }
            if verbose {
                let fileRange = "[\(r.fileOffset)..\(r.fileOffset + r.length - 1)]"
                let region = r.regionBlock.map { "[\($0 * bs)..\(($0 + r.blocks) * bs - 1)]" } ?? "hole"
                let flags = r.hole ? "hole" : (r.aligned ? "aligned" : "")
                Out.line("\(ext): \(pad(fileRange, 37)) \(pad(region, 35)) \(pad(String(r.blocks), 7, right: true))  \(flags)")
            } else {
                let fileRange = "[\(r.fileBlock)..\(r.fileBlock + r.blocks - 1)]"
                let region = r.regionBlock.map { "\($0)..\($0 + r.blocks - 1)" } ?? "hole"
                Out.line("\(ext): \(pad(fileRange, 20)) \(region)")
            }
        }
    }

    func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}

struct DfArguments: FileCommand {
    static let commandName = "df"
    static let writes = false
    static let abstract = "Show space usage and free-space fragmentation."
    static let discussion = "JSON (--json): \(DfArguments.schema)."

    @Flag(help: "Print the usage as JSON.")
    var json = false

    static let schema = """
        {size (data area bytes), used, free (bytes), block_size, data_blocks, used_blocks, \
        free_blocks, free_runs, largest_free_run (bytes), fragmentation (percent of the free \
        space outside the largest free run), inodes}
        """

    func run(on fs: Filesystem) throws {
        let u = try fs.usage()
        let bs = u.blockSize
        let frag = u.freeBlocks == 0 ? 0 : Double(u.freeBlocks - u.largestFreeRun) * 100 / Double(u.freeBlocks)
        if json {
            struct DF: Encodable {
                var size, used, free, blockSize, dataBlocks, usedBlocks, freeBlocks: UInt64
                var freeRuns: Int; var largestFreeRun: UInt64; var fragmentation: Double; var inodes: Int
            }
            try JSONOutput.print(DF(size: u.dataBlocks * bs, used: u.usedBlocks * bs, free: u.freeBlocks * bs, blockSize: bs,
                                    dataBlocks: u.dataBlocks, usedBlocks: u.usedBlocks, freeBlocks: u.freeBlocks, freeRuns: u.freeRuns,
                                    largestFreeRun: u.largestFreeRun * bs, fragmentation: (frag * 10).rounded() / 10, inodes: u.inodes))
            return
        }
        let pct = u.dataBlocks == 0 ? 0 : Int((Double(u.usedBlocks) * 100 / Double(u.dataBlocks)).rounded(.up))
        Out.line("Size       Used       Free       Use%  Largest free  Free runs  Fragmentation  Inodes")
        func col(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(1, w - s.count)) }
        Out.line(col(ByteSize.human(u.dataBlocks * bs), 11) + col(ByteSize.human(u.usedBlocks * bs), 11)
                 + col(ByteSize.human(u.freeBlocks * bs), 11) + col("\(pct)%", 6) + col(ByteSize.human(u.largestFreeRun * bs), 14)
                 + col(String(u.freeRuns), 11) + col(String(format1(frag)) + "%", 15) + String(u.inodes))
    }

    func format1(_ v: Double) -> String {
        let t = Int((v * 10).rounded())
        return "\(t / 10).\(t % 10)"
    }
}

