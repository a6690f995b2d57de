import Foundation
import Testing
import DaxCore
import DaxFSTestSupport
import PMem

/// The physical-limit measurements write what they say they write, on the
/// path the mapping took, and leave no scratch file behind. Nothing here
/// looks at how long anything took: figures belong to daxfs-bench.
@Suite(.serialized) struct CalibrationTests {
    @Test func eachBandwidthWritesItsRangeOnTheMappingsPath() throws {
        let r = TempRegion()
        try RegionPath.createFile(r.path, size: 1 << 20, sparse: true)
        let m = try MappedRegion.map(r.path, readOnly: false)
        let source = [UInt8](repeating: 0x77, count: 64 << 10)
        let expected: [Calibration.Bandwidth: UInt8] = [.memsetPersist: 0x5A, .ntStore: 0xA5, .memcpy: 0x77]
        for (i, kind) in Calibration.Bandwidth.allCases.enumerated() {
            let offset = i * (128 << 10)
            let t = try source.withUnsafeBytes {
                try Calibration.time(kind, on: m, offset: offset, count: $0.count, source: $0.baseAddress)
            }
            #expect(t.bytes == 64 << 10 && t.operations == 1)
            #expect(t.path == m.persistencePath)
            #expect(m.read(at: offset, count: 64 << 10) == [UInt8](repeating: expected[kind]!, count: 64 << 10))
            #expect(m.read(at: offset + (64 << 10), count: 1) == [0], "\(kind) wrote past its range")
        }
    }

    @Test func storePersistWritesOneWordPerStride() throws {
        let r = TempRegion()
        try RegionPath.createFile(r.path, size: 64 << 10, sparse: true)
        let m = try MappedRegion.map(r.path, readOnly: false)
        let t = try Calibration.timeStorePersist(on: m, offset: 0, stride: 4096, stores: 16)
        #expect(t.operations == 16 && t.bytes == 128 && t.path == m.persistencePath)
        for i in 0..<16 {
            #expect(m.read(at: i * 4096, count: 8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } == UInt64(i) | 1)
            #expect(m.read(at: i * 4096 + 8, count: 8) == [UInt8](repeating: 0, count: 8))
        }
        // The words are durable: the file itself holds them.
        #expect(r.read(at: 15 * 4096, count: 1) == [15])
    }

    @Test func zeroBlocksZeroesEveryOtherBlockAndNothingElse() throws {
        let r = TempRegion()
        r.fill(size: 64 << 10, byte: 0xCD)
        let m = try MappedRegion.map(r.path, readOnly: false)
        let t = Calibration.timeZeroBlocks(on: m, offset: 4096, blockSize: 4096, blocks: 6)
        #expect(t.operations == 6 && t.bytes == 6 * 4096 && t.path == m.persistencePath)
        for b in 0..<16 {
            let zeroed = b >= 1 && b <= 11 && (b - 1) % 2 == 0
            let wrong = m.read(at: b * 4096, count: 4096).filter { $0 != (zeroed ? 0 : 0xCD) }.count
            #expect(wrong == 0, "block \(b): \(wrong) bytes are not \(zeroed ? "zero" : "0xCD")")
        }
    }

    @Test func scratchRunsTakeOneTimingPerRunAndCleanUp() throws {
        let tmp = TempRegion()
        let dir = tmp.directory
        let path = try Calibration.persistencePath(directory: dir)
        for warmth in Calibration.Warmth.allCases {
            let b = try Calibration.bandwidth(.ntStore, warmth, bytes: 256 << 10, runs: 3, directory: dir)
            #expect(b.count == 3 && b.allSatisfy { $0.bytes == 256 << 10 && $0.path == path && $0.nanoseconds > 0 })
            let l = try Calibration.storePersistLatency(warmth, stores: 8, runs: 2, directory: dir)
            #expect(l.count == 2 && l.allSatisfy { $0.operations == 8 && $0.path == path })
        }
        let z = try Calibration.zeroBlockLatency(blocks: 8, runs: 2, directory: dir)
        #expect(z.count == 2 && z.allSatisfy { $0.operations == 8 && $0.bytes == 8 * 4096 && $0.path == path })
        #expect(try scratchFiles(in: dir).isEmpty)
    }

    @Test func scratchRegionFailsCleanlyInAMissingDirectory() {
        #expect(throws: DaxError.self) { try ScratchRegion(directory: "/nonexistent/daxfs", size: 4096) }
    }

    private func scratchFiles(in dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("daxfs-scratch-") }
    }
}
