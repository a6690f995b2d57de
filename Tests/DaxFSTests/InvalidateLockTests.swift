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
        #expect(finished.load(ordering: .relaxed) == threads.count, "a taker never got the lock: a lost wake-up")
        #expect(violations.load(ordering: .relaxed) == 0)
        #expect(owner.lock.sharedCount == 0)
        // Free again: an exclusive take succeeds at once.
        try owner.lock.lockExclusive(timeout: 0, ino: 1, id: owner.id)
        owner.lock.unlockExclusive(id: owner.id)
    }
}
