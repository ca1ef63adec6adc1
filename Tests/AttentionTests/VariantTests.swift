import Foundation
import Testing
@testable import Attention

/// Linear, Performer and Nyström attention against direct float64
/// evaluations of their own formulas and against exact attention.
@Suite struct VariantTests {
    /// Inputs drawn from one seed, `[B, H, L, D]` contiguous.
    struct Inputs {
        var query: Tensor
        var key: Tensor
        var value: Tensor

        init(batch: Int = 1, heads: Int = 1, kvHeads: Int = 1, queryLength: Int, keyLength: Int, dimension: Int, valueDimension: Int, seed: UInt64, spread: Float = 1) throws {
            var generator = SeededGenerator(seed: seed)
            func values(_ count: Int, _ spread: Float) -> [Float] { (0..<count).map { _ in Float.random(in: -spread...spread, using: &generator) } }
            query = try Tensor(shape: [batch, heads, queryLength, dimension], scalars: values(batch * heads * queryLength * dimension, spread))
            key = try Tensor(shape: [batch, kvHeads, keyLength, dimension], scalars: values(batch * kvHeads * keyLength * dimension, spread))
            value = try Tensor(shape: [batch, kvHeads, keyLength, valueDimension], scalars: values(batch * kvHeads * keyLength * valueDimension, 1))
        }
    }

    /// The real keys visible to query `row` of batch item `batch`, from the definitions.
    static func visibleKeys(row: Int, batch: Int, queryLength: Int, keyLength: Int, causal: CausalAlignment?, realKeys: [[Bool]]?) -> [Int] {
        (0..<keyLength).filter { j in
            if let realKeys, !realKeys[batch][j] { return false }
            switch causal {
            case nil: return true
            case .topLeft: return j <= row
            case .bottomRight: return j <= row + keyLength - queryLength
            }
        }
    }

    /// `Σ_j (φq·φk_j) v_j / Σ_j φq·φk_j` over the visible keys, in float64.
    static func directFeatureAttention(
        _ inputs: Inputs, causal: CausalAlignment?, realKeys: [[Bool]]?,
        queryMap: ([Double]) -> [Double], keyMap: ([Double]) -> [Double]
    ) -> [Float] {
        let (b, hq, lq, dk) = (inputs.query.shape[0], inputs.query.shape[1], inputs.query.shape[2], inputs.query.shape[3])
        let (hkv, lk, dv) = (inputs.key.shape[1], inputs.key.shape[2], inputs.value.shape[3])
        let q = inputs.query.scalars.map(Double.init)
        let k = inputs.key.scalars.map(Double.init)
        let v = inputs.value.scalars.map(Double.init)
        var output: [Float] = []
        for batch in 0..<b {
            for head in 0..<hq {
                let kvHead = head / (hq / hkv)
                let keyFeatures = (0..<lk).map { j in
                    keyMap(Array(k[(((batch * hkv + kvHead) * lk + j) * dk)...].prefix(dk)))
                }
                for row in 0..<lq {
                    let queryFeatures = queryMap(Array(q[(((batch * hq + head) * lq + row) * dk)...].prefix(dk)))
                    let keys = visibleKeys(row: row, batch: batch, queryLength: lq, keyLength: lk, causal: causal, realKeys: realKeys)
                    var numerator = [Double](repeating: 0, count: dv)
                    var denominator = 0.0
                    for j in keys {
                        let weight = zip(queryFeatures, keyFeatures[j]).reduce(0) { $0 + $1.0 * $1.1 }
                        denominator += weight
                        for d in 0..<dv { numerator[d] += weight * v[((batch * hkv + kvHead) * lk + j) * dv + d] }
                    }
                    output += numerator.map { keys.isEmpty ? 0 : Float($0 / denominator) }
                }
            }
        }
        return output
    }

    /// The mean and maximum of `‖out_i − exact_i‖ / ‖exact_i‖` over rows of `width` elements.
    static func rowRelativeErrors(_ actual: [Float], _ exact: [Float], width: Int) -> (mean: Double, maximum: Double) {
        var total = 0.0
        var maximum = 0.0
        let rows = exact.count / width
        for row in 0..<rows {
            var difference = 0.0
            var norm = 0.0
            for d in 0..<width {
                let e = Double(exact[row * width + d])
                difference += (Double(actual[row * width + d]) - e) * (Double(actual[row * width + d]) - e)
                norm += e * e
            }
            let error = (difference / norm).squareRoot()
            total += error
            maximum = max(maximum, error)
        }
        return (total / Double(rows), maximum)
    }

    static func elu1(_ x: [Double]) -> [Double] { x.map { $0 > 0 ? $0 + 1 : exp($0) } }

    static let causalOptions: [CausalAlignment?] = [nil, .topLeft, .bottomRight]

    // MARK: - Linear attention

    @Test("Linear attention matches its formula", arguments: causalOptions)
    func linearMatchesFormula(causal: CausalAlignment?) throws {
        for (lq, lk) in [(13, 13), (5, 19), (19, 5), (1, 7)] {
            let inputs = try Inputs(batch: 2, heads: 4, kvHeads: 2, queryLength: lq, keyLength: lk, dimension: 6, valueDimension: 3, seed: UInt64(lq * 31 + lk))
            let realKeys = (0..<2).map { batch in (0..<lk).map { ($0 + batch) % 4 != 2 } }
            let paddings: [(KeyPadding?, [[Bool]]?)] = [
                (nil, nil),
                (.mask(try BoolTensor(shape: [2, lk], scalars: realKeys.flatMap { $0 })), realKeys),
                (.lengths([lk, lk / 2]), [Array(repeating: true, count: lk), (0..<lk).map { $0 < lk / 2 }]),
            ]
            for (keyPadding, real) in paddings {
                let expected = Self.directFeatureAttention(inputs, causal: causal, realKeys: real, queryMap: Self.elu1, keyMap: Self.elu1)
                for blockSize in [nil, 1, 3] {
                    let actual = try scaledDotProductAttention(
                        queries: inputs.query, keys: inputs.key, values: inputs.value, causal: causal,
                        keyPadding: keyPadding, method: .linear, options: ExecutionOptions(queryBlockSize: blockSize))
                    let tolerance = 8 * Double(Float.ulpOfOne) * Double(lk + 6)
                    expectClose(
                        actual.scalars, expected, atol: tolerance, rtol: 0,
                        "linear, Lq \(lq), Lk \(lk), causal \(causal?.rawValue ?? "none"), padding \(String(describing: keyPadding)), block \(String(describing: blockSize))")
                }
            }
        }
    }

    @Test("Linear attention reads strided views")
    func linearStridedViews() throws {
        let inputs = try Inputs(heads: 3, kvHeads: 3, queryLength: 10, keyLength: 10, dimension: 4, valueDimension: 4, seed: 5)
        // The same numbers stored [B, L, H, D] and viewed as [B, H, L, D].
        let query = try Tensor(shape: [1, 10, 3, 4], scalars: try inputs.query.permuted([0, 2, 1, 3]).scalars).permuted([0, 2, 1, 3])
        let key = try Tensor(shape: [1, 10, 3, 4], scalars: try inputs.key.permuted([0, 2, 1, 3]).scalars).permuted([0, 2, 1, 3])
        let value = try Tensor(shape: [1, 4, 3, 10], scalars: try inputs.value.permuted([0, 3, 1, 2]).scalars).permuted([0, 2, 3, 1])
        for causal in Self.causalOptions {
            let packed = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, causal: causal, method: .linear)
            let strided = try scaledDotProductAttention(queries: query, keys: key, values: value, causal: causal, method: .linear)
            expectClose(strided.scalars, packed.scalars, atol: 1e-6, rtol: 1e-6, "strided views, causal \(causal?.rawValue ?? "none")")
        }
    }

    // MARK: - Performer

    @Test("Performer projection blocks are orthogonal", arguments: [(40, 16), (7, 7), (64, 5)])
    func performerOrthogonality(features: Int, dimension: Int) throws {
        let projection = try PerformerAttention.orthogonalProjection(features: features, dimension: dimension, seed: 3)
        func row(_ i: Int) -> ArraySlice<Float> { projection[(i * dimension)..<((i + 1) * dimension)] }
        func dot(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        // Rows in one block of `dimension` rows are orthogonal: W Wᵀ restricted
        // to the block is diagonal up to the QR's rounding, about Dk·ε.
        let tolerance = 8 * Double(dimension) * Double(Float.ulpOfOne)
        var norms: [Double] = []
        for i in 0..<features {
            norms.append(dot(row(i), row(i)).squareRoot())
            for j in (i / dimension * dimension)..<i {
                let cosine = dot(row(i), row(j)) / (norms[i] * norms[j])
                #expect(abs(cosine) <= tolerance, "rows \(i) and \(j): cosine \(cosine)")
            }
        }
        // Norms are chi-distributed, not all equal: mean square about Dk.
        let meanSquare = norms.reduce(0) { $0 + $1 * $1 } / Double(features)
        #expect(Set(norms).count == features)
        #expect(meanSquare > 0.3 * Double(dimension), "mean square norm \(meanSquare)")
        #expect(meanSquare < 3 * Double(dimension), "mean square norm \(meanSquare)")
    }

    @Test("Performer is deterministic for a seed")
    func performerDeterminism() throws {
        let inputs = try Inputs(heads: 2, kvHeads: 1, queryLength: 20, keyLength: 20, dimension: 8, valueDimension: 4, seed: 9)
        func run(_ seed: UInt64, threads: Int) throws -> [Float] {
            try scaledDotProductAttention(
                queries: inputs.query, keys: inputs.key, values: inputs.value, causal: .topLeft,
                method: .performer(features: 24, seed: seed), options: ExecutionOptions(threadCount: threads)).scalars
        }
        let first = try run(42, threads: 1)
        expectBitwiseEqual(try run(42, threads: 1), first, "same seed")
        expectBitwiseEqual(try run(42, threads: 3), first, "same seed, 3 threads")
        #expect(try run(43, threads: 1) != first, "a different seed draws different features")
    }

    @Test("Performer matches its formula", arguments: causalOptions)
    func performerMatchesFormula(causal: CausalAlignment?) throws {
        let (features, dimension, seed) = (20, 6, UInt64(77))
        let inputs = try Inputs(batch: 2, heads: 2, kvHeads: 1, queryLength: 11, keyLength: 14, dimension: dimension, valueDimension: 3, seed: 21)
        let realKeys = (0..<2).map { batch in (0..<14).map { ($0 * (batch + 2)) % 5 != 0 } }
        let scale: Float = 0.4
        let projection = try PerformerAttention.orthogonalProjection(features: features, dimension: dimension, seed: seed).map(Double.init)
        // φ(x) = exp(W x' − |x'|²/2) / sqrt(m) with x' = sqrt(scale)·x, unstabilized.
        func map(_ x: [Double]) -> [Double] {
            let scaled = x.map { $0 * Double(scale).squareRoot() }
            let halfSquaredNorm = scaled.reduce(0) { $0 + $1 * $1 } / 2
            return (0..<features).map { f in
                let projected = (0..<dimension).reduce(0.0) { $0 + projection[f * dimension + $1] * scaled[$1] }
                return exp(projected - halfSquaredNorm) / Double(features).squareRoot()
            }
        }
        let expected = Self.directFeatureAttention(inputs, causal: causal, realKeys: realKeys, queryMap: map, keyMap: map)
        let actual = try scaledDotProductAttention(
            queries: inputs.query, keys: inputs.key, values: inputs.value, scale: scale, causal: causal,
            keyPadding: .mask(try BoolTensor(shape: [2, 14], scalars: realKeys.flatMap { $0 })),
            method: .performer(features: features, seed: seed), options: ExecutionOptions(queryBlockSize: 4))
        let tolerance = 16 * Double(Float.ulpOfOne) * Double(14 + features + dimension)
        expectClose(actual.scalars, expected, atol: tolerance, rtol: 0, "performer, causal \(causal?.rawValue ?? "none")")
    }

    @Test("Performer error falls with features")
    func performerConvergence() throws {
        // Inputs in [-0.5, 0.5] keep each feature's relative variance near
        // exp(|q' + k'|²) ≈ 1.6, so the Monte Carlo rate shows from 8 features.
        let inputs = try Inputs(heads: 2, kvHeads: 2, queryLength: 48, keyLength: 48, dimension: 8, valueDimension: 8, seed: 1, spread: 0.5)
        let exact = try scaledDotProductAttention(
            queries: inputs.query, keys: inputs.key, values: inputs.value, options: ExecutionOptions(path: .reference)).scalars
        let featureCounts = [8, 32, 128, 512]
        let seeds: [UInt64] = Array(1...8)
        var errors: [Double] = []
        for features in featureCounts {
            var total = 0.0
            for seed in seeds {
                let approximate = try scaledDotProductAttention(
                    queries: inputs.query, keys: inputs.key, values: inputs.value,
                    method: .performer(features: features, seed: seed)).scalars
                total += Self.rowRelativeErrors(approximate, exact, width: 8).mean
            }
            errors.append(total / Double(seeds.count))
        }
        // A Monte Carlo estimate with m features has an error of order
        // 1/sqrt(m), so four times the features should halve it. The check
        // allows 1.5 times that rate for the noise of averaging 8 seeds. A
        // biased estimator stalls at its bias and fails here.
        for index in 1..<featureCounts.count {
            let rate = (Double(featureCounts[index - 1]) / Double(featureCounts[index])).squareRoot()
            #expect(errors[index] <= 1.5 * rate * errors[index - 1], "errors \(errors) for features \(featureCounts)")
        }
    }

    // MARK: - Nyström

    @Test("Nyström with every token as landmark is exact")
    func nystromExactRecovery() throws {
        let length = 12
        let inputs = try Inputs(heads: 2, kvHeads: 1, queryLength: length, keyLength: length, dimension: 6, valueDimension: 5, seed: 4, spread: 1.5)
        let exact = try scaledDotProductAttention(
            queries: inputs.query, keys: inputs.key, values: inputs.value, options: ExecutionOptions(path: .reference))
        let approximate = try scaledDotProductAttention(
            queries: inputs.query, keys: inputs.key, values: inputs.value, method: .nystrom(landmarks: length))
        // The output is P P⁺ P V: rounding in P is amplified by P's condition number.
        var conditionNumber = 1.0
        for head in 0..<2 {
            let weights = try scaledDotProductAttention(
                queries: inputs.query.sliced(axis: 1, range: head..<(head + 1)), keys: inputs.key, values: inputs.value,
                returning: [.weights], options: ExecutionOptions(path: .reference)).weights!.scalars
            let singularValues = try LAPACK.singularValueDecomposition(weights, rows: length, columns: length).singularValues
            conditionNumber = max(conditionNumber, Double(singularValues.first! / singularValues.last!))
        }
        let tolerance = 4 * Double(length) * Double(Float.ulpOfOne) * conditionNumber
        expectClose(approximate.scalars, exact.scalars, atol: tolerance, rtol: 0, "Nyström, condition number \(conditionNumber)")
    }

    /// `[1, 2, length, width]` rows that vary smoothly along the sequence,
    /// so that segment means represent their segments.
    static func smoothSequence(length: Int, width: Int, _ generator: inout SeededGenerator) throws -> Tensor {
        var scalars: [Float] = []
        for _ in 0..<2 {
            let frequencies = (0..<width).map { _ in Double.random(in: 0.5...3, using: &generator) }
            let phases = (0..<width).map { _ in Double.random(in: 0...(2 * Double.pi), using: &generator) }
            for i in 0..<length {
                for d in 0..<width {
                    let wave = 2 * sin(2 * Double.pi * frequencies[d] * Double(i) / Double(length) + phases[d])
                    scalars.append(Float(wave + 0.1 * Double.random(in: -1...1, using: &generator)))
                }
            }
        }
        return try Tensor(shape: [1, 2, length, width], scalars: scalars)
    }

    @Test("Nyström error falls with landmarks")
    func nystromConvergence() throws {
        // Landmarks summarize segments only when neighbouring tokens are
        // alike. On independent random tokens every segment mean is near the
        // global mean, so no landmark count below L helps. Single inputs
        // occasionally give an ill-conditioned landmark kernel whose
        // pseudo-inverse amplifies the error, so the check uses the median
        // over five inputs.
        var generator = SeededGenerator(seed: 2)
        let landmarkCounts = [2, 4, 8, 16, 32, 64]
        var errorsPerInput: [[Double]] = []
        for _ in 0..<5 {
            let query = try Self.smoothSequence(length: 64, width: 8, &generator)
            let key = try Self.smoothSequence(length: 64, width: 8, &generator)
            let value = try Self.smoothSequence(length: 64, width: 8, &generator)
            let exact = try scaledDotProductAttention(
                queries: query, keys: key, values: value, options: ExecutionOptions(path: .reference)).scalars
            errorsPerInput.append(try landmarkCounts.map { landmarks in
                let approximate = try scaledDotProductAttention(
                    queries: query, keys: key, values: value, method: .nystrom(landmarks: landmarks)).scalars
                return Self.rowRelativeErrors(approximate, exact, width: 8).mean
            })
        }
        let medians = landmarkCounts.indices.map { index in errorsPerInput.map { $0[index] }.sorted()[2] }
        for index in 1..<medians.count {
            #expect(medians[index] < medians[index - 1], "median errors \(medians) for landmarks \(landmarkCounts)")
        }
        #expect(medians.last! < 1e-3, "median errors \(medians)")
    }

    @Test("Nyström segments cover uneven lengths")
    func nystromSegments() throws {
        let source = (0..<7).map(Float.init)
        var means = [Float](repeating: 0, count: 3)
        source.withUnsafeBufferPointer { buffer in
            means.withUnsafeMutableBufferPointer { output in
                NystromAttention.segmentMeans(
                    of: MatrixOperand(base: buffer.baseAddress!, rows: 7, columns: 1, rowStride: 1, columnStride: 1),
                    into: MutableMatrixOperand(base: output.baseAddress!, rows: 3, columns: 1, rowStride: 1, columnStride: 1))
            }
        }
        // Segments ⌊s·7/3⌋ ..< ⌊(s+1)·7/3⌋: rows 0-1, 2-3, 4-6.
        #expect(means == [0.5, 2.5, 5])
    }

    @Test("Pseudo-inverse of a rank-deficient matrix")
    func pseudoInverseRankDeficient() throws {
        var generator = SeededGenerator(seed: 8)
        let (rows, columns, rank) = (7, 9, 3)
        let left = (0..<(rows * rank)).map { _ in Double.random(in: -1...1, using: &generator) }
        let right = (0..<(rank * columns)).map { _ in Double.random(in: -1...1, using: &generator) }
        var a = [Float](repeating: 0, count: rows * columns)
        for i in 0..<rows {
            for j in 0..<columns {
                a[i * columns + j] = Float((0..<rank).reduce(0.0) { $0 + left[i * rank + $1] * right[$1 * columns + j] })
            }
        }
        let inverse = try NystromAttention.pseudoInverse(a, rows: rows, columns: columns)
        func multiply(_ x: [Float], _ y: [Float], _ m: Int, _ k: Int, _ n: Int) -> [Float] {
            (0..<(m * n)).map { index in
                Float((0..<k).reduce(0.0) { $0 + Double(x[index / n * k + $1]) * Double(y[$1 * n + index % n]) })
            }
        }
        let reconstructed = multiply(multiply(a, inverse, rows, columns, rows), a, rows, rows, columns)
        let norm = Double(a.map(abs).max()!)
        // Dropped singular values are below max(m, n)·ε·σ_max, and the kept
        // ones carry about ε·σ_max error each.
        let tolerance = 8 * Double(max(rows, columns)) * Double(Float.ulpOfOne) * norm * Double(columns)
        expectClose(reconstructed, a, atol: tolerance, rtol: 0, "A A⁺ A")
        let inverseNorm = Double(inverse.map(abs).max()!)
        let again = multiply(multiply(inverse, a, columns, rows, columns), inverse, columns, columns, rows)
        expectClose(again, inverse, atol: tolerance * inverseNorm * inverseNorm, rtol: 0, "A⁺ A A⁺")
        // The rank shows in the singular values: three above the cutoff.
        let singularValues = try LAPACK.singularValueDecomposition(a, rows: rows, columns: columns).singularValues
        let cutoff = Float(max(rows, columns)) * Float.ulpOfOne * singularValues[0]
        #expect(singularValues.filter { $0 > cutoff }.count == rank, "singular values \(singularValues)")
    }

    // MARK: - Errors and edge cases

    @Test("Options that do not fit a method are rejected")
    func rejectedOptions() throws {
        let inputs = try Inputs(queryLength: 6, keyLength: 6, dimension: 4, valueDimension: 4, seed: 1)
        let mask = try BoolTensor(shape: [6, 6], repeating: true)
        let cases: [(String, AttentionError.Kind, () throws -> Void)] = [
            ("mask", .unsupported, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, mask: .boolean(mask), method: .linear) }),
            ("mask", .unsupported, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, mask: .additive(try Tensor(shape: [6, 6], repeating: 0)), method: .nystrom(landmarks: 2)) }),
            ("window", .unsupported, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, window: SlidingWindow(left: 1, right: 1), method: .performer(features: 4, seed: 1)) }),
            ("causal", .unsupported, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, causal: .topLeft, method: .nystrom(landmarks: 2)) }),
            ("scale", .unsupported, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, scale: 0.5, method: .linear) }),
            ("scale", .unsupported, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, scale: -1, method: .performer(features: 4, seed: 1)) }),
            ("features", .invalidValue, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, method: .performer(features: 0, seed: 1)) }),
            ("landmarks", .invalidValue, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, method: .nystrom(landmarks: 0)) }),
            ("landmarks", .invalidValue, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, method: .nystrom(landmarks: 7)) }),
            ("landmarks", .invalidValue, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, keyPadding: .lengths([3]), method: .nystrom(landmarks: 4)) }),
            ("options.path", .unsupported, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, method: .linear, options: ExecutionOptions(path: .tiled)) }),
            ("options.keyBlockSize", .unsupported, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, method: .linear, options: ExecutionOptions(keyBlockSize: 8)) }),
            ("options.queryBlockSize", .invalidValue, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, method: .linear, options: ExecutionOptions(queryBlockSize: 0)) }),
            ("query", .unsupported, { _ = try scaledDotProductAttention(queries: try Tensor(shape: [1, 1, 3, 0], repeating: 0), keys: try Tensor(shape: [1, 1, 3, 0], repeating: 0), values: inputs.value.sliced(axis: 2, range: 0..<3), method: .linear) }),
            ("key", .shapeMismatch, { _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key.sliced(axis: 3, range: 0..<3), values: inputs.value, method: .linear) }),
        ]
        for (index, (argument, kind, body)) in cases.enumerated() {
            let error = #expect(throws: AttentionError.self, "case \(index)") { try body() }
            #expect(error?.argument == argument, "case \(index): \(String(describing: error))")
            #expect(error?.kind == kind, "case \(index): \(String(describing: error))")
        }
    }

    @Test("Nyström reports NaN input as a LAPACK failure")
    func nystromNaN() throws {
        var inputs = try Inputs(queryLength: 6, keyLength: 6, dimension: 4, valueDimension: 4, seed: 1)
        var scalars = inputs.key.scalars
        scalars[5] = .nan
        inputs.key = try Tensor(shape: inputs.key.shape, scalars: scalars)
        let error = #expect(throws: AttentionError.self) {
            _ = try scaledDotProductAttention(queries: inputs.query, keys: inputs.key, values: inputs.value, method: .nystrom(landmarks: 3))
        }
        #expect(error?.kind == .lapackFailure)
        #expect(error?.argument == "LAPACKE_sgesdd")
    }

    @Test("Empty and keyless inputs", arguments: [AttentionMethod.linear, .performer(features: 5, seed: 2)])
    func emptyInputs(method: AttentionMethod) throws {
        let empty = try scaledDotProductAttention(
            queries: try Tensor(shape: [0, 2, 3, 4], repeating: 1), keys: try Tensor(shape: [0, 1, 5, 4], repeating: 1),
            values: try Tensor(shape: [0, 1, 5, 6], repeating: 1), method: method)
        #expect(empty.shape == [0, 2, 3, 6])
        let noQueries = try scaledDotProductAttention(
            queries: try Tensor(shape: [1, 1, 0, 4], repeating: 1), keys: try Tensor(shape: [1, 1, 5, 4], repeating: 1),
            values: try Tensor(shape: [1, 1, 5, 6], repeating: 1), method: method)
        #expect(noQueries.shape == [1, 1, 0, 6])
        // All keys padded, and top-left causal rows before the first real key: zeros.
        let padded = try scaledDotProductAttention(
            queries: try Tensor(shape: [2, 1, 3, 4], repeating: 1), keys: try Tensor(shape: [2, 1, 5, 4], repeating: 1),
            values: try Tensor(shape: [2, 1, 5, 6], repeating: .nan), keyPadding: .lengths([0, 0]), method: method)
        #expect(padded.scalars.allSatisfy { $0 == 0 })
        let late = try scaledDotProductAttention(
            queries: try Tensor(shape: [1, 1, 3, 4], repeating: 1), keys: try Tensor(shape: [1, 1, 3, 4], repeating: 1),
            values: try Tensor(shape: [1, 1, 3, 2], repeating: 2), causal: .topLeft,
            keyPadding: .mask(try BoolTensor(shape: [1, 3], scalars: [false, false, true])), method: method)
        // Rows 0 and 1 have no visible key. Row 2 has one, so its output is
        // that key's value up to the rounding of φ·φ / φ·φ.
        expectClose(late.scalars, [0, 0, 0, 0, 2, 2], atol: 0, rtol: 4 * Double(Float.ulpOfOne), "causal rows before the first real key")
    }

    @Test("Exact method runs the exact kernels")
    func exactMethod() throws {
        let inputs = try Inputs(queryLength: 9, keyLength: 9, dimension: 4, valueDimension: 4, seed: 3)
        let window = SlidingWindow(left: 2, right: 1)
        let direct = try scaledDotProductAttention(
            queries: inputs.query, keys: inputs.key, values: inputs.value, causal: .bottomRight, window: window,
            options: ExecutionOptions(path: .materialized))
        let viaMethod = try scaledDotProductAttention(
            queries: inputs.query, keys: inputs.key, values: inputs.value, causal: .bottomRight, window: window,
            method: .exact, options: ExecutionOptions(path: .materialized))
        expectBitwiseEqual(viaMethod.scalars, direct.scalars, "exact method")
    }
}
