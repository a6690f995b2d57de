import Foundation
import Testing
import DaxFSFormat
import DaxFSTestSupport

/// Drives the real binary. Every bad input must give a clear "daxfs: "
/// message, a documented non-zero status, and leave the image unchanged.
@Suite(.serialized) struct MkfsInfoCLITests {
    @Test func mkfsThenInfoJSON() throws {
        let r = TempRegion()
        let mk = CLI.run(["mkfs", r.path, "--size", "32M", "--label", "cli", "--json"])
        #expect(mk.status == 0, "\(mk.stderr)")
        let m = try #require(CLI.json(mk))
        #expect(m["region_size"] as? Int == 32 << 20)
        #expect(m["persistence"] as? String == "msync")
        let info = CLI.run(["info", r.path, "--json"])
        #expect(info.status == 0, "\(info.stderr)")
        let j = try #require(CLI.json(info))
        #expect(j["label"] as? String == "cli")
        #expect(j["state"] as? String == "clean")
        #expect(j["uuid"] as? String == m["uuid"] as? String)
        let geometry = try #require(j["geometry"] as? [String: Any])
        #expect(geometry["block_size"] as? Int == 4096)
        #expect(geometry["region_size"] as? Int == 32 << 20)
        let usage = try #require(j["usage"] as? [String: Any])
        #expect(usage["used_blocks"] as? Int == 0)
        // Every key the JSON carries is named in the documented schema (info --help, daxfs(8)).
        let help = CLI.run(["info", "--help"]).stdout
        for key in j.keys { #expect(help.contains(key), "info --json key \(key) is not documented") }
        for key in geometry.keys { #expect(help.contains(key), "info --json key geometry.\(key) is not documented") }
        for key in usage.keys { #expect(help.contains(key), "info --json key usage.\(key) is not documented") }
        let mkHelp = CLI.run(["mkfs", "--help"]).stdout
        for key in m.keys { #expect(mkHelp.contains(key), "mkfs --json key \(key) is not documented") }
        let text = CLI.run(["info", r.path])
        #expect(text.status == 0 && text.stdout.contains("state         clean"))
    }

    @Test func forcedPmemTakesTheFlushAndFencePath() throws {
        let r = TempRegion()
        let mk = CLI.run(["mkfs", r.path, "--size", "8M", "--json"], environment: ["PMEM_IS_PMEM_FORCE": "1"])
        #expect(mk.status == 0, "\(mk.stderr)")
        #expect(CLI.json(mk)?["persistence"] as? String == "flush+fence")
        #expect(CLI.run(["info", r.path]).status == 0)
    }

    @Test func devicesJSONIsAListEvenWhenEmpty() throws {
        let d = CLI.run(["devices", "--json"])
        #expect(d.status == 0, "\(d.stderr)")
        let j = try #require(CLI.json(d))
        #expect(j["devices"] is [Any])
        #expect(CLI.run(["devices"]).status == 0)
    }

    @Test func dryRunWritesNothing() {
        let r = TempRegion()
        let d = CLI.run(["mkfs", r.path, "--size", "8M", "--dry-run"])
        #expect(d.status == 0 && d.stdout.contains("would format"))
        #expect(!FileManager.default.fileExists(atPath: r.path))
        r.fill(size: 8 << 20)
        let before = r.fingerprint
        #expect(CLI.run(["mkfs", r.path, "-n"]).status == 0)
        #expect(r.fingerprint == before)
    }

    @Test func existingFilesystemNeedsForce() {
        let r = TempRegion()
        #expect(CLI.run(["mkfs", r.path, "--size", "8M"]).status == 0)
        let before = r.fingerprint
        let again = CLI.run(["mkfs", r.path])
        #expect(again.status == 73)
        #expect(again.stderr.hasPrefix("daxfs: ") && again.stderr.contains("already holds a daxfs filesystem"))
        #expect(r.fingerprint == before)
        #expect(CLI.run(["mkfs", r.path, "--force"]).status == 0)
        #expect(r.fingerprint != before)
    }

    @Test func foreignSignatureIsNamed() {
        let r = TempRegion()
        r.fill(size: 8 << 20, byte: 0)
        r.write([0x53, 0xEF], at: 1080)
        let before = r.fingerprint
        let mk = CLI.run(["mkfs", r.path])
        #expect(mk.status == 73 && mk.stderr.contains("ext2/ext3/ext4"))
        #expect(r.fingerprint == before)
        let info = CLI.run(["info", r.path])
        #expect(info.status == 65 && info.stderr.contains("does not hold a daxfs filesystem"))
        #expect(r.fingerprint == before)
    }

    @Test func mountedRegionIsRefused() throws {
        let r = TempRegion()
        #expect(CLI.run(["mkfs", r.path, "--size", "8M"]).status == 0)
        let holder = try DaxFSTestSupport.mountForTest(r.path)
        let before = r.fingerprint
        let mk = CLI.run(["mkfs", r.path, "--force"])
        #expect(mk.status == 75)
        #expect(mk.stderr.contains("in use by pid \(getpid())"))
        #expect(r.fingerprint == before)
        try holder.unmount()
    }

    struct BadInput: Sendable, CustomStringConvertible {
        var name: String
        var args: @Sendable (String) -> [String]
        var status: Int32
        var message: String
        /// How to prepare the region file, if at all.
        var prepare: @Sendable (TempRegion) -> Void = { _ in }
        var description: String { name }
        init(_ name: String, _ args: @escaping @Sendable (String) -> [String], _ status: Int32, _ message: String,
             prepare: @escaping @Sendable (TempRegion) -> Void = { _ in }) {
            self.name = name; self.args = args; self.status = status; self.message = message; self.prepare = prepare
        }
    }

    static let formatted: @Sendable (TempRegion) -> Void = { r in _ = CLI.run(["mkfs", r.path, "--size", "8M"]) }
    static let garbage: @Sendable (TempRegion) -> Void = { r in r.fill(size: 8 << 20) }

    static let badInputs: [BadInput] = [
        BadInput("info of a missing path", { ["info", $0] }, 66, "no such file"),
        BadInput("mkfs of a missing path without --size", { ["mkfs", $0] }, 66, "give --size"),
        BadInput("mkfs in a missing directory", { ["mkfs", $0 + ".d/x", "--size", "8M"] }, 66, "does not exist"),
        BadInput("a directory", { _ in ["info", "/tmp"] }, 66, "is a directory"),
        BadInput("mkfs of a directory", { _ in ["mkfs", "/tmp", "--size", "8M"] }, 66, "is a directory"),
        BadInput("a non-DAX character device", { _ in ["info", "/dev/null"] }, 66, "not a device-DAX"),
        BadInput("mkfs of a non-DAX character device", { _ in ["mkfs", "/dev/zero", "--force"] }, 66, "not a device-DAX"),
        BadInput("size zero", { ["mkfs", $0, "--size", "0"] }, 64, "greater than zero"),
        BadInput("negative size", { ["mkfs", $0, "--size=-4M"] }, 64, "must not be negative"),
        BadInput("unknown suffix", { ["mkfs", $0, "--size", "4Q"] }, 64, "unknown suffix"),
        BadInput("size below the minimum", { ["mkfs", $0, "--size", "64K"] }, 64, "too small"),
        BadInput("size not a multiple of the alignment", { ["mkfs", $0, "--size", "1000001"] }, 64, "nearest valid size"),
        BadInput("alloc unit larger than the region", { ["mkfs", $0, "--size", "8M", "--alloc-unit", "1G"] }, 64, "larger than the region"),
        BadInput("unsupported alloc unit", { ["mkfs", $0, "--size", "8M", "--alloc-unit", "64K"] }, 64, "not supported"),
        BadInput("unsupported block size", { ["mkfs", $0, "--size", "8M", "--block-size", "3000"] }, 64, "not supported"),
        BadInput("label too long", { ["mkfs", $0, "--size", "8M", "--label", String(repeating: "x", count: 65)] }, 64, "label"),
        BadInput("bad uuid", { ["mkfs", $0, "--size", "8M", "--uuid", "nope"] }, 64, "invalid --uuid"),
        BadInput("unknown option", { ["mkfs", $0, "--no-such-option"] }, 64, "daxfs: "),
        BadInput("info of a foreign or garbage region", { ["info", $0] }, 65, "does not hold a daxfs filesystem", prepare: garbage),
        BadInput("mkfs --size that differs from an existing file", { ["mkfs", $0, "--size", "16M"] }, 64, "differs", prepare: garbage),
        BadInput("info of a corrupted superblock", { ["info", $0] }, 65, "primary superblock is corrupt", prepare: { r in
            formatted(r); r.write([0x42], at: 97)
        }),
        BadInput("info of a newer format with unknown incompat bits", { ["info", $0] }, 69, "incompatible features", prepare: { r in
            formatted(r)
            var b = r.read(at: 0, count: Superblock.size)
            guard case .valid(var sb, _) = Superblock.probe(b) else { return }
            sb.features.incompat = 1 << 17
            b = sb.encode(state: .clean)
            r.write(b, at: 0)
        }),
        BadInput("info of a newer format version", { ["info", $0] }, 69, "version 2 is not supported", prepare: { r in
            formatted(r)
            var b = r.read(at: 0, count: Superblock.size)
            b[8] = 2
            let crc = b.withUnsafeBytes { DaxCore_crc($0) }
            b.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: 500, as: UInt32.self) }
            r.write(b, at: 0)
        }),
    ]

    @Test(arguments: badInputs)
    func badInputLeavesTheMediaUntouched(_ c: BadInput) {
        let r = TempRegion()
        c.prepare(r)
        let before = r.fingerprint
        let result = CLI.run(c.args(r.path))
        #expect(result.status == c.status, "\(c.name): status \(result.status), stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("daxfs: "), "\(c.name): \(result.stderr)")
        #expect(result.stderr.contains(c.message), "\(c.name): \(result.stderr)")
        #expect(r.fingerprint == before, "\(c.name) changed the image")
    }
}

import DaxCore
/// Standard CRC32C of the first 500 bytes (the superblock CRC).
func DaxCore_crc(_ p: UnsafeRawBufferPointer) -> UInt32 { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: p[0..<500])) }
