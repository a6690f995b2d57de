import Foundation
import Testing
import DaxFSTestSupport

/// e2fsprogs-style golden tests through the real binary: for every fixture,
/// `daxfs fsck -fy` must print expect.1 (report and exit status), and the
/// `daxfs fsck -fn` after it must print expect.2 (exit 0). Set
/// DAXFS_UPDATE_GOLDEN=1 to rewrite the expect files after a deliberate change.
@Suite struct GoldenFixtureTests {
    static let fixtures = packageRoot + "/Tests/CheckTests/Fixtures"

    static func run(_ args: [String], image path: String) -> String {
        let r = CLI.run(["fsck"] + args + [path])
        // Checksums depend on the random UUID and salt of each mkfs: masked.
        let text = (r.stdout + r.stderr).replacingOccurrences(of: path, with: "test.img")
            .replacing(/stored [0-9a-f]{8}, computed [0-9a-f]{8}/, with: "stored XXXXXXXX, computed XXXXXXXX")
        return text + (text.hasSuffix("\n") ? "" : "\n") + "Exit status is \(r.status)\n"
    }

    @Test(arguments: FsckFixtures.names)
    func fixture(_ name: String) throws {
        let region = TempRegion(name)
        FileManager.default.createFile(atPath: region.path, contents: Data(try FsckFixtures.build(name)))
        let first = Self.run(["-fy"], image: region.path)
        let second = Self.run(["-fn"], image: region.path)
        // Idempotence: fsck -y on an image fsck -y produced changes nothing.
        let repaired = region.fingerprint
        let third = CLI.run(["fsck", "-fy", region.path])
        #expect(third.status == 0 && region.fingerprint == repaired, "\(name): a second fsck -fy changed the image: \(third.stdout)")
        let dir = Self.fixtures + "/" + name
        if ProcessInfo.processInfo.environment["DAXFS_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try first.write(toFile: dir + "/expect.1", atomically: true, encoding: .utf8)
            try second.write(toFile: dir + "/expect.2", atomically: true, encoding: .utf8)
            return
        }
        let want1 = try String(contentsOfFile: dir + "/expect.1", encoding: .utf8)
        let want2 = try String(contentsOfFile: dir + "/expect.2", encoding: .utf8)
        #expect(first == want1, "\(name): fsck -fy\n--- got\n\(first)--- expected\n\(want1)")
        #expect(second == want2, "\(name): second fsck -fn\n--- got\n\(second)--- expected\n\(want2)")
        #expect(second.hasSuffix("Exit status is 0\n"))
    }
}
