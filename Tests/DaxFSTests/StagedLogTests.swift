import Testing
import DaxFSFormat
import DaxFSTestSupport
@testable import DaxFS

/// Transactions staged under deferred durability and written together
/// (`Journal.stage`, `writeStaged`), and what a crash in the middle of such
/// a group leaves behind.
@Suite struct StagedLogTests {
    /// A crash tears a group of staged transactions in the middle: the first
    /// is whole, the second torn, the third intact (each has its own
    /// checksum). Mount replays the first only, and must clear the third:
    /// a new transaction of the same length, written where the torn one
    /// was, ends exactly where the third starts, with the sequence that
    /// follows; after a second crash, replay would chain into that lost
    /// history.
    @Test func aTornGroupLeavesNothingReplayableBeyondTheTail() throws {
        let r = TempRegion()
        let sb = try r.format(size: 4 << 20, logSize: 256 << 10, checkpointSize: 64 << 10)
        var options = Filesystem.Options()
        options.checkpointOnUnmount = false
        options.durability = .deferred
        let logStart = Int(sb.logOffset)
        var ends: [Int] = []
        var start = 0
        do {
            let fs = try Filesystem.mount(r.path, options: options)
            let f = try fs.create("/f")
            fs.sync()
            start = fs.logStatus.tail
            for i in 0..<3 {
                try fs.allocate(f, offset: UInt64(i) * 8192, length: 4096)
                ends.append(fs.logStatus.tail)
            }
            fs.sync()                                  // one group: three transactions, one copy
        }                                              // dropped, not unmounted: dirty, as after a crash
        let sizes = [ends[0] - start, ends[1] - ends[0], ends[2] - ends[1]]
        #expect(sizes[0] == sizes[1] && sizes[1] == sizes[2], "\(sizes)")
        // Tear the second: one flipped byte in its body.
        let flip = logStart + ends[0] + TransactionHeader.size + 4
        r.write([r.bytes[flip] ^ 0xFF], at: flip)

        do {
            let fs = try Filesystem.mount(r.path, options: options)
            #expect(fs.recovery.transactionsDropped == 1)
            let third = logStart + ends[1]
            #expect(r.bytes[third..<(third + TransactionHeader.size)].allSatisfy { $0 == 0 },
                    "the intact transaction after the torn one was left in the log")
            // The same-length transaction where the torn one was, then a crash.
            try fs.allocate(try fs.lookup("/f"), offset: 3 * 8192, length: 4096)
            fs.sync()
            #expect(fs.logStatus.tail == ends[1])
        }
        let fs = try Filesystem.mount(r.path, options: .init(readOnly: true))
        let blocks = try fs.extents(try fs.lookup("/f")).map(\.fileBlock)
        #expect(blocks == [0, 6], "replay reached lost transactions: file blocks \(blocks)")
        try fs.checkInvariants()
        try fs.unmount()
    }
}
