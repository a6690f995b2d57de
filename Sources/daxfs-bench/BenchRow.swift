/// One line of the benchmark table: a workload, the unit its figures are
/// given in, and the goal its ratio against the reference must meet.
///
/// `measure` runs the workload (and its reference, side by side) and returns
/// an outcome; it throws `BenchSkip` when the row cannot run on this machine,
/// and any other error when it fails. Neither stops the run: the table shows
/// the row with its reason.
struct BenchRow: Sendable {
    /// The workload, as shown in the table ("mkfs 4 GiB, sparse file").
    var name: String
    var unit: BenchUnit
    var goal: Goal
    /// What the daxfs figure is compared with ("mkfs.xfs -K -f, same size");
    /// for a reference-only row, how the figure was taken.
    var reference: String
    var measure: @Sendable (BenchContext) throws -> RowOutcome
}

/// The unit of a row's figures, and which way is better.
struct BenchUnit: Sendable, Equatable {
    var symbol: String
    /// True for rates (GB/s, calls/s), false for times (ms, ns).
    var higherIsBetter: Bool

    static let gigabytesPerSecond = BenchUnit(symbol: "GB/s", higherIsBetter: true)
    static let callsPerSecond = BenchUnit(symbol: "calls/s", higherIsBetter: true)
    static let milliseconds = BenchUnit(symbol: "ms", higherIsBetter: false)
    static let nanoseconds = BenchUnit(symbol: "ns", higherIsBetter: false)
}

/// The goal of a row.
enum Goal: Sendable {
    /// daxfs at least `x` times as good as the reference. The ratio is
    /// oriented so that above 1 means daxfs is better: daxfs/reference for
    /// rates, reference/daxfs for times.
    case speedupAtLeast(Double)
    /// The plain ratio daxfs/reference (medians) at most `x`: for rows whose
    /// "reference" is daxfs itself at another size ("no growth with size").
    case ratioAtMost(Double)
    /// An absolute upper bound on the daxfs median, in the row's unit
    /// ("≤ 0.5 s", "≤ 200 ns"). A reference, if any, is shown beside it.
    case atMost(Double)
    /// A reference figure with nothing to meet (physical limits).
    case none
}

/// What a row measured.
enum RowOutcome: Sendable {
    /// The daxfs figure beside its reference, measured in the same run.
    case compared(daxfs: Stats, reference: Stats)
    /// A reference figure on its own (the physical limits), with a note such
    /// as the persistence path it was measured on.
    case referenceOnly(Stats, note: String)
    /// The reference is measured; the daxfs side does not exist yet. Never a
    /// made-up number: the table says "pending" and why.
    case pending(reference: Stats, note: String)
    /// One workload at several sizes (a scaling row): the figure at each
    /// size, and the growth the code's doc comments promise.
    case scaling([ScalePoint], promised: Growth)
}

/// Thrown by a row that cannot run here; `reason` is printed as one line.
struct BenchSkip: Error, CustomStringConvertible {
    var reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { reason }
}

/// A group of rows: one file of the target, one table of the report.
struct BenchGroup: Sendable {
    enum Layout: Sendable {
        /// min / median / max of a reference figure, no ratio (physical limits).
        case referenceFigures
        /// daxfs beside its reference, ratio, goal and whether it is met.
        case comparisons
        /// One workload at several sizes: how its cost grows, beside the
        /// growth its doc comment promises.
        case scaling
    }
    var title: String
    var layout: Layout
    /// One or two sentences printed under the title: what the figures mean.
    var caption: String
    var rows: [BenchRow]
}
