#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// What a row gets to measure with: the mode, the number of runs, a scratch
/// directory on /dev/shm, the daxfs binary, and helpers that take one sample
/// per run and fold them into `Stats`.
final class BenchContext: Sendable {
    /// --quick: smaller workloads, the whole run under 2 minutes.
    let quick: Bool
    /// Samples per figure (at least 5).
    let runs: Int
    /// A directory of this run on /dev/shm (tmpfs); everything in it is
    /// removed at exit, also on SIGINT/SIGTERM.
    let scratchDirectory: String
    /// The `daxfs` binary of the same build, next to `daxfs-bench`.
    let daxfsBinary: String
    private let counter = Atomic<Int>(0)
    private let fixtures = Mutex<[String: String]>([:])

    init(quick: Bool, runs: Int, scratchDirectory: String, daxfsBinary: String) {
        self.quick = quick
        self.runs = runs
        self.scratchDirectory = scratchDirectory
        self.daxfsBinary = daxfsBinary
    }

    /// `quick` in --quick mode, `full` otherwise.
    func pick<T>(quick q: T, full f: T) -> T { quick ? q : f }

    /// A fresh path in the scratch directory ("name-N"); nothing is created.
    func scratchPath(_ name: String) -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return "\(scratchDirectory)/\(name)-\(n)"
    }

    /// A file in the scratch directory that several rows share (a region
    /// with a million extents takes seconds to build): built by `build` on
    /// first use under `key`, then returned as is. A row that uses one must
    /// leave it as it found it. It is removed with the scratch directory.
    func fixture(_ key: String, build: () throws -> String) throws -> String {
        if let path = fixtures.withLock({ $0[key] }) { return path }
        let path = try build()
        fixtures.withLock { $0[key] = path }
        return path
    }

    /// The daxfs binary, or a skip saying how to build it.
    func requireDaxfsBinary() throws -> String {
        guard access(daxfsBinary, X_OK) == 0 else {
            throw BenchSkip("no daxfs binary at \(daxfsBinary); build the whole package first (swift build -c release)")
        }
        return daxfsBinary
    }

    /// Samples of `body` (one figure per call, in the row's unit), after
    /// `warmup` untimed calls whose results are dropped. `runs` defaults to
    /// `self.runs`; a row whose runs are cheap may ask for more, never fewer.
    func measure(runs: Int? = nil, warmup: Int = 0, _ body: () throws -> Double) throws -> Stats {
        let n = count(runs)
        for _ in 0..<warmup { _ = try body() }
        var samples: [Double] = []
        for _ in 0..<n { samples.append(try body()) }
        return Stats(samples)
    }

    /// Samples of `daxfs` and `reference`, interleaved (daxfs, reference,
    /// daxfs, ...) so that a noisy neighbour hits both sides alike. `runs`
    /// and `warmup` as for `measure`.
    func measurePair(runs: Int? = nil, warmup: Int = 0, daxfs: () throws -> Double,
                     reference: () throws -> Double) throws -> (daxfs: Stats, reference: Stats) {
        let n = count(runs)
        for _ in 0..<warmup { _ = try daxfs(); _ = try reference() }
        var d: [Double] = [], r: [Double] = []
        for _ in 0..<n {
            d.append(try daxfs())
            r.append(try reference())
        }
        return (Stats(d), Stats(r))
    }

    private func count(_ requested: Int?) -> Int {
        guard let requested else { return runs }
        precondition(requested >= runs, "a row may take more runs than --runs, never fewer")
        return requested
    }

    /// A progress line on standard error (the table goes to standard output).
    func progress(_ line: String) {
        Console.status(line)
    }
}

/// Standard error, for progress and skip lines.
enum Console {
    static func status(_ line: String) {
        let text = Array("[bench] \(line)\n".utf8)
        _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
