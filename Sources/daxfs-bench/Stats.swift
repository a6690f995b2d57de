/// Min, median and max of the samples of one figure (one sample per run).
struct Stats: Sendable {
    let samples: [Double]

    init(_ samples: [Double]) {
        precondition(!samples.isEmpty, "a figure needs at least one sample")
        self.samples = samples
    }

    var count: Int { samples.count }
    var min: Double { samples.min()! }
    var max: Double { samples.max()! }
    /// The middle sample, or the mean of the two middle samples.
    var median: Double {
        let s = samples.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }

    /// The same samples in another unit (for example seconds to milliseconds).
    func scaled(by factor: Double) -> Stats { Stats(samples.map { $0 * factor }) }
}

extension Goal {
    /// The ratio of medians that this goal reads, or nil when it reads none.
    func ratio(daxfs: Stats, reference: Stats, unit: BenchUnit) -> Double? {
        switch self {
        case .speedupAtLeast:
            return unit.higherIsBetter ? daxfs.median / reference.median : reference.median / daxfs.median
        case .ratioAtMost:
            return daxfs.median / reference.median
        case .atMost, .none:
            return nil
        }
    }

    /// Whether the goal is met, or nil when there is nothing to meet.
    func isMet(daxfs: Stats, reference: Stats?, unit: BenchUnit) -> Bool? {
        switch self {
        case .speedupAtLeast(let x):
            guard let reference, let r = ratio(daxfs: daxfs, reference: reference, unit: unit) else { return nil }
            return r >= x
        case .ratioAtMost(let x):
            guard let reference, let r = ratio(daxfs: daxfs, reference: reference, unit: unit) else { return nil }
            return r <= x
        case .atMost(let bound):
            return daxfs.median <= bound
        case .none:
            return nil
        }
    }

    /// The goal as the table shows it: "≥ 1.00×", "≤ 1.20×", "≤ 200 ns", "—".
    func text(unit: BenchUnit) -> String {
        switch self {
        case .speedupAtLeast(let x): return "≥ \(Format.number(x, digits: 2))×"
        case .ratioAtMost(let x): return "≤ \(Format.number(x, digits: 2))×"
        case .atMost(let b): return "≤ \(Format.number(b)) \(unit.symbol)"
        case .none: return "—"
        }
    }
}
