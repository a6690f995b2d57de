import DaxCore
import DaxFSFormat
import PMem

/// Reading the superblocks of a mapped region.
public enum SuperblockReader {
    public struct Copies: Sendable {
        public var primary: Superblock.Probe
        /// The backup at the end of the region, found at the primary's block size
        /// when the primary is valid, else at the first block size that verifies.
        public var backup: Superblock.Probe
        public var backupOffset: Int?
    }

    public static func read(_ media: PersistentMedia) -> Copies {
        let primary = media.size >= Superblock.size ? Superblock.probe(media.view(at: 0, count: Superblock.size)) : .absent
        var candidates = Geometry.blockSizes.map { Int($0) }
        if case .valid(let sb, _) = primary { candidates = [Int(sb.blockSize)] }
        var firstSeen: (Superblock.Probe, Int)?
        for bs in candidates where media.size >= bs * 4 {
            let p = Superblock.probe(media.view(at: media.size - bs, count: Superblock.size))
            if case .valid = p { return Copies(primary: primary, backup: p, backupOffset: media.size - bs) }
            if case .corrupt = p, firstSeen == nil { firstSeen = (p, media.size - bs) }
        }
        return Copies(primary: primary, backup: firstSeen?.0 ?? .absent, backupOffset: firstSeen?.1)
    }

    /// The primary superblock, or a clear error: ENODATA when the region holds
    /// no daxfs, EFSCORRUPTED when it is damaged (saying whether the backup is good).
    public static func primary(_ media: PersistentMedia, path: String) throws -> (Superblock, MountState) {
        let copies = read(media)
        switch copies.primary {
        case .valid(let sb, let state):
            guard sb.regionSize == UInt64(media.size) else {
                throw DaxError(.EFSCORRUPTED, "\(path): the superblock describes a region of \(sb.regionSize) bytes but the region has \(media.size); run 'daxfs fsck'").with("region", path)
            }
            return (sb, state)
        case .unsupported(let why):
            throw DaxError(.EOPNOTSUPP, "\(path): \(why); refusing to use it").with("region", path)
        case .corrupt(let why):
            let hint = { if case .valid = copies.backup { return "the backup superblock is intact; run 'daxfs fsck -y' to restore it" } else { return "no valid backup superblock either" } }()
            throw DaxError(.EFSCORRUPTED, "\(path): primary superblock is corrupt: \(why); \(hint)").with("region", path)
        case .absent:
            if case .valid = copies.backup {
                throw DaxError(.EFSCORRUPTED, "\(path): the primary superblock is missing but a daxfs backup superblock is intact; run 'daxfs fsck -y' to restore it").with("region", path)
            }
            let foreign = ForeignSignature.detect(media.view(at: 0, count: min(media.size, ForeignSignature.probeLength)))
            throw DaxError(.ENODATA, "\(path) does not hold a daxfs filesystem" + (foreign.map { " (it holds \($0))" } ?? "")).with("region", path)
        }
    }
}
