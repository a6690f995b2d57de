import Testing
import DaxCore
import DaxFSFormat

let seed: UInt32 = 0x5EED_1234

func sampleRecords() -> [LogRecord] {
    [
        .inode(InodeRecord(ino: 7, parent: 1, kind: .file, name: Array("hello.txt".utf8), mode: 0o644, uid: 1000,
                           gid: 100, size: 12345, change: 9, atime: 1, mtime: 2, ctime: 3, btime: 4, generation: 77,
                           nlink: 1, allocShift: 21, flags: 0)),
        .inode(InodeRecord(ino: 8, parent: 1, kind: .directory, name: Array(repeating: 0x61, count: 255), mode: 0o755, nlink: 2)),
        .inodeFree(9, generation: 3),
        .inodeAttr(InodeAttrRecord(ino: 7, size: 4096, change: 10, mtime: -5, ctime: 6)),
        .extentMap(ExtentRecord(ino: 7, fileBlock: 0, regionBlock: 500, count: 16)),
        .extentUnmap(7, 4, 2),
        .extentShift(7, from: 10, delta: -4),
        .alloc(BlockRange(500, 16)),
        .free(BlockRange(600, 1)),
        .intent(IntentRecord(id: 3, kind: .swapExtents, flags: 1, ino1: 7, block1: 0, ino2: 8, block2: 4,
                             count: 100, done: 0, size1: 10, size2: 20)),
        .intentProgress(id: 3, done: 50),
        .intentDone(id: 3),
        .extentSwap(ino1: 7, block1: 0, ino2: 8, block2: 4, count: 100),
    ]
}

@Suite struct LogRecordTests {
    /// The switch that decoding uses and the list that fsck and the man page use agree.
    @Test func allocShiftSwitchMatchesTheList() {
        for s in 0...UInt8.max {
            #expect(InodeRecord.isValidAllocShift(s) == InodeRecord.validAllocShifts.contains(s), "shift \(s)")
        }
    }

    @Test func everyTypeRoundTrips() throws {
        #expect(Set(sampleRecords().map(\.type)) == Set(LogRecord.RecordType.allCases))
        for r in sampleRecords() {
            let bytes = r.encoded(seed: seed)
            #expect(bytes.count == r.encodedSize && bytes.count % 8 == 0)
            let (back, len) = try bytes.withUnsafeBytes { try LogRecord.decode($0, at: 0, end: bytes.count, seed: seed) }
            #expect(back == r)
            #expect(len == bytes.count)
        }
    }

    @Test func anyFlippedByteIsRefused() {
        for r in sampleRecords() {
            let bytes = r.encoded(seed: seed)
            for i in 0..<bytes.count {
                var b = bytes
                b[i] ^= 0x10
                let decoded = try? b.withUnsafeBytes { try LogRecord.decode($0, at: 0, end: b.count, seed: seed) }
                #expect(decoded == nil, "\(r.type.name): flip at byte \(i) verified")
            }
        }
    }

    /// Reserved bytes and an INODE record's name padding must be zero even
    /// under a valid checksum: nothing else would notice a change to them
    /// (the field fuzzer found that they were not checked).
    @Test func nonZeroReservedOrPaddingIsRefused() {
        let inode = sampleRecords()[0]
        guard case .inode(let r) = inode else { return }
        let payload = LogRecord.headerSize
        var cases: [(LogRecord, Int)] = (0..<InodeRecord.F.reserved.size).map { (inode, payload + InodeRecord.F.reserved.offset + $0) }
        cases += (r.name.count..<pad8(r.name.count)).map { (inode, payload + InodeRecord.fixedSize + $0) }
        cases += (0..<4).map { (LogRecord.inodeFree(9, generation: 3), payload + LogRecord.Payload.InodeFree.reserved.offset + $0) }
        cases += (0..<8).map { (LogRecord.intentDone(id: 3), payload + LogRecord.Payload.IntentDone.reserved.offset + $0) }
        #expect(cases.count == 6 + 7 + 4 + 8)
        for (record, at) in cases {
            var b = record.encoded(seed: seed)
            b[at] = 0x01
            b.withUnsafeMutableBytes { p in
                p.storeBytes(of: UInt32(0), toByteOffset: LogRecord.H.crc.offset, as: UInt32.self)
                p.storeBytes(of: CRC32C.checksum(UnsafeRawBufferPointer(p), seed: seed).littleEndian, toByteOffset: LogRecord.H.crc.offset, as: UInt32.self)
            }
            #expect(throws: DaxError.self, "\(record.type.name): byte \(at) set under a valid checksum") {
                try b.withUnsafeBytes { try LogRecord.decode($0, at: 0, end: b.count, seed: seed) }
            }
        }
    }

    @Test func wrongSeedIsRefused() {
        let bytes = LogRecord.alloc(BlockRange(500, 1)).encoded(seed: seed)
        #expect(throws: DaxError.self) { try bytes.withUnsafeBytes { try LogRecord.decode($0, at: 0, end: bytes.count, seed: seed ^ 1) } }
    }

    @Test func truncatedRecordsNeverTrap() {
        for r in sampleRecords() {
            let bytes = r.encoded(seed: seed)
            for end in 0..<bytes.count {
                #expect(throws: DaxError.self) { try bytes.withUnsafeBytes { try LogRecord.decode($0, at: 0, end: end, seed: seed) } }
            }
        }
    }

    @Test func inodeNameRules() {
        #expect(InodeRecord.nameProblem(Array("ok".utf8)) == nil)
        #expect(InodeRecord.nameProblem([]) != nil)
        #expect(InodeRecord.nameProblem(Array("a/b".utf8)) != nil)
        #expect(InodeRecord.nameProblem([0x61, 0]) != nil)
        #expect(InodeRecord.nameProblem(Array("..".utf8)) != nil)
        #expect(InodeRecord.nameProblem([0xFF, 0xFE]) != nil)
        #expect(InodeRecord.nameProblem(Array(repeating: 0x61, count: 256)) != nil)
    }

    /// Names are checked 8 bytes at a time; that must answer as the rules
    /// do byte by byte, for every byte value at every position of names of
    /// 1 to 20 bytes (both sides of each word boundary), each also in a
    /// name of dots and in a valid two-byte UTF-8 sequence.
    @Test func inodeNameRulesHoldAtEveryBytePosition() {
        func rule(_ name: [UInt8]) -> String? {         // the rules, byte by byte
            if name.contains(0) || name.contains(0x2F) { return "name contains '/' or NUL" }
            if name.count <= 2 && name.allSatisfy({ $0 == 0x2E }) { return "name is '.' or '..'" }
            if String(validating: name, as: UTF8.self) == nil { return "name is not valid UTF-8" }
            return nil
        }
        var checked = 0
        for length in 1...20 {
            for at in 0..<length {
                for b in 0...255 {
                    for fill: UInt8 in [0x61, 0x2E] {
                        var name = [UInt8](repeating: fill, count: length)
                        name[at] = UInt8(b)
                        #expect(InodeRecord.nameProblem(name) == rule(name), "name \(name)")
                        checked += 1
                    }
                }
                if at + 1 < length {
                    var name = [UInt8](repeating: 0x61, count: length)
                    name[at] = 0xC3; name[at + 1] = 0xA9          // "é"
                    #expect(InodeRecord.nameProblem(name) == nil, "name \(name)")
                }
            }
        }
        #expect(checked == 2 * 256 * (1...20).reduce(0, +))
    }
}

@Suite struct TransactionTests {
    func superblock() throws -> Superblock {
        var r = Geometry.Request(regionSize: 16 << 20)
        r.logSize = 64 << 10
        return try Geometry.plan(r, uuid: Array(repeating: 9, count: 16), label: "", logSalt: 0xABCD_EF01_2345_6789, mkfsTime: 0)
    }

    func records(_ sb: Superblock) -> [LogRecord] {
        let d = sb.dataStartBlock.raw
        return [.alloc(BlockRange(d, 4)), .extentMap(ExtentRecord(ino: 2, fileBlock: 0, regionBlock: BlockNumber(d), count: 4)),
                .inodeAttr(InodeAttrRecord(ino: 2, size: 16384, change: 1, mtime: 1, ctime: 1))]
    }

    @Test func roundTripAndSequence() throws {
        let sb = try superblock()
        let recs = records(sb)
        let t = Transaction.encoded(recs, seq: 5, salt: sb.logSalt, seed: sb.recordSeed)
        t.withUnsafeBytes { p in
            guard case .transaction(let h, let back, let len) = Transaction.decode(p, at: 0, end: p.count, expected: 5, sb: sb) else {
                Issue.record("did not decode"); return
            }
            #expect(h.seq == 5 && back == recs && len == t.count)
            if case .stop(.staleSequence(5)) = Transaction.decode(p, at: 0, end: p.count, expected: 6, sb: sb) {} else {
                Issue.record("an older sequence was not reported as stale")
            }
            if case .stop(.corrupt) = Transaction.decode(p, at: 0, end: p.count, expected: 4, sb: sb) {} else { Issue.record("future sequence accepted") }
        }
    }

    @Test func tornAtEveryByteIsNotAccepted() throws {
        let sb = try superblock()
        let t = Transaction.encoded(records(sb), seq: 1, salt: sb.logSalt, seed: sb.recordSeed)
        for cut in 0..<t.count {
            var torn = t
            for i in cut..<t.count { torn[i] = 0xCD }      // the tail never made it: sentinel bytes
            torn.withUnsafeBytes { p in
                if case .transaction = Transaction.decode(p, at: 0, end: p.count, expected: 1, sb: sb) {
                    Issue.record("transaction torn at \(cut) was accepted")
                }
            }
        }
    }

    @Test func extentOnMetadataIsRefused() throws {
        let sb = try superblock()
        let bad: [LogRecord] = [.extentMap(ExtentRecord(ino: 2, fileBlock: 0, regionBlock: 1, count: 1))]   // block 1 is the log
        let t = Transaction.encoded(bad, seq: 1, salt: sb.logSalt, seed: sb.recordSeed)
        t.withUnsafeBytes { p in
            guard case .stop(.corrupt(let why)) = Transaction.decode(p, at: 0, end: p.count, expected: 1, sb: sb) else {
                Issue.record("accepted an extent on metadata"); return
            }
            #expect(why.contains("outside the data area"))
        }
        let overflow = ExtentRecord(ino: 2, fileBlock: 0, regionBlock: BlockNumber(UInt64.max - 1), count: 4)
        #expect(overflow.problem(in: sb) != nil)
    }

    @Test func checkpointChunkVerifies() throws {
        let sb = try superblock()
        var chunk = [UInt8](repeating: 0, count: CheckpointChunk.size)
        let e = ExtentRecord(ino: 3, fileBlock: 1, regionBlock: sb.dataStartBlock, count: 2)
        chunk.withUnsafeMutableBytes { p in
            e.encode(into: p, at: CheckpointChunk.headerSize)
            CheckpointChunk.seal(p, at: 0, generation: 4, index: 0, kind: .extents, count: 1, used: ExtentRecord.size, seed: sb.recordSeed)
        }
        try chunk.withUnsafeBytes { p in
            let v = try CheckpointChunk.verify(p, at: 0, generation: 4, index: 0, seed: sb.recordSeed)
            #expect(v.kind == .extents && v.count == 1)
            #expect(ExtentRecord.decode(p, at: v.payloadOffset) == e)
            #expect(throws: DaxError.self) { try CheckpointChunk.verify(p, at: 0, generation: 5, index: 0, seed: sb.recordSeed) }
        }
        for i in stride(from: 0, to: CheckpointChunk.size, by: 97) {
            var b = chunk
            b[i] ^= 1
            #expect(throws: DaxError.self) { try b.withUnsafeBytes { try CheckpointChunk.verify($0, at: 0, generation: 4, index: 0, seed: sb.recordSeed) } }
        }
    }

    @Test func foreignSignatures() {
        var b = [UInt8](repeating: 0, count: ForeignSignature.probeLength)
        #expect(b.withUnsafeBytes { ForeignSignature.detect($0) } == nil)
        b[1080] = 0x53; b[1081] = 0xEF
        #expect(b.withUnsafeBytes { ForeignSignature.detect($0) }?.contains("ext") == true)
        var x = [UInt8](repeating: 0xCD, count: 8192)
        x.replaceSubrange(0..<4, with: Array("XFSB".utf8))
        #expect(x.withUnsafeBytes { ForeignSignature.detect($0) }?.contains("XFS") == true)
    }
}
