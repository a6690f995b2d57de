import Foundation
import Testing
import DaxCore
import DaxFS
import DaxFSTestSupport
import PMem

/// The same seeded sequences of writes, truncates and fallocate calls (every
/// mode, aligned and unaligned, inside and across EOF) on a daxfs file and
/// on a file in ext4 over a loop device: after every step the two agree on
/// the error, the size and every byte. ext4, because tmpfs has no collapse
/// or insert. The pure `FallocateModel` runs alongside as a third opinion,
/// and every mapped daxfs block is checked for the 0xCD mkfs sentinel.
@Suite(.serialized) struct FallocateDifferentialTests {
    static let seeds = 20
    static let steps = 200

    @Test(.enabled(if: LoopMount.unavailableReason() == nil,
                   "differential fallocate test skipped: \(LoopMount.unavailableReason() ?? "")"))
    func daxfsMatchesExt4() throws {
        let ext4 = try LoopMount("ext4")
        for seed in 1...UInt64(Self.seeds) {
            try run(seed: seed, oracleDirectory: ext4.mountPoint)
        }
    }

    func run(seed: UInt64, oracleDirectory: String) throws {
        let region = TempRegion("diff")
        try region.format(size: 64 << 20)
        let fs = try Filesystem.mount(region.path)
        defer { try? fs.unmount() }
        let ino = try fs.create("/f")
        let path = "\(oracleDirectory)/f\(seed)"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0, "open \(path): errno \(errno)")
        defer { close(fd); unlink(path) }
        var model = FileModel()
        model.files["/f"] = []
        var rng = SeededRandom(seed: seed)
        var log: [String] = []
        for step in 0..<Self.steps {
            let size = model.files["/f"]!.count
            let op = rng.below(10)
            var linuxErr: Int32 = 0, daxErr: Int32 = 0
            func dax(_ body: () throws -> Void) {
                do { try body() } catch let e as DaxError { daxErr = e.code.rawValue } catch { daxErr = -1 }
            }
            if op < 3 {
                let off = Self.position(&rng, size: size), len = 1 + rng.below(rng.below(4) == 0 ? 256 << 10 : 12 << 10)
                let data = rng.bytes(len)
                log.append("write \(off) \(len)")
                let n = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, len, off_t(off)) }
                if n != len { linuxErr = errno }
                dax { try fs.write(ino, at: UInt64(off), data) }
                if daxErr == 0 {
                    var m = model.files["/f"]!
                    if m.count < off + len { m += [UInt8](repeating: 0, count: off + len - m.count) }
                    m.replaceSubrange(off..<(off + len), with: data)
                    model.files["/f"] = m
                }
            } else if op == 3 {
                let newSize = Self.position(&rng, size: size)
                log.append("truncate \(newSize)")
                if ftruncate(fd, off_t(newSize)) != 0 { linuxErr = errno }
                dax { try fs.truncate(ino, size: UInt64(newSize)) }
                var m = model.files["/f"]!
                if newSize < m.count { m.removeSubrange(newSize...) } else { m += [UInt8](repeating: 0, count: newSize - m.count) }
                model.files["/f"] = m
            } else {
                let mode = FallocateModel.modes[rng.below(FallocateModel.modes.count)]
                var off = Int64(Self.position(&rng, size: size))
                var len = Int64(1 + rng.below(rng.below(3) == 0 ? 1 << 20 : 64 << 10))
                if rng.below(2) == 0 { off = off / 4096 * 4096; len = max(4096, len / 4096 * 4096) }
                if rng.below(40) == 0 { len = -Int64(rng.below(2)) }          // length 0 or negative: EINVAL
                log.append("fallocate \(mode.rawValue) \(off) \(len)")
                if linuxFallocate(fd, mode.rawValue, off, len) != 0 { linuxErr = errno }
                dax { try fs.fallocate(ino, mode: mode, offset: off, length: len) }
                var m = model.files["/f"]!
                let modelErr = FallocateModel.apply(&m, mode: mode, offset: off, length: len, unit: 4096)
                if modelErr == nil { model.files["/f"] = m }
                #expect(modelErr?.rawValue ?? 0 == linuxErr,
                        "seed \(seed) step \(step): the model says \(modelErr.map(String.init(describing:)) ?? "success"), Linux errno \(linuxErr)\n\(log.suffix(8).joined(separator: "\n"))")
            }
            try #require(daxErr == linuxErr,
                         "seed \(seed) step \(step): daxfs errno \(daxErr), Linux errno \(linuxErr)\n\(log.suffix(8).joined(separator: "\n"))")
            var st = stat()
            fstat(fd, &st)
            var linux = [UInt8](repeating: 0, count: Int(st.st_size))
            _ = linux.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            let ours = try fs.read(ino, at: 0, count: linux.count + 1)
            try #require(ours.count == linux.count, "seed \(seed) step \(step): daxfs size \(ours.count), Linux \(linux.count)\n\(log.suffix(8).joined(separator: "\n"))")
            if ours.withUnsafeBytes({ o in linux.withUnsafeBytes { memcmp(o.baseAddress!, $0.baseAddress!, linux.count) } }) != 0 {
                let i = zip(ours, linux).enumerated().first { $0.element.0 != $0.element.1 }!.offset
                Issue.record("seed \(seed) step \(step): byte \(i) is \(ours[i]) on daxfs, \(linux[i]) on Linux\n\(log.suffix(8).joined(separator: "\n"))")
                return
            }
            if let why = model.mismatch(in: fs) {
                Issue.record("seed \(seed) step \(step): \(why)\n\(log.suffix(8).joined(separator: "\n"))")
                return
            }
        }
        try fs.checkInvariants()
    }

    /// A position around the file: inside it, at EOF, or a little past it.
    static func position(_ rng: inout SeededRandom, size: Int) -> Int {
        switch rng.below(8) {
        case 0: return size
        case 1: return size + rng.below(96 << 10)
        default: return rng.below(max(1, size))
        }
    }
}
