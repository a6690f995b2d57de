#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// Undo actions for what the bench sets up outside itself: mounts, loop
/// devices, scratch files. Whoever sets something up pushes its undo and pops
/// it (which runs it) in a `defer`, so a throwing row still cleans up. On
/// SIGINT or SIGTERM every pending action runs, newest first, before exit.
enum Cleanup {
    private struct Entry: Sendable {
        var id: Int
        var label: String
        var action: @Sendable () -> Void
    }
    private static let pending = Mutex<[Entry]>([])
    private static let ids = Atomic<Int>(0)

    /// Registers `action`; returns the id to `pop` it with.
    static func push(_ label: String, _ action: @escaping @Sendable () -> Void) -> Int {
        let id = ids.add(1, ordering: .relaxed).newValue
        pending.withLock { $0.append(Entry(id: id, label: label, action: action)) }
        return id
    }

    /// Runs the action registered under `id` (once: a signal cannot run it again).
    static func pop(_ id: Int) {
        let entry = pending.withLock { p -> Entry? in
            guard let i = p.firstIndex(where: { $0.id == id }) else { return nil }
            return p.remove(at: i)
        }
        entry?.action()
    }

    /// Runs every pending action, newest first.
    static func runAll() {
        while let entry = pending.withLock({ $0.popLast() }) {
            Console.status("cleanup: \(entry.label)")
            entry.action()
        }
    }

    nonisolated(unsafe) private static var signalSources: [DispatchSourceSignal] = []

    /// Catches SIGINT and SIGTERM: runs every pending action and exits 130/143.
    /// Call once, from the main thread, before anything is set up.
    static func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                Console.status("signal \(sig): cleaning up")
                runAll()
                _exit(128 + sig)
            }
            source.resume()
            signalSources.append(source)
        }
    }
}
