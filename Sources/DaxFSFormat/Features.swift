/// Feature masks, as in XFS and ext4.
///
/// - compat: a reader that does not know the bit may mount read-write.
/// - ro_compat: an unknown bit forces a read-only mount.
/// - incompat: an unknown bit refuses the mount.
///
/// Format v1 defines no optional features yet: every mask below is the set
/// this code understands, and any other bit is "unknown".
public struct FeatureMasks: Equatable, Sendable {
    public var compat: UInt64
    public var roCompat: UInt64
    public var incompat: UInt64
    public init(compat: UInt64 = 0, roCompat: UInt64 = 0, incompat: UInt64 = 0) {
        self.compat = compat; self.roCompat = roCompat; self.incompat = incompat
    }

    public static let knownCompat: UInt64 = 0
    public static let knownRoCompat: UInt64 = 0
    public static let knownIncompat: UInt64 = 0

    public var unknownCompat: UInt64 { compat & ~Self.knownCompat }
    public var unknownRoCompat: UInt64 { roCompat & ~Self.knownRoCompat }
    public var unknownIncompat: UInt64 { incompat & ~Self.knownIncompat }

    /// Names of the bits set, known or not ("bit 5" for unknown ones).
    public static func names(_ mask: UInt64) -> [String] {
        (0..<64).filter { mask & (1 << UInt64($0)) != 0 }.map { "bit \($0)" }
    }
}
