import DaxCore
import DaxFS

/// fallocate(2) on a file modelled as its bytes: what every mode does to
/// the size and the contents, and the error it gives, written from the
/// man page independently of the engine. `unit` is the file's allocation
/// unit in bytes (the alignment collapse and insert need).
public enum FallocateModel {
    public static let maximumFileSize: Int64 = 1 << 60

    /// Applies the mode to `bytes`, or returns the errno fallocate(2) fails
    /// with (leaving `bytes` alone).
    public static func apply(_ bytes: inout [UInt8], mode: FallocateMode, offset: Int64, length: Int64, unit: Int64) -> Errno? {
        if offset < 0 || length <= 0 { return .EINVAL }
        let kind = mode.subtracting(.keepSize)
        switch kind {
        case [], .zeroRange: break
        case .punchHole: if !mode.contains(.keepSize) { return .EOPNOTSUPP }
        case .collapseRange, .insertRange: if mode.contains(.keepSize) { return .EOPNOTSUPP }
        default: return .EOPNOTSUPP
        }
        let end = offset.addingReportingOverflow(length)
        if end.overflow || end.partialValue > maximumFileSize { return .EFBIG }
        let size = Int64(bytes.count), off = Int(offset), e = Int(end.partialValue)
        switch kind {
        case []:
            if !mode.contains(.keepSize) && e > bytes.count { bytes += [UInt8](repeating: 0, count: e - bytes.count) }
        case .punchHole:
            if off < bytes.count { bytes.replaceSubrange(off..<min(e, bytes.count), with: repeatElement(0, count: min(e, bytes.count) - off)) }
        case .zeroRange:
            if off < bytes.count { bytes.replaceSubrange(off..<min(e, bytes.count), with: repeatElement(0, count: min(e, bytes.count) - off)) }
            if !mode.contains(.keepSize) && e > bytes.count { bytes += [UInt8](repeating: 0, count: e - bytes.count) }
        case .collapseRange:
            if offset % unit != 0 || length % unit != 0 { return .EINVAL }
            if end.partialValue >= size { return .EINVAL }
            bytes.removeSubrange(off..<e)
        case .insertRange:
            if offset % unit != 0 || length % unit != 0 { return .EINVAL }
            if size + length > maximumFileSize { return .EFBIG }
            if offset >= size { return .EINVAL }
            bytes.insert(contentsOf: repeatElement(0, count: Int(length)), at: off)
        default:
            return .EOPNOTSUPP
        }
        return nil
    }

    /// The modes a random sequence draws from: every mode Linux accepts.
    public static let modes: [FallocateMode] = [
        [], .keepSize, [.punchHole, .keepSize], .zeroRange, [.zeroRange, .keepSize], .collapseRange, .insertRange,
    ]
}
