/// The crash images of one crash point, after Chipmunk (EuroSys '23): the
/// media image plus subsets of the pending pieces, applied in program order.
///
/// With N pending pieces, the rules (`Configuration.full`) give, by category:
/// - `none`: the empty subset (1);
/// - `single`: every subset of size 1 (N);
/// - `pair`: every subset of size 2 (N(N-1)/2);
/// - `all`: every piece (1, when N >= 3: for smaller N it is a single or a pair);
/// - `powerset`: when N <= `powersetLimit`, every other subset, so that the
///   categories together are the 2^N subsets;
/// - `random`: otherwise, `randomSubsets` seeded subsets of a uniform size in
///   3..<N; each tears one of its multi-word pieces with probability 1/2;
/// - `torn`: for each piece touching two or more aligned 8-byte words, the
///   piece alone with only its first word, and alone with a seeded random
///   non-empty proper subset of its words other than the first word alone
///   (x86 persists aligned 8-byte words atomically, not lines).
///
/// Subsets over-approximate the hardware: a newer store to a line may appear
/// without an older one to the same line although a write-back carries the
/// whole line. A design that relies on in-line ordering sees false alarms.
///
/// With a cap (`maxImages`), `none` and `all` are kept and the rest of the
/// budget is shared fairly among the other categories (unused shares flow to
/// the others); a category that does not fit is sampled uniformly without
/// replacement. `tallies` and the report say which categories were sampled.
///
/// Deterministic: the same point, seed and configuration give the same
/// subsets in the same order, on any platform. The random stream is derived
/// from the seed and the crash point's event index.
public struct CrashImages: Sendable {
    public enum Category: String, Sendable, CaseIterable {
        case none, single, pair, all, powerset, random, torn
    }

    public struct Configuration: Sendable, Equatable {
        /// Cap on candidate images (before deduplication) per crash point; nil for none. At least 2.
        public var maxImages: Int?
        /// Enumerate the whole powerset up to this many pending pieces (at most 20).
        public var powersetLimit: Int
        /// Random subsets when the powerset is too large.
        public var randomSubsets: Int
        /// Whether to generate torn pieces.
        public var tearing: Bool

        public init(maxImages: Int? = nil, powersetLimit: Int = 10, randomSubsets: Int = 64, tearing: Bool = true) {
            precondition(maxImages.map { $0 >= 2 } ?? true, "maxImages must leave room for the none and all images")
            precondition((0...20).contains(powersetLimit) && randomSubsets >= 0)
            self.maxImages = maxImages
            self.powersetLimit = powersetLimit
            self.randomSubsets = randomSubsets
            self.tearing = tearing
        }

        /// The rules exactly: quadratic in pending pieces (pairs).
        public static let full = Configuration()
        /// For CI: at most 48 candidate images per crash point.
        public static let bounded = Configuration(maxImages: 48)
    }

    /// How many subsets a category holds under the rules, and how many were kept.
    public struct Tally: Sendable, Equatable {
        public let possible: Int
        public let generated: Int
        public var isExhaustive: Bool { generated == possible }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public let location: CrashPoint.Location
        public let seed: UInt64
        public let pending: Int
        public let tallies: [Category: Tally]
        /// Images built (candidate subsets).
        public let candidates: Int
        /// Images left after deduplication by delta hash.
        public let unique: Int
        public var duplicates: Int { candidates - unique }
        public var isExhaustive: Bool { tallies.values.allSatisfy(\.isExhaustive) }

        public var description: String {
            let parts = Category.allCases.compactMap { c -> String? in
                guard let t = tallies[c], t.possible > 0 else { return nil }
                return t.isExhaustive ? "\(c) \(t.generated)" : "\(c) \(t.generated) sampled of \(t.possible)"
            }
            return "\(location), seed \(seed): \(pending) pending; \(parts.joined(separator: ", "))"
                + "; \(candidates) images, \(unique) unique"
        }
    }

    public let point: CrashPoint
    public let seed: UInt64
    public let configuration: Configuration
    public let tallies: [Category: Tally]
    /// Indices of the pending pieces that can tear.
    private let tearable: [Int]

    /// O(N): counts only; nothing is built until enumeration.
    public init(point: CrashPoint, seed: UInt64, configuration: Configuration = .full) {
        self.point = point
        self.seed = seed
        self.configuration = configuration
        tearable = point.pending.indices.filter { point.pending[$0].canTear }
        let n = point.pending.count
        let pairs = n * (n - 1) / 2
        var possible: [Category: Int] = [
            .none: 1, .single: n, .pair: pairs, .all: n >= 3 ? 1 : 0,
            .torn: configuration.tearing ? 2 * tearable.count : 0,
        ]
        if n <= configuration.powersetLimit {
            possible[.powerset] = n >= 3 ? (1 << n) - 2 - n - pairs : 0
        } else {
            possible[.random] = configuration.randomSubsets
        }
        let generated = Self.allocate(possible, cap: configuration.maxImages)
        tallies = possible.reduce(into: [:]) { $0[$1.key] = Tally(possible: $1.value, generated: generated[$1.key] ?? 0) }
    }

    /// Keeps `none` and `all`, then shares the cap fairly among the rest.
    private static func allocate(_ possible: [Category: Int], cap: Int?) -> [Category: Int] {
        guard let cap else { return possible }
        var given: [Category: Int] = [.none: possible[.none] ?? 0, .all: possible[.all] ?? 0]
        var left = cap - given.values.reduce(0, +)
        var open = [Category.single, .pair, .torn, .powerset, .random].filter { (possible[$0] ?? 0) > 0 }
        while left > 0 && !open.isEmpty {
            let share = max(1, left / open.count)
            for c in open where left > 0 {
                let give = min(share, (possible[c] ?? 0) - (given[c] ?? 0), left)
                given[c, default: 0] += give
                left -= give
            }
            open.removeAll { given[$0] == possible[$0] }
        }
        return given
    }

    /// Every candidate subset in generation order: none, singles, pairs, all,
    /// powerset or random, torn. O(N) time per subset; memory O(kept subsets
    /// of the largest sampled category), nothing per exhaustive category.
    public func forEachSubset(_ body: (CrashSubset) throws -> Void) rethrows {
        let n = point.pending.count
        var rng = SeededRandom(seed: seed ^ (UInt64(point.eventIndex) &* 0xD1B5_4A32_D192_ED03))
        /// The kept members of a category, ascending: a range when exhaustive (O(1) memory).
        func chosen(_ c: Category, _ rng: inout SeededRandom) -> AnySequence<Int> {
            guard let t = tallies[c] else { return AnySequence([]) }
            return t.isExhaustive ? AnySequence(0..<t.possible) : AnySequence(rng.sample(t.generated, of: t.possible))
        }
        func whole(_ c: Category, _ pieces: [Int]) -> CrashSubset {
            CrashSubset(category: c, choices: pieces.map { CrashSubset.Choice(piece: $0) })
        }

        try body(whole(.none, []))
        for i in chosen(.single, &rng) { try body(whole(.single, [i])) }
        var row = 0, rowStart = 0
        for k in chosen(.pair, &rng) {
            while k >= rowStart + (n - 1 - row) { rowStart += n - 1 - row; row += 1 }
            try body(whole(.pair, [row, row + 1 + k - rowStart]))
        }
        if tallies[.all]?.generated == 1 { try body(whole(.all, Array(0..<n))) }
        if tallies[.powerset] != nil {
            let masks = (0..<(1 << n)).filter { $0.nonzeroBitCount >= 3 && $0.nonzeroBitCount < n }
            for k in chosen(.powerset, &rng) {
                try body(whole(.powerset, (0..<n).filter { masks[k] & (1 << $0) != 0 }))
            }
        }
        for _ in 0..<(tallies[.random]?.generated ?? 0) {
            try body(randomSubset(&rng))
        }
        for k in chosen(.torn, &rng) {
            let piece = tearable[k / 2]
            let wordCount = point.pending[piece].words.count
            // First word alone, or any non-empty proper mask but that one (2...2^w-2).
            let mask = k % 2 == 0 ? 1 : 2 + rng.below((1 << wordCount) - 3)
            try body(CrashSubset(category: .torn, choices: [.init(piece: piece, words: UInt8(mask))]))
        }
    }

    /// A subset of uniform size in 3..<N (min(3, N-1)..<N when a powersetLimit
    /// below 3 lets N be smaller than 4), tearing one of its multi-word pieces
    /// with probability 1/2.
    private func randomSubset(_ rng: inout SeededRandom) -> CrashSubset {
        let n = point.pending.count
        let low = min(3, n - 1)
        let members = rng.sample(low + rng.below(n - low), of: n)
        let candidates = members.filter { point.pending[$0].canTear }
        var torn: Int?
        if rng.next() & 1 == 1 && !candidates.isEmpty {
            torn = candidates[rng.below(candidates.count)]
        }
        let choices = members.map { i -> CrashSubset.Choice in
            guard i == torn else { return .init(piece: i) }
            return .init(piece: i, words: UInt8(1 + rng.below((1 << point.pending[i].words.count) - 2)))
        }
        return CrashSubset(category: .random, choices: choices)
    }

    /// The candidate subsets as an array (for tests and small crash points).
    public var subsets: [CrashSubset] {
        var out: [CrashSubset] = []
        forEachSubset { out.append($0) }
        return out
    }

    /// Builds the image of `subset`. O(k log k + 64 k) for k chosen pieces;
    /// no full-size allocation.
    public func image(of subset: CrashSubset) -> CrashImage {
        let pending = point.pending
        let ordered = subset.choices.sorted { (pending[$0.piece].line, $0.piece) < (pending[$1.piece].line, $1.piece) }
        var runs: [CrashImage.Run] = []
        var runStart = 0
        var runBytes: [UInt8] = []
        var line = [UInt8](repeating: 0, count: RecordingMedia.lineSize)
        point.media.withUnsafeBytes { base in
            line.withUnsafeMutableBytes { buffer in
                var i = 0
                while i < ordered.count {
                    let number = pending[ordered[i].piece].line
                    let lo = number * RecordingMedia.lineSize
                    let hi = min(base.count, lo + RecordingMedia.lineSize)
                    buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: base[lo..<hi]))
                    while i < ordered.count && pending[ordered[i].piece].line == number {
                        pending[ordered[i].piece].write(into: buffer, origin: lo, words: ordered[i].words)
                        i += 1
                    }
                    for b in 0..<(hi - lo) where buffer[b] != base[lo + b] {
                        if !runBytes.isEmpty && runStart + runBytes.count != lo + b {
                            runs.append(.init(offset: runStart, bytes: runBytes))
                            runBytes.removeAll(keepingCapacity: true)
                        }
                        if runBytes.isEmpty { runStart = lo + b }
                        runBytes.append(buffer[b])
                    }
                }
            }
        }
        if !runBytes.isEmpty { runs.append(.init(offset: runStart, bytes: runBytes)) }
        return CrashImage(location: point.location, subset: subset, seed: seed, delta: runs, hash: CrashImage.hash(runs))
    }

    /// Calls `body` once per distinct image, in generation order (the first
    /// subset that gives an image represents it), and reports the counts.
    /// Images are built one at a time; memory is O(images) for the hash set.
    /// Two distinct images whose hashes collide (odds about n²/2^65) would
    /// count as one.
    @discardableResult
    public func forEach(_ body: (CrashImage) throws -> Void) rethrows -> Report {
        var seen = Set<UInt64>()
        var candidates = 0
        try forEachSubset { subset in
            candidates += 1
            let candidate = image(of: subset)
            if seen.insert(candidate.hash).inserted { try body(candidate) }
        }
        return Report(location: point.location, seed: seed, pending: point.pending.count, tallies: tallies,
                      candidates: candidates, unique: seen.count)
    }

    /// Every distinct image, and the report.
    public func images() -> (images: [CrashImage], report: Report) {
        var out: [CrashImage] = []
        let report = forEach { out.append($0) }
        return (out, report)
    }
}
