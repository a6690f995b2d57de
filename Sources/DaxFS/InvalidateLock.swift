import DaxCore
#if canImport(Glibc)
import Glibc
#endif

/// The invalidate lock of one inode: it serialises direct pointers into a
/// file's blocks against changes that take blocks away from the file, as
/// Linux's `mapping.invalidate_lock` plus break-layouts and
/// `inode_dio_wait` do for DAX.
///
/// **Shared** holders are live `Mapping`s (for as long as they are not
/// released, on any thread) and copy-style reads and writes (for the length
/// of the call). They may add blocks to the file (a write, a write mapping
/// over a hole) but never take any away.
///
/// **Exclusive** holders are the operations that take blocks away or move
/// them: truncate, every fallocate mode, dig-holes, unlink, rename over a
/// file, swap-extents. `lockExclusive` waits until every shared holder has
/// gone, up to a timeout, and then fails with EBUSY, changing nothing (the
/// break-layouts analogue). While it waits, new holders wait too, so
/// mappings cannot starve it; a thread that already holds a mapping of this
/// inode is let through, so it cannot deadlock against the waiter. A thread
/// that holds a mapping of this inode and asks for the exclusive lock gets
/// EDEADLK at once: it would wait for itself.
///
/// Lock order: after filesystem-level locks (`nsLock`), before the inode's
/// metadata lock (`Inode.withReadLock`/`withWriteLock`); several invalidate
/// locks are taken in inode-number order.
///
/// - Complexity: every operation is O(1) plus a dictionary update keyed by
///   thread for mapping holders, under one uncontended mutex in the common case.
final class InvalidateLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var shared = 0
    private var exclusive = false
    private var waiting = 0
    /// Live mappings per thread that took them (pthread_self), for EDEADLK:
    /// a short list (a few threads at most map one file at once), scanned
    /// linearly, which is cheaper than hashing at these sizes.
    private var mappingsByThread = ThreadCounts()

    init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    /// Takes the lock shared; for a mapping, records the calling thread as
    /// its owner and returns the owner to pass to `unlockShared`.
    @discardableResult
    func lockShared(mapping: Bool) -> UInt {
        let me = UInt(bitPattern: Int(bitPattern: UInt(pthread_self())))
        pthread_mutex_lock(mutex)
        while exclusive || (waiting > 0 && mappingsByThread[me] == 0) {
            pthread_cond_wait(cond, mutex)
        }
        shared += 1
        if mapping { mappingsByThread.add(me, 1) }
        pthread_mutex_unlock(mutex)
        return me
    }

    /// Drops one shared hold; `owner` is what `lockShared(mapping: true)`
    /// returned, nil for a copy-style hold.
    func unlockShared(owner: UInt?) {
        pthread_mutex_lock(mutex)
        precondition(shared > 0, "InvalidateLock.unlockShared without a shared hold")
        shared -= 1
        if let owner {
            precondition(mappingsByThread[owner] > 0, "InvalidateLock: a mapping released twice")
            mappingsByThread.add(owner, -1)
        }
        if shared == 0 && waiting > 0 { pthread_cond_broadcast(cond) }
        pthread_mutex_unlock(mutex)
    }

    /// Takes the lock exclusive, waiting up to `timeout` seconds for shared
    /// holders to go. Throws EDEADLK when the calling thread holds a mapping
    /// of this inode, EBUSY when the holders outlast the timeout.
    func lockExclusive(timeout: Double, ino: UInt64) throws {
        let me = UInt(bitPattern: Int(bitPattern: UInt(pthread_self())))
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let held = mappingsByThread[me]
        if held > 0 {
            throw DaxError(.EDEADLK, "this thread holds \(held) mapping\(held == 1 ? "" : "s") of inode \(ino); release \(held == 1 ? "it" : "them") before changing the file's blocks")
                .with("ino", ino)
        }
        guard exclusive || shared > 0 else { exclusive = true; return }
        waiting += 1
        defer {
            waiting -= 1
            if waiting == 0 { pthread_cond_broadcast(cond) }     // holders held back by this waiter may go on
        }
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let whole = timeout.rounded(.down)
        deadline.tv_sec += Int(whole)
        deadline.tv_nsec += Int((timeout - whole) * 1e9)
        if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_sec += 1; deadline.tv_nsec -= 1_000_000_000 }
        while exclusive || shared > 0 {
            if pthread_cond_timedwait(cond, mutex, &deadline) == ETIMEDOUT && (exclusive || shared > 0) {
                throw DaxError(.EBUSY, "inode \(ino) still has \(shared) mapping\(shared == 1 ? "" : "s") or I/O in flight after \(timeout) s; release the mappings and retry")
                    .with("ino", ino)
            }
        }
        exclusive = true
    }

    func unlockExclusive() {
        pthread_mutex_lock(mutex)
        precondition(exclusive, "InvalidateLock.unlockExclusive without the exclusive hold")
        exclusive = false
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Live mappings of this inode (for chattr's EBUSY and for tests).
    var mappingCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return mappingsByThread.total
    }
}

/// Counts per thread id, kept as a short array. Entries that drop to 0
/// stay (a thread that maps a file usually maps it again) until the list
/// passes 32 entries, when they are swept.
struct ThreadCounts {
    private var ids: [UInt] = []
    private var counts: [Int] = []

    subscript(id: UInt) -> Int {
        for i in ids.indices where ids[i] == id { return counts[i] }
        return 0
    }

    mutating func add(_ id: UInt, _ delta: Int) {
        for i in ids.indices where ids[i] == id {
            counts[i] += delta
            return
        }
        precondition(delta > 0, "ThreadCounts: no entry to decrement")
        if ids.count >= 32 {
            let keep = ids.indices.filter { counts[$0] != 0 }
            ids = keep.map { ids[$0] }
            counts = keep.map { counts[$0] }
        }
        ids.append(id)
        counts.append(delta)
    }

    var total: Int { counts.reduce(0, +) }
}
