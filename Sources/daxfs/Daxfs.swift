import ArgumentParser
import DaxCore
#if canImport(Glibc)
import Glibc
#endif

/// The root command. Subcommands live one per file, named after the command.
@main
struct Daxfs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daxfs",
        abstract: "Format, mount in-process, check and manipulate a persistent-memory region.",
        discussion: """
            A region is a regular file (for example on /dev/shm) or a device-DAX \
            character device (/dev/daxX.Y). Every command maps the region itself \
            with libpmem and serves the operation in this process; no kernel \
            driver is involved.

            Errors go to standard error, prefixed with "daxfs: ".

            EXIT STATUS
              0   success
              1   the operation failed for a reason not listed below (for example ENOSPC, ENOTEMPTY, EFBIG)
              64  usage error: an unknown option or an invalid value (EINVAL, ERANGE, ENAMETOOLONG)
              65  the region does not hold daxfs, or its metadata is damaged (ENODATA, EFSCORRUPTED)
              66  the region or a path does not exist or is the wrong kind of file (ENOENT, EISDIR, ENOTDIR, ENODEV)
              69  not supported: unknown incompatible features, a block device (EOPNOTSUPP)
              73  refusing to overwrite: the region already holds a filesystem or signature (EEXIST)
              74  input/output error (EIO)
              75  the region is in use by another process (EBUSY)

            fsck exits with e2fsck's bitmask instead (0, 1, 4, 8, 16, 32, 128); see 'daxfs help fsck'.
            """,
        version: "daxfs 0.1.0 (on-media format v1)",
        subcommands: [Mkfs.self, Info.self, Fsck.self, Devices.self] + FileCommands.subcommands + [Io.self])

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
            try Out.flush()
        } catch let e as DaxError {
            try? Out.flush()
            fail(e.description, status: ExitStatus.of(e))
        } catch let code as ExitCode {
            try? Out.flush()
            Glibc.exit(code.rawValue)
        } catch {
            var status = exitCode(for: error)
            // fsck reports usage errors with e2fsck's status 16.
            if CommandLine.arguments.dropFirst().first == "fsck" && status != .success { status = ExitCode(16) }
            if status == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            fail(message(for: error) + "\nSee 'daxfs --help' and 'daxfs help <command>'.", status: status.rawValue)
        }
    }
}

/// Exit statuses, as documented in `daxfs --help` and daxfs(8).
enum ExitStatus {
    static let failure: Int32 = 1
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let noInput: Int32 = 66
    static let unsupported: Int32 = 69
    static let cannotCreate: Int32 = 73
    static let ioError: Int32 = 74
    static let busy: Int32 = 75

    static func of(_ e: DaxError) -> Int32 {
        switch e.code {
        case .EINVAL, .ERANGE, .ENAMETOOLONG: usage
        case .ENODATA, .EFSCORRUPTED, .EBADMSG: dataError
        case .ENOENT, .EISDIR, .ENOTDIR, .ENODEV, .ENXIO: noInput
        case .EOPNOTSUPP: unsupported
        case .EEXIST: cannotCreate
        case .EIO: ioError
        case .EBUSY, .EAGAIN: busy
        default: failure
        }
    }
}

/// Prints `daxfs: message` to standard error and exits with `status`.
func fail(_ message: String, status: Int32) -> Never {
    try? Out.flush()
    var m = "daxfs: " + message
    if !m.hasSuffix("\n") { m += "\n" }
    writeStderr(m)
    Glibc.exit(status)
}

/// Prints a warning to standard error without stopping.
func warn(_ message: String) {
    writeStderr("daxfs: warning: \(message)\n")
}

/// Writes to file descriptor 2 directly (no shared FILE* state).
func writeStderr(_ s: String) {
    var bytes = Array(s.utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + off, $0.count - off) }
        if n <= 0 { break }
        off += n
    }
}
