import DaxCore
import PMem

/// The physical limits of a mapping of a /dev/shm file, measured with
/// `PMem.Calibration`: reference figures, with no ratio and no goal, for
/// reading every other row against. Cold runs map a fresh sparse file each
/// time and include the first-touch page faults; warm runs re-write pages
/// already faulted in. The note says which persistence path the mapping took.
enum PhysicalLimits {
    static var group: BenchGroup {
        BenchGroup(
            title: "Physical limits",
            layout: .referenceFigures,
            caption: "Reference figures on a mapping of a /dev/shm file (no ratio). Cold: first touch of a fresh sparse file, page faults included. Warm: pages faulted in before timing.",
            rows: bandwidthRows + latencyRows + [zeroingRow])
    }

    /// Bytes written per bandwidth run: 256 MiB, or 1 GiB in full mode.
    static func bandwidthBytes(_ ctx: BenchContext) -> Int { ctx.pick(quick: 256 << 20, full: 1 << 30) }
    /// Stores per latency run (each on its own page): 10,000, or 100,000 in full mode.
    static func latencyStores(_ ctx: BenchContext) -> Int { ctx.pick(quick: 10_000, full: 100_000) }

    private static let how: [Calibration.Bandwidth: String] = [
        .memsetPersist: "pmem_memset_persist (+ pmem_msync on the msync path)",
        .ntStore: "pmem_memset NONTEMPORAL|NODRAIN, then pmem_drain",
        .memcpy: "memcpy from a resident DRAM buffer (cached, not durable)",
    ]

    private static var bandwidthRows: [BenchRow] {
        Calibration.Bandwidth.allCases.flatMap { kind in
            Calibration.Warmth.allCases.map { warmth in
                BenchRow(name: "\(kind.rawValue) bandwidth, \(warmth.rawValue)", unit: .gigabytesPerSecond,
                         goal: .none, reference: how[kind]!) { ctx in
                    let bytes = bandwidthBytes(ctx)
                    let t = try Calibration.bandwidth(kind, warmth, bytes: bytes, runs: ctx.runs,
                                                      directory: ctx.scratchDirectory)
                    return .referenceOnly(Stats(t.map(\.gigabytesPerSecond)),
                                          note: "\(t[0].path.rawValue) path; \(ByteSize.human(UInt64(bytes))) per run")
                }
            }
        }
    }

    /// The zeroing floor of a small allocation: what the allocator's
    /// zeroing alone costs per 4 KiB block, at every other block as the
    /// allocation rows allocate. A 4 KiB allocation can be no faster.
    private static var zeroingRow: BenchRow {
        BenchRow(name: "zero one 4 KiB block, every other block, warm", unit: .nanoseconds, goal: .none,
                 reference: "pmem_memset NONTEMPORAL|NODRAIN of 4 KiB, then pmem_drain: the allocator's zeroing per 4 KiB allocation") { ctx in
            let blocks = ctx.pick(quick: 20_000, full: 100_000)
            let t = try Calibration.zeroBlockLatency(blocks: blocks, runs: ctx.runs, directory: ctx.scratchDirectory)
            return .referenceOnly(Stats(t.map(\.nanosecondsPerOperation)),
                                  note: "\(t[0].path.rawValue) path; mean of \(Format.number(Double(blocks))) blocks; the floor under every 4 KiB allocation")
        }
    }

    private static var latencyRows: [BenchRow] {
        Calibration.Warmth.allCases.map { warmth in
            BenchRow(name: "8-byte store + persist latency, \(warmth.rawValue)", unit: .nanoseconds, goal: .none,
                     reference: "one 8-byte store, then pmem_persist (clwb+sfence) or pmem_msync of its page") { ctx in
                let stores = latencyStores(ctx)
                let t = try Calibration.storePersistLatency(warmth, stores: stores, runs: ctx.runs,
                                                            directory: ctx.scratchDirectory)
                let persist = t[0].path == .flushAndFence ? "pmem_persist" : "pmem_msync"
                return .referenceOnly(Stats(t.map(\.nanosecondsPerOperation)),
                                      note: "\(t[0].path.rawValue) path (\(persist)); mean of \(Format.number(Double(stores))) stores a page apart")
            }
        }
    }
}
