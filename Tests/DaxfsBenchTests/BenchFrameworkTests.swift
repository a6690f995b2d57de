import Testing
import Synchronization
@testable import daxfs_bench

/// The harness's arithmetic and report: medians, which way a ratio points,
/// what a pending or skipped row shows. No figure is measured here.
struct BenchFrameworkTests {
    @Test func statsTakeMinMedianMax() {
        let odd = Stats([5, 1, 3, 9, 7])
        #expect(odd.min == 1 && odd.median == 5 && odd.max == 9 && odd.count == 5)
        #expect(Stats([4, 1, 3, 2]).median == 2.5)
        #expect(Stats([2, 4]).scaled(by: 1000).median == 3000)
    }

    @Test func speedupPointsTowardsDaxfsForTimesAndRates() {
        let goal = Goal.speedupAtLeast(1.5)
        // Times: daxfs 10 ms against 20 ms is twice as fast.
        #expect(goal.ratio(daxfs: Stats([10]), reference: Stats([20]), unit: .milliseconds) == 2)
        #expect(goal.isMet(daxfs: Stats([10]), reference: Stats([20]), unit: .milliseconds) == true)
        #expect(goal.isMet(daxfs: Stats([20]), reference: Stats([10]), unit: .milliseconds) == false)
        // Rates: daxfs 2 GB/s against 1 GB/s is twice as fast.
        #expect(goal.ratio(daxfs: Stats([2]), reference: Stats([1]), unit: .gigabytesPerSecond) == 2)
        #expect(goal.isMet(daxfs: Stats([1]), reference: Stats([2]), unit: .gigabytesPerSecond) == false)
    }

    @Test func growthAndAbsoluteGoals() {
        let growth = Goal.ratioAtMost(1.2)
        #expect(growth.ratio(daxfs: Stats([12]), reference: Stats([10]), unit: .milliseconds) == 1.2)
        #expect(growth.isMet(daxfs: Stats([12]), reference: Stats([10]), unit: .milliseconds) == true)
        #expect(growth.isMet(daxfs: Stats([13]), reference: Stats([10]), unit: .milliseconds) == false)
        let bound = Goal.atMost(200)
        #expect(bound.ratio(daxfs: Stats([150]), reference: Stats([1]), unit: .nanoseconds) == nil)
        #expect(bound.isMet(daxfs: Stats([150, 190, 400]), reference: nil, unit: .nanoseconds) == true)
        #expect(bound.isMet(daxfs: Stats([250]), reference: nil, unit: .nanoseconds) == false)
        #expect(bound.text(unit: .nanoseconds) == "≤ 200 ns")
        #expect(Goal.none.isMet(daxfs: Stats([1]), reference: Stats([1]), unit: .nanoseconds) == nil)
    }

    @Test func numbersKeepAboutThreeSignificantDigits() {
        #expect(Format.number(0.78912) == "0.789")
        #expect(Format.number(1.234) == "1.23")
        #expect(Format.number(20.44) == "20.4")
        #expect(Format.number(272.4) == "272")
        #expect(Format.number(79_602.4) == "79,602")
        #expect(Format.number(2.0, digits: 2) == "2.00")
        #expect(Format.number(1.005, digits: 1) == "1.0")
        #expect(Format.triple(Stats([1, 2, 3])) == "1.00 / 2.00 / 3.00")
        #expect(Format.duration(19.94) == "19.9 s")
        #expect(Format.duration(125) == "2 min 05 s")
    }

    @Test func measurePairInterleavesAndHonoursRuns() throws {
        let ctx = BenchContext(quick: true, runs: 5, scratchDirectory: "/nonexistent", daxfsBinary: "/nonexistent/daxfs")
        let calls = Mutex<[String]>([])
        let (d, r) = try ctx.measurePair(runs: 6, warmup: 1, daxfs: {
            calls.withLock { $0.append("d") }; return 1
        }, reference: {
            calls.withLock { $0.append("r") }; return 2
        })
        #expect(d.count == 6 && r.count == 6 && d.median == 1 && r.median == 2)
        #expect(calls.withLock { $0 } == Array(repeating: ["d", "r"], count: 7).flatMap { $0 })
        #expect(throws: BenchSkip.self) { try ctx.requireDaxfsBinary() }
    }

    @Test func reportNeverInventsTheMissingSide() {
        let row = BenchRow(name: "fallocate", unit: .callsPerSecond, goal: .none, reference: "ext4 | loop") { _ in
            .pending(reference: Stats([1]), note: "")
        }
        let group = BenchGroup(title: "Allocation", layout: .comparisons, caption: "c", rows: [row])
        let text = Report.markdown(header: [("date", "today")], groups: [(group, [
            RowResult(row: row, state: .measured(.pending(reference: Stats([10, 20, 30]), note: "daxfs side: pending engine")), seconds: 1),
            RowResult(row: row, state: .skipped("needs root\nand loop devices"), seconds: 0),
        ])], footer: [("total wall time", "1 s")])
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("| fallocate") }
        #expect(lines.count == 2)
        #expect(lines[0].contains("| pending |") && lines[0].contains("10.0 / 20.0 / 30.0") && lines[0].contains("daxfs side: pending engine"))
        #expect(lines[0].contains("ext4 \\| loop"))
        #expect(lines[1].contains("skipped: needs root / and loop devices"))
        #expect(text.hasPrefix("# daxfs benchmarks\n\n- date: today\n"))
    }

    @Test func registryRowsAreNamedAndReferenceRowsHaveNoGoal() {
        let groups = Registry.groups
        #expect(Set(groups.map(\.title)).count == groups.count)
        for group in groups {
            #expect(!group.rows.isEmpty)
            for row in group.rows {
                #expect(!row.name.isEmpty && !row.reference.isEmpty)
                if group.layout == .referenceFigures {
                    if case .none = row.goal {} else { Issue.record("\(row.name): a reference figure has no goal") }
                }
            }
        }
    }
}
