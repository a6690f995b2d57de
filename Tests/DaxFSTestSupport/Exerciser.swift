import Foundation
import DaxCore
import DaxFS
import DaxFSFormat

/// fsx for daxfs: seeded random operations over a few files, each followed
/// by a check of the complete contents of every file against an in-memory
/// model. Every run records its operations as text; `replay` runs such a
/// log again, so a failure found with a seed is reproduced from its log.
///
/// Operations: write, read, truncate (up and down), create, unlink,
/// rename, remount (clean, or dropping the mount as a crash would and
/// replaying the log), every fallocate mode (checked against
/// `FallocateModel`, errors included), dig-holes, and stores and loads
/// through write and read mappings. Later issues add swap-extents here.
public final class Exerciser {
    public enum Op: Equatable, CustomStringConvertible, Sendable {
        case write(file: Int, offset: Int, length: Int, seed: UInt64)
        case read(file: Int, offset: Int, length: Int)
        case truncate(file: Int, size: Int)
        case create(file: Int)
        case unlink(file: Int)
        case rename(from: Int, to: Int)
        case remount(crash: Bool)
        /// fallocate(2) with a `FallocateMode` raw value.
        case fallocate(file: Int, mode: Int32, offset: Int, length: Int)
        case digHoles(file: Int)
        /// Stores through a write mapping, then persist and release.
        case mapWrite(file: Int, offset: Int, length: Int, seed: UInt64)
        /// Loads through a read mapping (EINVAL past EOF).
        case mapRead(file: Int, offset: Int, length: Int)
        /// swap-extents: kind 0 whole files, 1 to EOF from the offsets, 2 a range of `length`.
        case swap(a: Int, b: Int, kind: Int, offset1: Int, offset2: Int, length: Int)

        public var description: String {
            switch self {
            case .write(let f, let o, let l, let s): "write \(f) \(o) \(l) \(s)"
            case .read(let f, let o, let l): "read \(f) \(o) \(l)"
            case .truncate(let f, let s): "truncate \(f) \(s)"
            case .create(let f): "create \(f)"
            case .unlink(let f): "unlink \(f)"
            case .rename(let a, let b): "rename \(a) \(b)"
            case .remount(let c): "remount \(c ? "crash" : "clean")"
            case .fallocate(let f, let m, let o, let l): "fallocate \(f) \(m) \(o) \(l)"
            case .digHoles(let f): "dig \(f)"
            case .mapWrite(let f, let o, let l, let s): "mapwrite \(f) \(o) \(l) \(s)"
            case .mapRead(let f, let o, let l): "mapread \(f) \(o) \(l)"
            case .swap(let a, let b, let k, let o1, let o2, let l): "swap \(a) \(b) \(k) \(o1) \(o2) \(l)"
            }
        }

        /// Parses a line of an op log.
        public init?(_ line: String) {
            let w = line.split(separator: " ").map(String.init)
            guard let k = w.first else { return nil }
            func i(_ n: Int) -> Int? { n < w.count ? Int(w[n]) : nil }
            switch (k, w.count) {
            case ("write", 5): guard let f = i(1), let o = i(2), let l = i(3), let s = UInt64(w[4]) else { return nil }; self = .write(file: f, offset: o, length: l, seed: s)
            case ("read", 4): guard let f = i(1), let o = i(2), let l = i(3) else { return nil }; self = .read(file: f, offset: o, length: l)
            case ("truncate", 3): guard let f = i(1), let s = i(2) else { return nil }; self = .truncate(file: f, size: s)
            case ("create", 2): guard let f = i(1) else { return nil }; self = .create(file: f)
            case ("unlink", 2): guard let f = i(1) else { return nil }; self = .unlink(file: f)
            case ("rename", 3): guard let a = i(1), let b = i(2) else { return nil }; self = .rename(from: a, to: b)
            case ("remount", 2): self = .remount(crash: w[1] == "crash")
            case ("fallocate", 5):
                guard let f = i(1), let m = Int32(w[2]), let o = i(3), let l = i(4) else { return nil }
                self = .fallocate(file: f, mode: m, offset: o, length: l)
            case ("dig", 2): guard let f = i(1) else { return nil }; self = .digHoles(file: f)
            case ("mapwrite", 5):
                guard let f = i(1), let o = i(2), let l = i(3), let s = UInt64(w[4]) else { return nil }
                self = .mapWrite(file: f, offset: o, length: l, seed: s)
            case ("mapread", 4): guard let f = i(1), let o = i(2), let l = i(3) else { return nil }; self = .mapRead(file: f, offset: o, length: l)
            case ("swap", 7):
                guard let a = i(1), let b = i(2), let k = i(3), let o1 = i(4), let o2 = i(5), let l = i(6) else { return nil }
                self = .swap(a: a, b: b, kind: k, offset1: o1, offset2: o2, length: l)
            default: return nil
            }
        }
    }

    public struct Configuration: Sendable {
        public var files = 4
        public var maxFileSize = 2 << 20
        public var maxWrite = 256 << 10
        public var regionSize: UInt64 = 48 << 20
        public var logSize: UInt64 = 256 << 10
        public init() {}
    }

    public let configuration: Configuration
    public let region: TempRegion
    public private(set) var fs: Filesystem!
    public private(set) var log: [Op] = []
    private var model: [Int: [UInt8]] = [:]
    private var scratch: [UInt8] = []
    /// How many operations of each kind ran, and how many were refused with
    /// the error the model predicted ("swap", "swap refused", ...).
    public private(set) var tally: [String: Int] = [:]

    public init(configuration: Configuration = Configuration()) throws {
        self.configuration = configuration
        region = TempRegion("fsx")
        try region.format(size: configuration.regionSize, logSize: configuration.logSize)
        fs = try Filesystem.mount(region.path)
    }

    deinit { try? fs.unmount() }

    static func path(_ f: Int) -> String { "/file\(f)" }

    /// A random operation; `rng` decides everything, so a seed fixes the run.
    public func randomOp(_ rng: inout SeededRandom) -> Op {
        let f = rng.below(configuration.files)
        let exists = model[f] != nil
        let roll = rng.below(100)
        if !exists { return roll < 3 ? .remount(crash: rng.below(2) == 0) : .create(file: f) }
        switch roll {
        case 0..<4:
            let len = 1 + rng.below(rng.below(4) == 0 ? configuration.maxWrite : 16384)
            return .mapWrite(file: f, offset: rng.below(max(1, configuration.maxFileSize - len)), length: len, seed: rng.next())
        case 4..<32:
            let len = 1 + (rng.below(4) == 0 ? rng.below(configuration.maxWrite) : rng.below(8192))
            let off = rng.below(max(1, configuration.maxFileSize - len))
            return .write(file: f, offset: off, length: len, seed: rng.next())
        case 32..<42: return .read(file: f, offset: rng.below(configuration.maxFileSize), length: 1 + rng.below(65536))
        case 42..<46:
            let size = model[f]!.count
            return .mapRead(file: f, offset: rng.below(max(1, size)), length: 1 + rng.below(rng.below(8) == 0 ? 65536 : 8192))
        case 46..<58: return .truncate(file: f, size: rng.below(configuration.maxFileSize))
        case 58..<64: return .unlink(file: f)
        case 64..<71: return .rename(from: f, to: rng.below(configuration.files))
        case 71..<87:
            let mode = FallocateModel.modes[rng.below(FallocateModel.modes.count)]
            let size = model[f]!.count
            var off = rng.below(4) == 0 ? size : rng.below(max(1, min(configuration.maxFileSize, size + 65536)))
            var len = 1 + rng.below(rng.below(4) == 0 ? configuration.maxFileSize / 4 : 65536)
            if rng.below(2) == 0 { off = off / 4096 * 4096; len = max(4096, len / 4096 * 4096) }
            if mode.contains(.insertRange) && size + len > configuration.maxFileSize { len = 4096 }
            return .fallocate(file: f, mode: mode.rawValue, offset: off, length: len)
        case 87: return .digHoles(file: f)
        case 88..<90: return .remount(crash: rng.below(2) == 0)
        case 90..<95:
            let g = rng.below(configuration.files)
            let s1 = model[f]!.count, s2 = model[g]?.count ?? 0
            let kind = rng.below(3)
            func offset(_ size: Int) -> Int { rng.below(8) == 0 ? rng.below(size + 1) : rng.below(size / 4096 + 1) * 4096 }
            let o1 = kind == 0 ? 0 : offset(s1), o2 = kind == 0 ? 0 : offset(s2)
            let room = max(0, min(s1 - min(o1, s1), s2 - min(o2, s2)))
            var len = rng.below(8) == 0 ? rng.below(65536) : (1 + rng.below(max(1, room / 4096))) * 4096
            if kind == 2 && rng.below(4) == 0 { len = room }   // to the end of one or both, maybe unaligned
            return .swap(a: f, b: g, kind: kind, offset1: o1, offset2: o2, length: len)
        default: return .create(file: rng.below(configuration.files))
        }
    }

    /// Runs `count` random operations from `seed`, checking after each.
    /// Throws at the first mismatch, naming the operation and its index.
    public func run(seed: UInt64, count: Int) throws {
        var rng = SeededRandom(seed: seed)
        for _ in 0..<count { try apply(randomOp(&rng)) }
    }

    /// Runs a recorded op log again.
    public func replay(_ lines: [String]) throws {
        for l in lines where !l.isEmpty {
            guard let op = Op(l) else { throw DaxError(.EINVAL, "bad op log line: \(l)") }
            try apply(op)
        }
    }

    /// Applies one operation to the filesystem and the model, then checks
    /// every file.
    public func apply(_ op: Op) throws {
        log.append(op)
        do {
            try perform(op)
            try check()
        } catch {
            throw DaxError(.EIO, "op \(log.count - 1) (\(op)): \(error)")
        }
    }

    private func perform(_ op: Op) throws {
        switch op {
        case .write(let f, let off, let len, let seed):
            guard model[f] != nil else { return }
            var r = SeededRandom(seed: seed)
            let data = r.bytes(len)
            try fs.write(try fs.lookup(Self.path(f)), at: UInt64(off), data)
            var m = model[f]!
            if m.count < off + len { m.append(contentsOf: [UInt8](repeating: 0, count: off + len - m.count)) }
            m.withUnsafeMutableBytes { dst in data.withUnsafeBytes { dst.baseAddress!.advanced(by: off).copyMemory(from: $0.baseAddress!, byteCount: len) } }
            model[f] = m
        case .read(let f, let off, let len):
            guard let m = model[f] else { return }
            let got = try fs.read(try fs.lookup(Self.path(f)), at: UInt64(off), count: len)
            let want = off < m.count ? m[off..<min(m.count, off + len)] : []
            let same = got.count == want.count && (got.isEmpty || got.withUnsafeBytes { g in want.withUnsafeBytes { memcmp(g.baseAddress!, $0.baseAddress!, got.count) == 0 } })
            if !same { throw DaxError(.EIO, "read returned other bytes than the model") }
        case .truncate(let f, let size):
            guard var m = model[f] else { return }
            try fs.truncate(try fs.lookup(Self.path(f)), size: UInt64(size))
            if size < m.count { m.removeSubrange(size...) } else { m.append(contentsOf: [UInt8](repeating: 0, count: size - m.count)) }
            model[f] = m
        case .create(let f):
            guard model[f] == nil else { return }
            try fs.create(Self.path(f))
            model[f] = []
        case .unlink(let f):
            guard model[f] != nil else { return }
            try fs.remove(Self.path(f))
            model[f] = nil
        case .rename(let a, let b):
            guard model[a] != nil else { return }
            try fs.rename(Self.path(a), to: Self.path(b))
            if a != b { model[b] = model[a]; model[a] = nil }
        case .fallocate(let f, let mode, let off, let len):
            guard var m = model[f] else { return }
            let want = FallocateModel.apply(&m, mode: FallocateMode(rawValue: mode), offset: Int64(off), length: Int64(len), unit: 4096)
            do {
                try fs.fallocate(try fs.lookup(Self.path(f)), mode: FallocateMode(rawValue: mode), offset: Int64(off), length: Int64(len))
                if let want { throw DaxError(.EIO, "fallocate succeeded where the model expects \(want)") }
                model[f] = m
            } catch let e as DaxError where want != nil || e.code == .ENOSPC {
                if e.code != want && e.code != .ENOSPC { throw DaxError(.EIO, "fallocate failed with \(e.code) where the model expects \(want!)") }
            }
        case .mapWrite(let f, let off, let len, let seed):
            guard var m = model[f] else { return }
            var r = SeededRandom(seed: seed)
            let data = r.bytes(len)
            do {
                try fs.withMapping(try fs.lookup(Self.path(f)), offset: UInt64(off), length: UInt64(len), for: .write) { map in
                    for s in map.segments {
                        guard let b = s.base else { throw DaxError(.EIO, "a write mapping has a hole") }
                        data.withUnsafeBytes { b.copyMemory(from: $0.baseAddress! + Int(s.fileOffset) - off, byteCount: s.count) }
                    }
                    map.persist()
                }
            } catch let e as DaxError where e.code == .ENOSPC { return }
            if m.count < off + len { m.append(contentsOf: [UInt8](repeating: 0, count: off + len - m.count)) }
            m.replaceSubrange(off..<(off + len), with: data)
            model[f] = m
        case .mapRead(let f, let off, let len):
            guard let m = model[f] else { return }
            do {
                let got = try fs.withMapping(try fs.lookup(Self.path(f)), offset: UInt64(off), length: UInt64(len), for: .read) { $0.bytes() }
                if off + len > m.count { throw DaxError(.EIO, "a read mapping past EOF succeeded") }
                if got != Array(m[off..<(off + len)]) { throw DaxError(.EIO, "a read mapping shows other bytes than the model") }
            } catch let e as DaxError where e.code == .EINVAL && off + len > m.count {}
        case .swap(let a, let b, let kind, let o1, let o2, let len):
            guard model[a] != nil, model[b] != nil else { return }
            let want = SwapModel.apply(&model, a, b, kind: kind, offset1: o1, offset2: o2, length: len)
            do {
                let ia = try fs.lookup(Self.path(a)), ib = try fs.lookup(Self.path(b))
                switch kind {
                case 0: try fs.swapExtents(ia, ib, toEOF: true)
                case 1: try fs.swapExtents(ia, ib, offset1: UInt64(o1), offset2: UInt64(o2), toEOF: true)
                default: try fs.swapExtents(ia, ib, offset1: UInt64(o1), offset2: UInt64(o2), length: UInt64(len))
                }
                if let want { throw DaxError(.EIO, "swap-extents succeeded where the model expects \(want)") }
                tally[["swap whole", "swap to-eof", "swap range"][min(kind, 2)], default: 0] += 1
            } catch let e as DaxError where want != nil {
                if e.code != want { throw DaxError(.EIO, "swap-extents failed with \(e.code) where the model expects \(want!): \(e.message)") }
                tally["swap refused", default: 0] += 1
            }
        case .digHoles(let f):
            guard model[f] != nil else { return }
            try fs.digHoles(try fs.lookup(Self.path(f)), offset: 0, length: nil)
        case .remount(let crash):
            if !crash { try fs.unmount() }
            fs = nil                                  // dropped without unmount, as a crash would: the next mount replays
            fs = try Filesystem.mount(region.path)
            try fs.checkInvariants()
        }
    }

    /// Every file's size and bytes equal the model's; nothing else exists.
    public func check() throws {
        let names = Set(try fs.readdir("/").map(\.name))
        let want = Set(model.keys.map { String(Self.path($0).dropFirst()) })
        if names != want { throw DaxError(.EIO, "files \(names.sorted()) but the model has \(want.sorted())") }
        for (f, m) in model {
            let ino = try fs.lookup(Self.path(f))
            let size = try fs.stat(ino: ino).size
            if size != UInt64(m.count) { throw DaxError(.EIO, "\(Self.path(f)): size \(size), model \(m.count)") }
            if m.isEmpty { continue }
            if scratch.count < m.count { scratch = [UInt8](repeating: 0, count: m.count) }
            let n = try scratch.withUnsafeMutableBytes { try fs.read(ino, at: 0, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<m.count])) }
            let same = n == m.count && scratch.withUnsafeBytes { s in m.withUnsafeBytes { memcmp(s.baseAddress!, $0.baseAddress!, m.count) == 0 } }
            if !same { throw DaxError(.EIO, "\(Self.path(f)): contents differ from the model") }
        }
    }

    /// The op log as text, one op a line.
    public var logText: String { log.map(\.description).joined(separator: "\n") + "\n" }
}
