#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A readers-writer lock (pthread rwlock): many readers or one writer.
final class RWLock: @unchecked Sendable {
    private let l: UnsafeMutablePointer<pthread_rwlock_t>

    init() {
        l = .allocate(capacity: 1)
        l.initialize(to: pthread_rwlock_t())
        precondition(pthread_rwlock_init(l, nil) == 0)
    }

    deinit {
        pthread_rwlock_destroy(l)
        l.deallocate()
    }

    @inline(__always) func withReadLock<T>(_ body: () throws -> T) rethrows -> T {
        precondition(pthread_rwlock_rdlock(l) == 0)
        defer { pthread_rwlock_unlock(l) }
        return try body()
    }

    @inline(__always) func withWriteLock<T>(_ body: () throws -> T) rethrows -> T {
        precondition(pthread_rwlock_wrlock(l) == 0)
        defer { pthread_rwlock_unlock(l) }
        return try body()
    }
}

/// A readers-writer lock in one atomic word, for the many small objects
/// (inodes) that must not each cost a heap allocation and a pthread object.
///
/// The word holds the reader count, a writer bit and a writer-waiting bit;
/// a waiting writer keeps new readers out, so writers are not starved.
/// Waiters spin briefly, then yield, then sleep in growing steps up to 1 ms:
/// the critical sections it guards are short, or (for a writer waiting on
/// readers of a large write) worth a sleep.
struct WordLock: ~Copyable {
    private let word = Atomic<Int>(0)
    private static let writer = 1 << 62
    private static let writerWaiting = 1 << 61
    private static let readerMask = (1 << 61) - 1

    init() {}

    func lockShared() {
        var spins = 0
        while true {
            let v = word.load(ordering: .relaxed)
            if v & (Self.writer | Self.writerWaiting) == 0,
               word.compareExchange(expected: v, desired: v + 1, ordering: .acquiring).exchanged { return }
            Self.backoff(&spins)
        }
    }

    func unlockShared() {
        word.subtract(1, ordering: .releasing)
    }

    func lockExclusive() {
        var spins = 0
        while true {
            let v = word.load(ordering: .relaxed)
            if v & ~Self.writerWaiting == 0 {
                if word.compareExchange(expected: v, desired: Self.writer, ordering: .acquiring).exchanged { return }
            } else if v & Self.writerWaiting == 0 {
                _ = word.compareExchange(expected: v, desired: v | Self.writerWaiting, ordering: .relaxed)
            }
            Self.backoff(&spins)
        }
    }

    func unlockExclusive() {
        word.store(0, ordering: .releasing)
    }

    private static func backoff(_ spins: inout Int) {
        spins += 1
        if spins < 64 { return }
        if spins < 128 { sched_yield(); return }
        usleep(UInt32(min(1000, (spins - 127) * 10)))
    }
}
