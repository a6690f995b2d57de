import Foundation

/// Runs the real `daxfs` binary, as users do.
public struct CLIResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum CLI {
    /// The daxfs binary built next to the test bundle, or $DAXFS_BIN.
    public static let binary: String = {
        if let b = ProcessInfo.processInfo.environment["DAXFS_BIN"] { return b }
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let p = candidate.appendingPathComponent("daxfs").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        let fallback = packageRoot + "/.build/debug/daxfs"
        return fallback
    }()

    @discardableResult
    public static func run(_ args: [String], environment: [String: String] = [:], stdin: Data? = nil) -> CLIResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let inPipe = Pipe()
        p.standardInput = inPipe
        try! p.run()
        if let stdin { inPipe.fileHandleForWriting.write(stdin) }
        try? inPipe.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self))
    }

    /// Parses stdout as a JSON object.
    public static func json(_ r: CLIResult) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any]
    }

    /// A fresh region formatted by the real binary (`daxfs mkfs --size SIZE -q`).
    public static func formatted(_ size: String = "64M") -> TempRegion {
        let r = TempRegion()
        let mk = run(["mkfs", r.path, "--size", size, "-q"])
        precondition(mk.status == 0, mk.stderr)
        return r
    }
}
