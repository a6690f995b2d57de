import DaxCore
import DaxFSFormat

/// The golden fixtures of fsck, one per problem class, as e2fsprogs' f_*
/// tests: each is the populated image (`FsckImages.populated`) with one
/// kind of damage. Tests/CheckTests/Fixtures/NAME/expect.1 and expect.2
/// hold the report and exit status of `fsck -fy` and of the `fsck -fn` after it.
public enum FsckFixtures {
    public static let names = [
        "f_clean", "f_sb_primary_bad", "f_sb_backup_bad", "f_sb_copies_differ", "f_state_invalid",
        "f_log_torn_tail", "f_log_unreachable", "f_intent_pending", "f_ckpt_header_bad", "f_ckpt_chunk_bad",
        "f_extent_outside", "f_extent_on_metadata", "f_cross_linked", "f_free_leaked", "f_free_and_owned",
        "f_size_link", "f_orphan", "f_dir_loop", "f_name_duplicate", "f_root_bad",
    ]

    public static func build(_ name: String) throws -> [UInt8] {
        if name == "f_intent_pending" { return try FsckImages.pendingIntent() }
        var m = try FsckImage(try FsckImages.populated())
        let inodes = m.inodeEntries(), extents = m.extentEntries()
        // Inode numbers of the populated image: 1 root, 2 /a, 3 /a/sub, 4 /c, 5 /a/f1, 6 /b, 7 /a/sub/g, 8 /c/empty (checkpoint); 9 /d, 10 /e (log).
        func inode(_ ino: UInt64, _ field: Field, _ value: UInt64) {
            let o = inodes[ino]! + field.offset
            switch field.size {
            case 1: m.set(UInt8(truncatingIfNeeded: value), at: o)
            case 2: m.set(UInt16(truncatingIfNeeded: value), at: o)
            case 4: m.set(UInt32(truncatingIfNeeded: value), at: o)
            default: m.set(value, at: o)
            }
            m.sealChunk(m.chunkIndex(holding: o))
        }
        switch name {
        case "f_clean": break
        case "f_sb_primary_bad": m.set(UInt64(0), at: 0)
        case "f_sb_backup_bad": m.set(UInt32(0xDEAD), at: Int(m.sb.backupOffset) + Superblock.F.crc.offset)
        case "f_sb_copies_differ":
            m.set(UInt64(0x1234), at: Int(m.sb.backupOffset) + Superblock.F.mkfsTime.offset)
            m.sealSuperblock(at: Int(m.sb.backupOffset))
        case "f_state_invalid": m.set(UInt32(7), at: Superblock.F.state.offset)
        case "f_log_torn_tail":
            let last = m.transactions().last!
            m.set(UInt8(0xFF) ^ m.bytes[last.offset + last.length - 1], at: last.offset + last.length - 1)
        case "f_log_unreachable":
            let first = m.transactions().first!
            m.set(UInt32(0), at: first.offset + TransactionHeader.F.magic.offset)
        case "f_ckpt_header_bad": m.set(UInt64(99), at: m.slotOffset + CheckpointHeader.F.time.offset)
        case "f_ckpt_chunk_bad":
            let c = m.firstChunk(.extents)!
            m.set(UInt8(0xAB), at: m.chunkOffset(c) + CheckpointChunk.headerSize + 9)
        case "f_extent_outside":
            let o = extents[5]! + ExtentRecord.F.regionBlock.offset
            m.set(m.sb.dataEndBlock + 10, at: o)
            m.sealChunk(m.chunkIndex(holding: o))
        case "f_extent_on_metadata":
            let o = extents[6]! + ExtentRecord.F.regionBlock.offset
            m.set(m.sb.logOffset / UInt64(m.sb.blockSize), at: o)
            m.sealChunk(m.chunkIndex(holding: o))
        case "f_cross_linked":
            // /b's first extent is pointed at /a/f1's blocks, whose free-space twin is made free.
            let o = extents[6]! + ExtentRecord.F.regionBlock.offset
            m.set(m.u64(extents[5]! + ExtentRecord.F.regionBlock.offset), at: o)
            m.sealChunk(m.chunkIndex(holding: o))
        case "f_free_leaked":
            let c = m.firstChunk(.free)!
            let o = m.chunkOffset(c) + CheckpointChunk.headerSize + BlockRange.F.count.offset
            m.set(m.u64(o) - 5, at: o)
            m.set(m.header.freeBlocks - 5, at: m.slotOffset + CheckpointHeader.F.freeBlocks.offset)
            m.sealChunk(c); m.sealCheckpointHeader()
        case "f_free_and_owned":
            let c = m.firstChunk(.free)!
            let o = m.chunkOffset(c) + CheckpointChunk.headerSize
            let start = m.u64(o + BlockRange.F.start.offset)
            m.set(start - 2, at: o + BlockRange.F.start.offset)
            m.set(m.u64(o + BlockRange.F.count.offset) + 2, at: o + BlockRange.F.count.offset)
            m.set(m.header.freeBlocks + 2, at: m.slotOffset + CheckpointHeader.F.freeBlocks.offset)
            m.sealChunk(c); m.sealCheckpointHeader()
        case "f_size_link":
            inode(2, InodeRecord.F.size, 4096)
            inode(5, InodeRecord.F.nlink, 3)
        case "f_orphan": inode(7, InodeRecord.F.parent, 42)
        case "f_dir_loop":
            inode(2, InodeRecord.F.parent, 3)            // /a under /a/sub, which is under /a
        case "f_name_duplicate":
            // /c/empty renamed "sub" and moved into /a, where "sub" is taken.
            let o = inodes[8]!
            m.set(UInt64(2), at: o + InodeRecord.F.parent.offset)
            m.set(UInt16(3), at: o + InodeRecord.F.nameLength.offset)
            for (i, b) in "sub".utf8.enumerated() { m.set(b, at: o + InodeRecord.fixedSize + i) }
            for i in 3..<8 { m.set(UInt8(0), at: o + InodeRecord.fixedSize + i) }
            m.sealChunk(m.chunkIndex(holding: o))
        case "f_root_bad": inode(1, InodeRecord.F.kind, 1)
        default: throw DaxError(.EINVAL, "no fixture \(name)")
        }
        return m.bytes
    }
}
