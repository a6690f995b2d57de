import DaxCore
import DaxFSFormat

/// Names taken twice in one directory.
///
/// The inodes are grouped by parent with a counting sort (two passes over
/// the parent positions), then each directory's names go into a small
/// open-addressing table of (name CRC32C, position), probed linearly, at
/// most half full, and reused from one directory to the next. It stays in
/// the cache, where one table for the whole tree (megabytes) missed it on
/// nearly every name. The CRCs come from pass 3 (`InodeFacts`), which read
/// every name anyway; a second name is read only when two CRCs agree.
/// - Complexity: O(inodes) expected, plus the length of the names whose
///   CRCs agree; memory 8 bytes per inode plus a table of twice the
///   largest directory.
enum DuplicateNames {
    /// Every inode whose name an earlier inode of the same directory holds,
    /// as (earlier, later) positions: directories in position order, and in
    /// each the later inodes in position order. `parent[i]` is the position
    /// of inode i's parent; only the inodes for which `include` is true are
    /// looked at, and their parent positions must be valid.
    static func find(_ entries: InodeEntries, _ table: InodeTable, parent: [Int32], include: (Int) -> Bool) -> [(earlier: Int, later: Int)] {
        let n = parent.count
        // Counting sort by parent. After the placing loop, end[d] is where
        // directory d's children end, so they are order[end[d-1]..<end[d]].
        var end = [Int32](repeating: 0, count: n + 1)
        for i in 0..<n where include(i) { end[Int(parent[i]) + 1] += 1 }
        var largest: Int32 = 0
        for d in 0..<n { largest = max(largest, end[d + 1]); end[d + 1] += end[d] }
        var order = [Int32](repeating: 0, count: Int(end[n]))
        for i in 0..<n where include(i) {
            let d = Int(parent[i])
            order[Int(end[d])] = Int32(i)
            end[d] += 1
        }

        var found: [(earlier: Int, later: Int)] = []
        var slots = [UInt64](repeating: 0, count: tableSize(Int(largest)))   // 0: empty; else crc << 32 | (position + 1)
        var from = 0
        for d in 0..<n {
            let to = Int(end[d])
            defer { from = to }
            guard to - from > 1 else { continue }
            let size = tableSize(to - from)
            let mask = size - 1
            for s in 0..<size { slots[s] = 0 }
            for k in from..<to {
                let i = Int(order[k])
                let crc = table[i].nameCRC
                var s = Int(truncatingIfNeeded: (UInt64(crc) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
                while slots[s] != 0 {
                    if UInt32(truncatingIfNeeded: slots[s] >> 32) == crc {
                        let other = Int(truncatingIfNeeded: slots[s] & 0xFFFF_FFFF) - 1
                        if entries.sameName(other, i) { found.append((other, i)); break }
                    }
                    s = (s + 1) & mask
                }
                if slots[s] == 0 { slots[s] = UInt64(crc) << 32 | UInt64(i + 1) }
            }
        }
        return found
    }

    /// A power of two of at least twice `count` (and at least 2).
    static func tableSize(_ count: Int) -> Int {
        var size = 2
        while size < 2 * count { size <<= 1 }
        return size
    }
}
