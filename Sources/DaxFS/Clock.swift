#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME), for the
/// superblock's mkfs time, the root's times at mkfs and checkpoint times.
/// Inode times after mkfs come from `inodeTimeNanoseconds`.
public func wallClockNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Wall-clock nanoseconds for inode times (mtime, ctime, btime): the
/// coarse clock (CLOCK_REALTIME_COARSE), which ticks once per scheduler
/// tick (1–10 ms), as Linux's own inode times do (`current_time` reads
/// the coarse clock). It costs a load from the vDSO page instead of a
/// read of the time-stamp counter, on every operation that touches a
/// file. It lags `wallClockNanoseconds` by at most one tick.
public func inodeTimeNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME_COARSE, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Monotonic nanoseconds (CLOCK_MONOTONIC), for durations.
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Random bytes from the system generator (getrandom(2) on Linux).
func randomBytes(_ n: Int) -> [UInt8] {
    var g = SystemRandomNumberGenerator()
    return (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
}

/// A random version-4 UUID.
public func randomUUID() -> [UInt8] {
    var u = randomBytes(16)
    u[6] = (u[6] & 0x0F) | 0x40
    u[8] = (u[8] & 0x3F) | 0x80
    return u
}

func randomUInt64() -> UInt64 {
    randomBytes(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
}
