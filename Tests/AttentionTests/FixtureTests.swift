import Foundation
import Testing
@testable import Attention

/// Every golden case of the manifest on every kernel path, dispatched on the
/// case's `operation` and parameters rather than on its name.
@Suite struct FixtureTests {
    static let sdpaCases = Fixtures.cases(operation: "sdpa") + Fixtures.cases(operation: "sdpa_backward")

    /// The SDPA arguments a case's parameters describe.
    struct SDPAArguments {
        var scale: Float?
        var mask: AttentionMask?
        var causal: CausalAlignment?
        var keyPadding: KeyPadding?
    }

    static func arguments(for fixture: Fixtures.Case) throws -> SDPAArguments {
        var arguments = SDPAArguments()
        arguments.scale = fixture.params["scale"]?.double.map(Float.init)
        if fixture.params["is_causal"]?.bool == true {
            switch fixture.params["causal_alignment"]?.string {
            case "bottom_right": arguments.causal = .bottomRight
            default: arguments.causal = .topLeft
            }
        }
        switch fixture.params["mask_kind"]?.string {
        case "bool":
            arguments.mask = .boolean(try fixture.input("attn_mask").boolTensor)
        case "additive_float":
            arguments.mask = .additive(try fixture.input("attn_mask").tensor)
        case "key_padding":
            arguments.keyPadding = .mask(try fixture.input("key_padding_mask").boolTensor)
        default:
            break
        }
        return arguments
    }

    @Test("SDPA fixtures", arguments: sdpaCases, KernelConfiguration.allCases)
    func sdpaFixture(fixture: Fixtures.Case, configuration: KernelConfiguration) throws {
        let arguments = try Self.arguments(for: fixture)
        let result = try scaledDotProductAttention(
            queries: try fixture.input("q").tensor, keys: try fixture.input("k").tensor,
            values: try fixture.input("v").tensor,
            scale: arguments.scale, mask: arguments.mask, causal: arguments.causal,
            keyPadding: arguments.keyPadding, returning: [.logSumExp], options: configuration.options)
        #expect(result.plan.path == configuration.options.path)

        var compared = 0
        for (name, expected) in fixture.expected.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "out", "out_torch_sdpa", "out_masked_rows_zero":
                expectClose(
                    result.output.scalars, try fixture.expectedArray(name).floats,
                    atol: expected.atol, rtol: expected.rtol, "\(fixture.name) \(name) on \(configuration)")
                compared += 1
            case "lse":
                expectClose(
                    result.logSumExp!.scalars, try fixture.expectedArray(name).floats,
                    atol: expected.atol, rtol: expected.rtol, "\(fixture.name) lse on \(configuration)")
                compared += 1
            default:
                // Gradients and the NaN policy file are not forward outputs.
                continue
            }
        }
        #expect(compared > 0, "no forward output of \(fixture.name) was compared")
    }

    @Test("Fully masked rows give zeros, not NaN", arguments: KernelConfiguration.allCases)
    func fullyMaskedRowPolicy(configuration: KernelConfiguration) throws {
        for fixture in Self.sdpaCases where fixture.expected["out_textbook_softmax_nan"] != nil {
            let arguments = try Self.arguments(for: fixture)
            let output = try scaledDotProductAttention(
                queries: try fixture.input("q").tensor, keys: try fixture.input("k").tensor,
                values: try fixture.input("v").tensor, scale: arguments.scale, mask: arguments.mask,
                options: configuration.options)
            let textbook = try fixture.expectedArray("out_textbook_softmax_nan").floats
            let nanRows = textbook.indices.filter { textbook[$0].isNaN }
            #expect(!nanRows.isEmpty)
            for index in nanRows {
                #expect(output.scalars[index] == 0, "element \(index) of a fully masked row")
            }
        }
    }

    @Test("MiniLM core through the [B, L, H, D] view", arguments: Fixtures.cases(operation: "attention_core_blhd"), KernelConfiguration.allCases)
    func attentionCoreBLHD(fixture: Fixtures.Case, configuration: KernelConfiguration) throws {
        // [B, L, H, D] buffers attended as [B, H, L, D] views, without copies.
        let query = try fixture.input("q").tensor.permuted([0, 2, 1, 3])
        let key = try fixture.input("k").tensor.permuted([0, 2, 1, 3])
        let value = try fixture.input("v").tensor.permuted([0, 2, 1, 3])
        let padding = try fixture.input("key_padding_mask").boolTensor
        let wantsWeights = configuration.options.path != .tiled
        let result = try scaledDotProductAttention(
            queries: query, keys: key, values: value,
            scale: fixture.params["scale"]?.double.map(Float.init), keyPadding: .mask(padding),
            returning: wantsWeights ? [.weights] : [], options: configuration.options)

        // The context is the output viewed back as [B, L, H, D] = [B, L, H·D].
        let context = try result.output.permuted([0, 2, 1, 3]).scalars
        let expectedContext = fixture.expected["context"]!
        expectClose(
            context, try fixture.expectedArray("context").floats,
            atol: expectedContext.atol, rtol: expectedContext.rtol, "\(fixture.name) context on \(configuration)")
        if let weights = result.weights {
            let expectedProbs = fixture.expected["probs"]!
            expectClose(
                weights.scalars, try fixture.expectedArray("probs").floats,
                atol: expectedProbs.atol, rtol: expectedProbs.rtol, "\(fixture.name) probs on \(configuration)")
        }
    }

    @Test("Unscaled self-attention fixtures", arguments: Fixtures.cases(operation: "self_attention_unscaled"), [KernelConfiguration.reference, .materialized])
    func selfAttentionFixture(fixture: Fixtures.Case, configuration: KernelConfiguration) throws {
        let x = try fixture.input("x").tensor
        let result = try selfAttention(
            x, scale: Float(fixture.params["scale"]?.double ?? 1), returningWeights: true, options: configuration.options)
        let weights = fixture.expected["weights"]!
        let out = fixture.expected["out"]!
        expectClose(result.weights!.scalars, try fixture.expectedArray("weights").floats, atol: weights.atol, rtol: weights.rtol, "\(fixture.name) weights")
        expectClose(result.output.scalars, try fixture.expectedArray("out").floats, atol: out.atol, rtol: out.rtol, "\(fixture.name) out")
    }

    @Test("Unscaled self-attention on the tiled path")
    func selfAttentionTiled() throws {
        for fixture in Fixtures.cases(operation: "self_attention_unscaled") {
            let result = try selfAttention(try fixture.input("x").tensor, options: ExecutionOptions(path: .tiled, queryBlockSize: 2, keyBlockSize: 3))
            let out = fixture.expected["out"]!
            expectClose(result.output.scalars, try fixture.expectedArray("out").floats, atol: out.atol, rtol: out.rtol, "\(fixture.name) out")
        }
    }

    @Test("Three-token example")
    func threeTokenExample() throws {
        // "I love coffee" as X = [[1, 0], [0.5, 0.5], [0, 1]].
        let x = try Tensor(shape: [3, 2], scalars: [1, 0, 0.5, 0.5, 0, 1])
        let result = try selfAttention(x, returningWeights: true)
        let weights = result.weights!.scalars
        let third: Float = 1.0 / 3.0
        let expectedWeights: [Float] = [0.5065, 0.3072, 0.1863, third, third, third, 0.1863, 0.3072, 0.5065]
        expectClose(weights, expectedWeights, atol: 1e-4, rtol: 0, "weights rounded to 4 digits")
        expectClose(Array(result.output.scalars[0..<2]), [0.6601, 0.3399], atol: 1e-4, rtol: 0, "output of the first token")
        for row in 0..<3 {
            let sum = weights[(row * 3)..<(row * 3 + 3)].reduce(0, +)
            #expect(abs(sum - 1) < 1e-6, "row \(row) sums to \(sum)")
        }
    }
}
