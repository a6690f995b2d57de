#if canImport(Glibc)
import Glibc
#endif

/// A mutual-exclusion lock (pthread mutex) for state that is not a single value.
///
/// Not recursive: taking it twice on one thread is a programmer error
/// (pthread reports EDEADLK for error-checking mutexes; this one is a normal
/// mutex, so it would hang — callers keep their critical sections flat).
final class Lock: @unchecked Sendable {
    private let m: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        m = .allocate(capacity: 1)
        m.initialize(to: pthread_mutex_t())
        precondition(pthread_mutex_init(m, nil) == 0)
    }

    deinit {
        pthread_mutex_destroy(m)
        m.deallocate()
    }

    @inline(__always) func lock() { precondition(pthread_mutex_lock(m) == 0) }
    @inline(__always) func unlock() { precondition(pthread_mutex_unlock(m) == 0) }

    @inline(__always) func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

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
