import Foundation
import Testing
@testable import Attention

/// Random problems on every fast path against the float64 reference. Each
/// seed gives the same problem on every run; a failure names its seed.
@Suite struct PropertyTests {
    static let seeds: [UInt64] = Array(1...60)

    @Test("Fast paths match the reference", arguments: seeds)
    func fastPathsMatchReference(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let problem = try RandomProblem(generator: &generator)
        let reference = try problem.run(ExecutionOptions(path: .reference), returning: [.logSumExp, .weights])
        let queryBlock = Int.random(in: 1...9, using: &generator)
        let keyBlock = Int.random(in: 1...9, using: &generator)
        let threads = Int.random(in: 1...3, using: &generator)
        let configurations: [(String, ExecutionOptions, AttentionOutputs)] = [
            ("materialized", ExecutionOptions(path: .materialized, threadCount: threads), [.logSumExp, .weights]),
            ("tiled", ExecutionOptions(path: .tiled, threadCount: threads), [.logSumExp]),
            ("tiled \(queryBlock)×\(keyBlock)", ExecutionOptions(path: .tiled, threadCount: threads, queryBlockSize: queryBlock, keyBlockSize: keyBlock), [.logSumExp]),
        ]
        let tolerance = problem.tolerance
        for (name, options, outputs) in configurations {
            let result = try problem.run(options, returning: outputs)
            let label = "seed \(seed), \(name), \(threads) threads, \(problem)"
            expectClose(result.output.scalars, reference.output.scalars, atol: tolerance, rtol: 0, "\(label): output")
            expectClose(result.logSumExp!.scalars, reference.logSumExp!.scalars, atol: tolerance * 4, rtol: 1e-6, "\(label): log-sum-exp")
            if let weights = result.weights {
                expectClose(weights.scalars, reference.weights!.scalars, atol: tolerance, rtol: 0, "\(label): weights")
            }
        }
    }

    @Test("Weights rows sum to one or zero", arguments: seeds.prefix(20))
    func weightRows(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed &+ 1000)
        let problem = try RandomProblem(generator: &generator)
        let result = try problem.run(ExecutionOptions(path: .materialized), returning: [.weights, .logSumExp])
        let weights = result.weights!.scalars
        let keyLength = problem.keyLength
        guard keyLength > 0 else { return }
        for row in 0..<(weights.count / keyLength) {
            let sum = weights[(row * keyLength)..<((row + 1) * keyLength)].reduce(0, +)
            let masked = result.logSumExp!.scalars[row] == -Float.infinity
            #expect(masked ? sum == 0 : abs(sum - 1) < 1e-5, "seed \(seed), row \(row): sum \(sum), \(problem)")
        }
    }
}
