import Testing
import Foundation
import Synchronization
@testable import DaxFS

/// The invalidate lock on its own, under contention: shared and exclusive
/// takers on one lock, each checking on entry that the other kind is not
/// inside. The uncontended exclusive take and release are one
/// compare-and-swap each, with no mutex; a sleeper must never miss the
/// release that lets it in, or a thread never finishes and the deadline
/// below fails the test instead of hanging it.
@Suite struct InvalidateLockTests {
    final class Owner: @unchecked Sendable {
        let lock = InvalidateLock()
        var id: ObjectIdentifier { ObjectIdentifier(self) }
    }

    @Test func sharedAndExclusiveExcludeEachOtherAndEveryTakerFinishes() throws {
        let owner = Owner()
        let shared = Atomic<Int>(0), exclusive = Atomic<Int>(0)
        let violations = Atomic<Int>(0), finished = Atomic<Int>(0)
        let rounds = 20_000
        var threads: [Thread] = []
        for t in 0..<4 {
            threads.append(Thread {
                for i in 0..<rounds {
                    if (t + i) % 3 == 0 {
                        // Short holds: most takes are uncontended, the rest sleep.
                        do { try owner.lock.lockExclusive(timeout: 30, ino: 1, id: owner.id) } catch { violations.add(1, ordering: .relaxed); continue }
                        if exclusive.add(1, ordering: .sequentiallyConsistent).newValue != 1 { violations.add(1, ordering: .relaxed) }
                        if shared.load(ordering: .sequentiallyConsistent) != 0 { violations.add(1, ordering: .relaxed) }
                        if i % 64 == 0 { usleep(5) }
                        exclusive.subtract(1, ordering: .sequentiallyConsistent)
                        owner.lock.unlockExclusive(id: owner.id)
                    } else {
                        owner.lock.lockShared(mapping: false, id: owner.id)
                        shared.add(1, ordering: .sequentiallyConsistent)
                        if exclusive.load(ordering: .sequentiallyConsistent) != 0 { violations.add(1, ordering: .relaxed) }
                        if i % 64 == 1 { usleep(5) }
                        shared.subtract(1, ordering: .sequentiallyConsistent)
                        owner.lock.unlockShared(owner: nil, id: owner.id)
                    }
                }
                finished.add(1, ordering: .relaxed)
            })
        }
        for th in threads { th.start() }
        let deadline = Date().addingTimeInterval(60)
        while finished.load(ordering: .relaxed) < threads.count && Date() < deadline { usleep(1000) }
        // A taker that never got in keeps its thread; nothing below runs then.
        let done = finished.load(ordering: .relaxed)
        try #require(done == threads.count, "a taker never got the lock: a lost wake-up")
        #expect(violations.load(ordering: .relaxed) == 0)
        #expect(owner.lock.sharedCount == 0)
        // Free again: an exclusive take succeeds at once.
        try owner.lock.lockExclusive(timeout: 0, ino: 1, id: owner.id)
        owner.lock.unlockExclusive(id: owner.id)
    }

    /// One shared taker asleep behind an exclusive holder, and nothing else
    /// on the lock (or its stripe's condition variable): the release alone
    /// must wake it. A release that took its lock-free path with a sleeper
    /// waiting would leave it asleep for good.
    @Test(arguments: [false, true]) func aSleepingSharedTakerIsWokenByTheRelease(mapping: Bool) throws {
        let owner = Owner()
        try owner.lock.lockExclusive(timeout: 0, ino: 1, id: owner.id)
        let got = Atomic<Bool>(false), started = Atomic<Bool>(false)
        let taker = Thread {
            started.store(true, ordering: .relaxed)
            let hold = owner.lock.lockShared(mapping: mapping, id: owner.id)
            got.store(true, ordering: .sequentiallyConsistent)
            owner.lock.unlockShared(owner: hold, id: owner.id)
        }
        taker.start()
        while !started.load(ordering: .relaxed) { usleep(100) }
        usleep(50_000)                      // long enough for it to be asleep
        let early = got.load(ordering: .sequentiallyConsistent)
        #expect(!early, "a shared taker got in beside the exclusive holder")
        owner.lock.unlockExclusive(id: owner.id)
        let deadline = Date().addingTimeInterval(10)
        while !got.load(ordering: .sequentiallyConsistent) && Date() < deadline { usleep(1000) }
        let woken = got.load(ordering: .sequentiallyConsistent)
        try #require(woken, "the release did not wake the sleeping shared taker")
        while owner.lock.sharedCount > 0 { usleep(100) }
        // The lock is free: the next exclusive take and release are immediate.
        try owner.lock.lockExclusive(timeout: 0, ino: 1, id: owner.id)
        owner.lock.unlockExclusive(id: owner.id)
    }
}
