import AttentionIO
import Foundation
import Testing

/// Every attention-block case of the manifest: a real encoder layer's
/// weights in a `.safetensors` file with its inputs and outputs.
let attentionBlockCases = Manifest.cases(operations: ["bert_self_attention_block"])

@Test func manifestHasAttentionBlockCases() {
    #expect(!attentionBlockCases.isEmpty, "no bert_self_attention_block cases found in \(fixtureDirectory.path)/manifest.json")
}

/// Returns the name prefix of the attention block whose query weight has
/// the checkpoint name `queryWeightName`, for example `encoder.layer.2` for
/// `encoder.layer.2.attention.self.query.weight`.
func blockPrefix(queryWeightName: String) -> String? {
    for suffix in [".attention.self.query.weight", ".q_proj.weight"] where queryWeightName.hasSuffix(suffix) {
        return String(queryWeightName.dropLast(suffix.count))
    }
    return nil
}

@Test(arguments: attentionBlockCases)
func mhaFixture(_ fixture: FixtureCase) throws {
    let scratch = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outputs = ["attn_dense_out": "out.npy", "probs": "probs.npy", "context": "context.npy"]
        .mapValues { scratch.appendingPathComponent($0).path }

    // 1. Build the command line from the manifest: the weights file, the
    //    prefix of the query weight's checkpoint name and the head count.
    let weights = try #require(fixture.inputPath("weights_safetensors"), "\(fixture.name) has no .safetensors file")
    let queryWeightName = try #require(fixture.inputs["query_weight"]?.original_name, "\(fixture.name) has no query weight name")
    let prefix = try #require(blockPrefix(queryWeightName: queryWeightName), "unknown naming scheme: \(queryWeightName)")
    let heads = try #require(fixture.params.num_heads, "\(fixture.name) has no num_heads")
    let hidden = try #require(fixture.inputPath("hidden_states"), "\(fixture.name) has no hidden states")
    var arguments = [
        "mha", "--weights", weights, "--prefix", prefix, "--heads", String(heads), "--hidden", hidden,
        "--output", outputs["attn_dense_out"]!, "--probs", outputs["probs"]!, "--context", outputs["context"]!,
    ]
    if let keyPadding = fixture.inputPath("key_padding_mask") {
        arguments += ["--key-padding-mask", keyPadding]
    }
    if fixture.params.is_causal == true {
        let alignment = try #require(fixture.params.causal_alignment, "\(fixture.name) is causal without an alignment")
        arguments += ["--causal", alignment.replacingOccurrences(of: "_", with: "-")]
    }

    // 2. Run the tool.
    let run = try runTool(arguments)
    #expect(run.status == 0, "\(fixture.name): exit status \(run.status), stderr: \(run.standardError)")
    guard run.status == 0 else { return }

    // 3. Compare each output with the manifest's expected array.
    for (name, path) in outputs.sorted(by: { $0.key < $1.key }) {
        let entry = try #require(fixture.expected[name], "\(fixture.name) has no expected \(name)")
        let actual = try NPYArray(contentsOfFile: path)
        #expect(actual.shape == entry.shape, "\(fixture.name) \(name): shape \(actual.shape), expected \(entry.shape)")
        let expected = try NPYArray(contentsOfFile: fixture.path(entry.file)).tensor().scalars
        expectClose(try actual.tensor().scalars, expected, tolerance: fixture.tolerance(of: name), label: "\(fixture.name) \(name)")
    }
}

@Test func mhaWithoutOptionalOutputs() throws {
    let fixture = try #require(attentionBlockCases.first, "no bert_self_attention_block case")
    let scratch = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let queryWeightName = try #require(fixture.inputs["query_weight"]?.original_name)
    let prefix = try #require(blockPrefix(queryWeightName: queryWeightName))

    // A trailing dot on the prefix names the same block.
    let run = try runTool([
        "mha", "--weights", try #require(fixture.inputPath("weights_safetensors")), "--prefix", prefix + ".",
        "--heads", String(try #require(fixture.params.num_heads)),
        "--hidden", try #require(fixture.inputPath("hidden_states")),
        "--output", scratch.appendingPathComponent("out.npy").path,
    ])

    #expect(run.status == 0, "stderr: \(run.standardError)")
    #expect(run.standardError.isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["out.npy"])
    let expectedShape = try #require(fixture.expected["attn_dense_out"]?.shape)
    #expect(try NPYArray(contentsOfFile: scratch.appendingPathComponent("out.npy").path).shape == expectedShape)
}
