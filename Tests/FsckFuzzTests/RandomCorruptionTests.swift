import Foundation
import Testing
import DaxCore
import DaxFS
import DaxFSCheck
import DaxFSFormat
import DaxFSTestSupport

/// Random corruption, as e2fuzz does it: XOR random bytes into up to 1% of
/// the metadata bytes (one superblock copy, the current checkpoint's header
/// and chunks, and the used part of the log), over many seeds. Repair must
/// converge in at most three `fsck -y` runs (a `fsck -n` after it exits 0),
/// never exit anything but 0 or 1, and leave an image that mounts and
/// survives a short run of random operations checked against a model.
///
/// Only one superblock copy is damaged per seed: with both destroyed there
/// is nothing to rebuild the geometry from, and fsck rightly exits 8.
/// DAXFS_FSCK_SEEDS sets the number of seeds (default 200).
@Suite struct RandomCorruptionTests {
    @Test func repairConvergesWithinThreeRuns() throws {
        let base = try FsckImage(try FsckImages.populated())
        let media = RecordingMedia(image: base.bytes, isReadOnly: true, capturesPayloads: false)
        let tail = LogScan.scan(media: media, layout: base.layout, replaySeq: base.header.replaySeq).tail
        let chunkBytes = Int(base.header.chunkCount) * CheckpointChunk.size
        func areas(_ seed: UInt64) -> [Range<Int>] {
            let sbCopy = seed % 2 == 0 ? 0 : Int(base.sb.backupOffset)
            return [sbCopy..<(sbCopy + Superblock.size),
                    base.slotOffset..<(base.slotOffset + CheckpointHeader.size),
                    (base.slotOffset + CheckpointHeader.chunksOffset)..<(base.slotOffset + CheckpointHeader.chunksOffset + chunkBytes),
                    base.layout.log.lowerBound..<(base.layout.log.lowerBound + tail)]
        }
        let seeds = Int(ProcessInfo.processInfo.environment["DAXFS_FSCK_SEEDS"] ?? "") ?? 200
        var runsNeeded = [0, 0, 0, 0]
        var failures: [String] = []
        for seed in 1...UInt64(seeds) {
            var rng = SeededRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15)
            let offsets = areas(seed).flatMap { Array($0) }
            var image = base.bytes
            let flips = 1 + rng.below(max(1, offsets.count / 100))
            for i in rng.sample(flips, of: offsets.count) { image[offsets[i]] ^= UInt8(1 + rng.below(255)) }
            if let why = Self.converge(image, seed: seed, runs: &runsNeeded) { failures.append("seed \(seed) (\(flips) bytes): \(why)") }
        }
        print("random corruption: \(seeds) seeds; clean after 0/1/2/3 fsck -y runs: \(runsNeeded)")
        for f in failures.prefix(30) { Issue.record(Comment(rawValue: f)) }
        #expect(failures.isEmpty, "\(failures.count) of \(seeds) seeds failed")
    }

    static func converge(_ image: [UInt8], seed: UInt64, runs: inout [Int]) -> String? {
        do {
            let media = RecordingMedia(image: image, capturesPayloads: false)
            var history: [String] = []
            var converged = -1
            for run in 0...3 {
                let check = try Fsck.check(media: RecordingMedia(image: media.cacheImage, isReadOnly: true, capturesPayloads: false),
                                           options: CheckOptions(mode: .check, force: true))
                if check.exitStatus == 0 { converged = run; break }
                if run == 3 { break }
                let fix = try Fsck.check(media: media, options: CheckOptions(mode: .repair, force: true))
                history.append("run \(run + 1): exit \(fix.exitStatus) \(fix.problems.map(\.code.rawValue))")
                guard fix.exitStatus == 0 || fix.exitStatus == 1 else { return "fsck -y exited \(fix.exitStatus): \(history)" }
            }
            guard converged >= 0 else { return "not clean after 3 fsck -y runs: \(history)" }
            runs[converged] += 1
            let repaired = media.cacheImage
            let idem = try Fsck.check(media: media, options: CheckOptions(mode: .repair, force: true))
            if idem.exitStatus != 0 || !media.cacheEquals(repaired) { return "fsck -y on a repaired image changed it (exit \(idem.exitStatus)): \(history)" }
            let fs = try Filesystem.mount(media: media)
            try ShortRun.run(fs, seed: seed)
            try fs.checkInvariants()
            try fs.unmount()
            let after = try Fsck.check(media: RecordingMedia(image: media.cacheImage, isReadOnly: true, capturesPayloads: false),
                                       options: CheckOptions(mode: .check, force: true))
            if after.exitStatus != 0 { return "fsck -n after the exerciser exited \(after.exitStatus): \(after.problems.map(\.message))" }
            return nil
        } catch {
            return "threw \(error)"
        }
    }
}

/// A short exerciser run on a repaired filesystem: 150 random creates,
/// writes, truncates, renames and removals of files under a new directory,
/// every file read back and compared with a model after each step.
enum ShortRun {
    static func run(_ fs: Filesystem, seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let dir = "/exerciser-\(seed)"
        try fs.mkdir(dir)
        var model: [String: [UInt8]] = [:]
        for step in 0..<150 {
            let name = "\(dir)/f\(rng.below(4))"
            switch (model[name] == nil, rng.below(10)) {
            case (true, _):
                try fs.create(name)
                model[name] = []
            case (false, 0..<5):
                let off = rng.below(64 << 10), len = 1 + rng.below(16 << 10)
                let data = (0..<len).map { UInt8(truncatingIfNeeded: $0 &+ step) }
                try fs.write(try fs.lookup(name), at: UInt64(off), data)
                var m = model[name]!
                if m.count < off + len { m += [UInt8](repeating: 0, count: off + len - m.count) }
                m.replaceSubrange(off..<(off + len), with: data)
                model[name] = m
            case (false, 5..<7):
                let size = rng.below(80 << 10)
                try fs.truncate(try fs.lookup(name), size: UInt64(size))
                var m = model[name]!
                if m.count < size { m += [UInt8](repeating: 0, count: size - m.count) } else { m.removeSubrange(size...) }
                model[name] = m
            case (false, 7..<9):
                let to = "\(dir)/f\(rng.below(4))"
                if to != name {
                    try fs.rename(name, to: to)
                    model[to] = model.removeValue(forKey: name)
                }
            default:
                try fs.remove(name)
                model[name] = nil
            }
            for (path, want) in model {
                let got = try fs.read(try fs.lookup(path), at: 0, count: want.count + 1)
                guard got == want else { throw DaxError(.EIO, "step \(step): \(path) reads back \(got.count) bytes that differ from the model (\(want.count))") }
            }
        }
    }
}
