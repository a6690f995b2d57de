import DaxFSFormat

/// What passes 4 to 7 read of an inode, packed in 24 bytes. A pass over
/// 100,000 of these reads 2.4 MB; over the records themselves (96 bytes,
/// the name elsewhere) it read 10 MB, and paid a cache miss for most.
struct InodeFacts {
    var ino: UInt64
    var parent: UInt64
    /// CRC32C of the name (seed 0), for finding names taken twice.
    var nameCRC: UInt32
    var kind: InodeKind
    var allocShift: UInt8

    init(_ r: borrowing InodeRecord, nameCRC: UInt32) {
        ino = r.ino.raw; parent = r.parent.raw; kind = r.kind; allocShift = r.allocShift; self.nameCRC = nameCRC
    }
}

/// The inodes after pass 3 by position (sorted by inode number), and inode
/// number → position: a dense table when the numbers are dense (the usual
/// case: they are handed out in order and never reused), else a binary
/// search. O(inodes) memory either way.
struct InodeTable {
    private let facts: [InodeFacts]
    private var dense: [Int32]

    /// `facts` sorted by inode number, without duplicates.
    init(_ facts: [InodeFacts]) {
        self.facts = facts
        let maxIno = facts.last?.ino ?? 0
        if maxIno <= UInt64(facts.count) * 4 + 65536 {
            dense = [Int32](repeating: -1, count: Int(maxIno) + 1)
            for (i, f) in facts.enumerated() { dense[Int(f.ino)] = Int32(i) }
        } else {
            dense = []
        }
    }

    var count: Int { facts.count }

    /// The facts of the inode at position `p`. O(1).
    subscript(p: Int) -> InodeFacts { facts[p] }

    /// The position of inode `ino`, or nil. O(1) dense, else O(log n).
    func position(_ ino: UInt64) -> Int? {
        if !dense.isEmpty {
            guard ino < UInt64(dense.count) else { return nil }
            let p = dense[Int(ino)]
            return p < 0 ? nil : Int(p)
        }
        var lo = 0, hi = facts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if facts[mid].ino < ino { lo = mid + 1 } else { hi = mid }
        }
        return lo < facts.count && facts[lo].ino == ino ? lo : nil
    }
}
