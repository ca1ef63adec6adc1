import CAttentionKernels
import Foundation
import Testing
@testable import Attention

/// The online-softmax tile step of each C body against a model built from
/// the element-wise kernels of the same body.
struct SoftmaxTileTests {
    /// One tile step's inputs.
    struct Step: CustomStringConvertible, Sendable {
        let rows: Int
        let keys: Int
        /// Visible keys of row 0 under a causal mask, or nil for no mask.
        let causalFirstRowVisible: Int?
        let scale: Float
        let accumulatorIsWritten: Bool

        var description: String {
            "\(rows)x\(keys), causal \(causalFirstRowVisible.map(String.init) ?? "none"), scale \(scale), "
                + "accumulator \(accumulatorIsWritten ? "written" : "empty")"
        }

        func visible(row: Int) -> Int {
            guard let first = causalFirstRowVisible else { return keys }
            return Swift.min(Swift.max(first + row, 0), keys)
        }
    }

    static let steps: [Step] = [
        Step(rows: 9, keys: 37, causalFirstRowVisible: nil, scale: 1, accumulatorIsWritten: true),
        Step(rows: 9, keys: 37, causalFirstRowVisible: nil, scale: 0.125, accumulatorIsWritten: false),
        Step(rows: 12, keys: 64, causalFirstRowVisible: -3, scale: 1, accumulatorIsWritten: true),
        Step(rows: 5, keys: 16, causalFirstRowVisible: 14, scale: 3, accumulatorIsWritten: true),
        Step(rows: 3, keys: 1, causalFirstRowVisible: 0, scale: 1, accumulatorIsWritten: false),
        Step(rows: 7, keys: 23, causalFirstRowVisible: 1, scale: -0.5, accumulatorIsWritten: true),
    ]

    /// Tile values and state: mostly ordinary scores, a row of -infinity, a
    /// row with a NaN, and running maxima of -infinity or random values above
    /// or below the row's scores.
    struct Inputs {
        var scores: [Float]
        var runningMax: [Float]
        var runningSum: [Float]
        var accumulator: [Float]
        static let valueDimension = 5

        init(_ step: Step) {
            var generator = SeededGenerator(seed: UInt64(step.rows * 1000 + step.keys))
            scores = (0..<step.rows * step.keys).map { _ in Float.random(in: -12...12, using: &generator) }
            runningMax = (0..<step.rows).map { _ in Float.random(in: -6...14, using: &generator) }
            runningSum = (0..<step.rows).map { _ in Float.random(in: 1...40, using: &generator) }
            accumulator = (0..<step.rows * Self.valueDimension).map { _ in Float.random(in: -3...3, using: &generator) }
            // Row 0 starts with no visible key. Row 1 starts the same way and
            // all its scores are -infinity, so it stays fully masked. Row 2
            // contains a NaN among its visible keys.
            runningMax[0] = -.infinity
            runningSum[0] = 0
            if step.rows > 1 {
                // The scale turns this score into -infinity.
                let hidden: Float = step.scale > 0 ? -.infinity : .infinity
                for c in 0..<step.keys { scores[step.keys + c] = hidden }
                runningMax[1] = -.infinity
                runningSum[1] = 0
            }
            if step.rows > 2 && step.visible(row: 2) > 0 {
                scores[2 * step.keys + step.visible(row: 2) - 1] = .nan
            }
        }
    }

    @Test("tile step of every body", arguments: ExponentialTests.bodies, steps)
    func tileStep(body: Exponential.Body, step: Step) {
        let inputs = Inputs(step)
        let dv = Inputs.valueDimension
        var scores = inputs.scores
        var runningMax = inputs.runningMax
        var runningSum = inputs.runningSum
        var accumulator = inputs.accumulator
        attention_online_softmax_tile_using(
            body.rawValue, &scores, step.rows, step.keys, step.causalFirstRowVisible ?? step.keys,
            step.causalFirstRowVisible == nil ? 0 : 1, step.scale, &runningMax, &runningSum, &accumulator, dv,
            step.accumulatorIsWritten ? 1 : 0)

        for r in 0..<step.rows {
            let visible = step.visible(row: r)
            let row = Array(inputs.scores[r * step.keys..<r * step.keys + visible])
            let tileMaximum = row.withUnsafeBufferPointer {
                attention_scaled_maximum_using(body.rawValue, $0.baseAddress!, visible, step.scale)
            }
            let previous = inputs.runningMax[r]
            let newMaximum = tileMaximum.isNaN || previous.isNaN ? Float.nan : Swift.max(tileMaximum, previous)
            let weightRow = Array(scores[r * step.keys..<(r + 1) * step.keys])
            let label = "\(body) \(step), row \(r)"
            if newMaximum == -.infinity {
                #expect(weightRow.allSatisfy { $0.bitPattern == 0 }, "\(label): a fully masked row has +0 weights")
                #expect(runningMax[r] == -.infinity, "\(label): maximum kept")
                #expect(runningSum[r] == inputs.runningSum[r], "\(label): sum kept")
                continue
            }

            // Weights over visible keys: the body's exp of the rounded
            // scaled score minus the new maximum, bit for bit, or NaN where
            // the model gives NaN.
            let shifted = row.map { (step.scale * $0) - newMaximum }
            var expected = [Float](repeating: 0, count: visible)
            shifted.withUnsafeBufferPointer { input in
                expected.withUnsafeMutableBufferPointer { output in
                    Exponential.exp(input.baseAddress!, into: output.baseAddress!, count: visible, body: body)
                }
            }
            let mismatch = (0..<visible).first {
                expected[$0].isNaN ? !weightRow[$0].isNaN : weightRow[$0].bitPattern != expected[$0].bitPattern
            }
            #expect(mismatch == nil, "\(label): weight \(mismatch ?? 0) is \(weightRow[mismatch ?? 0]), expected \(expected[mismatch ?? 0])")
            let hiddenNonzero = (visible..<step.keys).first { weightRow[$0].bitPattern != 0 }
            #expect(hiddenNonzero == nil, "\(label): hidden key \(hiddenNonzero ?? 0) has a weight other than +0")

            #expect(runningMax[r].bitPattern == newMaximum.bitPattern, "\(label): running maximum")
            if newMaximum.isNaN {
                #expect(runningSum[r].isNaN, "\(label): a NaN score makes the sum NaN")
                continue
            }
            // The step rounds previous - newMaximum to a float before its exp
            // (at most 2 ulp), and adds the row in float in its own order: at
            // most one rounding per term, 2^-24 of the sum each.
            let correction = previous == -.infinity ? 0 : Foundation.exp(Double(previous - newMaximum))
            let expectedSum = Double(inputs.runningSum[r]) * correction + expected.reduce(0.0) { $0 + Double($1) }
            let sumBound = Double(visible + 4) * 0x1p-24 * expectedSum
            #expect(abs(Double(runningSum[r]) - expectedSum) <= sumBound, "\(label): running sum")
            // The float correction is within 2 ulp and the product adds one
            // rounding: together below 3e-7 of the value.
            for d in 0..<dv {
                let before = Double(inputs.accumulator[r * dv + d])
                let want = step.accumulatorIsWritten ? before * correction : before
                #expect(abs(Double(accumulator[r * dv + d]) - want) <= 4e-7 * abs(before), "\(label): accumulator \(d)")
            }
        }
    }
}
