import Dispatch
import Foundation

/// A counter that hands out work item indices to worker threads.
private final class WorkCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0

    /// Returns the next unclaimed index.
    func claim() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let index = next
        next += 1
        return index
    }
}

/// The number of threads running one call's work items at once, and its
/// high-water mark. Every multi-threaded call records how far its peak went
/// past its thread count, so tests can check that it never does.
final class WorkerCensus: @unchecked Sendable {
    private let lock = NSLock()
    private var active = 0
    private var highWater = 0

    /// The maximum number of threads that ran this call's items at once.
    var peak: Int { lock.withLock { highWater } }

    func enter() {
        lock.withLock {
            active += 1
            highWater = Swift.max(highWater, active)
        }
    }

    func leave() {
        lock.withLock { active -= 1 }
    }

    private static let overshootLock = NSLock()
    nonisolated(unsafe) private static var largestOvershoot = Int.min

    /// Records one call's peak against its thread count.
    static func recordCall(peak: Int, limit: Int) {
        overshootLock.withLock { largestOvershoot = Swift.max(largestOvershoot, peak - limit) }
    }

    /// The largest `peak - threadCount` of any call so far, or `Int.min`
    /// before the first multi-threaded call.
    static var largestRecordedOvershoot: Int { overshootLock.withLock { largestOvershoot } }
}

/// A value passed across threads under a safety argument the compiler
/// cannot check; each use states that argument.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// Runs `body(worker, item)` for every item in `0..<count` on at most
/// `threadCount` threads; `worker` in `0..<threadCount` identifies the
/// calling thread's scratch.
///
/// Workers claim items in order, so a slow item does not stall the others.
/// Each item must write only its own part of the output; then the result does
/// not depend on which worker ran which item.
func parallelFor(count: Int, threadCount: Int, _ body: (_ worker: Int, _ item: Int) -> Void) {
    let workers = Swift.min(Swift.max(threadCount, 1), count)
    if workers <= 1 {
        for item in 0..<count { body(0, item) }
        return
    }
    let counter = WorkCounter()
    let census = WorkerCensus()
    defer { WorkerCensus.recordCall(peak: census.peak, limit: workers) }
    withoutActuallyEscaping(body) { body in
        // Items write disjoint parts of the output, which is what makes
        // sharing the closure across threads safe.
        let shared = UncheckedSendable(value: body)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            census.enter()
            defer { census.leave() }
            while true {
                let item = counter.claim()
                if item >= count { break }
                shared.value(worker, item)
            }
        }
    }
}

/// Runs `body(worker, item)` like `parallelFor` with OpenBLAS single-threaded
/// inside the items, and rethrows the first error any item threw. Items after
/// a failure still run; their results are discarded with the error.
func parallelForThrowing(count: Int, threadCount: Int, _ body: (_ worker: Int, _ item: Int) throws -> Void) throws {
    let firstError = FirstError()
    BLAS.withSingleThreadedBLAS {
        parallelFor(count: count, threadCount: threadCount) { worker, item in
            do {
                try body(worker, item)
            } catch {
                firstError.record(error)
            }
        }
    }
    if let error = firstError.error { throw error }
}

/// The first error recorded by any worker thread.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?

    var error: Error? { lock.withLock { stored } }

    func record(_ error: Error) {
        lock.withLock { if stored == nil { stored = error } }
    }
}

/// Runs `body(item)` for every item in `0..<count` on at most `threadCount`
/// threads.
func parallelFor(count: Int, threadCount: Int, _ body: (_ item: Int) -> Void) {
    parallelFor(count: count, threadCount: threadCount) { _, item in body(item) }
}

/// The number of processors the system makes available to this process.
var activeProcessorCount: Int { ProcessInfo.processInfo.activeProcessorCount }
