import CAttentionKernels
import Foundation
import Testing
@testable import Attention

/// The error of `Exponential.exp` in units in the last place of the float
/// nearest the exact result, over inputs sampled through every binade.
struct ExponentialTests {
    /// The bodies this CPU can run; each is checked on its own.
    static let bodies = Exponential.Body.allCases.filter { $0.rawValue <= Exponential.body.rawValue }

    static func evaluate(_ inputs: [Float], body: Exponential.Body) -> [Float] {
        var outputs = [Float](repeating: .nan, count: inputs.count)
        inputs.withUnsafeBufferPointer { input in
            outputs.withUnsafeMutableBufferPointer { output in
                Exponential.exp(input.baseAddress!, into: output.baseAddress!, count: inputs.count, body: body)
            }
        }
        return outputs
    }

    /// Returns the error of `actual` against the exact `expected` in ulp of
    /// the float nearest `expected`.
    static func ulpError(_ actual: Float, expected: Double) -> Double {
        let nearest = Float(expected)
        return abs(Double(actual) - expected) / Double(nearest.ulp)
    }

    @Test("exp accuracy over all binades", arguments: bodies)
    func accuracy(body: Exponential.Body) {
        // Every 251st bit pattern from -104 to +89 covers each binade with
        // thousands of inputs, the special boundaries included below.
        var inputs: [Float] = []
        var bits = Float(-104).bitPattern
        while bits > 0x8000_0000 {
            inputs.append(Float(bitPattern: bits))
            bits -= 251
        }
        bits = 0
        while Float(bitPattern: bits) < 89 {
            inputs.append(Float(bitPattern: bits))
            bits += 251
        }
        let smallestNormalInput = Float(log(Double(Float.leastNormalMagnitude)))
        let largestFiniteInput = Float(log(Double(Float.greatestFiniteMagnitude)))
        for boundary in [smallestNormalInput, largestFiniteInput, 0, -0.0, 1, -1] {
            inputs += [boundary.nextDown, boundary, boundary.nextUp]
        }

        let outputs = Self.evaluate(inputs, body: body)
        var maximumUlp = 0.0
        var worstInput: Float = 0
        var wrongSpecials: [String] = []
        for (x, y) in zip(inputs, outputs) {
            let exact = Foundation.exp(Double(x))
            if exact < Double(Float.leastNormalMagnitude) {
                // Below the smallest normal float the contract is exact 0.
                if y != 0 { wrongSpecials.append("exp(\(x)) = \(y), expected 0") }
                continue
            }
            if exact > Double(Float.greatestFiniteMagnitude) {
                if y != .infinity { wrongSpecials.append("exp(\(x)) = \(y), expected +inf") }
                continue
            }
            if y == 0 && exact < Double(Float.leastNormalMagnitude) * (1 + 4 * Double(Float.ulpOfOne)) {
                // Within rounding of the threshold, a flush is allowed.
                continue
            }
            let error = Self.ulpError(y, expected: exact)
            if !(error <= maximumUlp) {
                maximumUlp = error
                worstInput = x
            }
        }
        #expect(wrongSpecials.isEmpty, "\(wrongSpecials.prefix(5))")
        #expect(maximumUlp <= 2, "max error \(maximumUlp) ulp at x = \(worstInput) over \(inputs.count) inputs")
    }

    @Test("exp special values", arguments: bodies)
    func specialValues(body: Exponential.Body) {
        let inputs: [Float] = [-.infinity, .infinity, .nan, 0, -0.0, -1000, 1000, -88, -87.5, 88.8]
        let outputs = Self.evaluate(inputs, body: body)
        #expect(outputs[0] == 0)
        #expect(outputs[0].sign == .plus)
        #expect(outputs[1] == .infinity)
        #expect(outputs[2].isNaN)
        #expect(outputs[3] == 1)
        #expect(outputs[4] == 1)
        #expect(outputs[5] == 0)
        #expect(outputs[6] == .infinity)
        // exp(-88) and exp(-87.5) are below the smallest normal float.
        #expect(outputs[7] == 0)
        #expect(outputs[8] == 0)
        #expect(outputs[9] == .infinity)
    }

    /// Lengths around the 16-wide vector and its tails.
    @Test("shifted sum over tails", arguments: bodies, [0, 1, 15, 16, 17, 31, 32, 33, 100])
    func shiftedSum(body: Exponential.Body, count: Int) {
        let values = (0..<count).map { Float($0 % 11) * 0.37 - 2 }
        var scores = values
        let maximum = scores.withUnsafeBufferPointer {
            Exponential.scaledMaximum($0.baseAddress!, count: count, scale: -0.5, body: body)
        }
        let expectedMaximum = values.map { -0.5 * $0 }.max() ?? -.infinity
        #expect(maximum == expectedMaximum)

        let sum = scores.withUnsafeMutableBufferPointer {
            Exponential.exponentiateScaled($0.baseAddress!, count: count, scale: -0.5, shift: maximum, body: body)
        }
        var expectedSum = 0.0
        for (index, x) in values.enumerated() {
            let exact = Foundation.exp(Double(-0.5 * x) - Double(maximum))
            expectedSum += exact
            #expect(abs(Double(scores[index]) - exact) <= 4 * Double(Float.ulpOfOne) * exact, "element \(index)")
        }
        #expect(abs(Double(sum) - expectedSum) <= Double(Float.ulpOfOne) * Double(count + 4) * expectedSum)
    }

    /// The softmax's exp assumes every input is at most 0, -inf or NaN, and
    /// must then give the bits of the general exp. The inputs are every 97th
    /// bit pattern from -0 down to -104, values below that, -inf and NaN.
    @Test("softmax exp matches general exp", arguments: bodies, [Float(1), 0.125])
    func softmaxExpMatchesGeneral(body: Exponential.Body, scale: Float) {
        var inputs: [Float] = [-0.0, 0, -.infinity, .nan, -Float.leastNonzeroMagnitude, -200, -1e30]
        var bits = (-0.0 as Float).bitPattern
        while Float(bitPattern: bits) >= -104 {
            inputs.append(Float(bitPattern: bits))
            bits += 97
        }
        for count in [inputs.count, 1, 7, 8, 9, 17] {
            // The shift is the maximum of the scaled inputs, as in the
            // softmax, so every shifted input is at most 0.
            var general = Array(inputs.prefix(count)).map { $0 / scale }
            var softmax = general
            let shift = general.compactMap { $0.isNaN ? nil : scale * $0 }.max() ?? 0
            let generalSum = general.withUnsafeMutableBufferPointer {
                attention_exp_scaled_sum_using(body.rawValue, $0.baseAddress!, count, scale, shift)
            }
            let softmaxSum = softmax.withUnsafeMutableBufferPointer {
                attention_softmax_exp_sum_using(body.rawValue, $0.baseAddress!, count, scale, shift)
            }
            let mismatch = softmax.indices.first { softmax[$0].bitPattern != general[$0].bitPattern }
            #expect(mismatch == nil, "\(count) inputs: first difference at input \(mismatch.map { inputs[$0] } ?? 0)")
            #expect(softmaxSum.bitPattern == generalSum.bitPattern, "sum of \(count) inputs")
        }
    }

    /// With scores near 1e9 and an inexact scale, a fused multiply-subtract
    /// would leave the product's rounding error (up to 4 here) in the
    /// exponent. Rounding the product first gives the maximum exactly 1.
    @Test("maximum score exponentiates to 1", arguments: bodies, [1, 7, 8, 17, 40])
    func maximumScoreExponentiatesToOne(body: Exponential.Body, count: Int) {
        let scale: Float = 0.1
        let values = (0..<count).map { Float(1e9) + Float($0 % 13) * 128 }
        var scores = values
        let maximum = scores.withUnsafeBufferPointer {
            Exponential.scaledMaximum($0.baseAddress!, count: count, scale: scale, body: body)
        }
        _ = scores.withUnsafeMutableBufferPointer {
            Exponential.exponentiateScaled($0.baseAddress!, count: count, scale: scale, shift: maximum, body: body)
        }
        for index in 0..<count {
            if scale * values[index] == maximum {
                #expect(scores[index] == 1, "element \(index) of the maximum")
            } else {
                #expect(scores[index] < 1, "element \(index) below the maximum")
            }
        }
    }

    /// A NaN anywhere makes the maximum NaN: in any vector of the unrolled
    /// part (64 floats per step on AVX-512), in the single-vector part, or
    /// in the tail, with the scale applied or skipped.
    @Test("maximum propagates NaN", arguments: bodies, [1, 5, 16, 20, 33, 40, 63, 64, 100, 130, 139])
    func maximumPropagatesNaN(body: Exponential.Body, nanIndex: Int) {
        let count = 140
        for scale: Float in [2, 1] {
            var values = (0..<count).map { Float($0 % 9) - 4 }
            let finite = values.withUnsafeBufferPointer {
                Exponential.scaledMaximum($0.baseAddress!, count: count, scale: scale, body: body)
            }
            #expect(finite == 4 * scale)
            values[nanIndex] = .nan
            let withNaN = values.withUnsafeBufferPointer {
                Exponential.scaledMaximum($0.baseAddress!, count: count, scale: scale, body: body)
            }
            #expect(withNaN.isNaN, "NaN at \(nanIndex) of \(count), scale \(scale)")
        }
        let empty = [Float(1)].withUnsafeBufferPointer { Exponential.scaledMaximum($0.baseAddress!, count: 0, scale: 1, body: body) }
        #expect(empty == -.infinity)
    }

    /// The maximum is found wherever it lies, for every length up to three
    /// unrolled steps and a tail, so that no partial maximum is dropped
    /// when they are combined.
    @Test("maximum found at every position", arguments: bodies)
    func maximumFoundAtEveryPosition(body: Exponential.Body) {
        var misses: [String] = []
        for count in 1...200 {
            for position in 0..<count {
                var values = (0..<count).map { -Float(($0 * 7) % 11) }
                values[position] = 3
                for scale: Float in [1, 0.5] {
                    let maximum = values.withUnsafeBufferPointer {
                        Exponential.scaledMaximum($0.baseAddress!, count: count, scale: scale, body: body)
                    }
                    if maximum != 3 * scale { misses.append("count \(count), position \(position), scale \(scale): \(maximum)") }
                }
            }
        }
        #expect(misses.isEmpty, "\(misses.count) misses, first: \(misses.first ?? "")")
    }
}

/// The vectorized finiteness check that routes value tiles.
struct FinitenessCheckTests {
    @Test("all finite detects each kind", arguments: [Float.nan, .infinity, -.infinity], [0, 15, 16, 40])
    func detectsNonFinite(value: Float, index: Int) {
        var values = (0..<2 * 41).map { Float($0) - 30 }
        let clean = values.withUnsafeBufferPointer {
            Exponential.allFinite(MatrixOperand(base: $0.baseAddress!, rows: 2, columns: 41, rowStride: 41, columnStride: 1))
        }
        #expect(clean)
        values[41 + index] = value
        let dirty = values.withUnsafeBufferPointer {
            Exponential.allFinite(MatrixOperand(base: $0.baseAddress!, rows: 2, columns: 41, rowStride: 41, columnStride: 1))
        }
        #expect(!dirty)
    }
}
