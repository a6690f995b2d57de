/// What happened to one row.
struct RowResult: Sendable {
    enum State: Sendable {
        case measured(RowOutcome)
        /// `BenchSkip`: the row cannot run on this machine.
        case skipped(String)
        /// Any other error: the row broke; the run went on.
        case failed(String)
    }
    var row: BenchRow
    var state: State
    /// Wall time the row took, setup included.
    var seconds: Double
}

/// The report as Markdown: a header block of facts, then one table per group.
/// The same text goes to standard output and to the --out file.
enum Report {
    static func markdown(header: [(String, String)], groups: [(BenchGroup, [RowResult])],
                         footer: [(String, String)]) -> String {
        var out = "# daxfs benchmarks\n\n"
        for (k, v) in header { out += "- \(k): \(v)\n" }
        for (group, results) in groups {
            out += "\n## \(group.title)\n\n\(group.caption)\n\n"
            switch group.layout {
            case .referenceFigures: out += referenceTable(results)
            case .comparisons: out += comparisonTable(results)
            case .scaling: out += scalingTable(results)
            }
        }
        out += "\n"
        for (k, v) in footer { out += "- \(k): \(v)\n" }
        return out
    }

    private static func referenceTable(_ results: [RowResult]) -> String {
        var lines = [row(["figure", "unit", "min", "median", "max", "measured with", "notes"]),
                     row(["---", "---", "---:", "---:", "---:", "---", "---"])]
        for r in results {
            let cells: [String]
            switch r.state {
            case .measured(.referenceOnly(let s, let note)):
                cells = [r.row.name, r.row.unit.symbol, Format.number(s.min), Format.number(s.median),
                         Format.number(s.max), r.row.reference, note]
            case .measured(.compared(let d, _)), .measured(.pending(let d, _)):
                cells = [r.row.name, r.row.unit.symbol, Format.number(d.min), Format.number(d.median),
                         Format.number(d.max), r.row.reference, "(not a reference figure)"]
            case .measured(.scaling):
                cells = [r.row.name, r.row.unit.symbol, "—", "—", "—", r.row.reference, "(a scaling row)"]
            case .skipped(let why):
                cells = [r.row.name, r.row.unit.symbol, "—", "—", "—", r.row.reference, "skipped: \(why)"]
            case .failed(let why):
                cells = [r.row.name, r.row.unit.symbol, "—", "—", "—", r.row.reference, "failed: \(why)"]
            }
            lines.append(row(cells))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func comparisonTable(_ results: [RowResult]) -> String {
        var lines = [row(["workload", "unit", "daxfs min / median / max", "reference", "reference min / median / max",
                          "ratio", "goal", "met", "notes"]),
                     row(["---", "---", "---:", "---", "---:", "---:", "---:", "---", "---"])]
        for r in results {
            let name = r.row.name, unit = r.row.unit, goal = r.row.goal
            let cells: [String]
            switch r.state {
            case .measured(.compared(let d, let ref)):
                let ratio = goal.ratio(daxfs: d, reference: ref, unit: unit)
                let met = goal.isMet(daxfs: d, reference: ref, unit: unit)
                cells = [name, unit.symbol, Format.triple(d), r.row.reference, Format.triple(ref),
                         ratio.map { Format.number($0, digits: 2) + "×" } ?? "—", goal.text(unit: unit),
                         met.map { $0 ? "yes" : "**no**" } ?? "—", ""]
            case .measured(.pending(let ref, let note)):
                cells = [name, unit.symbol, "pending", r.row.reference, Format.triple(ref), "—",
                         goal.text(unit: unit), "pending", note]
            case .measured(.referenceOnly(let s, let note)):
                cells = [name, unit.symbol, "—", r.row.reference, Format.triple(s), "—", "—", "—", note]
            case .measured(.scaling):
                cells = [name, unit.symbol, "—", r.row.reference, "—", "—", "—", "—", "(a scaling row)"]
            case .skipped(let why):
                cells = [name, unit.symbol, "—", r.row.reference, "—", "—", goal.text(unit: unit), "—", "skipped: \(why)"]
            case .failed(let why):
                cells = [name, unit.symbol, "—", r.row.reference, "—", "—", goal.text(unit: unit), "—", "failed: \(why)"]
            }
            lines.append(row(cells))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One line per workload: the median (min–max) at each size, the growth
    /// over the span and the exponent of the last step, the growth observed
    /// and the one promised, and whether the observation stays within it.
    private static func scalingTable(_ results: [RowResult]) -> String {
        let labels = results.lazy.compactMap { r -> [String]? in
            if case .measured(.scaling(let points, _)) = r.state { return points.map(\.label) }
            return nil
        }.first ?? []
        var lines = [row(["workload", "unit"] + labels.map { "at \($0)" } +
                         ["growth, last / first", "exponent of the last step", "observed", "promised (doc comment)", "within the promise"]),
                     row(["---", "---"] + labels.map { _ in "---:" } + ["---:", "---:", "---", "---", "---"])]
        for r in results {
            let name = r.row.name, unit = r.row.unit
            let cells: [String]
            switch r.state {
            case .measured(.scaling(let points, let promised)):
                let (growth, exponent, span) = Growth.classify(points)
                let figures = points.map { p in
                    "\(Format.number(p.stats.median)) (\(Format.number(p.stats.min))–\(Format.number(p.stats.max)))"
                }
                cells = [name, unit.symbol] + figures + [
                    Format.number(span, digits: 2) + "×", Format.number(exponent, digits: 2),
                    growth.description, "\(promised): \(r.row.reference)", growth <= promised ? "yes" : "**no**",
                ]
            case .measured:
                cells = [name, unit.symbol] + labels.map { _ in "—" } + ["—", "—", "—", r.row.reference, "(not a scaling row)"]
            case .skipped(let why):
                cells = [name, unit.symbol] + labels.map { _ in "—" } + ["—", "—", "—", r.row.reference, "skipped: \(why)"]
            case .failed(let why):
                cells = [name, unit.symbol] + labels.map { _ in "—" } + ["—", "—", "—", r.row.reference, "failed: \(why)"]
            }
            lines.append(row(cells))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func row(_ cells: [String]) -> String {
        "| " + cells.map { $0.asCell }.joined(separator: " | ") + " |"
    }
}

private extension String {
    /// One line, with pipes escaped: a newline or a bare pipe would break the Markdown row.
    var asCell: String {
        split(separator: "\n").joined(separator: " / ")
            .split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
    }
}
