import Attention
import AttentionIO
import Foundation

/// One benchmark shape and where its inputs come from.
struct BenchmarkCase {
    enum Source {
        /// Deterministic pseudo-random values in [-1, 1).
        case random
        /// The 3-token example: X = [[1,0],[0.5,0.5],[0,1]], Q = K = V = X,
        /// scale 1.
        case threeTokens
        /// MiniLM layer 2's projected Q, K, V and key padding from the
        /// fixtures, read through a [B, L, H, D] view.
        case miniLM
    }

    var name: String
    var batch: Int
    var heads: Int
    var queryLength: Int
    var keyLength: Int
    var dimension: Int
    var causal = false
    var source = Source.random
    /// Times only the tiled path on all threads, with few repetitions,
    /// because one call takes seconds.
    var heavy = false

    var flopCount: Double {
        4 * Double(batch) * Double(heads) * Double(queryLength) * Double(keyLength) * Double(dimension)
    }

    var shapeText: String {
        queryLength == keyLength
            ? "[\(batch), \(heads), \(queryLength), \(dimension)]"
            : "[\(batch), \(heads), \(queryLength), \(keyLength), \(dimension)]"
    }

    init(_ name: String? = nil, _ b: Int, _ h: Int, _ lq: Int, _ lk: Int, _ d: Int,
         causal: Bool = false, source: Source = .random, heavy: Bool = false) {
        self.batch = b
        self.heads = h
        self.queryLength = lq
        self.keyLength = lk
        self.dimension = d
        self.causal = causal
        self.source = source
        self.heavy = heavy
        let shape = lq == lk ? "[\(b),\(h),\(lq),\(d)]" : "[\(b),\(h),\(lq),\(lk),\(d)]"
        self.name = name ?? (causal ? "\(shape) causal" : shape)
    }

    /// Returns the default suite: the worked example, a real model layer, transformer
    /// sizes with causal variants, long sequences and decode shapes.
    /// The folder of the MiniLM case inside the fixtures folder.
    static let miniLMFolder = "minilm_layer2_attention_core"

    static func defaultSuite(quick: Bool) -> [BenchmarkCase] {
        var cases = [
            BenchmarkCase("3-token example", 1, 1, 3, 3, 2, source: .threeTokens),
            BenchmarkCase("MiniLM layer 2", 3, 12, 16, 16, 32, source: .miniLM),
            BenchmarkCase(nil, 1, 8, 1024, 1024, 64),
            BenchmarkCase(nil, 1, 8, 1024, 1024, 64, causal: true),
            BenchmarkCase(nil, 4, 8, 512, 512, 64),
            BenchmarkCase(nil, 1, 16, 2048, 2048, 128),
            BenchmarkCase(nil, 1, 16, 2048, 2048, 128, causal: true),
            BenchmarkCase(nil, 1, 8, 4096, 4096, 64),
            BenchmarkCase(nil, 1, 8, 4096, 4096, 64, causal: true),
            BenchmarkCase(nil, 1, 1, 16384, 16384, 64),
            BenchmarkCase(nil, 1, 32, 1, 8192, 128),
            BenchmarkCase(nil, 1, 8, 1, 32768, 128),
        ]
        if !quick {
            cases += [
                BenchmarkCase(nil, 1, 1, 16384, 16384, 64, causal: true),
                BenchmarkCase(nil, 1, 4, 16384, 16384, 64, heavy: true),
            ]
        }
        return cases
    }
}

/// The tensors and options of one case.
struct CaseInputs {
    var queries: Tensor
    var keys: Tensor
    var values: Tensor
    var scale: Float?
    var keyPadding: KeyPadding?
    var causal: CausalAlignment?

    init(_ benchmarkCase: BenchmarkCase, fixtures: String) throws {
        causal = benchmarkCase.causal ? .topLeft : nil
        switch benchmarkCase.source {
        case .threeTokens:
            let x = try Tensor(shape: [1, 1, 3, 2], scalars: [1, 0, 0.5, 0.5, 0, 1])
            (queries, keys, values, scale) = (x, x, x, 1)
        case .miniLM:
            let folder = fixtures + "/" + BenchmarkCase.miniLMFolder + "/"
            queries = try NPYArray(contentsOfFile: folder + "q.npy").tensor().permuted([0, 2, 1, 3])
            keys = try NPYArray(contentsOfFile: folder + "k.npy").tensor().permuted([0, 2, 1, 3])
            values = try NPYArray(contentsOfFile: folder + "v.npy").tensor().permuted([0, 2, 1, 3])
            keyPadding = .mask(try NPYArray(contentsOfFile: folder + "key_padding_mask.npy").boolTensor())
        case .random:
            let c = benchmarkCase
            queries = try Self.random([c.batch, c.heads, c.queryLength, c.dimension], seed: 1)
            keys = try Self.random([c.batch, c.heads, c.keyLength, c.dimension], seed: 2)
            values = try Self.random([c.batch, c.heads, c.keyLength, c.dimension], seed: 3)
        }
    }

    static func random(_ shape: [Int], seed: UInt64) throws -> Tensor {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        let count = shape.reduce(1, *)
        return try Tensor(shape: shape, scalars: (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        })
    }
}
