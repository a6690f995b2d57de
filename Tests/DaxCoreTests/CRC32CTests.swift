import Testing
import DaxCore

@Suite struct CRC32CTests {
    @Test func knownVectors() {
        let check: [UInt8] = Array("123456789".utf8)
        #expect(check.withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
        #expect(check.withUnsafeBytes { CRC32C.software($0) } == 0xE306_9283)
        let zeros = [UInt8](repeating: 0, count: 32)
        #expect(zeros.withUnsafeBytes { CRC32C.checksum($0) } == 0x8A91_36AA)   // RFC 3720 B.4
        let ones = [UInt8](repeating: 0xFF, count: 32)
        #expect(ones.withUnsafeBytes { CRC32C.checksum($0) } == 0x62A8_AB43)
    }

    @Test func hardwareAndSoftwareAgree() {
        guard CRC32C.hardwareAvailable else { return }
        var rng = SystemRandomNumberGenerator()
        let buffer = (0..<4200).map { _ in UInt8.random(in: 0...255, using: &rng) }
        buffer.withUnsafeBytes { all in
            for start in 0..<9 {
                for length in [0, 1, 3, 7, 8, 9, 15, 16, 63, 64, 65, 511, 767, 768, 769, 1536, 2311, 4096, 4191] where start + length <= all.count {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    for seed: UInt32 in [0, 0xDEAD_BEEF] {
                        #expect(CRC32C.hardware(slice, seed: seed) == CRC32C.software(slice, seed: seed))
                    }
                }
            }
        }
    }

    /// `crcExcluding` (one C call) against the checksum of a copy whose
    /// field is zeroed: every field offset of short buffers, long ones,
    /// unaligned starts, and the whole-buffer field.
    @Test func excludingEqualsAZeroedCopy() {
        var bytes = [UInt8](repeating: 0, count: 300)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 131 &+ 7) }
        bytes.withUnsafeBytes { all in
            for start in 0..<9 {
                for end in [4, 5, 8, 12, 16, 24, 31, 40, 64, 100, 291] where start + end <= all.count {
                    let buf = UnsafeRawBufferPointer(rebasing: all[start..<(start + end)])
                    for off in 0...(end - 4) {
                        var copy = Array(buf)
                        for k in off..<(off + 4) { copy[k] = 0 }
                        for seed: UInt32 in [0, 0xDEAD_BEEF] {
                            let expected = copy.withUnsafeBytes { CRC32C.software($0, seed: seed) }
                            #expect(crcExcluding(buf, end: end, crcOffset: off, seed: seed) == expected, "start \(start) end \(end) off \(off)")
                        }
                    }
                }
            }
        }
    }

    @Test func incrementalEqualsWhole() {
        let bytes: [UInt8] = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        bytes.withUnsafeBytes { p in
            var r: UInt32 = ~0
            r = CRC32C.update(r, UnsafeRawBufferPointer(rebasing: p[0..<333]))
            r = CRC32C.update(r, UnsafeRawBufferPointer(rebasing: p[333...]))
            #expect(~r == CRC32C.checksum(p))
        }
    }
}

@Suite struct ByteSizeTests {
    @Test(arguments: [("4096", 4096), ("4K", 4096), ("4k", 4096), ("4KiB", 4096), ("2M", 2 << 20), ("2MiB", 2 << 20),
                      ("1G", 1 << 30), ("1T", 1 << 40), ("1TiB", 1 << 40), ("10KB", 10_000), ("1GB", 1_000_000_000),
                      ("0x1000", 4096), ("512B", 512), ("0", 0)] as [(String, UInt64)])
    func parses(text: String, value: UInt64) throws {
        #expect(try ByteSize.parse(text) == value)
    }

    @Test(arguments: ["", "-1", "-4K", "4Q", "1.5G", "G", "K4", "4 KB extra", "99999999999999999999", "16E"])
    func rejects(text: String) {
        #expect(throws: DaxError.self) { try ByteSize.parse(text) }
    }

    @Test func errorsCarryCodes() {
        do { _ = try ByteSize.parse("-1G"); Issue.record("accepted") } catch let e as DaxError { #expect(e.code == .EINVAL) } catch { Issue.record("\(error)") }
        do { _ = try ByteSize.parse("16E"); Issue.record("accepted") } catch let e as DaxError { #expect(e.code == .ERANGE) } catch { Issue.record("\(error)") }
    }

    @Test func formats() {
        #expect(ByteSize.exact(2 << 20) == "2M")
        #expect(ByteSize.exact(4097) == "4097")
        #expect(ByteSize.human(1536 << 20) == "1.5 GiB")
    }
}
