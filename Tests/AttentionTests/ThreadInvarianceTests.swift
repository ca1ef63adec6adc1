import Testing
@testable import Attention

/// The tiled path gives the same bits for any thread count and for a batch
/// item computed alone or inside a batch, because block boundaries and the
/// reduction order depend only on shapes and options.
struct ThreadInvarianceTests {
    static let setups: [MaskSetup] = [.none, .causalTopLeft, .paddingLengths, .paddingMaskGathered, .everythingTogether]

    /// Block sizes: small explicit ones, and the defaults chosen by the plan.
    static let blocks: [(Int?, Int?)] = [(8, 16), (1, 5), (nil, nil)]

    @Test("threads 1, 2 and 3 agree bitwise", arguments: setups, blocks)
    func threadCounts(setup: MaskSetup, blocks: (Int?, Int?)) throws {
        let shape = TiledShape(
            batch: 2, queryHeads: 4, keyValueHeads: 2, queryLength: 37, keyLength: 45,
            keyDimension: 16, valueDimension: 8, interleaved: true)
        var outputs: [AttentionResult] = []
        for threads in [1, 2, 3] {
            outputs.append(try runTiled(shape, setup, blocks: blocks, threads: threads))
        }
        for (index, result) in outputs.enumerated().dropFirst() {
            #expect(TiledTestSupport.bitwiseEqual(result.output, outputs[0].output), "output with \(index + 1) threads")
            #expect(TiledTestSupport.bitwiseEqual(result.logSumExp!, outputs[0].logSumExp!), "log-sum-exp with \(index + 1) threads")
        }
    }

    @Test("batch item alone matches batch bitwise", arguments: [MaskSetup.none, .causalBottomRight, .paddingLengths, .paddingMaskGathered])
    func batchComposition(setup: MaskSetup) throws {
        let batch = 3
        let q = try TiledTestSupport.tensor([batch, 2, 29, 16], seed: 11)
        let k = try TiledTestSupport.tensor([batch, 2, 41, 16], seed: 12)
        let v = try TiledTestSupport.tensor([batch, 2, 41, 16], seed: 13)
        let lengths = [41, 30, 7]
        let flags = (0..<batch * 41).map { ($0 / 41 + $0 % 41) % 4 != 0 }
        let paddingMask = try BoolTensor(shape: [batch, 41], scalars: flags)

        func padding(items: Range<Int>) throws -> KeyPadding? {
            switch setup {
            case .paddingLengths: .lengths(Array(lengths[items]))
            case .paddingMaskGathered: .mask(try paddingMask.sliced(axis: 0, range: items))
            default: nil
            }
        }
        let causal: CausalAlignment? = setup == .causalBottomRight ? .bottomRight : nil
        let options = ExecutionOptions(path: .tiled, threadCount: 2, queryBlockSize: 8, keyBlockSize: 16)

        let whole = try scaledDotProductAttention(
            queries: q, keys: k, values: v, causal: causal, keyPadding: try padding(items: 0..<batch), options: options)
        for item in 0..<batch {
            let range = item..<(item + 1)
            let alone = try scaledDotProductAttention(
                queries: try q.sliced(axis: 0, range: range), keys: try k.sliced(axis: 0, range: range),
                values: try v.sliced(axis: 0, range: range), causal: causal,
                keyPadding: try padding(items: range), options: options)
            #expect(TiledTestSupport.bitwiseEqual(alone, try whole.sliced(axis: 0, range: range)), "batch item \(item)")
        }
    }

    private func runTiled(_ shape: TiledShape, _ setup: MaskSetup, blocks: (Int?, Int?), threads: Int) throws -> AttentionResult {
        let (tiled, _) = try runTiledAgainstReference(
            shape, setup, queryBlockSize: blocks.0, keyBlockSize: blocks.1, threads: threads, includeReference: false)
        return tiled
    }
}
