import AttentionIO
import Foundation
import Testing

let selfAttentionCases = Manifest.cases(operations: ["self_attention_unscaled"])

@Test func manifestHasSelfAttentionCases() {
    #expect(!selfAttentionCases.isEmpty, "no self_attention_unscaled cases found")
}

@Test(arguments: selfAttentionCases)
func selfFixture(_ fixture: FixtureCase) throws {
    let scratch = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outputPath = scratch.appendingPathComponent("out.npy").path
    let weightsPath = scratch.appendingPathComponent("weights.npy").path

    var arguments = ["self", "--input", try #require(fixture.inputPath("x")), "--output", outputPath, "--weights", weightsPath]
    if let scale = fixture.params.scale, scale != 1 {
        arguments += ["--scale", String(scale)]
    }
    let run = try runTool(arguments)
    #expect(run.status == 0, "\(fixture.name): exit status \(run.status), stderr: \(run.standardError)")
    guard run.status == 0 else { return }

    for (name, path) in [("out", outputPath), ("weights", weightsPath)] {
        let entry = try #require(fixture.expected[name], "\(fixture.name) has no expected \(name)")
        let actual = try NPYArray(contentsOfFile: path)
        #expect(actual.shape == entry.shape, "\(fixture.name) \(name): shape \(actual.shape), expected \(entry.shape)")
        let expected = try NPYArray(contentsOfFile: fixture.path(entry.file)).tensor().scalars
        expectClose(try actual.tensor().scalars, expected, tolerance: fixture.tolerance(of: name), label: "\(fixture.name) \(name)")
    }
}
