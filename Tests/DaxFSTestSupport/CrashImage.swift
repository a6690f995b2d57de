/// Which pending pieces of a crash point a crash image persisted.
public struct CrashSubset: Sendable, Hashable, CustomStringConvertible {
    /// One persisted piece: its index in `CrashPoint.pending` and, when torn,
    /// which of its words persisted (bit i = the i-th word of `PendingPiece.words`).
    public struct Choice: Sendable, Hashable, CustomStringConvertible {
        public let piece: Int
        /// nil: the whole piece persisted.
        public let words: UInt8?

        public init(piece: Int, words: UInt8? = nil) { self.piece = piece; self.words = words }

        public var description: String {
            guard let words else { return "\(piece)" }
            let bits = (0..<8).filter { words & (1 << $0) != 0 }.map(String.init).joined(separator: ",")
            return "\(piece){words \(bits)}"
        }
    }

    public let category: CrashImages.Category
    /// Ascending piece indices, which is program order.
    public let choices: [Choice]

    public init(category: CrashImages.Category, choices: [Choice]) {
        self.category = category
        self.choices = choices
    }

    public var description: String {
        choices.isEmpty ? "\(category): no piece" : "\(category): pieces \(choices.map(\.description).joined(separator: " "))"
    }
}

/// One crash image: a crash point's media image plus a subset of its pending
/// pieces applied in program order, stored as the bytes that differ from the
/// media image.
public struct CrashImage: Sendable, CustomStringConvertible {
    /// Consecutive bytes that differ from the base image.
    public struct Run: Sendable, Equatable {
        public let offset: Int
        public let bytes: [UInt8]
    }

    public let location: CrashPoint.Location
    public let subset: CrashSubset
    /// The seed the enumeration ran with.
    public let seed: UInt64
    /// The effective delta: maximal runs of bytes that differ from the base,
    /// ascending. Two subsets that leave the same bytes have the same delta.
    public let delta: [Run]
    /// A 64-bit hash of `delta`; equal deltas have equal hashes.
    public let hash: UInt64

    public var description: String { "\(location), seed \(seed), \(subset)" }

    /// The whole image: a copy of `base` (the crash point's `media`) with the
    /// delta applied. O(base.count + delta).
    public func materialize(base: [UInt8]) -> [UInt8] {
        var out = base
        apply(to: &out)
        return out
    }

    /// Writes the delta into `buffer`, which holds the base image. O(delta).
    public func apply(to buffer: inout [UInt8]) {
        buffer.withUnsafeMutableBytes { dst in
            for run in delta {
                run.bytes.withUnsafeBytes {
                    UnsafeMutableRawBufferPointer(rebasing: dst[run.offset..<(run.offset + run.bytes.count)]).copyMemory(from: $0)
                }
            }
        }
    }

    static func hash(_ delta: [Run]) -> UInt64 {
        var h = Hash64()
        for run in delta {
            h.combine(UInt64(run.offset))
            h.combine(UInt64(run.bytes.count))
            run.bytes.withUnsafeBytes { h.combine($0) }
        }
        return h.value
    }
}

/// A full-size image that is switched from one crash image to the next in
/// O(previous delta + next delta), without reallocating.
public struct CrashImageBuffer {
    /// The base image with the last loaded delta applied.
    public private(set) var bytes: [UInt8]
    private let base: [UInt8]
    private var loaded: [CrashImage.Run] = []

    /// O(base.count) once, at the first load.
    public init(base: [UInt8]) {
        self.base = base
        bytes = base
    }

    /// Makes `bytes` equal to `image.materialize(base:)` with this base.
    public mutating func load(_ image: CrashImage) {
        bytes.withUnsafeMutableBytes { dst in
            base.withUnsafeBytes { src in
                for run in loaded {
                    let r = run.offset..<(run.offset + run.bytes.count)
                    UnsafeMutableRawBufferPointer(rebasing: dst[r]).copyMemory(from: UnsafeRawBufferPointer(rebasing: src[r]))
                }
            }
        }
        image.apply(to: &bytes)
        loaded = image.delta
    }
}

/// A fast, non-cryptographic 64-bit hash (multiply-xorshift over 8-byte
/// words, murmur3 finaliser). Only for deduplication: not collision-resistant
/// against an adversary.
struct Hash64 {
    private var state: UInt64 = 0x243F_6A88_85A3_08D3

    mutating func combine(_ word: UInt64) {
        state = (state ^ word) &* 0x9E37_79B9_7F4A_7C15
        state ^= state >> 29
    }

    mutating func combine(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        while i + 8 <= bytes.count {
            combine(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        var tail: UInt64 = 0
        for (shift, j) in (i..<bytes.count).enumerated() { tail |= UInt64(bytes[j]) << (8 * UInt64(shift)) }
        combine(tail ^ UInt64(bytes.count - i) << 56)
    }

    var value: UInt64 {
        var z = state
        z = (z ^ (z >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        z = (z ^ (z >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return z ^ (z >> 33)
    }
}
