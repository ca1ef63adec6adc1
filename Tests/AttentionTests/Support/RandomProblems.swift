import Foundation
@testable import Attention

/// The tests draw from the library's reproducible generator.
typealias SeededGenerator = SplitMix64

/// The discrete choices of a random attention problem; the element values
/// follow from `valueSeed`. Shrinking edits a spec and rebuilds the problem.
struct ProblemSpec: CustomStringConvertible, Sendable {
    enum Layout: String, CaseIterable, Sendable {
        /// `[B, H, L, D]` contiguous.
        case bhld
        /// `[B, L, H, D]` buffers viewed as `[B, H, L, D]`.
        case blhd
        /// Keys and values stored `[B, H, D, L]` and viewed transposed.
        case transposedKeys
        /// Q, K and V slices of one `[B, L, Hq·Dk + Hkv·Dk + Hkv·Dv]` buffer;
        /// queries and keys then share one length.
        case packed
    }

    enum MaskKind: String, CaseIterable, Sendable {
        case none, boolean, additive
    }

    enum PaddingKind: String, CaseIterable, Sendable {
        case none, lengths, maskWithHoles
    }

    var batch = 1, kvHeads = 1, groupSize = 1, queryLength = 1, keyLength = 1, keyDimension = 1, valueDimension = 1
    var layout = Layout.bhld
    var scale: Float?
    var causal: CausalAlignment?
    var window: SlidingWindow?
    var maskKind = MaskKind.none
    /// Which mask dimensions broadcast with size 1.
    var maskBroadcast = [false, false, false, false]
    var paddingKind = PaddingKind.none
    var valueSeed: UInt64 = 0

    var queryHeads: Int { kvHeads * groupSize }

    var description: String {
        "B \(batch), Hq \(queryHeads), Hkv \(kvHeads), Lq \(queryLength), Lk \(keyLength), Dk \(keyDimension), Dv \(valueDimension), "
            + "layout \(layout), scale \(scale.map { "\($0)" } ?? "default"), causal \(causal?.rawValue ?? "none"), "
            + "window \(window.map { "\($0.left),\($0.right)" } ?? "none"), mask \(maskKind) broadcast \(maskBroadcast), padding \(paddingKind), value seed \(valueSeed)"
    }

    static let lengths = [0, 1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33, 64, 65]
    static let dimensions = [0, 1, 3, 4, 8, 13, 32]

    /// Draws every choice from `generator`.
    static func random(using generator: inout SeededGenerator) -> ProblemSpec {
        var spec = ProblemSpec()
        spec.batch = [0, 1, 1, 2, 3].randomElement(using: &generator)!
        spec.kvHeads = Int.random(in: 1...3, using: &generator)
        spec.groupSize = Int.random(in: 1...3, using: &generator)
        spec.queryLength = lengths.randomElement(using: &generator)!
        spec.keyLength = lengths.randomElement(using: &generator)!
        spec.keyDimension = dimensions.randomElement(using: &generator)!
        spec.valueDimension = dimensions.filter { $0 > 0 }.randomElement(using: &generator)!
        spec.layout = Layout.allCases.randomElement(using: &generator)!
        spec.scale = [nil, nil, 0, -0.7, 1.3, 0.05].randomElement(using: &generator)!
        spec.causal = [nil, nil, CausalAlignment.topLeft, .bottomRight].randomElement(using: &generator)!
        if Int.random(in: 0..<4, using: &generator) == 0 {
            spec.window = SlidingWindow(left: Int.random(in: 0...9, using: &generator), right: Int.random(in: 0...9, using: &generator))
        }
        spec.maskKind = [MaskKind.none, .none, .boolean, .additive].randomElement(using: &generator)!
        spec.maskBroadcast = (0..<4).map { _ in Bool.random(using: &generator) }
        spec.paddingKind = [PaddingKind.none, .lengths, .maskWithHoles].randomElement(using: &generator)!
        spec.valueSeed = generator.next()
        if spec.layout == .packed { spec.keyLength = spec.queryLength }
        return spec
    }

    /// Smaller variants of this spec, simplest first, for shrinking.
    var simplifications: [ProblemSpec] {
        var result: [ProblemSpec] = []
        func add(_ change: (inout ProblemSpec) -> Void) {
            var copy = self
            change(&copy)
            if copy.description != description { result.append(copy) }
        }
        add { $0.batch = min($0.batch, 1) }
        add { $0.kvHeads = 1 }
        add { $0.groupSize = 1 }
        add { $0.maskKind = .none }
        add { $0.paddingKind = .none }
        add { $0.causal = nil }
        add { $0.window = nil }
        add { $0.layout = .bhld }
        add { $0.scale = nil }
        add { $0.maskBroadcast = [true, true, true, true] }
        for (keyPath, minimum) in [(\ProblemSpec.queryLength, 0), (\.keyLength, 0), (\.keyDimension, 0), (\.valueDimension, 1)] {
            add { $0[keyPath: keyPath] = max(minimum, $0[keyPath: keyPath] / 2) }
            add { $0[keyPath: keyPath] = max(minimum, $0[keyPath: keyPath] - 1) }
        }
        return result.map { spec in
            var spec = spec
            if spec.layout == .packed { spec.keyLength = spec.queryLength }
            return spec
        }
    }
}

/// A random attention problem built from a spec.
struct RandomProblem: CustomStringConvertible {
    let spec: ProblemSpec
    let query: Tensor
    let key: Tensor
    let value: Tensor
    let mask: AttentionMask?
    let keyPadding: KeyPadding?

    var description: String { spec.description }
    var keyLength: Int { spec.keyLength }

    init(generator: inout SeededGenerator) throws {
        try self.init(spec: ProblemSpec.random(using: &generator))
    }

    init(spec: ProblemSpec) throws {
        self.spec = spec
        var generator = SeededGenerator(seed: spec.valueSeed)
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
        let (b, hq, hkv, lq, lk, dk, dv) = (spec.batch, spec.queryHeads, spec.kvHeads, spec.queryLength, spec.keyLength, spec.keyDimension, spec.valueDimension)
        switch spec.layout {
        case .bhld:
            query = try Tensor(shape: [b, hq, lq, dk], scalars: values(b * hq * lq * dk))
            key = try Tensor(shape: [b, hkv, lk, dk], scalars: values(b * hkv * lk * dk))
            value = try Tensor(shape: [b, hkv, lk, dv], scalars: values(b * hkv * lk * dv))
        case .blhd:
            query = try Tensor(shape: [b, lq, hq, dk], scalars: values(b * hq * lq * dk)).permuted([0, 2, 1, 3])
            key = try Tensor(shape: [b, lk, hkv, dk], scalars: values(b * hkv * lk * dk)).permuted([0, 2, 1, 3])
            value = try Tensor(shape: [b, lk, hkv, dv], scalars: values(b * hkv * lk * dv)).permuted([0, 2, 1, 3])
        case .transposedKeys:
            query = try Tensor(shape: [b, hq, lq, dk], scalars: values(b * hq * lq * dk))
            key = try Tensor(shape: [b, hkv, dk, lk], scalars: values(b * hkv * lk * dk)).transposed(2, 3)
            value = try Tensor(shape: [b, hkv, dv, lk], scalars: values(b * hkv * lk * dv)).transposed(2, 3)
        case .packed:
            let width = hq * dk + hkv * dk + hkv * dv
            let storage = TensorStorage(values(b * lq * width))
            let batchStride = lq * width
            query = try Tensor(storage: storage, shape: [b, hq, lq, dk], strides: [batchStride, dk, width, 1], offset: 0)
            key = try Tensor(storage: storage, shape: [b, hkv, lq, dk], strides: [batchStride, dk, width, 1], offset: hq * dk)
            value = try Tensor(storage: storage, shape: [b, hkv, lq, dv], strides: [batchStride, dv, width, 1], offset: hq * dk + hkv * dk)
        }

        let full = [b, hq, lq, lk]
        let shape = zip(full, spec.maskBroadcast).map { $1 ? 1 : $0 }
        let count = shape.reduce(1, *)
        switch spec.maskKind {
        case .none:
            mask = nil
        case .boolean:
            mask = .boolean(try BoolTensor(shape: shape, scalars: (0..<count).map { _ in Double.random(in: 0..<1, using: &generator) < 0.7 }))
        case .additive:
            let terms: [Float] = (0..<count).map { _ in
                Double.random(in: 0..<1, using: &generator) < 0.25 ? -.infinity : Float.random(in: -3...3, using: &generator)
            }
            mask = .additive(try Tensor(shape: shape, scalars: terms))
        }
        switch spec.paddingKind {
        case .none:
            keyPadding = nil
        case .lengths:
            keyPadding = .lengths((0..<b).map { _ in Int.random(in: 0...lk, using: &generator) })
        case .maskWithHoles:
            keyPadding = .mask(try BoolTensor(shape: [b, lk], scalars: (0..<(b * lk)).map { _ in Double.random(in: 0..<1, using: &generator) < 0.7 }))
        }
    }

    /// Runs the problem with `options`.
    func run(_ options: ExecutionOptions, returning outputs: AttentionOutputs = [.logSumExp]) throws -> AttentionResult {
        try scaledDotProductAttention(
            queries: query, keys: key, values: value, scale: spec.scale, mask: mask, causal: spec.causal,
            window: spec.window, keyPadding: keyPadding, returning: outputs, options: options)
    }

    /// An error bound for a float32 kernel against the float64 reference,
    /// from the reduction lengths: the scores carry about `Dk·ε·|scale|`
    /// absolute error (inputs are in [-1, 1]) and the softmax and weighted
    /// sum about `Lk·ε` relative error, on values of magnitude at most 1.
    var tolerance: Double {
        let epsilon = Double(Float.ulpOfOne)
        let scoreError = 4 * epsilon * Double(spec.keyDimension) * Double(abs(spec.scale ?? 1))
        let reductionError = 4 * epsilon * Double(max(spec.keyLength, 1))
        return 4 * (scoreError + reductionError) + 1e-6
    }

    /// The largest violation of `tolerance` by any fast path, or `nil` when
    /// every path agrees with the reference. The message names the path.
    func firstDisagreement(queryBlockSize: Int, keyBlockSize: Int, threadCount: Int) throws -> String? {
        let reference = try run(ExecutionOptions(path: .reference), returning: [.logSumExp, .weights])
        let configurations: [(String, ExecutionOptions, AttentionOutputs)] = [
            ("materialized", ExecutionOptions(path: .materialized, threadCount: threadCount), [.logSumExp, .weights]),
            ("tiled", ExecutionOptions(path: .tiled, threadCount: threadCount), [.logSumExp]),
            ("tiled \(queryBlockSize)×\(keyBlockSize)",
             ExecutionOptions(path: .tiled, threadCount: threadCount, queryBlockSize: queryBlockSize, keyBlockSize: keyBlockSize), [.logSumExp]),
        ]
        for (name, options, outputs) in configurations {
            let result = try run(options, returning: outputs)
            let pairs: [(String, [Float], [Float], Double)] = [
                ("output", result.output.scalars, reference.output.scalars, tolerance),
                ("log-sum-exp", result.logSumExp!.scalars, reference.logSumExp!.scalars, tolerance * 4),
            ] + (result.weights.map { [("weights", $0.scalars, reference.weights!.scalars, tolerance)] } ?? [])
            for (output, actual, expected, bound) in pairs {
                for index in actual.indices {
                    let a = Double(actual[index])
                    let e = Double(expected[index])
                    if a == e || (a.isNaN && e.isNaN) { continue }
                    if !(abs(a - e) <= bound + 1e-6 * abs(e)) {
                        return "\(name) \(output)[\(index)] = \(a), reference \(e), bound \(bound)"
                    }
                }
            }
        }
        return nil
    }
}
