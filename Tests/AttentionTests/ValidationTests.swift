import Testing
@testable import Attention

/// Every invalid call throws a typed error naming the argument before any
/// work is done.
@Suite struct ValidationTests {
    static func tensor(_ shape: [Int]) throws -> Tensor { try Tensor(shape: shape, repeating: 1) }

    /// Runs `body` and returns the `AttentionError` it throws.
    func attentionError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> AttentionError? {
        #expect(throws: AttentionError.self, sourceLocation: sourceLocation) { try body() }
    }

    func attend(
        q: [Int] = [2, 4, 3, 8], k: [Int] = [2, 2, 5, 8], v: [Int] = [2, 2, 5, 6],
        scale: Float? = nil, mask: AttentionMask? = nil, keyPadding: KeyPadding? = nil,
        returning outputs: AttentionOutputs = [], options: ExecutionOptions = ExecutionOptions()
    ) throws {
        _ = try scaledDotProductAttention(
            queries: try Self.tensor(q), keys: try Self.tensor(k), values: try Self.tensor(v),
            scale: scale, mask: mask, keyPadding: keyPadding, returning: outputs, options: options)
    }

    @Test("Shape mismatches name the argument")
    func shapeMismatches() throws {
        let cases: [(String, AttentionError.Kind, () throws -> Void)] = [
            ("query", .invalidShape, { try attend(q: [4, 3, 8]) }),
            ("key", .invalidShape, { try attend(k: [2, 2, 5, 8, 1]) }),
            ("value", .invalidShape, { try attend(v: [5, 6]) }),
            ("key", .shapeMismatch, { try attend(k: [3, 2, 5, 8]) }),
            ("value", .shapeMismatch, { try attend(v: [1, 2, 5, 6]) }),
            ("key", .shapeMismatch, { try attend(k: [2, 2, 5, 7]) }),
            ("value", .shapeMismatch, { try attend(v: [2, 1, 5, 6]) }),
            ("value", .shapeMismatch, { try attend(v: [2, 2, 4, 6]) }),
            ("key", .shapeMismatch, { try attend(k: [2, 3, 5, 8], v: [2, 3, 5, 6]) }),
            ("key", .shapeMismatch, { try attend(k: [2, 0, 5, 8], v: [2, 0, 5, 6]) }),
        ]
        for (argument, kind, body) in cases {
            let error = attentionError(body)
            #expect(error?.argument == argument)
            #expect(error?.kind == kind)
            #expect(error?.description.contains("expected") == true)
        }
    }

    @Test("Masks must broadcast")
    func maskBroadcast() throws {
        let badBoolean = attentionError { try attend(mask: .boolean(try BoolTensor(shape: [3, 4], repeating: true))) }
        #expect(badBoolean?.argument == "mask")
        #expect(badBoolean?.kind == .shapeMismatch)
        let badAdditive = attentionError { try attend(mask: .additive(try Tensor(shape: [2, 4, 3, 5, 1], repeating: 0))) }
        #expect(badAdditive?.argument == "mask")
        let heads = attentionError { try attend(mask: .boolean(try BoolTensor(shape: [2, 2, 3, 5], repeating: true))) }
        #expect(heads?.argument == "mask", "a mask over Hkv heads does not broadcast to Hq heads")
        // Each size-1 dimension broadcasts.
        try attend(mask: .boolean(try BoolTensor(shape: [1, 4, 1, 5], repeating: true)))
        try attend(mask: .additive(try Tensor(shape: [5], repeating: 0)))
    }

    @Test("Key padding is checked")
    func keyPadding() throws {
        #expect(attentionError { try attend(keyPadding: .lengths([5])) }?.argument == "keyPadding")
        #expect(attentionError { try attend(keyPadding: .lengths([5, 6])) }?.kind == .invalidValue)
        #expect(attentionError { try attend(keyPadding: .lengths([-1, 2])) }?.kind == .invalidValue)
        #expect(attentionError { try attend(keyPadding: .mask(try BoolTensor(shape: [2, 4], repeating: true))) }?.argument == "keyPadding")
        #expect(attentionError { try attend(keyPadding: .mask(try BoolTensor(shape: [2, 1, 5], repeating: true))) }?.kind == .invalidShape)
        try attend(keyPadding: .lengths([0, 5]))
    }

    @Test("Scale and options are checked")
    func scaleAndOptions() throws {
        for scale in [Float.nan, .infinity, -.infinity] {
            #expect(attentionError { try attend(scale: scale) }?.argument == "scale")
        }
        #expect(attentionError { try attend(options: ExecutionOptions(threadCount: 0)) }?.argument == "threadCount")
        #expect(attentionError { try attend(options: ExecutionOptions(path: .tiled, queryBlockSize: 0)) }?.argument == "queryBlockSize")
        #expect(attentionError { try attend(options: ExecutionOptions(path: .tiled, keyBlockSize: -3)) }?.argument == "keyBlockSize")
        let weightsOnTiled = attentionError { try attend(returning: [.weights], options: ExecutionOptions(path: .tiled)) }
        #expect(weightsOnTiled?.kind == .unsupported)
        #expect(weightsOnTiled?.argument == "weights")
    }

    @Test("Outputs are checked")
    func outputs() throws {
        let q = try Self.tensor([1, 2, 3, 4])
        let k = try Self.tensor([1, 2, 5, 4])
        let v = try Self.tensor([1, 2, 5, 6])
        let wrongShape = attentionError { try scaledDotProductAttention(queries: q, keys: k, values: v, into: try Self.tensor([1, 2, 3, 4])) }
        #expect(wrongShape?.argument == "output")
        #expect(wrongShape?.kind == .invalidShape)

        let broadcastOutput = try Tensor(shape: [1, 1, 1, 6], repeating: 0).broadcast(to: [1, 2, 3, 6])
        #expect(attentionError { try scaledDotProductAttention(queries: q, keys: k, values: v, into: broadcastOutput) }?.kind == .overlappingOutput)

        let aliased = try Tensor(shape: [1, 2, 5, 6], repeating: 1)
        let overlapping = attentionError {
            try scaledDotProductAttention(queries: q, keys: k, values: aliased, into: try aliased.sliced(axis: 2, range: 0..<3))
        }
        #expect(overlapping?.kind == .overlappingOutput)
        #expect(overlapping?.argument == "output")

        let output = try Tensor(shape: [1, 2, 3, 6], repeating: 0)
        let lse = attentionError { try scaledDotProductAttention(queries: q, keys: k, values: v, into: output, logSumExp: try Self.tensor([1, 2, 4])) }
        #expect(lse?.argument == "logSumExp")
        let weights = attentionError {
            try scaledDotProductAttention(queries: q, keys: k, values: v, into: output, weights: try Self.tensor([1, 2, 3, 4]), options: ExecutionOptions(path: .materialized))
        }
        #expect(weights?.argument == "weights")
        let sameBuffer = try Tensor(shape: [2, 1, 2, 3, 6], repeating: 0)
        let outputsOverlap = attentionError {
            try scaledDotProductAttention(
                queries: q, keys: k, values: v, into: try sameBuffer.selecting(axis: 0, index: 0),
                logSumExp: try sameBuffer.selecting(axis: 0, index: 0).selecting(axis: 3, index: 0), options: ExecutionOptions(path: .materialized))
        }
        #expect(outputsOverlap?.kind == .overlappingOutput)
    }

    @Test("Nothing is written when validation fails")
    func noPartialWrites() throws {
        let output = try Tensor(shape: [1, 1, 2, 2], repeating: 7)
        _ = attentionError {
            try scaledDotProductAttention(
                queries: try Self.tensor([1, 1, 2, 3]), keys: try Self.tensor([1, 1, 4, 3]), values: try Self.tensor([1, 1, 4, 2]),
                into: output, mask: .boolean(try BoolTensor(shape: [3, 4], repeating: true)))
        }
        #expect(output.scalars == [7, 7, 7, 7])
    }

    @Test("Self-attention needs a matrix")
    func selfAttentionRank() throws {
        let error = attentionError { _ = try selfAttention(try Self.tensor([1, 3, 2])) }
        #expect(error?.argument == "sequence")
        #expect(error?.kind == .invalidShape)
    }

    @Test("Plan names the path and reason")
    func planInspection() throws {
        let q = try Self.tensor([1, 2, 64, 16])
        let automatic = try planAttention(queries: q, keys: q, values: q)
        #expect(automatic.path == .tiled)
        let withWeights = try planAttention(queries: q, keys: q, values: q, returning: [.weights])
        #expect(withWeights.path == .materialized)
        #expect(withWeights.reason.contains("weights"))
        let requested = try planAttention(queries: q, keys: q, values: q, options: ExecutionOptions(path: .reference, threadCount: 3))
        #expect(requested.path == .reference)
        #expect(requested.threadCount == 3)
        let result = try scaledDotProductAttention(queries: q, keys: q, values: q, returning: [], options: ExecutionOptions(path: .materialized))
        #expect(result.plan.path == .materialized)
        #expect(result.plan.description.contains("materialized"))
    }

    @Test("Materialized scores beyond memory are rejected")
    func materializedMemoryLimit() throws {
        // One query head of 2^20 queries and keys would need 4 TiB of scores;
        // the stride-0 views cost no memory.
        let storage = TensorStorage<Float>(repeating: 1, count: 1)
        let huge = try Tensor(storage: storage, shape: [1, 1, 1 << 20, 1], strides: [0, 0, 0, 0])
        let error = attentionError { _ = try planAttention(queries: huge, keys: huge, values: huge, options: ExecutionOptions(path: .materialized)) }
        #expect(error?.kind == .sizeLimitExceeded)
        #expect(error?.fix.contains("tiled") == true)
    }
}
