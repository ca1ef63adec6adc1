import Foundation
import Testing
@testable import Attention

/// Several callers at once, each also using the engine's worker threads.
@Suite struct ConcurrencyTests {
    @Test("Concurrent callers get bitwise the same results", arguments: [AttentionPath.materialized, .tiled, .reference])
    func concurrentCallers(path: AttentionPath) throws {
        var generator = SeededGenerator(seed: 77)
        var spec = ProblemSpec.random(using: &generator)
        spec.batch = 2
        spec.queryLength = 70
        spec.keyLength = 90
        spec.keyDimension = 16
        spec.valueDimension = 8
        spec.layout = .blhd
        spec.maskKind = .boolean
        let problem = try RandomProblem(spec: spec)
        let options = ExecutionOptions(path: path, threadCount: 2, queryBlockSize: 16, keyBlockSize: 32)
        let expected = try problem.run(options).output.scalars

        let callers = 8
        let results = ResultBox(count: callers)
        let threads = (0..<callers).map { caller in
            Thread {
                for _ in 0..<5 {
                    let outcome = Result { try problem.run(options).output.scalars }
                    results.append(outcome, caller: caller)
                }
            }
        }
        threads.forEach { $0.start() }
        results.waitForAll(expectedPerCaller: 5)

        for caller in 0..<callers {
            for outcome in results.outcomes(caller: caller) {
                switch outcome {
                case .success(let scalars): expectBitwiseEqual(scalars, expected, "caller \(caller) on \(path)")
                case .failure(let error): Issue.record("caller \(caller) threw \(error)")
                }
            }
        }
    }

    @Test("No call runs more workers than its thread count")
    func workerBound() throws {
        var generator = SeededGenerator(seed: 78)
        var spec = ProblemSpec.random(using: &generator)
        spec.batch = 3
        spec.queryLength = 64
        spec.keyLength = 64
        let problem = try RandomProblem(spec: spec)
        let callers = 4
        let results = ResultBox(count: callers)
        let threads = (0..<callers).map { caller in
            Thread {
                for threadCount in [2, 3, 5, 2, 3] {
                    let options = ExecutionOptions(path: .tiled, threadCount: threadCount, queryBlockSize: 8, keyBlockSize: 16)
                    results.append(Result { try problem.run(options).output.scalars }, caller: caller)
                }
            }
        }
        threads.forEach { $0.start() }
        results.waitForAll(expectedPerCaller: 5)
        // Every multi-threaded call of the whole test run, from any suite,
        // recorded its peak; none may exceed its own thread count.
        let overshoot = WorkerCensus.largestRecordedOvershoot
        #expect(overshoot > Int.min, "no multi-threaded call was recorded")
        #expect(overshoot <= 0, "a call ran \(overshoot) workers more than its thread count")
    }

    @Test("OpenBLAS runs single-threaded inside engine work")
    func singleThreadedScope() {
        // Other suites run concurrently and may hold the scope too, so only
        // the value inside the scope is certain.
        BLAS.withSingleThreadedBLAS {
            BLAS.withSingleThreadedBLAS { #expect(BLAS.threadCount == 1) }
            #expect(BLAS.threadCount == 1)
        }
    }

    /// Collects each caller's results and lets the test wait for them.
    final class ResultBox: @unchecked Sendable {
        private let condition = NSCondition()
        private var stored: [[Result<[Float], Error>]]

        init(count: Int) { stored = Array(repeating: [], count: count) }

        func append(_ outcome: Result<[Float], Error>, caller: Int) {
            condition.lock()
            stored[caller].append(outcome)
            condition.broadcast()
            condition.unlock()
        }

        func waitForAll(expectedPerCaller: Int) {
            condition.lock()
            while stored.contains(where: { $0.count < expectedPerCaller }) { condition.wait() }
            condition.unlock()
        }

        func outcomes(caller: Int) -> [Result<[Float], Error>] {
            condition.lock()
            defer { condition.unlock() }
            return stored[caller]
        }
    }
}
