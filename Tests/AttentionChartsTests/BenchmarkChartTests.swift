import Foundation
import FoundationXML
import Testing

@testable import AttentionCharts

let lengths: [Double] = [128, 256, 512, 1024, 2048]

@Test func logLogCounts() throws {
    let series = [
        try ChartSeries(name: "reference", x: lengths, y: lengths.map { $0 * $0 * 1e-5 }),
        try ChartSeries(name: "tiled", x: lengths, y: lengths.map { $0 * $0 * 1e-7 }),
    ]
    let chart = LogLogChart(title: "t", xTitle: "L (tokens)", yTitle: "time (ms)", series: series)
    let parsed = try ParsedSVG(chart.render())
    #expect(try parsed.elements(withClass: "series").count == 2)
    #expect(try parsed.elements(withClass: "data-point").count == 10)
    #expect(try parsed.elements(withClass: "guide-line").count == 1)
    #expect(try parsed.elements(withClass: "legend-entry").map { $0.stringValue ?? "" } == ["reference", "tiled", "O(L²) guide"])
    // x spans less than two decades, so ticks are powers of 2.
    #expect(try parsed.texts(withClass: "x-tick-label") == ["128", "256", "512", "1024", "2048"])
    // y spans 0.0016 ms to 41.9 ms, so ticks are powers of 10.
    #expect(try parsed.texts(withClass: "y-tick-label") == ["0.001", "0.01", "0.1", "1", "10", "100"])
    #expect(try parsed.texts(withClass: "axis-title") == ["L (tokens)", "time (ms)"])
}

@Test func logTickLabels() {
    #expect(formatLogTick(1e-5) == "10⁻⁵")
    #expect(formatLogTick(1e7) == "10⁷")
    #expect(formatLogTick(0.5) == "0.5")
}

@Test(arguments: [0.0, -3.0])
func logLogRejectsNonPositive(bad: Double) throws {
    let series = [try ChartSeries(name: "tiled", x: [1, 2], y: [1, bad])]
    expectChartError(.nonPositiveValue, mentioning: ["series[0] (tiled)", "logarithmic y axis", "point 1"]) {
        _ = try LogLogChart(title: "t", xTitle: "x", yTitle: "y", series: series).render()
    }
}

@Test func logLogRejectsEmpty() throws {
    expectChartError(.emptyData, mentioning: ["series"]) {
        _ = try LogLogChart(title: "t", xTitle: "x", yTitle: "y", series: []).render()
    }
    expectChartError(.emptyData, mentioning: ["series[0] (a)"]) {
        _ = try LogLogChart(title: "t", xTitle: "x", yTitle: "y", series: [ChartSeries(name: "a", points: [])]).render()
    }
    expectChartError(.labelCountMismatch, mentioning: ["y", "2 values"]) {
        _ = try ChartSeries(name: "a", x: [1, 2], y: [1])
    }
}

@Test func barChartCounts() throws {
    let chart = BarChart(
        title: "t", yTitle: "throughput (GFLOP/s)", groupLabels: ["L512", "L1024", "L2048 & more"],
        seriesNames: ["materialized", "tiled"], values: [[10, 20, 30], [15, 25, 35]],
        reference: (label: "sgemm rate", value: 40))
    let parsed = try ParsedSVG(chart.render())
    #expect(try parsed.elements(withClass: "bar").count == 6)
    #expect(try parsed.texts(withClass: "group-label") == ["L512", "L1024", "L2048 & more"])
    #expect(try parsed.elements(withClass: "reference-line").count == 1)
    #expect(try parsed.elements(withClass: "legend-entry").map { $0.stringValue ?? "" } == ["materialized", "tiled", "sgemm rate"])
    let heights = try parsed.elements(withClass: "bar").map { Double($0.value(of: "height") ?? "") ?? .nan }
    // Bars go group by group: heights[2] is 20 and heights[0] is 10.
    #expect(abs(heights[2] / heights[0] - 2) < 0.01)
}

@Test func barChartRejectsBadValues() throws {
    expectChartError(.labelCountMismatch, mentioning: ["values[0] (a)", "2 values"]) {
        _ = try BarChart(title: "t", yTitle: "y", groupLabels: ["g", "h"], seriesNames: ["a"], values: [[1]]).render()
    }
    expectChartError(.nonFiniteValue, mentioning: ["values[0] (a)", "group 1"]) {
        _ = try BarChart(title: "t", yTitle: "y", groupLabels: ["g", "h"], seriesNames: ["a"], values: [[1, .nan]]).render()
    }
    expectChartError(.invalidValue, mentioning: ["non-negative"]) {
        _ = try BarChart(title: "t", yTitle: "y", groupLabels: ["g"], seriesNames: ["a"], values: [[-1]]).render()
    }
    expectChartError(.emptyData, mentioning: ["groupLabels"]) {
        _ = try BarChart(title: "t", yTitle: "y", groupLabels: [], seriesNames: ["a"], values: [[]]).render()
    }
}

@Test func benchmarkChartsWriteFiles() throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("attention-charts-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let timings = [try ChartSeries(name: "tiled", x: lengths, y: lengths.map { $0 * 1e-3 })]
    let throughput = [try ChartSeries(name: "tiled", x: [0, 1], y: [50, 60])]
    let paths = try BenchmarkCharts.write(
        timings: timings, shapeLabels: ["a", "b"], throughput: throughput, sgemmGFLOPS: 70,
        into: directory.path)
    #expect(paths.map { URL(fileURLWithPath: $0).lastPathComponent } == ["scaling.svg", "throughput.svg"])
    for path in paths {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(throws: Never.self) { _ = try XMLDocument(xmlString: text, options: []) }
    }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }
    #expect(leftovers.isEmpty)
}

@Test func writeSVGReportsMissingDirectory() throws {
    let document = SVGDocument(width: 1, height: 1, title: "t")
    expectChartError(.writeFailed, mentioning: ["output", "/nonexistent-attention-charts/x.svg"]) {
        try writeSVG(document, toPath: "/nonexistent-attention-charts/x.svg")
    }
}
