// Shape legend:
//   B    batch size; L sequence length (self-attention, Lq = Lk = L)
//   E    hidden size; H heads; D = E / H head size

import Attention
import Foundation

/// One layer size to time.
struct LayerBenchmarkConfiguration: Sendable {
    var name: String
    var batch: Int
    var length: Int
    var hidden: Int
    var heads: Int
    /// The batch items the naive reference layer runs on. The reference is
    /// timed once on this subset, because at the larger size one full batch
    /// takes minutes. Tokens per second stay comparable, since every item
    /// has the full sequence length.
    var referenceBatch: Int

    /// MiniLM (hidden 384, 12 heads) on 8 sequences of 128 tokens, and a
    /// larger layer (hidden 1024, 16 heads) on 8 sequences of 512 tokens with
    /// the reference timed on one of them.
    static let standard = [
        LayerBenchmarkConfiguration(name: "MiniLM", batch: 8, length: 128, hidden: 384, heads: 12, referenceBatch: 8),
        LayerBenchmarkConfiguration(name: "hidden 1024", batch: 8, length: 512, hidden: 1024, heads: 16, referenceBatch: 1),
    ]
}

/// The timing of one configuration.
struct LayerBenchmarkRow: Sendable {
    var configuration: LayerBenchmarkConfiguration
    /// The median over the timed repetitions of the engine layer, in seconds.
    var engineMedianSeconds: Double
    /// `B·L / engineMedianSeconds`.
    var engineTokensPerSecond: Double
    /// One run of the naive layer on `referenceBatch` items, in seconds.
    var referenceSeconds: Double
    /// `referenceBatch·L / referenceSeconds`.
    var referenceTokensPerSecond: Double
    /// The largest |engine − reference| over the reference subset's output.
    var maximumDifference: Float
}

/// The layer benchmark's results and the conditions they were measured in.
struct LayerBenchmarkResult: Sendable {
    var rows: [LayerBenchmarkRow]
    var repetitions: Int
    /// Whether the binary was built without optimization, in which case the
    /// numbers must not be published.
    var isDebugBuild: Bool
}

/// An engine result that disagrees with the naive reference.
struct LayerBenchmarkVerificationError: Error, CustomStringConvertible {
    var configuration: String
    var maximumDifference: Float
    var tolerance: Float
    var description: String {
        "\(configuration): engine and naive layer differ by \(maximumDifference), more than \(tolerance)"
    }
}

/// Times `MultiHeadAttention` against a naive layer (projections by plain
/// loops with float64 sums, attention on the reference path) for each
/// configuration. The engine's output is verified against the naive one on
/// the reference subset before anything is timed.
///
/// - Parameters:
///   - configurations: the sizes to time.
///   - repetitions: timed engine runs per size, after one warm-up run.
/// - Throws: `LayerBenchmarkVerificationError` when the outputs disagree,
///   or `AttentionError` from the layer.
/// - Complexity: per configuration, `repetitions + 1` engine runs of
///   O(B·L·E² + B·L²·E) and one naive run on the subset.
func runLayerBenchmark(
    configurations: [LayerBenchmarkConfiguration] = LayerBenchmarkConfiguration.standard, repetitions: Int = 5
) throws -> LayerBenchmarkResult {
    var rows: [LayerBenchmarkRow] = []
    for configuration in configurations {
        rows.append(try benchmarkLayer(configuration, repetitions: max(repetitions, 1)))
    }
    #if DEBUG
    let isDebugBuild = true
    #else
    let isDebugBuild = false
    #endif
    return LayerBenchmarkResult(rows: rows, repetitions: max(repetitions, 1), isDebugBuild: isDebugBuild)
}

private func benchmarkLayer(_ configuration: LayerBenchmarkConfiguration, repetitions: Int) throws -> LayerBenchmarkRow {
    let (batch, length, hidden) = (configuration.batch, configuration.length, configuration.hidden)
    let layer = try makeBenchmarkLayer(hidden: hidden, heads: configuration.heads, seed: UInt64(hidden))
    let input = try Tensor(shape: [batch, length, hidden], scalars: benchmarkValues(batch * length * hidden, seed: 7))

    // 1. Verify on the reference subset before timing anything.
    let subset = try input.sliced(axis: 0, range: 0..<configuration.referenceBatch)
    let referenceStart = DispatchTime.now().uptimeNanoseconds
    let reference = try naiveLayer(layer, subset)
    let referenceSeconds = Double(DispatchTime.now().uptimeNanoseconds - referenceStart) / 1e9
    let engineSubset = try layer(subset).output.scalars
    let maximumDifference = zip(engineSubset, reference).map { abs($0 - $1) }.max() ?? 0
    // Weights are scaled by 1/sqrt(E), so projections are O(1); float32
    // sums of E terms then err by about E·ε ≈ 1e-4 at E = 1024.
    let tolerance: Float = 1e-3
    guard maximumDifference <= tolerance else {
        throw LayerBenchmarkVerificationError(
            configuration: configuration.name, maximumDifference: maximumDifference, tolerance: tolerance)
    }

    // 2. Warm up, then time the engine on the whole batch.
    _ = try layer(input)
    var seconds: [Double] = []
    for _ in 0..<repetitions {
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try layer(input)
        seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let median = seconds.sorted()[seconds.count / 2]
    return LayerBenchmarkRow(
        configuration: configuration,
        engineMedianSeconds: median,
        engineTokensPerSecond: Double(batch * length) / median,
        referenceSeconds: referenceSeconds,
        referenceTokensPerSecond: Double(configuration.referenceBatch * length) / referenceSeconds,
        maximumDifference: maximumDifference)
}

/// Deterministic values in [-1, 1) from a linear congruential generator.
private func benchmarkValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return scale * Float(Int(state >> 40) - (1 << 23)) / Float(1 << 23)
    }
}

/// Builds a layer with random weights scaled by 1/sqrt(E), like a trained
/// one, and biases on every projection.
private func makeBenchmarkLayer(hidden: Int, heads: Int, seed: UInt64) throws -> MultiHeadAttention {
    let weightScale = 1 / Float(hidden).squareRoot()
    func projection(_ offset: UInt64) throws -> LinearProjection {
        try LinearProjection(
            weight: Tensor(shape: [hidden, hidden], scalars: benchmarkValues(hidden * hidden, seed: seed + offset, scale: weightScale)),
            bias: Tensor(shape: [hidden], scalars: benchmarkValues(hidden, seed: seed + offset + 100, scale: 0.1)))
    }
    return try MultiHeadAttention(
        query: projection(1), key: projection(2), value: projection(3), output: projection(4), headCount: heads)
}

/// Computes the layer naively: each projection by plain loops with float64
/// sums, and attention on the reference path. Returns the output `[B, L, E]` in
/// row-major order.
private func naiveLayer(_ layer: MultiHeadAttention, _ input: Tensor) throws -> [Float] {
    let (batch, length) = (input.shape[0], input.shape[1])
    func project(_ x: [Float], _ projection: LinearProjection) throws -> Tensor {
        let weight = projection.weight.scalars
        let bias = projection.bias?.scalars
        let (inputSize, outputSize) = (projection.inputSize, projection.outputSize)
        var y = [Float](repeating: 0, count: batch * length * outputSize)
        for row in 0..<(batch * length) {
            for column in 0..<outputSize {
                var sum = Double(bias?[column] ?? 0)
                for k in 0..<inputSize {
                    sum += Double(x[row * inputSize + k]) * Double(weight[column * inputSize + k])
                }
                y[row * outputSize + column] = Float(sum)
            }
        }
        return try Tensor(shape: [batch, length, outputSize], scalars: y)
    }
    let x = input.scalars
    let heads = layer.headCount
    let q = try project(x, layer.queryProjection).reshaped([batch, length, heads, layer.headSize]).permuted([0, 2, 1, 3])
    let k = try project(x, layer.keyProjection)
        .reshaped([batch, length, layer.keyValueHeadCount, layer.headSize]).permuted([0, 2, 1, 3])
    let v = try project(x, layer.valueProjection)
        .reshaped([batch, length, layer.keyValueHeadCount, layer.valueHeadSize]).permuted([0, 2, 1, 3])
    let attention = try scaledDotProductAttention(
        queries: q, keys: k, values: v, scale: layer.scale, options: ExecutionOptions(path: .reference))
    let context = try attention.permuted([0, 2, 1, 3]).contiguous().reshaped([batch, length, heads * layer.valueHeadSize])
    return try project(context.scalars, layer.outputProjection).scalars
}
