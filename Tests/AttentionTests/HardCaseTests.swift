import Foundation
import Testing
@testable import Attention

/// Closed-form inputs that broke well-known attention kernels, each run on
/// every kernel path. Expected values were computed in float64.
@Suite struct HardCaseTests {
    static let configurations = KernelConfiguration.allCases

    /// A `[1, 1, rows, columns]` tensor from row-major values.
    static func matrix(_ rows: Int, _ columns: Int, _ values: [Float]) throws -> Tensor {
        try Tensor(shape: [1, 1, rows, columns], scalars: values)
    }

    // MARK: - Fully masked rows

    @Test("Fully masked row is zero", arguments: configurations)
    func fullyMaskedRow(configuration: KernelConfiguration) throws {
        let q = try Self.matrix(3, 2, [1, 0, 0, 1, 1, 1])
        let k = try Self.matrix(3, 2, [1, 0, 0, 1, -1, 1])
        let v = try Self.matrix(3, 2, [1, 2, 3, 4, 5, 6])
        let keep: [Bool] = [true, true, false, true, true, true, false, false, false]
        let masks: [(String, AttentionMask)] = [
            ("boolean", .boolean(try BoolTensor(shape: [3, 3], scalars: keep))),
            ("additive", .additive(try Tensor(shape: [3, 3], scalars: keep.map { $0 ? 0 : -.infinity }))),
        ]
        for (name, mask) in masks {
            let result = try scaledDotProductAttention(
                queries: q, keys: k, values: v, mask: mask, returning: [.logSumExp], options: configuration.options)
            expectClose(
                result.output.scalars, [1.6604769, 2.6604769, 3.4066725, 4.4066725, 0, 0],
                atol: 1e-6, rtol: 1e-6, "\(name) mask")
            #expect(!result.output.scalars.contains { $0.isNaN })
            #expect(result.logSumExp![0, 0, 2] == -.infinity, "log-sum-exp of the fully masked row")
            #expect(result.logSumExp![0, 0, 0].isFinite)
        }
    }

    @Test("Hidden key tile inside a visible row", arguments: [(8, 8), (16, 64), (33, 512), (520, 520)])
    func hiddenKeyTile(queryBlockSize: Int, keyBlockSize: Int) throws {
        // Query i sees keys i-6 ... i; most rows meet key tiles with no
        // visible key before and after their window.
        let length = 520
        let zeros = try Tensor(shape: [1, 1, length, 4], repeating: 0)
        let values = try Tensor(shape: [1, 1, length, 4], scalars: (0..<(length * 4)).map { Float($0 / 4) })
        var keep = [Bool](repeating: false, count: length * length)
        for i in 0..<length {
            for j in max(0, i - 6)...i { keep[i * length + j] = true }
        }
        let mask = AttentionMask.boolean(try BoolTensor(shape: [length, length], scalars: keep))
        let expected = (0..<(length * 4)).map { index -> Float in
            let row = index / 4
            return Float(max(0, row - 6) + row) / 2
        }
        for options in [
            ExecutionOptions(path: .tiled, queryBlockSize: queryBlockSize, keyBlockSize: keyBlockSize),
            ExecutionOptions(path: .materialized),
        ] {
            let output = try scaledDotProductAttention(queries: zeros, keys: zeros, values: values, mask: mask, options: options)
            expectClose(output.scalars, expected, atol: 1e-5, rtol: 1e-6, "\(options.path!) with blocks \(queryBlockSize)×\(keyBlockSize)")
            #expect(output[0, 0, 8, 0] == 5)
            #expect(output[0, 0, 300, 0] == 297)
        }
    }

    // MARK: - Extreme logits

    @Test("Very negative logits are logits", arguments: configurations)
    func veryNegativeLogits(configuration: KernelConfiguration) throws {
        let options = configuration.options
        // One visible key with score -30000 gets all the weight.
        let q = try Self.matrix(1, 1, [-30000])
        let k = try Self.matrix(2, 1, [1, 0])
        let v = try Self.matrix(2, 1, [1, 50])
        let keyMasks: [(String, AttentionMask?, KeyPadding?)] = [
            ("boolean", .boolean(try BoolTensor(shape: [2], scalars: [true, false])), nil),
            ("additive", .additive(try Tensor(shape: [2], scalars: [0, -.infinity])), nil),
            ("lengths", nil, .lengths([1])),
            ("padding mask", nil, .mask(try BoolTensor(shape: [1, 2], scalars: [true, false]))),
        ]
        for (name, mask, padding) in keyMasks {
            let output = try scaledDotProductAttention(
                queries: q, keys: k, values: v, scale: 1, mask: mask, keyPadding: padding, options: options)
            #expect(output.scalars == [1], "\(name)")
        }

        // Scores near -100000 differ by 1 from each other.
        let far = try scaledDotProductAttention(
            queries: try Self.matrix(1, 1, [1]), keys: try Self.matrix(4, 1, [-100000, -100001, -100002, -100003]),
            values: try Self.matrix(4, 1, [1, 2, 3, 4]), scale: 1, options: options)
        expectClose(far.scalars, [1.5073473], atol: 1e-6, rtol: 1e-6, "far negative scores")

        // The float32 minimum on every key is a uniform row, not a masked one.
        let floor = try scaledDotProductAttention(
            queries: try Self.matrix(1, 2, [0.3, -0.2]), keys: try Self.matrix(3, 2, [1, 0, 0, 1, 1, 1]),
            values: try Self.matrix(3, 2, [1, 2, 3, 4, 5, 6]),
            mask: .additive(try Tensor(shape: [3], scalars: [Float](repeating: -3.4028235e38, count: 3))), options: options)
        expectClose(floor.scalars, [3, 4], atol: 1e-6, rtol: 1e-6, "finite minimum mask")
    }

    @Test("Large logits do not overflow", arguments: configurations)
    func largeLogits(configuration: KernelConfiguration) throws {
        let output = try scaledDotProductAttention(
            queries: try Self.matrix(1, 1, [10]), keys: try Self.matrix(3, 1, [10, 9.9, 9.8]),
            values: try Self.matrix(3, 1, [1, 2, 3]), scale: 1, options: configuration.options)
        expectClose(output.scalars, [1.4247896], atol: 1e-6, rtol: 1e-6, "scores near 100")
    }

    // MARK: - Layouts

    /// The strided case: Q read through swapped axes, K and V from one
    /// packed buffer with sequence stride 24 and head stride 4.
    static func stridedInputs() throws -> (Tensor, Tensor, Tensor) {
        let qBuffer = (0..<40).map { Float(sin(0.37 * Double($0))) }
        let q = try Tensor(shape: [1, 2, 4, 5], scalars: qBuffer).transposed(2, 3)
        let packed = TensorStorage((0..<144).map { Float(cos(0.11 * Double($0))) })
        let k = try Tensor(storage: packed, shape: [1, 2, 6, 4], strides: [144, 4, 24, 1], offset: 0)
        let v = try Tensor(storage: packed, shape: [1, 2, 6, 4], strides: [144, 4, 24, 1], offset: 8)
        return (q, k, v)
    }

    @Test("Strided, transposed and packed views", arguments: configurations)
    func stridedViews(configuration: KernelConfiguration) throws {
        let (q, k, v) = try Self.stridedInputs()
        #expect(q.strides == [40, 20, 1, 5])
        let output = try scaledDotProductAttention(queries: q, keys: k, values: v, options: configuration.options)
        let values = output.scalars
        #expect(abs(values.reduce(0, +) - 1.6313638) < 1e-5, "sum of all outputs")
        expectClose((0..<4).map { output[0, 1, 4, $0] }, [0.1072921, 0.0823021, 0.0563173, 0.0296517], atol: 1e-6, rtol: 1e-5, "out[0, 1, 4, :]")
        expectClose((0..<4).map { output[0, 0, 0, $0] }, [-0.0148001, -0.0324570, -0.0497216, -0.0663852], atol: 1e-6, rtol: 1e-5, "out[0, 0, 0, :]")

        let copies = try scaledDotProductAttention(
            queries: q.contiguous(), keys: k.contiguous(), values: v.contiguous(), options: configuration.options)
        expectBitwiseEqual(values, copies.scalars, "strided views against contiguous copies")
    }

    @Test("Strided output view", arguments: configurations)
    func stridedOutput(configuration: KernelConfiguration) throws {
        let (q, k, v) = try Self.stridedInputs()
        let expected = try scaledDotProductAttention(queries: q, keys: k, values: v, options: configuration.options)
        // The output written as [B, L, H, D] through a permuted view, and
        // into a view with a gap of 3 floats between elements.
        let blhd = try Tensor(shape: [1, 5, 2, 4], repeating: .nan)
        try scaledDotProductAttention(queries: q, keys: k, values: v, into: blhd.permuted([0, 2, 1, 3]), options: configuration.options)
        expectBitwiseEqual(try blhd.permuted([0, 2, 1, 3]).scalars, expected.scalars, "output through a permuted view")
        let storage = TensorStorage<Float>(repeating: .nan, count: 160)
        let gapped = try Tensor(storage: storage, shape: [1, 2, 5, 4], strides: [160, 80, 16, 4])
        try scaledDotProductAttention(queries: q, keys: k, values: v, into: gapped, options: configuration.options)
        expectBitwiseEqual(gapped.scalars, expected.scalars, "output with a non-unit innermost stride")
    }

    // MARK: - Causal alignment

    @Test("Causal alignment when Lq and Lk differ", arguments: configurations)
    func causalAlignment(configuration: KernelConfiguration) throws {
        let cases: [(Int, Int, [Float], [Float])] = [
            (2, 5, [1.0, 1.5], [2.5, 3.0]),
            (5, 2, [1, 1.5, 1.5, 1.5, 1.5], [0, 0, 0, 1, 1.5]),
            (1, 5, [1.0], [3.0]),
            (3, 3, [1, 1.5, 2], [1, 1.5, 2]),
        ]
        for (queryLength, keyLength, topLeft, bottomRight) in cases {
            let q = try Tensor(shape: [1, 1, queryLength, 1], repeating: 0)
            let k = try Tensor(shape: [1, 1, keyLength, 1], repeating: 0)
            let v = try Tensor(shape: [1, 1, keyLength, 1], scalars: (0..<keyLength).map { Float($0 + 1) })
            for (alignment, expected) in [(CausalAlignment.topLeft, topLeft), (.bottomRight, bottomRight)] {
                let output = try scaledDotProductAttention(queries: q, keys: k, values: v, causal: alignment, options: configuration.options)
                expectClose(output.scalars, expected, atol: 1e-6, rtol: 1e-6, "Lq \(queryLength), Lk \(keyLength), \(alignment)")
            }
        }
    }

    // MARK: - Grouped-query attention

    @Test("Grouped-query head mapping", arguments: configurations)
    func groupedQueryHeads(configuration: KernelConfiguration) throws {
        for (queryHeads, kvHeads) in [(4, 2), (6, 2), (12, 4), (8, 1), (3, 3)] {
            let q = try Tensor(shape: [1, queryHeads, 1, 1], repeating: 0)
            let k = try Tensor(shape: [1, kvHeads, 1, 1], repeating: 0)
            let v = try Tensor(shape: [1, kvHeads, 1, 1], scalars: (0..<kvHeads).map { Float($0 + 1) })
            let output = try scaledDotProductAttention(queries: q, keys: k, values: v, options: configuration.options)
            let group = queryHeads / kvHeads
            #expect(output.scalars == (0..<queryHeads).map { Float($0 / group + 1) }, "Hq \(queryHeads), Hkv \(kvHeads)")
        }
        let error = #expect(throws: AttentionError.self) {
            try scaledDotProductAttention(
                queries: try Tensor(shape: [1, 6, 1, 1], repeating: 0), keys: try Tensor(shape: [1, 4, 1, 1], repeating: 0),
                values: try Tensor(shape: [1, 4, 1, 1], repeating: 0), options: configuration.options)
        }
        #expect(error?.kind == .shapeMismatch)
        #expect(error?.argument == "key")
    }

    // MARK: - Scale

    @Test("Scale is a value, not a sentinel", arguments: configurations)
    func explicitScale(configuration: KernelConfiguration) throws {
        let q = try Self.matrix(3, 2, [0.5, -1, 1, 2, -0.5, 0.5])
        let k = try Self.matrix(3, 2, [1, 0, 0.5, -0.5, 2, 1])
        let v = try Self.matrix(3, 2, [1, 0, 0, 1, 1, 1])
        let cases: [(Float?, [Float])] = [
            (nil, [1, 0, 0.7428167, 0.2571833, 0.6666667, 0.6666667]),
            (1, [1, 0, 0.8175744, 0.1824255, 0.6666667, 0.6666667]),
            (0, [1, 0, 0.5, 0.5, 0.6666667, 0.6666667]),
            (-1, [1, 0, 0.1824255, 0.8175744, 0.6666667, 0.6666667]),
        ]
        for (scale, expected) in cases {
            let output = try scaledDotProductAttention(queries: q, keys: k, values: v, scale: scale, causal: .topLeft, options: configuration.options)
            expectClose(output.scalars, expected, atol: 1e-6, rtol: 1e-6, "scale \(scale.map { "\($0)" } ?? "default")")
        }
    }

    // MARK: - Zero sizes

    @Test("Zero-size dimensions", arguments: configurations)
    func zeroSizes(configuration: KernelConfiguration) throws {
        func run(_ b: Int, _ hq: Int, _ hkv: Int, _ lq: Int, _ lk: Int, _ dk: Int, _ dv: Int, causal: CausalAlignment? = nil) throws -> AttentionResult {
            try scaledDotProductAttention(
                queries: try Tensor(shape: [b, hq, lq, dk], repeating: 1), keys: try Tensor(shape: [b, hkv, lk, dk], repeating: 1),
                values: try Tensor(shape: [b, hkv, lk, dv], repeating: 1), causal: causal,
                returning: [.logSumExp], options: configuration.options)
        }
        #expect(try run(0, 2, 2, 3, 4, 5, 6).output.shape == [0, 2, 3, 6])
        #expect(try run(2, 0, 0, 3, 4, 5, 6).output.shape == [2, 0, 3, 6])
        #expect(try run(2, 0, 1, 3, 4, 5, 6).output.shape == [2, 0, 3, 6])
        #expect(try run(2, 2, 2, 0, 4, 5, 6).output.shape == [2, 2, 0, 6])
        for causal in [nil, CausalAlignment.topLeft, .bottomRight] {
            let empty = try run(2, 2, 1, 3, 0, 5, 6, causal: causal)
            #expect(empty.output.shape == [2, 2, 3, 6])
            #expect(empty.output.scalars.allSatisfy { $0 == 0 }, "no keys gives zeros")
            #expect(empty.logSumExp!.scalars.allSatisfy { $0 == -.infinity })
        }
        let noFeatures = try run(2, 2, 2, 3, 4, 0, 0)
        #expect(noFeatures.output.shape == [2, 2, 3, 0])
        // Dk = 0: every score is 0, so the output is the mean of the values.
        let noKeyFeatures = try run(1, 1, 1, 2, 3, 0, 2)
        #expect(noKeyFeatures.output.scalars == [1, 1, 1, 1])
        let error = #expect(throws: AttentionError.self) { try run(1, 2, 0, 3, 4, 5, 6) }
        #expect(error?.argument == "key")
    }

    // MARK: - Value head size

    @Test("Value head size differs from key head size", arguments: configurations)
    func valueHeadSize(configuration: KernelConfiguration) throws {
        let q = try Self.matrix(2, 4, [1, 0, -1, 2, 0.5, 0.5, 0.5, 0.5])
        let k = try Self.matrix(3, 4, [1, 1, 0, 0, 0, 1, 1, 0, 2, 0, 0, 1])
        let v = try Self.matrix(3, 2, [1, -1, 2, 0, 0, 3])
        let plain = try scaledDotProductAttention(queries: q, keys: k, values: v, options: configuration.options)
        expectClose(plain.scalars, [0.2967328, 2.1275187, 0.9135131, 0.8684696], atol: 1e-6, rtol: 1e-6, "default scale from Dk")
        let causal = try scaledDotProductAttention(queries: q, keys: k, values: v, causal: .topLeft, options: configuration.options)
        expectClose(causal.scalars, [1, -1, 1.5, -0.5], atol: 1e-6, rtol: 1e-6, "causal top-left")
    }

    // MARK: - Broadcast masks

    @Test("Broadcast masks equal materialized masks", arguments: configurations)
    func broadcastMasks(configuration: KernelConfiguration) throws {
        let (b, h, l, s) = (2, 3, 4, 5)
        let q = try Tensor(shape: [b, h, l, 2], repeating: 0)
        let k = try Tensor(shape: [b, h, s, 2], repeating: 0)
        let v = try Tensor(shape: [b, h, s, 2], scalars: (0..<(b * h * s * 2)).map { Float(($0 / 2) % s) })
        let keyPadding = try BoolTensor(shape: [b, 1, 1, s], scalars: [true, true, true, false, false, true, true, true, true, true])
        let perQuery = try BoolTensor(shape: [1, 1, l, 1], scalars: [true, false, true, true])
        let perHead = try BoolTensor(shape: [1, h, 1, 1], scalars: [true, false, true])

        func materialize(_ masks: [BoolTensor]) throws -> BoolTensor {
            var values: [Bool] = []
            for bi in 0..<b { for hi in 0..<h { for i in 0..<l { for j in 0..<s {
                values.append(try masks.allSatisfy { try $0.broadcast(to: [b, h, l, s])[bi, hi, i, j] })
            } } } }
            return try BoolTensor(shape: [b, h, l, s], scalars: values)
        }
        func rows(_ output: Tensor) -> [Float] { (0..<(b * h * l)).map { output.scalars[$0 * 2] } }
        func attend(_ mask: AttentionMask) throws -> Tensor {
            try scaledDotProductAttention(queries: q, keys: k, values: v, mask: mask, options: configuration.options)
        }

        let combined = try BoolTensor(
            shape: [b, 1, l, s],
            scalars: try materialize([keyPadding, perQuery]).sliced(axis: 1, range: 0..<1).scalars)
        let cases: [(String, BoolTensor, [Float])] = [
            ("key padding", keyPadding, (0..<(b * h * l)).map { $0 < h * l ? 1 : 2 }),
            ("per query", perQuery, (0..<(b * h * l)).map { $0 % l == 1 ? 0 : 2 }),
            ("per head", perHead, (0..<(b * h * l)).map { ($0 / l) % h == 1 ? 0 : 2 }),
            ("key padding and per query", combined, (0..<(b * h * l)).map { $0 % l == 1 ? 0 : ($0 < h * l ? 1 : 2) }),
        ]
        for (name, mask, expected) in cases {
            let broadcast = try attend(.boolean(mask))
            expectClose(rows(broadcast), expected, atol: 1e-6, rtol: 1e-6, name)
            let materialized = try attend(.boolean(try materialize([mask])))
            expectBitwiseEqual(broadcast.scalars, materialized.scalars, "\(name) against the materialized mask")
        }

        let additive = try Tensor(shape: [1, 1, l, 1], scalars: [0, -.infinity, 0, 0])
        let additiveOutput = try attend(.additive(additive))
        expectClose(rows(additiveOutput), (0..<(b * h * l)).map { $0 % l == 1 ? 0 : 2 }, atol: 1e-6, rtol: 1e-6, "additive per query")
        let additiveMaterialized = try attend(.additive(try additive.broadcast(to: [b, h, l, s]).contiguous()))
        expectBitwiseEqual(additiveOutput.scalars, additiveMaterialized.scalars, "additive against the materialized mask")
    }

    // MARK: - Non-finite values behind a mask

    @Test("Non-finite values behind a mask", arguments: configurations)
    func nonFiniteBehindMask(configuration: KernelConfiguration) throws {
        let cases: [(String, [Float], [Float])] = [
            ("NaN key", [1, .nan], [2, 3]),
            ("NaN value", [1, 0], [2, .nan]),
            ("infinite value", [1, 0], [2, .infinity]),
            ("infinite key", [1, .infinity], [2, 3]),
            ("huge key", [1, 1e10], [2, 3]),
        ]
        let hides: [(String, AttentionMask?, KeyPadding?)] = [
            ("lengths", nil, .lengths([1])),
            ("padding mask", nil, .mask(try BoolTensor(shape: [1, 2], scalars: [true, false]))),
            ("boolean mask", .boolean(try BoolTensor(shape: [2], scalars: [true, false])), nil),
            ("additive mask", .additive(try Tensor(shape: [2], scalars: [0, -.infinity])), nil),
        ]
        for (caseName, keys, values) in cases {
            for (hideName, mask, padding) in hides {
                let output = try scaledDotProductAttention(
                    queries: try Self.matrix(1, 1, [1]), keys: try Self.matrix(2, 1, keys), values: try Self.matrix(2, 1, values),
                    scale: 1, mask: mask, keyPadding: padding, options: configuration.options)
                #expect(output.scalars == [2], "\(caseName) hidden by \(hideName)")
            }
        }
    }

    @Test("NaN stays in its own row, head and batch item", arguments: configurations)
    func nanContainment(configuration: KernelConfiguration) throws {
        let shape = [2, 2, 5, 3]
        let base = (0..<60).map { Float(sin(Double($0))) }
        var queries = base
        queries[1 * 30 + 1 * 15 + 2 * 3] = .nan     // batch 1, head 1, row 2
        var values = base
        values[0 * 30 + 1 * 15 + 4 * 3 + 1] = .infinity  // batch 0, head 1, key 4
        let mask = try BoolTensor(shape: [5, 5], scalars: (0..<25).map { $0 % 5 != 4 || $0 / 5 == 3 })
        let output = try scaledDotProductAttention(
            queries: try Tensor(shape: shape, scalars: queries), keys: try Tensor(shape: shape, scalars: base),
            values: try Tensor(shape: shape, scalars: values), mask: .boolean(mask), options: configuration.options)
        for b in 0..<2 { for h in 0..<2 { for i in 0..<5 {
            let row = (0..<3).map { output[b, h, i, $0] }
            let poisoned = (b == 1 && h == 1 && i == 2) || (b == 0 && h == 1 && i == 3)
            #expect(row.contains { !$0.isFinite } == poisoned, "batch \(b), head \(h), row \(i): \(row)")
        } } }
    }
}
