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

#if canImport(Glibc)
import Glibc

extension CLI {
    /// Runs daxfs with its standard output on a pseudo-terminal (and its
    /// standard error on a pipe), as at a user's terminal. `stdout` is what
    /// the terminal received: the line discipline turns "\n" into "\r\n".
    public static func runOnTerminal(_ args: [String]) -> CLIResult {
        // openpty(3) by hand: Swift's Glibc module does not export it.
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        precondition(master >= 0, "no /dev/ptmx")
        defer { close(master) }
        var unlock: Int32 = 0, number: UInt32 = 0
        precondition(ioctl(master, Self.TIOCSPTLCK, &unlock) == 0 && ioctl(master, Self.TIOCGPTN, &number) == 0)
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        precondition(slave >= 0 && isatty(slave) == 1)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.standardOutput = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        p.standardInput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try! p.run()
        close(slave)   // the child's copy keeps the terminal open until it exits
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
            if n > 0 { out += buffer[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            break   // EIO: the child closed its side of the terminal
        }
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLIResult(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self))
    }

    // <asm-generic/ioctls.h>, which Swift's Glibc module does not export.
    static let TIOCGPTN = UInt(0x8004_5430)
    static let TIOCSPTLCK = UInt(0x4004_5431)
}

/// A daxfs process held at a point of its run, so that a test can act
/// while it is surely still running (send it a signal, say).
///
/// Its standard error is a pipe of one page that is already full but for
/// `room` bytes. The process writes (progress lines, with `-C 2`) while
/// they fit, and then blocks in write(2) until `finish()` drains the pipe:
/// a write of at most PIPE_BUF bytes is never split, so it cannot go past
/// the line that does not fit. `waitUntilHeld()` returns once the pipe is
/// full, that is once the process has written its first `room` bytes.
public final class HeldCLI {
    public let process = Process()
    private let err = Pipe(), out = Pipe()
    private let filler: Int
    // <fcntl.h> with _GNU_SOURCE.
    private static let F_SETPIPE_SZ: Int32 = 1031
    private static let page = 4096

    public init(_ args: [String], room: Int) {
        precondition(room > 0 && room < Self.page)
        let w = err.fileHandleForWriting.fileDescriptor
        precondition(fcntl(w, Self.F_SETPIPE_SZ, Int32(Self.page)) == Int32(Self.page), "F_SETPIPE_SZ")
        filler = Self.page - room
        let bytes = [UInt8](repeating: UInt8(ascii: "#"), count: filler)
        precondition(bytes.withUnsafeBytes { write(w, $0.baseAddress, $0.count) } == filler)
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = args
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try! process.run()
    }

    /// True once the process has filled the pipe (and so is held at the
    /// write that does not fit); false if it exited first or `timeout` passed.
    public func waitUntilHeld(timeout: Double = 120) -> Bool {
        let r = err.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var queued: Int32 = 0
            if ioctl(r, UInt(FIONREAD), &queued) == 0 && Int(queued) == Self.page { return true }
            if !process.isRunning { return false }
            usleep(2000)
        }
        return false
    }

    public func signal(_ s: Int32) { kill(process.processIdentifier, s) }

    /// A test that gives up early does not leave the process blocked behind it.
    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// Drains the pipe (releasing the process), waits for it to exit, and
    /// returns what it printed (without the filler).
    public func finish() -> CLIResult {
        let e = err.fileHandleForReading.readDataToEndOfFile()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e.dropFirst(filler), as: UTF8.self))
    }
}
#endif
