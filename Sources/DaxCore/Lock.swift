#if canImport(Glibc)
import Glibc
#endif

/// A mutual-exclusion lock (pthread mutex) for state that is not a single
/// value, shared by every layer above DaxCore. A pthread mutex, not
/// `Synchronization.Mutex`: on Linux that one waits on a futex that
/// ThreadSanitizer does not model, so the state it guards is reported as
/// raced. Inlinable: the engine takes it on every allocation and commit.
///
/// Not recursive: taking it twice on one thread is a programmer error
/// (pthread reports EDEADLK for error-checking mutexes; this one is a normal
/// mutex, so it would hang — callers keep their critical sections flat).
package final class Lock: @unchecked Sendable {
    @usableFromInline let m: UnsafeMutablePointer<pthread_mutex_t>

    package init() {
        m = .allocate(capacity: 1)
        m.initialize(to: pthread_mutex_t())
        precondition(pthread_mutex_init(m, nil) == 0)
    }

    deinit {
        pthread_mutex_destroy(m)
        m.deallocate()
    }

    @inlinable @inline(__always) package func lock() { precondition(pthread_mutex_lock(m) == 0) }
    @inlinable @inline(__always) package func unlock() { precondition(pthread_mutex_unlock(m) == 0) }

    @inlinable @inline(__always) package func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
