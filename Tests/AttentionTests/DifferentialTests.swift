import Foundation
import Testing
@testable import Attention

/// A time-bounded differential run: random problems on every fast path
/// against the float64 reference until the time budget is spent.
///
/// `ATTENTION_FUZZ_SECONDS` sets the budget (default 20 seconds) and
/// `ATTENTION_FUZZ_SEED` the first seed (default 1). A failure reports the
/// seed and the smallest spec it shrinks to.
@Suite struct DifferentialTests {
    @Test("Random problems agree with the reference")
    func timeBoundedRun() throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = environment["ATTENTION_FUZZ_SECONDS"].flatMap(Double.init) ?? 20
        let firstSeed = environment["ATTENTION_FUZZ_SEED"].flatMap(UInt64.init) ?? 1
        let deadline = Date().addingTimeInterval(seconds)
        var seed = firstSeed
        var problems = 0
        repeat {
            var generator = SeededGenerator(seed: seed)
            let spec = ProblemSpec.random(using: &generator)
            let blocks = (Int.random(in: 1...9, using: &generator), Int.random(in: 1...9, using: &generator))
            let threads = Int.random(in: 1...3, using: &generator)
            if let failure = try Self.disagreement(spec, blocks: blocks, threads: threads) {
                let (smallest, smallestFailure) = try Self.shrink(spec, blocks: blocks, threads: threads, failure: failure)
                Issue.record("seed \(seed) fails: \(failure)\n  spec: \(spec)\n  shrunk to: \(smallest)\n  which fails: \(smallestFailure)\n  blocks \(blocks.0)×\(blocks.1), \(threads) threads")
                return
            }
            problems += 1
            seed += 1
        } while Date() < deadline
        #expect(problems > 0)
    }

    static func disagreement(_ spec: ProblemSpec, blocks: (Int, Int), threads: Int) throws -> String? {
        try RandomProblem(spec: spec).firstDisagreement(queryBlockSize: blocks.0, keyBlockSize: blocks.1, threadCount: threads)
    }

    /// Applies simplifications while the problem still fails.
    static func shrink(_ spec: ProblemSpec, blocks: (Int, Int), threads: Int, failure: String) throws -> (ProblemSpec, String) {
        var current = spec
        var currentFailure = failure
        var improved = true
        while improved {
            improved = false
            for candidate in current.simplifications {
                if let candidateFailure = try disagreement(candidate, blocks: blocks, threads: threads) {
                    current = candidate
                    currentFailure = candidateFailure
                    improved = true
                    break
                }
            }
        }
        return (current, currentFailure)
    }

    @Test("Shrinking finds a smaller failing spec")
    func shrinkingWorks() throws {
        // A predicate that fails whenever Lq > 3 and a mask is present
        // shrinks to the smallest such spec.
        var spec = ProblemSpec()
        spec.batch = 3
        spec.queryLength = 65
        spec.keyLength = 33
        spec.maskKind = .boolean
        spec.paddingKind = .lengths
        var current = spec
        var improved = true
        while improved {
            improved = false
            for candidate in current.simplifications where candidate.queryLength > 3 && candidate.maskKind != .none {
                current = candidate
                improved = true
                break
            }
        }
        #expect(current.queryLength == 4)
        #expect(current.keyLength == 0)
        #expect(current.batch == 1)
        #expect(current.paddingKind == .none)
        #expect(current.maskKind == .boolean)
    }
}
