import Foundation
import Testing
@testable import Attention

/// Sizes past 32-bit counts and the exp over every float in its range. The
/// run takes minutes in a debug build, so it runs only when
/// `ATTENTION_LARGE_TESTS=1`; `.ci/run` sets it for a release build of this
/// suite.
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

    /// Checks every float in [-104, 89], 2.24 billion inputs, where the
    /// sampled test in ExponentialTests checks every 251st. Each body the CPU
    /// can run must stay within 2 ulp of the exact result, flush results
    /// below the smallest normal float to +0 and overflow to +inf.
    @Test("exp error over every float in range", .enabled(if: enabled), arguments: ExponentialTests.bodies)
    func expOverEveryFloat(body: Exponential.Body) {
        let lowest = Float(-104).bitPattern
        let highest = Float(89).bitPattern
        // Chunks of bit patterns: negative inputs count down from -0 to -104,
        // positive ones up from +0 to 89.
        let chunk: UInt64 = 1 << 22
        func chunks(from first: UInt64, through last: UInt64) -> [(start: UInt32, count: UInt32)] {
            stride(from: first, through: last, by: Int(chunk)).map { (UInt32($0), UInt32(min(chunk, last - $0 + 1))) }
        }
        let ranges = chunks(from: 0x8000_0000, through: UInt64(lowest)) + chunks(from: 0, through: UInt64(highest))

        struct Outcome: Sendable {
            var maximumUlp = 0.0
            var worstInput: Float = 0
            var wrongSpecials = 0
        }
        // Each iteration writes only its own element.
        nonisolated(unsafe) let outcomes = UnsafeMutableBufferPointer<Outcome>.allocate(capacity: ranges.count)
        defer { outcomes.deallocate() }
        DispatchQueue.concurrentPerform(iterations: ranges.count) { index in
            let (start, count) = ranges[index]
            let inputs = (0..<count).map { Float(bitPattern: start + $0) }
            let outputs = ExponentialTests.evaluate(inputs, body: body)
            var outcome = Outcome()
            for (x, y) in zip(inputs, outputs) {
                let exact = Foundation.exp(Double(x))
                if exact < Double(Float.leastNormalMagnitude) {
                    if y != 0 || y.sign == .minus { outcome.wrongSpecials += 1 }
                    continue
                }
                if exact > Double(Float.greatestFiniteMagnitude) {
                    if y != .infinity { outcome.wrongSpecials += 1 }
                    continue
                }
                if y == 0 && exact < Double(Float.leastNormalMagnitude) * (1 + 4 * Double(Float.ulpOfOne)) {
                    // Within rounding of the threshold, a flush is allowed.
                    continue
                }
                let error = ExponentialTests.ulpError(y, expected: exact)
                if !(error <= outcome.maximumUlp) {
                    outcome.maximumUlp = error
                    outcome.worstInput = x
                }
            }
            outcomes[index] = outcome
        }
        let worst = outcomes.max { $0.maximumUlp < $1.maximumUlp }!
        #expect(outcomes.allSatisfy { $0.wrongSpecials == 0 }, "\(outcomes.reduce(0) { $0 + $1.wrongSpecials }) wrong flushes or overflows")
        #expect(worst.maximumUlp <= 2, "max error \(worst.maximumUlp) ulp at x = \(worst.worstInput) on \(body)")
    }
}
