import Foundation
import Testing
@testable import Attention

/// Sizes past 32-bit counts. The run takes minutes in a debug build, so it
/// runs only when `ATTENTION_LARGE_TESTS=1`; `.ci/run` sets it for a release
/// build of this suite.
@Suite struct LargeSizeTests {
    static let enabled = ProcessInfo.processInfo.environment["ATTENTION_LARGE_TESTS"] == "1"

    @Test("Causal attention with Lq·Lk above 2^32", .enabled(if: enabled))
    func moreScoresThanUInt32() throws {
        // 65537² ≈ 4.3e9 scores: more than UInt32 can count. The tiled path
        // keeps O(block) scratch, and sampled rows match a float64 sum.
        let length = 65537
        let dimension = 4
        var generator = SeededGenerator(seed: 5)
        let values = (0..<(length * dimension)).map { _ in Float.random(in: -1...1, using: &generator) }
        let q = try Tensor(shape: [1, 1, length, dimension], scalars: values)
        let k = try q.sliced(axis: 3, range: 0..<dimension)
        let v = try Tensor(shape: [1, 1, length, dimension], scalars: values.reversed())
        let plan = try planAttention(queries: q, keys: k, values: v, causal: .topLeft)
        #expect(plan.path == .tiled)
        #expect(plan.scratchBytes < 64 << 20, "scratch \(plan.scratchBytes) bytes")

        let output = try scaledDotProductAttention(queries: q, keys: k, values: v, causal: .topLeft)
        let scale = 1 / Double(dimension).squareRoot()
        for row in [0, 1, 4095, 32768, 65535, 65536] {
            var scores: [Double] = []
            for key in 0...row {
                var dot = 0.0
                for d in 0..<dimension { dot += Double(q[0, 0, row, d]) * Double(k[0, 0, key, d]) }
                scores.append(scale * dot)
            }
            let maximum = scores.max()!
            let weights = scores.map { exp($0 - maximum) }
            let total = weights.reduce(0, +)
            for d in 0..<dimension {
                var sum = 0.0
                for key in 0...row { sum += weights[key] * Double(v[0, 0, key, d]) }
                let expected = sum / total
                // A reduction over up to 65537 keys: about Lk·ε relative error
                // bounds the float32 result, scaled by the value range of 1.
                let tolerance = 4 * Double(Float.ulpOfOne) * Double(row + 1).squareRoot() + 1e-5
                #expect(abs(Double(output[0, 0, row, d]) - expected) < tolerance, "row \(row), feature \(d)")
            }
        }
    }
}
