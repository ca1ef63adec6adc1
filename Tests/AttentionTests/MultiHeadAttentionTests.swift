import Foundation
import Testing
@testable import Attention
@testable import AttentionIO

// MARK: - Fixture helpers

private let fixturesDirectory = Fixtures.directory

/// Reads a fixture `.npy` file (float32, or bool as 0 and 1) by its path
/// relative to the fixtures folder.
private func readNPY(_ relativePath: String) throws -> (shape: [Int], floats: [Float]) {
    let file = try NPYFile(fixturesDirectory.appendingPathComponent(relativePath))
    return (file.shape, file.descr == "|b1" ? file.bools.map { $0 ? 1 : 0 } : file.floats)
}

/// Returns the manifest's cases of operation `bert_self_attention_block`.
private func attentionBlockCases() throws -> [[String: Any]] {
    let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent("manifest.json"))
    let manifest = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    let cases = manifest?["cases"] as? [[String: Any]] ?? []
    return cases.filter { $0["operation"] as? String == "bert_self_attention_block" }
}

// MARK: - Real encoder block

@Test(arguments: [AttentionPath.materialized, .reference, .tiled])
func encoderBlockMatchesFixture(path: AttentionPath) throws {
    let cases = try attentionBlockCases()
    #expect(!cases.isEmpty, "the manifest has no bert_self_attention_block case")
    for entry in cases {
        let name = try #require(entry["name"] as? String)
        let params = try #require(entry["params"] as? [String: Any])
        let inputs = try #require(entry["inputs"] as? [String: [String: Any]])
        let expected = try #require(entry["expected"] as? [String: [String: Any]])
        let heads = try #require(params["num_heads"] as? Int)

        // The layer's prefix is the query weight's original name without
        // the BERT-style stem.
        let queryName = try #require(inputs["query_weight"]?["original_name"] as? String)
        let stem = AttentionWeightNaming.bert.projectionStems.query + ".weight"
        #expect(queryName.hasSuffix(stem))
        let prefix = String(queryName.dropLast(stem.count))
        let weightsFile = try #require(
            inputs.values.compactMap { $0["file"] as? String }.first { $0.hasSuffix(".safetensors") })
        let layer = try MultiHeadAttention(
            contentsOf: fixturesDirectory.appendingPathComponent(weightsFile).path,
            prefix: prefix, headCount: heads)

        let hiddenArray = try readNPY(try #require(inputs["hidden_states"]?["file"] as? String))
        let hidden = try Tensor(shape: hiddenArray.shape, scalars: hiddenArray.floats)
        let maskArray = try readNPY(try #require(inputs["key_padding_mask"]?["file"] as? String))
        let mask = try BoolTensor(shape: maskArray.shape, scalars: maskArray.floats.map { $0 != 0 })

        let wantsWeights = path != .tiled
        let result = try layer(
            hidden, keyPadding: .mask(mask), returning: wantsWeights ? [.weights] : [],
            options: ExecutionOptions(path: path, queryBlockSize: 5, keyBlockSize: 3))
        #expect(result.plan.path == path)

        let outputs: [(String, Tensor?)] = [
            ("q", result.queries), ("k", result.keys), ("v", result.values),
            ("probs", result.weights), ("context", result.context), ("attn_dense_out", result.output),
        ]
        for (key, tensor) in outputs {
            let description = try #require(expected[key], "\(name) has no expected \(key)")
            guard let tensor else { continue }
            let tolerance = try #require(description["tolerance"] as? [String: Double])
            let expectedArray = try readNPY(try #require(description["file"] as? String))
            #expect(tensor.shape == expectedArray.shape, "\(name) \(key)")
            expectClose(
                tensor.scalars, expectedArray.floats,
                atol: try #require(tolerance["atol"]), rtol: try #require(tolerance["rtol"]), "\(name) \(key) on \(path)")
        }
    }
}

@Test func encoderBlockPrefixForms() throws {
    let cases = try attentionBlockCases()
    for entry in cases {
        let inputs = try #require(entry["inputs"] as? [String: [String: Any]])
        let queryName = try #require(inputs["query_weight"]?["original_name"] as? String)
        let prefix = String(queryName.dropLast((AttentionWeightNaming.bert.projectionStems.query + ".weight").count))
        let weightsFile = try #require(
            inputs.values.compactMap { $0["file"] as? String }.first { $0.hasSuffix(".safetensors") })
        let file = try SafeTensorsFile(path: fixturesDirectory.appendingPathComponent(weightsFile).path)

        let withDot = try MultiHeadAttention(safeTensors: file, prefix: prefix, headCount: 12)
        let withoutDot = try MultiHeadAttention(safeTensors: file, prefix: String(prefix.dropLast()), headCount: 12)
        #expect(withDot.queryProjection.weight.scalars == withoutDot.queryProjection.weight.scalars)
        #expect(withDot.outputProjection.bias?.scalars == withoutDot.outputProjection.bias?.scalars)

        let wrongPrefix = #expect(throws: SafeTensorsError.self) {
            try MultiHeadAttention(safeTensors: file, prefix: "encoder.layer.99", headCount: 12)
        }
        #expect(wrongPrefix?.kind == .tensorNotFound)
        #expect(wrongPrefix?.tensor == "encoder.layer.99.attention.self.query.weight")
        #expect(wrongPrefix?.fix.contains(queryName) == true)

        let wrongHeads = #expect(throws: SafeTensorsError.self) {
            try MultiHeadAttention(safeTensors: file, prefix: prefix, headCount: 7)
        }
        #expect(wrongHeads?.kind == .shapeMismatch)
        #expect(wrongHeads?.tensor == queryName)
    }
}

// MARK: - Naive float64 reference

/// Deterministic values in [-1, 1) from a linear congruential generator.
private func pseudoRandom(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int(state >> 40) - (1 << 23)) / Float(1 << 23)
    }
}

private func randomTensor(_ shape: [Int], seed: UInt64) throws -> Tensor {
    try Tensor(shape: shape, scalars: pseudoRandom(shape.reduce(1, *), seed: seed))
}

/// The layer's result computed with plain loops in float64.
private struct NaiveResult {
    var output: [Double]
    var context: [Double]
    var weights: [Double]
}

/// Computes multi-head attention in float64 from the layer's weights.
/// `keep(b, h, i, j)` returns whether query `i` may attend key `j`.
private func naiveMultiHeadAttention(
    _ layer: MultiHeadAttention, queries: Tensor, keys: Tensor, values: Tensor,
    keep: (Int, Int, Int, Int) -> Bool
) -> NaiveResult {
    func project(_ input: Tensor, _ projection: LinearProjection) -> [Double] {
        let x = input.scalars.map(Double.init)
        let w = projection.weight.scalars.map(Double.init)
        let bias = projection.bias?.scalars.map(Double.init)
        let rows = input.shape[0] * input.shape[1]
        let (inSize, outSize) = (projection.inputSize, projection.outputSize)
        var y = [Double](repeating: 0, count: rows * outSize)
        for r in 0..<rows {
            for o in 0..<outSize {
                var sum = bias?[o] ?? 0
                for i in 0..<inSize { sum += x[r * inSize + i] * w[o * inSize + i] }
                y[r * outSize + o] = sum
            }
        }
        return y
    }
    let (batch, queryLength, keyLength) = (queries.shape[0], queries.shape[1], keys.shape[1])
    let (heads, kvHeads, d, dv) = (layer.headCount, layer.keyValueHeadCount, layer.headSize, layer.valueHeadSize)
    let q = project(queries, layer.queryProjection)
    let k = project(keys, layer.keyProjection)
    let v = project(values, layer.valueProjection)
    let scale = Double(layer.scale ?? 1 / Float(d).squareRoot())

    var context = [Double](repeating: 0, count: batch * queryLength * heads * dv)
    var weights = [Double](repeating: 0, count: batch * heads * queryLength * keyLength)
    for b in 0..<batch {
        for h in 0..<heads {
            let g = h / (heads / kvHeads)
            for i in 0..<queryLength {
                var scores = [Double](repeating: -.infinity, count: keyLength)
                for j in 0..<keyLength where keep(b, h, i, j) {
                    var dot = 0.0
                    for e in 0..<d {
                        dot += q[((b * queryLength + i) * heads + h) * d + e] * k[((b * keyLength + j) * kvHeads + g) * d + e]
                    }
                    scores[j] = scale * dot
                }
                let maximum = scores.max() ?? -.infinity
                guard maximum > -.infinity else { continue }
                let exponentials = scores.map { exp($0 - maximum) }
                let total = exponentials.reduce(0, +)
                for j in 0..<keyLength {
                    let p = exponentials[j] / total
                    weights[((b * heads + h) * queryLength + i) * keyLength + j] = p
                    for e in 0..<dv {
                        context[((b * queryLength + i) * heads + h) * dv + e] += p * v[((b * keyLength + j) * kvHeads + g) * dv + e]
                    }
                }
            }
        }
    }
    // The output projection runs on the float64 context, not the rounded one.
    let w = layer.outputProjection.weight.scalars.map(Double.init)
    let bias = layer.outputProjection.bias?.scalars.map(Double.init)
    let (inSize, outSize) = (layer.outputProjection.inputSize, layer.outputProjection.outputSize)
    var output = [Double](repeating: 0, count: batch * queryLength * outSize)
    for r in 0..<(batch * queryLength) {
        for o in 0..<outSize {
            var sum = bias?[o] ?? 0
            for i in 0..<inSize { sum += context[r * inSize + i] * w[o * inSize + i] }
            output[r * outSize + o] = sum
        }
    }
    return NaiveResult(output: output, context: context, weights: weights)
}

/// Builds a layer with random weights; biases on every projection except
/// the key projection, to cover both.
private func randomLayer(
    hidden: Int, keyInput: Int, valueInput: Int, outputSize: Int,
    heads: Int, kvHeads: Int, headSize: Int, valueHeadSize: Int, seed: UInt64
) throws -> MultiHeadAttention {
    try MultiHeadAttention(
        query: LinearProjection(
            weight: randomTensor([heads * headSize, hidden], seed: seed),
            bias: randomTensor([heads * headSize], seed: seed + 1)),
        key: LinearProjection(weight: randomTensor([kvHeads * headSize, keyInput], seed: seed + 2)),
        value: LinearProjection(
            weight: randomTensor([kvHeads * valueHeadSize, valueInput], seed: seed + 3),
            bias: randomTensor([kvHeads * valueHeadSize], seed: seed + 4)),
        output: LinearProjection(
            weight: randomTensor([outputSize, heads * valueHeadSize], seed: seed + 5),
            bias: randomTensor([outputSize], seed: seed + 6)),
        headCount: heads, keyValueHeadCount: kvHeads)
}

// Inputs and weights lie in [-1, 1) and every reduction below is at most 16
// terms long. Each of the three chained float32 stages (projection, softmax
// and weighted sum, output projection) then errs by about 16·ε·(sum of
// |terms|) ≤ 16 · 1.2e-7 · 16 ≈ 3e-5 in the worst case, so 1e-4 bounds the
// output and context, and the probabilities (in [0, 1]) get 2e-5.
private let valueTolerance = 1e-4
private let weightTolerance = 2e-5

@Test(arguments: [AttentionPath.materialized, .reference, .tiled])
func groupedQueryLayerMatchesNaive(path: AttentionPath) throws {
    let layer = try randomLayer(
        hidden: 12, keyInput: 12, valueInput: 12, outputSize: 12,
        heads: 6, kvHeads: 2, headSize: 2, valueHeadSize: 2, seed: 10)
    let hidden = try randomTensor([2, 5, 12], seed: 99)
    let lengths = [5, 3]
    let wantsWeights = path != .tiled
    let result = try layer(
        hidden, causal: .topLeft, keyPadding: .lengths(lengths), returning: wantsWeights ? [.weights] : [],
        options: ExecutionOptions(path: path, queryBlockSize: 2, keyBlockSize: 2))
    let naive = naiveMultiHeadAttention(layer, queries: hidden, keys: hidden, values: hidden) { b, _, i, j in
        j <= i && j < lengths[b]
    }

    #expect(result.output.shape == [2, 5, 12])
    #expect(result.context.shape == [2, 5, 12])
    #expect(result.keys.shape == [2, 5, 2, 2])
    expectClose(result.output.scalars, naive.output.map(Float.init), atol: valueTolerance, rtol: 0, "output")
    expectClose(result.context.scalars, naive.context.map(Float.init), atol: valueTolerance, rtol: 0, "context")
    if let weights = result.weights {
        #expect(weights.shape == [2, 6, 5, 5])
        expectClose(weights.scalars, naive.weights.map(Float.init), atol: weightTolerance, rtol: 0, "weights")
    }
}

@Test(arguments: [AttentionPath.materialized, .reference, .tiled])
func crossAttentionLayerMatchesNaive(path: AttentionPath) throws {
    // Keys and values come from a different sequence with other feature
    // sizes; the value head size and the output size differ as well.
    let layer = try randomLayer(
        hidden: 8, keyInput: 6, valueInput: 5, outputSize: 7,
        heads: 4, kvHeads: 4, headSize: 3, valueHeadSize: 2, seed: 20)
    let queries = try randomTensor([2, 3, 8], seed: 201)
    let keys = try randomTensor([2, 7, 6], seed: 202)
    let values = try randomTensor([2, 7, 5], seed: 203)
    let padding = try BoolTensor(shape: [2, 7], scalars: [
        true, true, false, true, true, true, false,
        true, true, true, true, true, true, true,
    ])
    let wantsWeights = path != .tiled
    let result = try layer(
        queries: queries, keys: keys, values: values, causal: .bottomRight, keyPadding: .mask(padding),
        returning: wantsWeights ? [.weights] : [],
        options: ExecutionOptions(path: path, queryBlockSize: 2, keyBlockSize: 3))
    let naive = naiveMultiHeadAttention(layer, queries: queries, keys: keys, values: values) { b, _, i, j in
        j <= i + 7 - 3 && padding[b, j]
    }

    #expect(result.output.shape == [2, 3, 7])
    #expect(result.context.shape == [2, 3, 8])
    expectClose(result.output.scalars, naive.output.map(Float.init), atol: valueTolerance, rtol: 0, "output")
    expectClose(result.context.scalars, naive.context.map(Float.init), atol: valueTolerance, rtol: 0, "context")
    if let weights = result.weights {
        #expect(weights.shape == [2, 4, 3, 7])
        expectClose(weights.scalars, naive.weights.map(Float.init), atol: weightTolerance, rtol: 0, "weights")
    }
}

@Test(arguments: [AttentionPath.materialized, .reference, .tiled])
func paddingGapsAndEmptyItem(path: AttentionPath) throws {
    // Batch item 0 has padding between real keys; item 1 has no real key,
    // so its context is zero and its output is the output bias.
    let layer = try randomLayer(
        hidden: 6, keyInput: 6, valueInput: 6, outputSize: 6,
        heads: 4, kvHeads: 2, headSize: 2, valueHeadSize: 3, seed: 90)
    let hidden = try randomTensor([2, 6, 6], seed: 91)
    let padding = try BoolTensor(shape: [2, 6], scalars: [
        true, false, true, true, false, true,
        false, false, false, false, false, false,
    ])
    let result = try layer(
        hidden, keyPadding: .mask(padding), returning: path == .tiled ? [] : [.weights],
        options: ExecutionOptions(path: path, queryBlockSize: 4, keyBlockSize: 2))
    let naive = naiveMultiHeadAttention(layer, queries: hidden, keys: hidden, values: hidden) { b, _, _, j in
        padding[b, j]
    }
    expectClose(result.output.scalars, naive.output.map(Float.init), atol: valueTolerance, rtol: 0, "output")
    expectClose(result.context.scalars, naive.context.map(Float.init), atol: valueTolerance, rtol: 0, "context")
    let emptyItem = try result.output.selecting(axis: 0, index: 1)
    let bias = try #require(layer.outputProjection.bias).scalars
    #expect(emptyItem.scalars == Array([[Float]](repeating: bias, count: 6).joined()))
    if let weights = result.weights {
        expectClose(weights.scalars, naive.weights.map(Float.init), atol: weightTolerance, rtol: 0, "weights")
    }
}

@Test func stridedInputMatchesContiguous() throws {
    let layer = try randomLayer(
        hidden: 4, keyInput: 4, valueInput: 4, outputSize: 4,
        heads: 2, kvHeads: 1, headSize: 2, valueHeadSize: 2, seed: 30)
    // [L, B, E] storage viewed as [B, L, E]: batch and sequence cannot merge
    // into one matrix dimension, so the projection must copy.
    let sequenceMajor = try randomTensor([3, 2, 4], seed: 301)
    let strided = try sequenceMajor.permuted([1, 0, 2])
    let contiguous = strided.contiguous()
    let fromStrided = try layer(strided)
    let fromContiguous = try layer(contiguous)
    #expect(fromStrided.output.scalars == fromContiguous.output.scalars)
}

@Test func emptyBatchAndSequence() throws {
    let layer = try randomLayer(
        hidden: 4, keyInput: 4, valueInput: 4, outputSize: 3,
        heads: 2, kvHeads: 2, headSize: 2, valueHeadSize: 2, seed: 40)
    #expect(try layer(try Tensor(shape: [0, 5, 4], repeating: 0)).output.shape == [0, 5, 3])
    #expect(try layer(try Tensor(shape: [2, 0, 4], repeating: 0)).output.shape == [2, 0, 3])
    // No keys: every context row is zero, so the output is the bias.
    let noKeys = try layer(
        queries: try randomTensor([1, 2, 4], seed: 41), keys: try Tensor(shape: [1, 0, 4], repeating: 0),
        values: try Tensor(shape: [1, 0, 4], repeating: 0))
    #expect(noKeys.context.scalars == [Float](repeating: 0, count: 8))
    let bias = try #require(layer.outputProjection.bias).scalars
    #expect(noKeys.output.scalars == bias + bias)
}

// MARK: - Validation

@Test func layerRejectsInconsistentShapes() throws {
    let weight = try randomTensor([8, 8], seed: 50)
    let projection = try LinearProjection(weight: weight)
    let keyError = #expect(throws: AttentionError.self) {
        try MultiHeadAttention(
            query: projection, key: try LinearProjection(weight: try randomTensor([6, 8], seed: 51)),
            value: projection, output: projection, headCount: 4)
    }
    #expect(keyError?.argument == "key weight")

    let headError = #expect(throws: AttentionError.self) {
        try MultiHeadAttention(query: projection, key: projection, value: projection, output: projection, headCount: 3)
    }
    #expect(headError?.argument == "query weight")

    let groupError = #expect(throws: AttentionError.self) {
        try MultiHeadAttention(
            query: projection, key: projection, value: projection, output: projection,
            headCount: 4, keyValueHeadCount: 3)
    }
    #expect(groupError?.argument == "keyValueHeadCount")

    let biasError = #expect(throws: AttentionError.self) {
        try LinearProjection(weight: weight, bias: try randomTensor([7], seed: 52), name: "query")
    }
    #expect(biasError?.argument == "query bias")

    let layer = try MultiHeadAttention(query: projection, key: projection, value: projection, output: projection, headCount: 4)
    let inputError = #expect(throws: AttentionError.self) {
        try layer(try randomTensor([1, 3, 7], seed: 53))
    }
    #expect(inputError?.argument == "queries")
    let rankError = #expect(throws: AttentionError.self) {
        try layer(try randomTensor([3, 8], seed: 54))
    }
    #expect(rankError?.kind == .invalidShape)
    let tiledWeights = #expect(throws: AttentionError.self) {
        try layer(try randomTensor([1, 3, 8], seed: 55), returning: [.weights], options: ExecutionOptions(path: .tiled))
    }
    #expect(tiledWeights?.kind == .unsupported)
}

// MARK: - Decoder-style names

/// Writes a safetensors file holding `tensors` in order; `F16` tensors are
/// rounded to binary16.
private func writeSafeTensors(_ tensors: [(name: String, dtype: String, tensor: Tensor)]) throws -> String {
    var entries: [String] = []
    var data: [UInt8] = []
    for (name, dtype, tensor) in tensors {
        let begin = data.count
        for value in tensor.scalars {
            if dtype == "F16" {
                data += withUnsafeBytes(of: Float16(value).bitPattern.littleEndian, Array.init)
            } else {
                data += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
            }
        }
        let shape = tensor.shape.map(String.init).joined(separator: ",")
        entries.append(#""\#(name)":{"dtype":"\#(dtype)","shape":[\#(shape)],"data_offsets":[\#(begin),\#(data.count)]}"#)
    }
    let header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
    let bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header + data
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("mha-test-\(UUID().uuidString).safetensors")
    try Data(bytes).write(to: url)
    return url.path
}

@Test func decoderNamesLoadGroupedQueryLayer() throws {
    let prefix = "model.layers.0.self_attn"
    let q = try randomTensor([8, 8], seed: 60)
    let k = try randomTensor([4, 8], seed: 61)
    let v = try randomTensor([4, 8], seed: 62)
    let o = try randomTensor([8, 8], seed: 63)
    let oBias = try randomTensor([8], seed: 64)
    let path = try writeSafeTensors([
        ("\(prefix).q_proj.weight", "F32", q), ("\(prefix).k_proj.weight", "F16", k),
        ("\(prefix).v_proj.weight", "F32", v), ("\(prefix).o_proj.weight", "F32", o),
        ("\(prefix).o_proj.bias", "F32", oBias), ("model.norm.weight", "F32", try randomTensor([8], seed: 65)),
    ])
    defer { try? FileManager.default.removeItem(atPath: path) }

    for prefixForm in [prefix, prefix + "."] {
        let layer = try MultiHeadAttention(contentsOf: path, prefix: prefixForm, headCount: 4, keyValueHeadCount: 2)
        #expect(layer.headSize == 2)
        #expect(layer.keyValueHeadCount == 2)
        #expect(layer.queryProjection.bias == nil)
        #expect(layer.queryProjection.weight.scalars == q.scalars)
        #expect(layer.keyProjection.weight.scalars == k.scalars.map { Float(Float16($0)) })
        #expect(layer.outputProjection.bias?.scalars == oBias.scalars)

        let hidden = try randomTensor([1, 4, 8], seed: 66)
        let result = try layer(hidden, causal: .topLeft)
        let naive = naiveMultiHeadAttention(layer, queries: hidden, keys: hidden, values: hidden) { _, _, i, j in j <= i }
        expectClose(result.output.scalars, naive.output.map(Float.init), atol: valueTolerance, rtol: 0, "output")
    }

    let explicit = try MultiHeadAttention(contentsOf: path, prefix: prefix, headCount: 4, keyValueHeadCount: 2, naming: .decoder)
    #expect(explicit.keyValueHeadCount == 2)
    let wrongScheme = #expect(throws: SafeTensorsError.self) {
        try MultiHeadAttention(contentsOf: path, prefix: prefix, headCount: 4, keyValueHeadCount: 2, naming: .bert)
    }
    #expect(wrongScheme?.tensor == "\(prefix).attention.self.query.weight")

    let wrongGroups = #expect(throws: SafeTensorsError.self) {
        try MultiHeadAttention(contentsOf: path, prefix: prefix, headCount: 4, keyValueHeadCount: 4)
    }
    #expect(wrongGroups?.kind == .shapeMismatch)
    #expect(wrongGroups?.tensor == "\(prefix).k_proj.weight")
}

@Test func decoderNamesReportMissingTensor() throws {
    let prefix = "layers.3.attn."
    let weight = try randomTensor([4, 4], seed: 70)
    let path = try writeSafeTensors([
        ("\(prefix)q_proj.weight", "F32", weight), ("\(prefix)k_proj.weight", "F32", weight),
        ("\(prefix)o_proj.weight", "F32", weight),
    ])
    defer { try? FileManager.default.removeItem(atPath: path) }
    let error = #expect(throws: SafeTensorsError.self) {
        try MultiHeadAttention(contentsOf: path, prefix: prefix, headCount: 2)
    }
    #expect(error?.kind == .tensorNotFound)
    #expect(error?.tensor == "\(prefix)v_proj.weight")
    #expect(error?.path == path)
}

@Test func misshapedBiasNamesTensor() throws {
    let prefix = "enc."
    let weight = try randomTensor([4, 4], seed: 80)
    let path = try writeSafeTensors([
        ("\(prefix)attention.self.query.weight", "F32", weight), ("\(prefix)attention.self.query.bias", "F32", try randomTensor([3], seed: 81)),
        ("\(prefix)attention.self.key.weight", "F32", weight), ("\(prefix)attention.self.value.weight", "F32", weight),
        ("\(prefix)attention.output.dense.weight", "F32", weight),
    ])
    defer { try? FileManager.default.removeItem(atPath: path) }
    let error = #expect(throws: SafeTensorsError.self) {
        try MultiHeadAttention(contentsOf: path, prefix: prefix, headCount: 2)
    }
    #expect(error?.kind == .shapeMismatch)
    #expect(error?.tensor == "\(prefix)attention.self.query.bias")
}
