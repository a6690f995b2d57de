import Testing
import DaxCore
import DaxFSFormat
import DaxFSTestSupport

/// The superblock used by man/daxfs.5's EXAMPLE section.
func goldenSuperblock() throws -> Superblock {
    var r = Geometry.Request(regionSize: 64 << 20)
    r.logSize = 512 << 10
    r.checkpointSlotSize = 512 << 10
    return try Geometry.plan(r, uuid: UUIDText.parse("00112233-4455-6677-8899-aabbccddeeff")!, label: "golden",
                             logSalt: 0x0123_4567_89AB_CDEF, mkfsTime: 1_700_000_000_000_000_000)
}

@Suite struct SuperblockTests {
    @Test func roundTrips() throws {
        let sb = try goldenSuperblock()
        for state in [MountState.clean, .dirty] {
            let bytes = sb.encode(state: state)
            #expect(bytes.count == Superblock.size)
            guard case .valid(let back, let st) = Superblock.probe(bytes) else { Issue.record("did not verify"); return }
            #expect(back == sb)
            #expect(st == state)
        }
    }

    @Test func goldenBytesMatchTheManPage() throws {
        let bytes = try goldenSuperblock().encode(state: .clean)
        let documented = ManPage.golden("superblock")
        if documented != bytes {
            // Print the dump to paste into man/daxfs.5 when the format changes on purpose.
            var dump = ""
            for line in stride(from: 0, to: bytes.count, by: 16) {
                let hex = bytes[line..<(line + 16)].map { b -> String in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }
                dump += String(repeating: "0", count: 4 - String(line, radix: 16).count) + String(line, radix: 16) + ": " + hex.joined(separator: " ") + "\n"
            }
            Issue.record("man/daxfs.5 golden superblock differs from the encoder; expected dump:\n\(dump)")
        }
    }

    @Test func everyByteFlipIsRefused() throws {
        let bytes = try goldenSuperblock().encode(state: .clean)
        for i in 0..<Superblock.stateWordOffset {
            for bit in [0, 3, 7] {
                var b = bytes
                b[i] ^= UInt8(1 << bit)
                if case .valid = Superblock.probe(b) { Issue.record("flip of byte \(i) bit \(bit) verified") }
            }
        }
    }

    @Test func stateWordIsSelfChecking() {
        #expect(MountState.clean.state == .clean)
        #expect(MountState.dirty.state == .dirty)
        #expect(MountState(word: MountState.clean.word ^ 1).state == nil)
        #expect(MountState(word: 0).state == nil)
        // A torn word (one half old, one half new) never reads as a valid state other than the two.
        let torn = (MountState.clean.word & 0xFFFF_FFFF) | (MountState.dirty.word & 0xFFFF_FFFF_0000_0000)
        #expect(MountState(word: torn).state == nil)
    }

    @Test func featureMasks() {
        let f = FeatureMasks(compat: 1 << 3, roCompat: 1 << 9, incompat: 1 << 63)
        #expect(f.unknownCompat == 1 << 3)
        #expect(f.unknownRoCompat == 1 << 9)
        #expect(f.unknownIncompat == 1 << 63)
        #expect(FeatureMasks.names(f.unknownIncompat) == ["bit 63"])
    }

    @Test func geometryRefusesBadRequests() {
        func plan(_ size: UInt64, bs: UInt32 = 4096, unit: UInt32 = 4096) -> DaxError? {
            var r = Geometry.Request(regionSize: size)
            r.blockSize = bs; r.allocUnit = unit
            do { _ = try Geometry.plan(r, uuid: Array(repeating: 1, count: 16), label: "", logSalt: 1, mkfsTime: 0); return nil }
            catch let e as DaxError { return e } catch { return nil }
        }
        #expect(plan(0)?.code == .EINVAL)
        #expect(plan(4096 * 3)?.message.contains("too small") == true)
        #expect(plan((64 << 20) + 1)?.message.contains("nearest valid size is 64M") == true)
        #expect(plan(64 << 20, unit: 1 << 30)?.message.contains("larger than the region") == true)
        #expect(plan(64 << 20, unit: 8192)?.code == .EINVAL)
        #expect(plan(64 << 20, bs: 1000)?.code == .EINVAL)
        #expect(plan(64 << 20) == nil)
        #expect(plan(3 << 30, unit: 1 << 30) == nil)
    }

    @Test func minimumRegionIsExactlyEnough() throws {
        var r = Geometry.Request(regionSize: 0)
        let min = Geometry.minimumRegionSize(r, logSize: Geometry.minimumLogSize, slot: Geometry.minimumCheckpointSlotSize)
        r.regionSize = min
        r.logSize = Geometry.minimumLogSize; r.checkpointSlotSize = Geometry.minimumCheckpointSlotSize
        let sb = try Geometry.plan(r, uuid: Array(repeating: 2, count: 16), label: "", logSalt: 1, mkfsTime: 0)
        #expect(sb.geometryProblem() == nil)
        r.regionSize = min - 4096
        #expect(throws: DaxError.self) { try Geometry.plan(r, uuid: Array(repeating: 2, count: 16), label: "", logSalt: 1, mkfsTime: 0) }
    }
}
