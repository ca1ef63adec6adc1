import Attention
import Foundation
import Testing

@testable import AttentionCharts

/// `[H, Lq, Lk]` weights whose rows sum to 1, different per head.
func sampleWeights(heads: Int, queries: Int, keys: Int) throws -> Tensor {
    var scalars: [Float] = []
    for head in 0..<heads {
        for query in 0..<queries {
            let raw = (0..<keys).map { Float(1 + (head + query + $0) % 3) }
            let sum = raw.reduce(0, +)
            scalars += raw.map { $0 / sum }
        }
    }
    return try Tensor(shape: [heads, queries, keys], scalars: scalars)
}

@Test(arguments: [(1, 3, 3), (2, 4, 5), (5, 2, 7)])
func heatmapCounts(heads: Int, queries: Int, keys: Int) throws {
    let weights = try sampleWeights(heads: heads, queries: queries, keys: keys)
    let parsed = try ParsedSVG(Heatmap.render(weights: weights))
    #expect(try parsed.elements(withClass: "heatmap-panel").count == heads)
    #expect(try parsed.elements(withClass: "cell").count == heads * queries * keys)
    #expect(try parsed.elements(withClass: "row-label").count == heads * queries)
    #expect(try parsed.elements(withClass: "column-label").count == heads * keys)
    #expect(try parsed.texts(withClass: "panel-title") == (0..<heads).map { "head \($0)" })
    #expect(try parsed.elements(withClass: "color-legend").count == 1)
}

@Test func heatmapLegendTicks() throws {
    // Weights from 0 to 1 give ticks at 0, 0.2, 0.4, 0.6, 0.8 and 1.
    let weights = try Tensor(shape: [2, 2], scalars: [1, 0, 0.5, 0.5])
    let parsed = try ParsedSVG(Heatmap.render(weights: weights))
    let ticks = try parsed.elements(withClass: "legend-tick").map { $0.stringValue ?? "" }
    #expect(ticks == ["0", "0.2", "0.4", "0.6", "0.8", "1"])
    #expect(try parsed.texts(withClass: "panel-title") == ["attention weights"])
}

@Test func heatmapCellTooltips() throws {
    let weights = try Tensor(shape: [2, 2], scalars: [0.25, 0.75, 1, 0])
    let parsed = try ParsedSVG(Heatmap.render(weights: weights, queryTokens: ["a", "b"], keyTokens: ["c", "d"]))
    let titles = try parsed.titles(withClass: "cell")
    #expect(titles.count == 4)
    #expect(titles[1].contains("query 0 “a” → key 1 “d” = 0.75"))
    #expect(titles[2].hasSuffix("= 1"))
    let fills = try parsed.elements(withClass: "cell").map { $0.value(of: "fill") }
    #expect(fills[2] == ColorScale.viridisAnchors.last!.hexString)
    #expect(fills[3] == ColorScale.viridisAnchors.first!.hexString)
}

@Test func heatmapEscapesTokens() throws {
    let tokens = ["<s>", "a&b", "\"q\"", "it's", "café", "東京"]
    let weights = try sampleWeights(heads: 1, queries: 6, keys: 6).selecting(axis: 0, index: 0)
    let document = try Heatmap.render(weights: weights, queryTokens: tokens, keyTokens: tokens)
    let parsed = try ParsedSVG(document)
    #expect(try parsed.texts(withClass: "row-label") == tokens)
    #expect(try parsed.texts(withClass: "column-label") == tokens)
    #expect(parsed.text.contains("&lt;s&gt;"))
    #expect(parsed.text.contains("a&amp;b"))
    #expect(parsed.text.contains("東京"))
    #expect(!parsed.text.contains("<s>"))
}

@Test func heatmapShortensLongTokens() throws {
    let long = String(repeating: "x", count: 40)
    let weights = try Tensor(shape: [1, 1], scalars: [1])
    let parsed = try ParsedSVG(Heatmap.render(weights: weights, queryTokens: [long], keyTokens: [long]))
    let label = try #require(parsed.texts(withClass: "row-label").first)
    #expect(label.count == Heatmap.maximumLabelLength)
    #expect(label.hasSuffix("…"))
    #expect(try parsed.titles(withClass: "cell").first?.contains(long) == true)
}

@Test func heatmapBatchAndHeads() throws {
    let first = try sampleWeights(heads: 3, queries: 2, keys: 2).scalars
    let second = first.map { 1 - $0 }
    let weights = try Tensor(shape: [2, 3, 2, 2], scalars: first + second)
    let panels = try Heatmap.panels(weights: weights, batch: 1, heads: [2, 0])
    #expect(panels.map(\.title) == ["head 2", "head 0"])
    #expect(panels[0].values == Array(second[8..<12]))
    #expect(panels[1].values == Array(second[0..<4]))
    #expect(try Heatmap.panels(weights: weights).count == 3)
}

@Test(arguments: [[4], [2, 2, 2, 2, 2], []])
func heatmapRejectsRank(shape: [Int]) throws {
    let count = shape.reduce(1, *)
    let weights = try Tensor(shape: shape, scalars: [Float](repeating: 0.5, count: count))
    expectChartError(.invalidShape, mentioning: ["weights", "rank 2 [Lq, Lk]", "rank \(shape.count)"]) {
        _ = try Heatmap.render(weights: weights)
    }
}

@Test(arguments: [Float.nan, .infinity, -.infinity])
func heatmapRejectsNonFinite(bad: Float) throws {
    var scalars = [Float](repeating: 0.25, count: 2 * 3 * 4 * 4)
    scalars[1 * 48 + 2 * 16 + 3 * 4 + 1] = bad
    let weights = try Tensor(shape: [2, 3, 4, 4], scalars: scalars)
    expectChartError(.nonFiniteValue, mentioning: ["weights", "[1, 2, 3, 1]"]) {
        _ = try Heatmap.render(weights: weights, batch: 1)
    }
    #expect(throws: Never.self) { _ = try Heatmap.render(weights: weights, batch: 0) }
}

@Test(arguments: [2, 4])
func heatmapRejectsTokenCount(count: Int) throws {
    let weights = try Tensor(shape: [3, 3], repeating: 1.0 / 3)
    let tokens = (0..<count).map { "t\($0)" }
    expectChartError(.labelCountMismatch, mentioning: ["keyTokens", "expected 3 tokens", "got \(count) tokens"]) {
        _ = try Heatmap.render(weights: weights, keyTokens: tokens)
    }
    expectChartError(.labelCountMismatch, mentioning: ["queryTokens", "expected 3 tokens", "got \(count) tokens"]) {
        _ = try Heatmap.render(weights: weights, queryTokens: tokens)
    }
}

@Test func heatmapRejectsBadIndices() throws {
    let weights = try Tensor(shape: [2, 3, 2, 2], repeating: 0.5)
    expectChartError(.invalidValue, mentioning: ["batch", "0..<2", "got 2"]) {
        _ = try Heatmap.panels(weights: weights, batch: 2)
    }
    expectChartError(.invalidValue, mentioning: ["heads", "0..<3", "got 3"]) {
        _ = try Heatmap.panels(weights: weights, heads: [0, 3])
    }
    expectChartError(.invalidValue, mentioning: ["heads", "at most once"]) {
        _ = try Heatmap.panels(weights: weights, heads: [1, 1])
    }
    expectChartError(.emptyData, mentioning: ["heads"]) {
        _ = try Heatmap.panels(weights: weights, heads: [])
    }
    expectChartError(.invalidValue, mentioning: ["batch", "no batch index"]) {
        _ = try Heatmap.panels(weights: weights.selecting(axis: 0, index: 0), batch: 0)
    }
}

@Test func heatmapRejectsEmpty() throws {
    let weights = try Tensor(shape: [2, 0, 3], repeating: 0)
    expectChartError(.emptyData, mentioning: ["weights", "[2, 0, 3]"]) {
        _ = try Heatmap.render(weights: weights)
    }
    expectChartError(.emptyData, mentioning: ["panels"]) {
        _ = try Heatmap.render([])
    }
}

@Test func heatmapRealMiniLMHead() throws {
    // Probabilities [3, 12, 16, 16] of a real MiniLM layer; item 0 is
    // "I love coffee." with six real tokens and ten padding tokens.
    let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    let data = try Data(contentsOf: fixtures.appendingPathComponent("minilm_layer2_attention_core/probs.npy"))
    let headerLength = Int(data[8]) | Int(data[9]) << 8
    let payload = data.dropFirst(10 + headerLength)
    let scalars = payload.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    let weights = try Tensor(shape: [3, 12, 16, 16], scalars: scalars)
    let tokens = ["[CLS]", "i", "love", "coffee", ".", "[SEP]"] + Array(repeating: "[PAD]", count: 10)
    let parsed = try ParsedSVG(
        Heatmap.render(weights: weights, batch: 0, heads: [3], queryTokens: tokens, keyTokens: tokens))
    #expect(try parsed.elements(withClass: "cell").count == 256)
    #expect(try parsed.texts(withClass: "column-label") == tokens)
    // Padded keys are masked out, so their cells take the lowest colour.
    let fills = try parsed.elements(withClass: "cell").map { $0.value(of: "fill") ?? "" }
    let lowest = ColorScale.viridisAnchors.first!.hexString
    for row in 0..<16 {
        for column in 6..<16 {
            #expect(fills[row * 16 + column] == lowest, "row \(row), column \(column)")
        }
    }
}
