#if canImport(Glibc)
import Glibc
#endif

/// One size of a scaling row: what was varied (`n`: extents, or region
/// bytes), its label for the table, and the figure's samples at that size.
struct ScalePoint: Sendable {
    var label: String
    var n: Double
    var stats: Stats
}

/// How a cost grows with the size it is measured against, coarsely enough
/// to be told apart from three sizes a factor of 10 to 1,000 apart.
///
/// Ordered from cheapest to dearest: an observation "matches" a promise when
/// it grows no faster than promised.
enum Growth: Int, Sendable, Comparable, CustomStringConvertible {
    case constant, logarithmic, sublinear, linear, superlinear

    static func < (a: Growth, b: Growth) -> Bool { a.rawValue < b.rawValue }

    var description: String {
        switch self {
        case .constant: "O(1)"
        case .logarithmic: "O(log n)"
        case .sublinear: "between O(log n) and O(n)"
        case .linear: "O(n)"
        case .superlinear: "above O(n log n)"
        }
    }

    /// Classifies the medians of `points` (at least two, in increasing n).
    ///
    /// - The exponent k of the last step (t ∝ nᵏ between the two largest
    ///   sizes, where the asymptote shows best) says linear when k ≥ 0.75,
    ///   and superlinear when k > 1.3 (n log n has k ≈ 1.1 here).
    /// - Otherwise the growth over the whole span decides: at most 1.5×
    ///   is constant; at most 1.5 times the growth of log₂ n is logarithmic;
    ///   anything more is sublinear.
    ///
    /// The thresholds leave room for run-to-run noise of about 30%; cache
    /// misses that appear only at the largest size show up as growth, which
    /// is the point.
    static func classify(_ points: [ScalePoint]) -> (growth: Growth, exponent: Double, span: Double) {
        precondition(points.count >= 2, "a growth needs two sizes")
        let first = points.first!, last = points.last!, before = points[points.count - 2]
        let exponent = log(max(last.stats.median, 1e-12) / max(before.stats.median, 1e-12)) / log(last.n / before.n)
        let span = last.stats.median / max(first.stats.median, 1e-12)
        let logSpan = log2(last.n) / log2(first.n)
        let growth: Growth
        if exponent > 1.3 { growth = .superlinear }
        else if exponent >= 0.75 { growth = .linear }
        else if span <= 1.5 { growth = .constant }
        else if span <= 1.5 * logSpan { growth = .logarithmic }
        else { growth = .sublinear }
        return (growth, exponent, span)
    }
}
