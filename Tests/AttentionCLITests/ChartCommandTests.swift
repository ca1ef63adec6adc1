import Attention
import AttentionIO
import Foundation
import FoundationXML
import Testing

/// An SVG file written by the tool, parsed back with libxml2 so that
/// malformed XML fails the test.
struct SVGFile {
    let document: XMLDocument

    init(path: String) throws {
        document = try XMLDocument(contentsOf: URL(fileURLWithPath: path), options: [])
    }

    /// The name of the root element.
    var rootName: String? {
        document.rootElement()?.name
    }

    /// Returns the elements whose `class` attribute is `className`.
    func elements(withClass className: String) throws -> [XMLElement] {
        try document.nodes(forXPath: "//*[@class='\(className)']").compactMap { $0 as? XMLElement }
    }

    /// Returns the text content of the elements whose `class` attribute is `className`.
    func texts(withClass className: String) throws -> [String] {
        try elements(withClass: className).map { $0.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }
    }
}

/// Writes `scalars` with `shape` as a float32 `.npy` file in `directory`
/// and returns its path.
func writeArray(_ scalars: [Float], shape: [Int], named name: String, in directory: URL) throws -> String {
    let path = directory.appendingPathComponent(name).path
    try NPYArray(Tensor(shape: shape, scalars: scalars)).write(toFile: path)
    return path
}

/// Returns `count` weights in (0, 1) that differ from each other.
func sampleWeights(count: Int) -> [Float] {
    (0..<count).map { Float($0 % 11 + 1) / 12 }
}

@Test func heatmapDrawsEveryHead() throws {
    let scratch = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    // [H = 2, Lq = 3, Lk = 4]: distinct query and key labels.
    let weights = try writeArray(sampleWeights(count: 24), shape: [2, 3, 4], named: "w.npy", in: scratch)
    let output = scratch.appendingPathComponent("heatmap.svg").path
    let keyTokens = ["<s>", "a&b", "\"q\"", "café"]

    let run = try runTool([
        "heatmap", "--weights", weights, "--tokens", keyTokens.joined(separator: " "),
        "--query-tokens", "x y z", "--output", output,
    ])

    #expect(run.status == 0, "stderr: \(run.standardError)")
    let svg = try SVGFile(path: output)
    #expect(svg.rootName == "svg")
    #expect(try svg.elements(withClass: "cell").count == 2 * 3 * 4)
    #expect(try svg.texts(withClass: "panel-title") == ["head 0", "head 1"])
    #expect(try svg.texts(withClass: "column-label") == keyTokens + keyTokens)
    #expect(try svg.texts(withClass: "row-label") == ["x", "y", "z", "x", "y", "z"])
}

@Test func heatmapSelectsBatchAndHeads() throws {
    let scratch = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    // [B = 2, H = 4, Lq = Lk = 3]: the key labels also label the queries.
    let weights = try writeArray(sampleWeights(count: 72), shape: [2, 4, 3, 3], named: "w.npy", in: scratch)
    let tokensFile = scratch.appendingPathComponent("tokens.txt")
    try Data("I\nlove\nhot coffee\n".utf8).write(to: tokensFile)
    let output = scratch.appendingPathComponent("heatmap.svg").path

    let run = try runTool([
        "heatmap", "--weights", weights, "--batch", "1", "--heads", "3,1",
        "--tokens-file", tokensFile.path, "--output", output,
    ])

    #expect(run.status == 0, "stderr: \(run.standardError)")
    let svg = try SVGFile(path: output)
    #expect(svg.rootName == "svg")
    #expect(try svg.elements(withClass: "cell").count == 2 * 3 * 3)
    #expect(try svg.texts(withClass: "panel-title") == ["head 3", "head 1"])
    #expect(try svg.texts(withClass: "row-label") == ["I", "love", "hot coffee", "I", "love", "hot coffee"])
}

@Test func embedShiftDrawsOneArrowPerToken() throws {
    let scratch = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    // With scale 0 every output is the mean (2, 2), far from each corner.
    let input = try writeArray([0, 0, 4, 0, 0, 4, 4, 4], shape: [4, 2], named: "x.npy", in: scratch)
    let output = scratch.appendingPathComponent("shift.svg").path
    let tokens = ["north", "east", "south", "<west>"]

    let run = try runTool([
        "embed-shift", "--input", input, "--tokens", tokens.joined(separator: " "), "--scale", "0", "--output", output,
    ])

    #expect(run.status == 0, "stderr: \(run.standardError)")
    let svg = try SVGFile(path: output)
    #expect(svg.rootName == "svg")
    #expect(try svg.elements(withClass: "shift").count == 4)
    #expect(try svg.elements(withClass: "shift-arrow").count == 4)
    #expect(try svg.elements(withClass: "input-point").count == 4)
    #expect(try svg.elements(withClass: "output-point").count == 4)
    #expect(try svg.texts(withClass: "point-label") == tokens)
}

@Test func embedShiftOutputsMeetAtMean() throws {
    let scratch = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let input = try writeArray([0, 0, 4, 0, 0, 4, 4, 4], shape: [4, 2], named: "x.npy", in: scratch)
    let output = scratch.appendingPathComponent("shift.svg").path

    let run = try runTool(["embed-shift", "--input", input, "--scale", "0", "--output", output])

    #expect(run.status == 0, "stderr: \(run.standardError)")
    let points = try SVGFile(path: output).elements(withClass: "output-point")
    let centres = Set(points.map { point in
        ["cx", "cy"].map { name in point.attributes?.first { $0.name == name }?.stringValue ?? "" }
    })
    #expect(points.count == 4)
    #expect(centres.count == 1, "outputs at \(centres), expected one shared point")
}
