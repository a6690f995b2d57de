import DaxCore
import DaxFSFormat
import DaxFS
import PMem

/// Pass 1: the primary and backup superblocks.
///
/// A copy is usable when it verifies (magic, checksum, version, geometry)
/// and describes a region of the mapped size. When only one copy is usable
/// the other is rewritten from it; when both are usable but differ, fsck
/// keeps the copy without unknown feature bits, then the one under which a
/// checkpoint header verifies, then the primary. Reads only.
struct SuperblockPass {
    var sb: Superblock
    var found: [Found] = []
    var rewritePrimary = false
    var rewriteBackup = false
    /// The primary's state word when the primary is usable.
    var primaryState: MountState?

    static func run(_ media: PersistentMedia) throws -> SuperblockPass {
        let size = UInt64(media.size)
        let copies = SuperblockReader.read(media)
        func usable(_ p: Superblock.Probe) -> (Superblock, MountState)? {
            if case .valid(let sb, let st) = p, sb.regionSize == size { return (sb, st) }
            return nil
        }
        func why(_ p: Superblock.Probe) -> String {
            switch p {
            case .valid(let sb, _): return "it describes a region of \(sb.regionSize) bytes, the region has \(size)"
            case .corrupt(let w), .unsupported(let w): return w
            case .absent: return "no daxfs magic"
            }
        }
        let p = usable(copies.primary), b = usable(copies.backup)
        var pass: SuperblockPass
        switch (p, b) {
        case (nil, nil):
            if case .absent = copies.primary, case .absent = copies.backup {
                throw DaxError(.ENODATA, "the region does not hold a daxfs filesystem (no superblock, no backup)")
            }
            throw DaxError(.EFSCORRUPTED, "no usable superblock: primary: \(why(copies.primary)); backup: \(why(copies.backup))")
        case (let p?, nil):
            pass = SuperblockPass(sb: p.0, primaryState: p.1)
            pass.found.append(Found(.backupSuperblockBad, "backup superblock: \(why(copies.backup))"))
            pass.rewriteBackup = true
        case (nil, let b?):
            pass = SuperblockPass(sb: b.0)
            pass.found.append(Found(.primarySuperblockBad, "primary superblock: \(why(copies.primary))"))
            pass.rewritePrimary = true
        case (let p?, let b?):
            pass = SuperblockPass(sb: p.0, primaryState: p.1)
            if p.0 != b.0 {
                func score(_ sb: Superblock) -> Int {
                    let layout = Layout(sb)
                    let known = sb.features.unknownIncompat == 0 && sb.features.unknownRoCompat == 0 && sb.features.unknownCompat == 0
                    let verifies = (0...1).contains { if case .success = CheckpointIO.header(slot: $0, media: media, layout: layout) { return true } else { return false } }
                    return (known ? 2 : 0) + (verifies ? 1 : 0)
                }
                let keepPrimary = score(p.0) >= score(b.0)
                let fields = differingFields(p.0, b.0)
                pass.sb = keepPrimary ? p.0 : b.0
                pass.found.append(Found(.superblocksDiffer, "the primary and backup superblocks differ in \(fields.joined(separator: ", ")); keeping the \(keepPrimary ? "primary" : "backup")"))
                if keepPrimary { pass.rewriteBackup = true } else { pass.rewritePrimary = true }
            }
            if b.1 != .clean {
                pass.found.append(Found(.backupStateWord, "backup superblock state word is \(b.1), expected clean"))
                pass.rewriteBackup = true
            }
        }
        if let st = pass.primaryState, st.state == nil {
            pass.found.append(Found(.stateWordInvalid, "primary superblock state word 0x\(String(st.word, radix: 16)) does not verify"))
        }
        let unknown = pass.sb.features
        if unknown.unknownIncompat != 0 || unknown.unknownRoCompat != 0 {
            throw DaxError(.EOPNOTSUPP, "the filesystem uses features this fsck does not know (\(FeatureMasks.names(unknown.unknownIncompat | unknown.unknownRoCompat).joined(separator: ", "))); refusing to check it")
        }
        // Bytes the decoder does not look at: reserved, the label's padding and its encoding.
        for (copy, offset, usableCopy) in [("primary", 0, p != nil), ("backup", Int(pass.sb.backupOffset), b != nil)] where usableCopy {
            let raw = media.view(at: offset, count: Superblock.size)
            let reserved = Superblock.F.reserved
            let label = raw.bytes(Superblock.F.label.offset, Superblock.labelCapacity)
            let text = label.prefix { $0 != 0 }
            var problem: String?
            if !(reserved.offset..<reserved.end).allSatisfy({ raw[$0] == 0 }) { problem = "reserved bytes are not zero" }
            else if !label.dropFirst(text.count).allSatisfy({ $0 == 0 }) { problem = "the label's padding is not zero" }
            else if String(validating: Array(text), as: UTF8.self) == nil { problem = "the label is not valid UTF-8"; pass.sb.label = "" }
            if let problem {
                pass.found.append(Found(.superblockReserved, "\(copy) superblock: \(problem)"))
                if copy == "primary" { pass.rewritePrimary = true } else { pass.rewriteBackup = true }
            }
        }
        return pass
    }

    /// The names of the fields whose encoded bytes differ.
    static func differingFields(_ a: Superblock, _ b: Superblock) -> [String] {
        let x = a.encode(state: .clean), y = b.encode(state: .clean)
        return Superblock.layout.fields.filter { f in f.name != "crc" && x[f.offset..<f.end] != y[f.offset..<f.end] }.map(\.name)
    }
}
