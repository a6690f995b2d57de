/// Byte sizes as people type them: `4096`, `4K`, `2MiB`, `1G`, `10GB`, `0x1000`.
///
/// K, M, G, T, P, E and KiB…EiB are powers of 1024, as in xfs_io and
/// util-linux; KB, MB, GB, TB, PB, EB are powers of 1000. Suffixes are
/// case-insensitive. A trailing `B` alone means bytes.
public enum ByteSize {
    /// Parses a size. Throws EINVAL for an empty, negative, fractional or
    /// unknown-suffix value and ERANGE when the value overflows 63 bits.
    public static func parse(_ text: String, what: String = "size") throws -> UInt64 {
        let s = text.trimmingCharacters(in: " \t")
        if s.isEmpty { throw DaxError(.EINVAL, "invalid \(what) '\(text)': empty") }
        if s.hasPrefix("-") { throw DaxError(.EINVAL, "invalid \(what) '\(text)': must not be negative") }
        var digits = Substring(s)
        var radix = 10
        if digits.lowercased().hasPrefix("0x") { digits = digits.dropFirst(2); radix = 16 }
        let numberPart = digits.prefix { radix == 16 ? $0.isHexDigit : $0.isNumber }
        let suffix = digits.dropFirst(numberPart.count).lowercased()
        guard !numberPart.isEmpty, let base = UInt64(numberPart, radix: radix) else {
            throw DaxError(.EINVAL, "invalid \(what) '\(text)': not a number")
        }
        let multiplier: UInt64
        switch suffix {
        case "", "b": multiplier = 1
        case "k", "kib": multiplier = 1 << 10
        case "m", "mib": multiplier = 1 << 20
        case "g", "gib": multiplier = 1 << 30
        case "t", "tib": multiplier = 1 << 40
        case "p", "pib": multiplier = 1 << 50
        case "e", "eib": multiplier = 1 << 60
        case "kb": multiplier = 1_000
        case "mb": multiplier = 1_000_000
        case "gb": multiplier = 1_000_000_000
        case "tb": multiplier = 1_000_000_000_000
        case "pb": multiplier = 1_000_000_000_000_000
        case "eb": multiplier = 1_000_000_000_000_000_000
        default:
            throw DaxError(.EINVAL, "invalid \(what) '\(text)': unknown suffix '\(suffix)' (use K, M, G, T, KiB, MiB, GiB, TiB, KB, MB, GB or TB)")
        }
        let (v, overflow) = base.multipliedReportingOverflow(by: multiplier)
        if overflow || v > UInt64(Int64.max) {
            throw DaxError(.ERANGE, "invalid \(what) '\(text)': too large")
        }
        return v
    }

    /// Formats bytes with a binary suffix when exact (`2M`, `4K`) and in bytes otherwise.
    public static func exact(_ bytes: UInt64) -> String {
        let units: [(UInt64, String)] = [(1 << 60, "E"), (1 << 50, "P"), (1 << 40, "T"), (1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")]
        for (u, name) in units where bytes >= u && bytes % u == 0 { return "\(bytes / u)\(name)" }
        return "\(bytes)"
    }

    /// Human-readable with one decimal, binary units: `1.5 GiB`.
    public static func human(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = Double(bytes)
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        if i == 0 { return "\(bytes) B" }
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[i])"
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// Integer helpers used across layers.
public extension UInt64 {
    /// Rounds up to a multiple of `align` (a power of two). Traps on overflow.
    func roundedUp(to align: UInt64) -> UInt64 { (self + align - 1) & ~(align - 1) }
    func roundedDown(to align: UInt64) -> UInt64 { self & ~(align - 1) }
    var isPowerOfTwo: Bool { self != 0 && (self & (self - 1)) == 0 }
}
