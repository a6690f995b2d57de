import DaxCore
import Synchronization
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
/// **Implementation.** One atomic word holds the shared count and three
/// flags (EXCLUSIVE, WAITING, SHARED_WAITING). Uncontended, a shared hold is
/// one compare-and-swap and its release one atomic subtract, and so are an
/// exclusive hold (0 to EXCLUSIVE) and its release (EXCLUSIVE to 0). Every
/// wait is on a pthread condition variable under its mutex, and no wake-up
/// is lost: each sleeper first sets a flag in the word under the mutex (an
/// exclusive waiter WAITING, a shared one SHARED_WAITING, whose atomic OR
/// also returns whether it is still blocked). An exclusive release that
/// finds any flag set, and a shared release that brings the count to 0
/// with WAITING set, take the mutex to broadcast (shared sleepers wait for
/// EXCLUSIVE or WAITING to clear, never for the count). So the lock-free
/// exclusive release succeeds only on a word of exactly EXCLUSIVE: no flag,
/// no sleeper.
///
/// The mutex and condition variable are not the lock's own: it borrows one
/// of `WaitStripes.count` pairs shared by all invalidate locks (chosen by
/// the owner's identity), so an inode costs no pthread objects. The lock is
/// a noncopyable value stored in its `Inode` (two words), not an object of
/// its own: mount makes 100,000 inodes, and a second allocation per inode
/// was a measurable part of that. Its identity (which stripe it waits on,
/// the key of the thread's hold counts) is therefore its owner's, which
/// every method takes as `id`: the owning inode's `ObjectIdentifier`.
/// Sharing is safe because every wait re-checks its own lock's word (a
/// broadcast for another lock is a spurious wake-up) and no code holds a
/// pair's mutex while it takes another lock. Which threads hold mappings is
/// kept per thread (`ThreadHolds`, thread-local), each count atomic so that
/// a mapping may be released on another thread.
/// - Complexity: O(1) uncontended, plus a scan of the calling thread's
///   short list of held locks for a mapping.
struct InvalidateLock: ~Copyable {
    private static let exclusiveBit: UInt64 = 1 << 63
    private static let waitingBit: UInt64 = 1 << 62
    /// A shared taker may be asleep until EXCLUSIVE (or WAITING) clears. Set
    /// and cleared under the stripe's mutex. A hint that may be stale (set
    /// by a taker that then found the way clear, or left by a wait that
    /// ended): it then costs the next exclusive release its slow path once.
    private static let sharedWaitingBit: UInt64 = 1 << 61
    private static let countMask: UInt64 = (1 << 61) - 1

    private let word = Atomic<UInt64>(0)
    /// Exclusive waiters. Read and changed only under the stripe's mutex
    /// (atomic only because the lock is a `let` value; relaxed suffices).
    private let waiting = Atomic<Int>(0)

    init() {}

    /// Takes the lock shared. For a mapping, returns the calling thread's
    /// hold count for this lock, to pass to `unlockShared`.
    @discardableResult
    func lockShared(mapping: Bool, id: ObjectIdentifier) -> HoldCount? {
        let hold = mapping ? ThreadHolds.current.count(for: id) : nil
        let holder = hold.map { $0.value.load(ordering: .relaxed) > 0 } ?? false
        var s = word.load(ordering: .relaxed)
        while s & Self.exclusiveBit == 0 && (s & Self.waitingBit == 0 || holder) {
            let (done, now) = word.compareExchange(expected: s, desired: s + 1, ordering: .acquiring)
            if done {
                hold?.value.add(1, ordering: .relaxed)
                return hold
            }
            s = now
        }
        let mutex = WaitStripes.shared.mutex(for: id), cond = WaitStripes.shared.cond(for: id)
        pthread_mutex_lock(mutex)
        while true {
            let s = word.load(ordering: .relaxed)
            if s & Self.exclusiveBit == 0 && (s & Self.waitingBit == 0 || holder) {
                if word.compareExchange(expected: s, desired: s + 1, ordering: .acquiring).exchanged { break }
                continue
            }
            // Say so before sleeping, so that the release cannot take its
            // lock-free path; if it went meanwhile, look again instead.
            let old = word.bitwiseOr(Self.sharedWaitingBit, ordering: .sequentiallyConsistent).oldValue
            if old & Self.exclusiveBit == 0 && (old & Self.waitingBit == 0 || holder) { continue }
            pthread_cond_wait(cond, mutex)
        }
        pthread_mutex_unlock(mutex)
        hold?.value.add(1, ordering: .relaxed)
        return hold
    }

    /// Drops one shared hold; `owner` is what `lockShared(mapping: true)`
    /// returned, nil for a copy-style hold.
    func unlockShared(owner: HoldCount?, id: ObjectIdentifier) {
        if let owner {
            let left = owner.value.subtract(1, ordering: .relaxed).newValue
            precondition(left >= 0, "InvalidateLock: a mapping released twice")
        }
        let now = word.subtract(1, ordering: .releasing).newValue
        precondition(now & Self.countMask != Self.countMask, "InvalidateLock.unlockShared without a shared hold")
        if now & Self.countMask == 0 && now & Self.waitingBit != 0 {
            let mutex = WaitStripes.shared.mutex(for: id)
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(WaitStripes.shared.cond(for: id))
            pthread_mutex_unlock(mutex)
        }
    }

    /// Takes the lock exclusive, waiting up to `timeout` seconds for shared
    /// holders to go. Throws EDEADLK when the calling thread holds a mapping
    /// of this inode, EBUSY when the holders outlast the timeout.
    func lockExclusive(timeout: Double, ino: UInt64, id: ObjectIdentifier) throws {
        // Uncontended: no holder at all (so not this thread either), no
        // waiter. One compare-and-swap, no mutex.
        if word.compareExchange(expected: 0, desired: Self.exclusiveBit, ordering: .acquiring).exchanged { return }
        let held = ThreadHolds.current.held(id)
        if held > 0 {
            throw DaxError(.EDEADLK, "this thread holds \(held) mapping\(held == 1 ? "" : "s") of inode \(ino); release \(held == 1 ? "it" : "them") before changing the file's blocks")
                .with("ino", ino)
        }
        let mutex = WaitStripes.shared.mutex(for: id), cond = WaitStripes.shared.cond(for: id)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if tryTakeExclusive() { return }
        waiting.add(1, ordering: .relaxed)
        word.bitwiseOr(Self.waitingBit, ordering: .sequentiallyConsistent)
        defer {
            if waiting.subtract(1, ordering: .relaxed).newValue == 0 {
                word.bitwiseAnd(~Self.waitingBit, ordering: .sequentiallyConsistent)
                pthread_cond_broadcast(cond)                // holders held back by the waiter may go on
            }
        }
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let whole = max(0, timeout).rounded(.down)
        deadline.tv_sec += Int(whole)
        deadline.tv_nsec += Int((max(0, timeout) - whole) * 1e9)
        if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_sec += 1; deadline.tv_nsec -= 1_000_000_000 }
        while !tryTakeExclusive() {
            if pthread_cond_timedwait(cond, mutex, &deadline) == ETIMEDOUT && !tryTakeExclusive() {
                let n = word.load(ordering: .relaxed) & Self.countMask
                throw DaxError(.EBUSY, "inode \(ino) still has \(n) mapping\(n == 1 ? "" : "s") or I/O in flight after \(timeout) s; release the mappings and retry")
                    .with("ino", ino)
            }
        }
    }

    /// Sets EXCLUSIVE when no one holds the lock. Called under `mutex`.
    private func tryTakeExclusive() -> Bool {
        var s = word.load(ordering: .sequentiallyConsistent)
        while s & Self.exclusiveBit == 0 && s & Self.countMask == 0 {
            let (done, now) = word.compareExchange(expected: s, desired: s | Self.exclusiveBit, ordering: .sequentiallyConsistent)
            if done { return true }
            s = now
        }
        return false
    }

    func unlockExclusive(id: ObjectIdentifier) {
        // Nobody sleeps on this lock (no flag set): one compare-and-swap.
        if word.compareExchange(expected: Self.exclusiveBit, desired: 0, ordering: .releasing).exchanged { return }
        let mutex = WaitStripes.shared.mutex(for: id)
        pthread_mutex_lock(mutex)
        let old = word.bitwiseAnd(~(Self.exclusiveBit | Self.sharedWaitingBit), ordering: .releasing).oldValue
        precondition(old & Self.exclusiveBit != 0, "InvalidateLock.unlockExclusive without the exclusive hold")
        pthread_cond_broadcast(WaitStripes.shared.cond(for: id))
        pthread_mutex_unlock(mutex)
    }

    /// Shared holders right now: live mappings and copy-style I/O in flight.
    var sharedCount: Int { Int(word.load(ordering: .acquiring) & Self.countMask) }
}

/// The mutexes and condition variables that invalidate locks wait on:
/// `count` pairs for the whole process, created once and never destroyed.
/// A lock uses the pair its owner's identity selects.
final class WaitStripes: @unchecked Sendable {
    static let count = 64
    static let shared = WaitStripes()
    private let mutexes = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: WaitStripes.count)
    private let conds = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: WaitStripes.count)

    private init() {
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        for i in 0..<Self.count {
            (mutexes + i).initialize(to: pthread_mutex_t())
            precondition(pthread_mutex_init(mutexes + i, nil) == 0)
            (conds + i).initialize(to: pthread_cond_t())
            precondition(pthread_cond_init(conds + i, &attr) == 0)
        }
        pthread_condattr_destroy(&attr)
    }

    @inline(__always) private func stripe(_ id: ObjectIdentifier) -> Int {
        // Objects are 16-byte aligned; mix the higher bits so neighbours spread.
        let a = UInt(bitPattern: id) >> 4
        return Int((a ^ (a >> 6) ^ (a >> 12)) % UInt(Self.count))
    }
    func mutex(for id: ObjectIdentifier) -> UnsafeMutablePointer<pthread_mutex_t> { mutexes + stripe(id) }
    func cond(for id: ObjectIdentifier) -> UnsafeMutablePointer<pthread_cond_t> { conds + stripe(id) }
}

/// How many mappings one thread holds under one invalidate lock. Only its
/// thread looks it up; any thread may release into it (atomically).
final class HoldCount: @unchecked Sendable {
    let lock: ObjectIdentifier
    let value = Atomic<Int>(0)
    init(_ lock: ObjectIdentifier) { self.lock = lock }
}

/// The calling thread's hold counts (thread-local, through a pthread key):
/// a short list, scanned linearly. Entries whose count is 0 are swept when
/// the list passes 32.
final class ThreadHolds: @unchecked Sendable {
    private var holds: [HoldCount] = []

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in if let p { Unmanaged<ThreadHolds>.fromOpaque(p).release() } }
        return k
    }()

    static var current: ThreadHolds {
        if let p = pthread_getspecific(key) { return Unmanaged<ThreadHolds>.fromOpaque(p).takeUnretainedValue() }
        let t = ThreadHolds()
        pthread_setspecific(key, Unmanaged.passRetained(t).toOpaque())
        return t
    }

    func count(for id: ObjectIdentifier) -> HoldCount {
        for h in holds where h.lock == id { return h }
        if holds.count >= 32 { holds.removeAll { $0.value.load(ordering: .relaxed) == 0 } }
        let h = HoldCount(id)
        holds.append(h)
        return h
    }

    func held(_ id: ObjectIdentifier) -> Int {
        for h in holds where h.lock == id { return h.value.load(ordering: .relaxed) }
        return 0
    }
}
