import Attention
import Testing

@testable import AttentionCharts

@Test func embeddingShiftCounts() throws {
    let x = try Tensor(shape: [3, 2], scalars: [1, 0, 0.5, 0.5, 0, 1])
    let output = try selfAttention(x).output
    let parsed = try ParsedSVG(EmbeddingShiftPlot.render(
        inputs: EmbeddingShiftPlot.points(from: x, argument: "x"),
        outputs: EmbeddingShiftPlot.points(from: output, argument: "output"),
        labels: ["I", "love", "<coffee & \"tea\">"]))
    #expect(try parsed.elements(withClass: "input-point").count == 3)
    #expect(try parsed.elements(withClass: "output-point").count == 3)
    #expect(try parsed.texts(withClass: "point-label") == ["I", "love", "<coffee & \"tea\">"])
    #expect(try parsed.elements(withClass: "legend-entry").count == 3)
    #expect(try parsed.elements(withClass: "mean-marker").count == 1)
    // "love" sits on the mean and does not move, so it gets no arrow.
    #expect(try parsed.elements(withClass: "shift-arrow").count == 2)
}

@Test func embeddingShiftArrowDirection() throws {
    let inputs = [ChartPoint(x: 0, y: 0), ChartPoint(x: 4, y: 0)]
    let outputs = [ChartPoint(x: 1, y: 0), ChartPoint(x: 3, y: 0)]
    let parsed = try ParsedSVG(EmbeddingShiftPlot.render(inputs: inputs, outputs: outputs))
    let arrows = try parsed.elements(withClass: "shift-arrow")
    #expect(arrows.count == 2)
    let x1 = Double(arrows[0].value(of: "x1") ?? "") ?? .nan
    let x2 = Double(arrows[0].value(of: "x2") ?? "") ?? .nan
    #expect(x1 < x2)
    #expect(try parsed.texts(withClass: "point-label") == ["0", "1"])
}

@Test func embeddingShiftRejectsShape() throws {
    let x = try Tensor(shape: [3, 3], repeating: 1)
    expectChartError(.invalidShape, mentioning: ["x", "[N, 2]", "[3, 3]"]) {
        _ = try EmbeddingShiftPlot.points(from: x, argument: "x")
    }
}

@Test func embeddingShiftRejectsBadInput() throws {
    let points = [ChartPoint(x: 0, y: 0), ChartPoint(x: 1, y: 1)]
    expectChartError(.labelCountMismatch, mentioning: ["labels", "expected 2 tokens", "got 3 tokens"]) {
        _ = try EmbeddingShiftPlot.render(inputs: points, outputs: points, labels: ["a", "b", "c"])
    }
    expectChartError(.labelCountMismatch, mentioning: ["outputs"]) {
        _ = try EmbeddingShiftPlot.render(inputs: points, outputs: [points[0]])
    }
    expectChartError(.nonFiniteValue, mentioning: ["outputs", "row 1, column 0"]) {
        _ = try EmbeddingShiftPlot.render(inputs: points, outputs: [points[0], ChartPoint(x: .nan, y: 0)])
    }
    expectChartError(.emptyData, mentioning: ["inputs"]) {
        _ = try EmbeddingShiftPlot.render(inputs: [], outputs: [])
    }
}
