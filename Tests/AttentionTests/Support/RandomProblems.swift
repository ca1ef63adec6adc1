import Foundation
@testable import Attention

/// SplitMix64: a small, fast generator whose sequence depends only on the seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A random attention problem: shapes, layouts, masks and scale drawn from
/// the awkward cases (0, 1, odd sizes, block sizes ± 1, stride-0
/// broadcasts, both layouts, transposed and packed views).
struct RandomProblem: CustomStringConvertible {
    enum Layout: String, CaseIterable {
        /// `[B, H, L, D]` contiguous.
        case bhld
        /// `[B, L, H, D]` buffers viewed as `[B, H, L, D]`.
        case blhd
        /// Keys stored `[B, H, D, L]` and viewed transposed.
        case transposedKeys
        /// Q, K and V slices of one `[B, L, Hq·Dk + Hkv·Dk + Hkv·Dv]` buffer.
        case packed
    }

    var batch = 1, kvHeads = 1, groupSize = 1, queryLength = 1, keyLength = 1, keyDimension = 1, valueDimension = 1
    var layout = Layout.bhld
    var scale: Float?
    var causal: CausalAlignment?
    var maskDescription = "none"
    var paddingDescription = "none"

    var query: Tensor!
    var key: Tensor!
    var value: Tensor!
    var mask: AttentionMask?
    var keyPadding: KeyPadding?

    var queryHeads: Int { kvHeads * groupSize }

    var description: String {
        "B \(batch), Hq \(queryHeads), Hkv \(kvHeads), Lq \(queryLength), Lk \(keyLength), Dk \(keyDimension), Dv \(valueDimension), "
            + "layout \(layout), scale \(scale.map { "\($0)" } ?? "default"), causal \(causal?.rawValue ?? "none"), "
            + "mask \(maskDescription), padding \(paddingDescription)"
    }

    static let lengths = [0, 1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33, 64, 65]
    static let dimensions = [0, 1, 3, 4, 8, 13, 32]

    init(generator: inout SeededGenerator) throws {
        batch = [0, 1, 1, 2, 3].randomElement(using: &generator)!
        kvHeads = Int.random(in: 1...3, using: &generator)
        groupSize = Int.random(in: 1...3, using: &generator)
        queryLength = Self.lengths.randomElement(using: &generator)!
        keyLength = Self.lengths.randomElement(using: &generator)!
        keyDimension = Self.dimensions.randomElement(using: &generator)!
        valueDimension = Self.dimensions.filter { $0 > 0 }.randomElement(using: &generator)!
        layout = Layout.allCases.randomElement(using: &generator)!
        scale = [nil, nil, 0, -0.7, 1.3, 0.05].randomElement(using: &generator)!
        causal = [nil, nil, CausalAlignment.topLeft, .bottomRight].randomElement(using: &generator)!
        try makeTensors(generator: &generator)
        try makeMasks(generator: &generator)
    }

    private mutating func makeTensors(generator: inout SeededGenerator) throws {
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
        let (b, hq, hkv, lq, lk, dk, dv) = (batch, queryHeads, kvHeads, queryLength, keyLength, keyDimension, valueDimension)
        switch layout {
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
            // Queries and keys share one sequence length in a packed buffer.
            keyLength = queryLength
            let lk = queryLength
            let width = hq * dk + hkv * dk + hkv * dv
            let storage = TensorStorage(values(b * lq * width))
            let sequenceStride = width
            let batchStride = lq * width
            query = try Tensor(storage: storage, shape: [b, hq, lq, dk], strides: [batchStride, dk, sequenceStride, 1], offset: 0)
            key = try Tensor(storage: storage, shape: [b, hkv, lk, dk], strides: [batchStride, dk, sequenceStride, 1], offset: hq * dk)
            value = try Tensor(storage: storage, shape: [b, hkv, lk, dv], strides: [batchStride, dv, sequenceStride, 1], offset: hq * dk + hkv * dk)
        }
    }

    private mutating func makeMasks(generator: inout SeededGenerator) throws {
        let full = [batch, queryHeads, queryLength, keyLength]
        // A random subset of the dimensions broadcasts with size 1.
        let shape = full.map { Bool.random(using: &generator) ? 1 : $0 }
        let count = shape.reduce(1, *)
        switch Int.random(in: 0..<4, using: &generator) {
        case 1:
            let density = Double.random(in: 0.3...1, using: &generator)
            mask = .boolean(try BoolTensor(shape: shape, scalars: (0..<count).map { _ in Double.random(in: 0..<1, using: &generator) < density }))
            maskDescription = "boolean \(shape)"
        case 2:
            let values: [Float] = (0..<count).map { _ in
                Double.random(in: 0..<1, using: &generator) < 0.25 ? -.infinity : Float.random(in: -3...3, using: &generator)
            }
            mask = .additive(try Tensor(shape: shape, scalars: values))
            maskDescription = "additive \(shape)"
        default:
            break
        }
        switch Int.random(in: 0..<3, using: &generator) {
        case 1:
            keyPadding = .lengths((0..<batch).map { _ in Int.random(in: 0...keyLength, using: &generator) })
            paddingDescription = "lengths"
        case 2:
            let values = (0..<(batch * keyLength)).map { _ in Double.random(in: 0..<1, using: &generator) < 0.7 }
            keyPadding = .mask(try BoolTensor(shape: [batch, keyLength], scalars: values))
            paddingDescription = "mask with holes"
        default:
            break
        }
    }

    /// Runs the problem with `options`.
    func run(_ options: ExecutionOptions, returning outputs: AttentionOutputs = [.logSumExp]) throws -> AttentionResult {
        try scaledDotProductAttention(
            queries: query, keys: key, values: value, scale: scale, mask: mask, causal: causal,
            keyPadding: keyPadding, returning: outputs, options: options)
    }

    /// An error bound for a float32 kernel against the float64 reference,
    /// from the reduction lengths: the scores carry about `Dk·ε·|scale|`
    /// absolute error (inputs are in [-1, 1]) and the softmax and weighted
    /// sum about `Lk·ε` relative error, on values of magnitude at most 1.
    var tolerance: Double {
        let epsilon = Double(Float.ulpOfOne)
        let scoreError = 4 * epsilon * Double(keyDimension) * Double(abs(scale ?? 1))
        let reductionError = 4 * epsilon * Double(max(keyLength, 1))
        return 4 * (scoreError + reductionError) + 1e-6
    }
}
