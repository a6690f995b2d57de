import Foundation
import DaxCore
import DaxFSFormat

/// A scratch path for a region file, on /dev/shm when it exists (tmpfs, as
/// users run daxfs), removed when the value is released.
public final class TempRegion: @unchecked Sendable {
    public let path: String
    public let directory: String

    public init(_ name: String = "region") {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        directory = base + "/daxfs-test-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/" + name + ".img"
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Creates the file filled with `byte` (0xCD, the stale-data sentinel, by default).
    public func fill(size: Int, byte: UInt8 = 0xCD) {
        FileManager.default.createFile(atPath: path, contents: Data(repeating: byte, count: size))
    }

    public var bytes: [UInt8] { [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()) }

    /// A fingerprint of the whole file (cksum(1): CRC and size), or "missing".
    ///
    /// It is computed in a child process on purpose: closing a descriptor of
    /// the file in this process would drop this process's POSIX record locks
    /// on it, which tests that hold a mount rely on.
    public var fingerprint: String {
        guard FileManager.default.fileExists(atPath: path) else { return "missing" }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/cksum")
        p.arguments = [path]
        let out = Pipe()
        p.standardOutput = out
        try! p.run()
        let d = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: d, as: UTF8.self).split(separator: " ").prefix(2).joined(separator: ":")
    }

    public func write(_ bytes: [UInt8], at offset: Int) {
        let h = FileHandle(forUpdatingAtPath: path)!
        try! h.seek(toOffset: UInt64(offset))
        h.write(Data(bytes))
        try! h.close()
    }

    public func read(at offset: Int, count: Int) -> [UInt8] {
        let h = FileHandle(forReadingAtPath: path)!
        try! h.seek(toOffset: UInt64(offset))
        let d = h.readData(ofLength: count)
        try! h.close()
        return [UInt8](d)
    }
}

/// The root of the package, found from this source file.
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
    }
    fatalError("Package.swift not found above \(#filePath)")
}()
