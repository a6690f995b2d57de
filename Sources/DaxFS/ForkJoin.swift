#if canImport(Glibc)
import Glibc
#endif

/// Runs `first` on this thread and `second` on a new thread at the same
/// time, and returns when both have finished, with what each returned or
/// threw. Mount uses it to load a large checkpoint on two cores.
///
/// The new thread is joined before this returns, so `second` may borrow
/// the caller's state; the two closures must not touch the same mutable
/// state (the caller's contract: each fills its own half). When no thread
/// can be made (EAGAIN: a process or system limit), `second` runs here
/// before `first` (so that a `first` that waits for `second` finds it
/// done): the same results, one core.
/// - Complexity: one thread creation and join (tens of microseconds) plus
///   the slower of the two.
func forkJoin<A, B>(_ first: () throws -> A, _ second: () throws -> B) -> (Result<A, any Error>, Result<B, any Error>) {
    var b: Result<B, any Error>? = nil
    let a = withoutActuallyEscaping(second) { second in
        runForked(ForkJob { b = Result { try second() } }) { Result { try first() } }
    }
    return (a, b!)
}

/// Starts `job` on a new thread, runs `here` on this one, joins, and
/// returns what `here` returned; runs `job` here first when no thread can
/// be made.
private func runForked<A>(_ job: ForkJob, _ here: () -> A) -> A {
    var thread = pthread_t()
    let context = Unmanaged.passRetained(job).toOpaque()
    guard pthread_create(&thread, nil, forkEntry, context) == 0 else {
        Unmanaged<ForkJob>.fromOpaque(context).release()
        job.body()
        return here()
    }
    let a = here()
    precondition(pthread_join(thread, nil) == 0, "forkJoin: pthread_join failed")
    return a
}

/// The new thread's entry point: runs the job it was handed and drops it.
private func forkEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<ForkJob>.fromOpaque(context!).takeRetainedValue().body()
    return nil
}

/// The second closure of a `forkJoin`. Handed to the new thread; what it
/// writes is read only after the join, so no lock is needed.
private final class ForkJob: @unchecked Sendable {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
