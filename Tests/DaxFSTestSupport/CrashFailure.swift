import Foundation

/// A failing crash image saved for replay, in
/// `<package root>/crash-failures/<name>-<UTC timestamp>/` (git-ignored):
///
/// - `image.bin`: the crash image, byte for byte;
/// - `store-log.txt`: the recording's event log with call sites, the crash
///   point marked, store payloads in hex (first 64 bytes of each);
/// - `subset.txt`: the crash point, the category, and every pending piece with
///   the persisted ones starred (and which words, when torn);
/// - `seed.txt`: the enumeration seed, in decimal;
/// - `README`: one line, the command that replays it.
///
/// Replay: a test reads `CrashFailure.replayDirectory` (the environment
/// variable `DAXFS_CRASH_REPLAY`, set to the directory) and, when it is set,
/// mounts `try CrashFailure.load(dir)` instead of enumerating crash images.
public enum CrashFailure {
    public static let replayVariable = "DAXFS_CRASH_REPLAY"
    public static let defaultRoot = packageRoot + "/crash-failures"
    /// How many payload bytes of each store `store-log.txt` shows.
    static let payloadPreview = 64

    /// The directory named by `DAXFS_CRASH_REPLAY`, when it is set and not empty.
    public static var replayDirectory: String? {
        guard let dir = ProcessInfo.processInfo.environment[replayVariable], !dir.isEmpty else { return nil }
        return dir
    }

    /// Writes the failure and returns its directory. `replayTest` is the
    /// `swift test --filter` argument of the test that replays it. `events` is
    /// normally `recording.events`, read in the hook (so it ends at the crash
    /// point). Throws the file system's error when a file cannot be written.
    @discardableResult
    public static func write(name: String, image: CrashImage, point: CrashPoint, events: [RecordingMedia.Event],
                             replayTest: String, root: String = defaultRoot) throws -> String {
        let dir = try makeDirectory(root: root, name: name)
        try Data(image.materialize(base: point.media)).write(to: URL(fileURLWithPath: dir + "/image.bin"))
        try write(storeLog(events, crashAt: point.eventIndex), to: dir + "/store-log.txt")
        try write(subsetText(image, point), to: dir + "/subset.txt")
        try write("\(image.seed)\n", to: dir + "/seed.txt")
        try write("\(replayVariable)='\(dir)' swift test --filter '\(replayTest)'\n", to: dir + "/README")
        return dir
    }

    /// The crash image saved in `directory`. Throws when `image.bin` cannot be read.
    public static func load(_ directory: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/image.bin")))
    }

    private static func makeDirectory(root: String, name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let safe = String(name.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" })
        let stamp = DateFormatter()
        stamp.locale = Locale(identifier: "en_US_POSIX")
        stamp.timeZone = TimeZone(identifier: "UTC")
        stamp.dateFormat = "yyyyMMdd-HHmmss"
        let base = "\(root)/\(safe)-\(stamp.string(from: Date()))"
        var dir = base
        var attempt = 1
        while true {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
                return dir
            } catch {
                guard FileManager.default.fileExists(atPath: dir) else { throw error }
                attempt += 1
                dir = "\(base)-\(attempt)"
            }
        }
    }

    private static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    private static func storeLog(_ events: [RecordingMedia.Event], crashAt index: Int) -> String {
        var out = "# index kind offset+count site [payload hex]; crash point marked\n"
        for event in events {
            out += event.description
            if let payload = event.payload {
                out += " " + payload.prefix(payloadPreview).map { hex($0) }.joined()
                if payload.count > payloadPreview { out += "... (\(payload.count) bytes)" }
            }
            out += event.index == index ? "   <== crash point\n" : "\n"
        }
        return out
    }

    private static func subsetText(_ image: CrashImage, _ point: CrashPoint) -> String {
        let chosen = Dictionary(image.subset.choices.map { ($0.piece, $0) }, uniquingKeysWith: { first, _ in first })
        var out = "crash point: \(point.location)\nimage: \(image)\n"
        out += "hash: \(String(image.hash, radix: 16)), \(image.delta.count) runs differ from the media image\n"
        out += "pending pieces: \(point.pending.count) (* = persisted in this image)\n"
        for (i, piece) in point.pending.enumerated() {
            guard let choice = chosen[i] else { out += "  #\(i) \(piece)\n"; continue }
            out += "* #\(i) \(piece)" + (choice.words == nil ? "\n" : ", torn: \(choice)\n")
        }
        return out
    }

    private static func hex(_ byte: UInt8) -> String {
        byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
    }
}
