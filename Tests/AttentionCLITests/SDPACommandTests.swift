import AttentionIO
import Foundation
import Testing

/// Every `sdpa` and `sdpa_backward` case of the manifest. The CLI computes
/// the forward outputs (`out` and `lse`) of both operations.
let sdpaCases = Manifest.cases(operations: ["sdpa", "sdpa_backward"])

/// The `attention_core_blhd` cases: attention on `[B, L, H, D]` arrays.
let blhdCases = Manifest.cases(operations: ["attention_core_blhd"])

@Test func manifestHasSDPACases() {
    #expect(!sdpaCases.isEmpty, "no sdpa cases found in \(fixtureDirectory.path)/manifest.json")
    #expect(!blhdCases.isEmpty, "no attention_core_blhd cases found")
}

@Test(arguments: sdpaCases)
func sdpaFixture(_ fixture: FixtureCase) throws {
    let scratch = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outputPath = scratch.appendingPathComponent("out.npy").path
    let logSumExpPath = scratch.appendingPathComponent("lse.npy").path

    // 1. Build the command line from the case's inputs and parameters.
    var arguments = ["sdpa"]
    for (flag, input) in [("--query", "q"), ("--key", "k"), ("--value", "v")] {
        let path = try #require(fixture.inputPath(input), "\(fixture.name) has no input \(input)")
        arguments += [flag, path]
    }
    arguments += ["--output", outputPath]
    if fixture.params.scale_is_default != true {
        let scale = try #require(fixture.params.scale, "\(fixture.name) has no scale")
        arguments += ["--scale", String(scale)]
    }
    if let mask = fixture.inputPath("attn_mask") {
        arguments += ["--mask", mask]
    }
    if let keyPadding = fixture.inputPath("key_padding_mask") {
        arguments += ["--key-padding-mask", keyPadding]
    }
    if fixture.params.is_causal == true {
        let alignment = try #require(fixture.params.causal_alignment, "\(fixture.name) is causal without an alignment")
        arguments += ["--causal", alignment.replacingOccurrences(of: "_", with: "-")]
    } else if let causalMask = fixture.inputPath("causal_mask") {
        // A causal mask given only as an explicit bool array.
        arguments += ["--mask", causalMask]
    }
    if fixture.expected["lse"] != nil {
        arguments += ["--lse", logSumExpPath]
    }

    // 2. Run the tool.
    let run = try runTool(arguments)
    #expect(run.status == 0, "\(fixture.name): exit status \(run.status), stderr: \(run.standardError)")
    guard run.status == 0 else { return }

    // 3. Compare. A fully masked row is zero, so the expected files that
    //    define it as NaN document another policy and are skipped.
    let output = try NPYArray(contentsOfFile: outputPath)
    var compared = 0
    for (name, entry) in fixture.expected where name.hasPrefix("out") && !name.contains("nan") {
        #expect(output.shape == entry.shape, "\(fixture.name) \(name): shape \(output.shape), expected \(entry.shape)")
        let expected = try NPYArray(contentsOfFile: fixture.path(entry.file)).tensor().scalars
        expectClose(try output.tensor().scalars, expected, tolerance: fixture.tolerance(of: name), label: "\(fixture.name) \(name)")
        compared += 1
    }
    #expect(compared > 0, "\(fixture.name) has no expected output to compare")
    if let entry = fixture.expected["lse"] {
        let logSumExp = try NPYArray(contentsOfFile: logSumExpPath)
        #expect(logSumExp.shape == entry.shape, "\(fixture.name) lse: shape \(logSumExp.shape), expected \(entry.shape)")
        let expected = try NPYArray(contentsOfFile: fixture.path(entry.file)).tensor().scalars
        expectClose(try logSumExp.tensor().scalars, expected, tolerance: fixture.tolerance(of: "lse"), label: "\(fixture.name) lse")
    }
}

/// Runs a `[B, L, H, D]` case with `--layout blhd` and compares the context
/// (the output `[B, L, H, Dv]` merged to `[B, L, H·Dv]`) and, when `path`
/// can store them, the weights `[B, H, Lq, Lk]` with the expected probabilities.
@Test(arguments: blhdCases, ["reference", "materialized", "tiled"])
func sdpaLayoutBLHD(_ fixture: FixtureCase, path: String) throws {
    let scratch = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outputPath = scratch.appendingPathComponent("context.npy").path
    let weightsPath = scratch.appendingPathComponent("probs.npy").path
    let returnsWeights = path != "tiled"

    var arguments = ["sdpa", "--layout", "blhd", "--path", path, "--output", outputPath]
    for (flag, input) in [("--query", "q"), ("--key", "k"), ("--value", "v")] {
        let inputPath = try #require(fixture.inputPath(input), "\(fixture.name) has no input \(input)")
        arguments += [flag, inputPath]
    }
    if let keyPadding = fixture.inputPath("key_padding_mask") {
        arguments += ["--key-padding-mask", keyPadding]
    }
    if let scale = fixture.params.scale, fixture.params.scale_is_default == false {
        arguments += ["--scale", String(scale)]
    }
    if returnsWeights {
        arguments += ["--weights", weightsPath]
    }

    let run = try runTool(arguments)
    #expect(run.status == 0, "\(fixture.name) on \(path): exit status \(run.status), stderr: \(run.standardError)")
    guard run.status == 0 else { return }

    let context = try #require(fixture.expected["context"], "\(fixture.name) has no expected context")
    let output = try NPYArray(contentsOfFile: outputPath)
    let query = try NPYArray(contentsOfFile: try #require(fixture.inputPath("q")))
    #expect(output.shape.count == 4)
    #expect(Array(output.shape.prefix(3)) == Array(query.shape.prefix(3)), "output \(output.shape) is not [B, L, H, Dv] for query \(query.shape)")
    #expect(output.elementCount == context.shape.reduce(1, *))
    let expectedContext = try NPYArray(contentsOfFile: fixture.path(context.file)).tensor().scalars
    expectClose(try output.tensor().scalars, expectedContext, tolerance: fixture.tolerance(of: "context"), label: "\(fixture.name) context")

    if returnsWeights, let probabilities = fixture.expected["probs"] {
        let weights = try NPYArray(contentsOfFile: weightsPath)
        #expect(weights.shape == probabilities.shape, "weights \(weights.shape), expected \(probabilities.shape)")
        let expected = try NPYArray(contentsOfFile: fixture.path(probabilities.file)).tensor().scalars
        expectClose(try weights.tensor().scalars, expected, tolerance: fixture.tolerance(of: "probs"), label: "\(fixture.name) probs")
    }
}

@Test func sdpaPlanGoesToStandardError() throws {
    let scratch = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let fixture = try #require(sdpaCases.first)
    let run = try runTool([
        "sdpa", "--query", try #require(fixture.inputPath("q")), "--key", try #require(fixture.inputPath("k")),
        "--value", try #require(fixture.inputPath("v")), "--output", scratch.appendingPathComponent("out.npy").path,
        "--path", "reference", "--threads", "1", "--plan",
    ])
    #expect(run.status == 0, "stderr: \(run.standardError)")
    #expect(run.standardError.hasPrefix("plan: reference path, 1 thread"), "stderr: \(run.standardError)")
    #expect(run.standardOutput.isEmpty)
}

@Test func sdpaSgemmOnlyReachesThePlan() throws {
    let scratch = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let fixture = try #require(sdpaCases.first)
    func plan(_ extra: [String]) throws -> String {
        let run = try runTool([
            "sdpa", "--query", try #require(fixture.inputPath("q")), "--key", try #require(fixture.inputPath("k")),
            "--value", try #require(fixture.inputPath("v")), "--output", scratch.appendingPathComponent("out.npy").path,
            "--path", "tiled", "--plan",
        ] + extra)
        #expect(run.status == 0, "stderr: \(run.standardError)")
        return run.standardError
    }
    #expect(try plan(["--sgemm-only"]).contains("sgemm products only"))
    #expect(!(try plan([]).contains("sgemm products only")))
}
