#if canImport(Glibc)
import Glibc
#endif

/// An errno-style error code. The raw value is the Linux errno number.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let EPERM = Errno(rawValue: Glibc.EPERM)
    public static let ENOENT = Errno(rawValue: Glibc.ENOENT)
    public static let EIO = Errno(rawValue: Glibc.EIO)
    public static let EBADF = Errno(rawValue: Glibc.EBADF)
    public static let ENOMEM = Errno(rawValue: Glibc.ENOMEM)
    public static let EACCES = Errno(rawValue: Glibc.EACCES)
    public static let EBUSY = Errno(rawValue: Glibc.EBUSY)
    public static let EEXIST = Errno(rawValue: Glibc.EEXIST)
    public static let ENODEV = Errno(rawValue: Glibc.ENODEV)
    public static let ENOTDIR = Errno(rawValue: Glibc.ENOTDIR)
    public static let EISDIR = Errno(rawValue: Glibc.EISDIR)
    public static let EINVAL = Errno(rawValue: Glibc.EINVAL)
    public static let EFBIG = Errno(rawValue: Glibc.EFBIG)
    public static let ENOSPC = Errno(rawValue: Glibc.ENOSPC)
    public static let EROFS = Errno(rawValue: Glibc.EROFS)
    public static let ERANGE = Errno(rawValue: Glibc.ERANGE)
    public static let EDEADLK = Errno(rawValue: Glibc.EDEADLK)
    public static let ENAMETOOLONG = Errno(rawValue: Glibc.ENAMETOOLONG)
    public static let ENOTEMPTY = Errno(rawValue: Glibc.ENOTEMPTY)
    public static let ENODATA = Errno(rawValue: Glibc.ENODATA)
    public static let EOVERFLOW = Errno(rawValue: Glibc.EOVERFLOW)
    public static let EBADMSG = Errno(rawValue: Glibc.EBADMSG)
    public static let EOPNOTSUPP = Errno(rawValue: Glibc.EOPNOTSUPP)
    public static let EAGAIN = Errno(rawValue: Glibc.EAGAIN)
    public static let ENOTTY = Errno(rawValue: Glibc.ENOTTY)
    public static let ENXIO = Errno(rawValue: Glibc.ENXIO)
    /// EFSCORRUPTED, as XFS and ext4 spell it: the metadata is damaged.
    public static let EUCLEAN = Errno(rawValue: Glibc.EUCLEAN)
    public static let EFSCORRUPTED = EUCLEAN

    /// The current thread's `errno`.
    public static var current: Errno { Errno(rawValue: Glibc.errno) }

    /// The symbolic name, for example "ENOSPC".
    public var name: String {
        switch self {
        case .EPERM: "EPERM"
        case .ENOENT: "ENOENT"
        case .EIO: "EIO"
        case .EBADF: "EBADF"
        case .ENOMEM: "ENOMEM"
        case .EACCES: "EACCES"
        case .EBUSY: "EBUSY"
        case .EEXIST: "EEXIST"
        case .ENODEV: "ENODEV"
        case .ENOTDIR: "ENOTDIR"
        case .EISDIR: "EISDIR"
        case .EINVAL: "EINVAL"
        case .EFBIG: "EFBIG"
        case .ENOSPC: "ENOSPC"
        case .EROFS: "EROFS"
        case .ERANGE: "ERANGE"
        case .EDEADLK: "EDEADLK"
        case .ENAMETOOLONG: "ENAMETOOLONG"
        case .ENOTEMPTY: "ENOTEMPTY"
        case .ENODATA: "ENODATA"
        case .EOVERFLOW: "EOVERFLOW"
        case .EBADMSG: "EBADMSG"
        case .EOPNOTSUPP: "EOPNOTSUPP"
        case .EAGAIN: "EAGAIN"
        case .ENOTTY: "ENOTTY"
        case .ENXIO: "ENXIO"
        case .EUCLEAN: "EFSCORRUPTED"
        default: "E#\(rawValue)"
        }
    }

    /// strerror(3) text.
    public var strerror: String { String(cString: Glibc.strerror(rawValue)) }
    public var description: String { name }
}

/// The one error type of daxfs: an errno-style code, a message for people,
/// and context (the region, the path, the offset...) that says where.
///
/// Environmental failures (bad input, corrupted media, a busy region, the
/// kernel saying no) are thrown as `DaxError`. Programmer errors trap.
public struct DaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Errno
    public var message: String
    /// Key/value pairs in the order they were added, for example ("region", "/dev/dax0.0").
    public var context: [Context]
    /// Where the error was raised, for bug reports.
    public var location: String

    public struct Context: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) { self.key = key; self.value = value }
    }

    public init(_ code: Errno, _ message: String, context: [Context] = [],
                fileID: StaticString = #fileID, line: UInt = #line) {
        self.code = code
        self.message = message
        self.context = context
        self.location = "\(fileID):\(line)"
    }

    /// An error from a failed system call, with `errno` read now.
    public static func syscall(_ name: String, _ what: String, errno: Errno = .current,
                               fileID: StaticString = #fileID, line: UInt = #line) -> DaxError {
        DaxError(errno, "\(what): \(name): \(errno.strerror)", fileID: fileID, line: line)
    }

    /// The same error with one more piece of context.
    public func with(_ key: String, _ value: CustomStringConvertible) -> DaxError {
        var e = self
        e.context.append(Context(key, value.description))
        return e
    }

    public func value(for key: String) -> String? { context.first { $0.key == key }?.value }

    public var description: String {
        // Context the message already names is not repeated.
        let extra = context.filter { !message.utf8.contains(subsequence: $0.value.utf8) }
        if extra.isEmpty { return message }
        return message + " (" + extra.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
    }
}

extension Sequence where Element: Equatable {
    /// Whether `needle` occurs contiguously in this sequence. O(n·m); for short messages.
    func contains<S: Collection>(subsequence needle: S) -> Bool where S.Element == Element {
        let hay = Array(self), n = Array(needle)
        if n.isEmpty { return true }
        if n.count > hay.count { return false }
        for i in 0...(hay.count - n.count) where hay[i] == n[0] && Array(hay[i..<(i + n.count)]) == n { return true }
        return false
    }
}
