import Attention
import AttentionCharts
import Foundation

/// The `--plot DIR` charts: a sequence-length sweep timed on every path,
/// and the suite's throughput per shape next to the sgemm rate.
enum Plots {
    /// The sweep's fixed sizes: one batch item, 4 heads of 64 features.
    static let heads = 4
    static let dimension = 64

    /// The reference is timed up to this length. One call at L = 1024 took
    /// 0.6 s on two threads of a 2-core Zen 4 machine, and the time grows as L².
    static let referenceLengthLimit = 1024

    /// Times each path over the sweep and writes `scaling.svg` and
    /// `throughput.svg` into `directory`.
    ///
    /// - Parameters:
    ///   - results: the suite's results; shapes without both a tiled and a
    ///     materialized run on all threads are left out of the bar chart.
    ///   - sgemmGFLOPs: the all-thread sgemm rate of the same run.
    static func write(
        into directory: String, results: [ShapeResult], sgemmGFLOPs: Double, threadCount: Int, quick: Bool
    ) throws -> [String] {
        let lengths = quick ? [128, 256, 512, 1024] : [128, 256, 512, 1024, 2048, 4096]
        var series: [AttentionPath: [ChartPoint]] = [:]
        for length in lengths {
            progress("  plot sweep: L = \(length)")
            let queries = try CaseInputs.random([1, heads, length, dimension], seed: 11)
            let keys = try CaseInputs.random([1, heads, length, dimension], seed: 12)
            let values = try CaseInputs.random([1, heads, length, dimension], seed: 13)
            let output = try Tensor(shape: [1, heads, length, dimension], repeating: 0)
            for path in AttentionPath.allCases where path != .reference || length <= referenceLengthLimit {
                let options = ExecutionOptions(path: path, threadCount: threadCount)
                let count = path == .reference ? 1 : 5
                let milliseconds = try medianMilliseconds(repetitions: count) {
                    try scaledDotProductAttention(queries: queries, keys: keys, values: values, into: output, options: options)
                }
                series[path, default: []].append(ChartPoint(x: Double(length), y: milliseconds))
            }
        }
        let timings = AttentionPath.allCases.compactMap { path in
            series[path].map { ChartSeries(name: path == .reference ? "naive reference" : path.rawValue, points: $0) }
        }

        // Bars: shapes that ran both fast paths on all threads.
        func rate(_ result: ShapeResult, _ path: String) -> Double? {
            result.timings.first { $0.path == path && $0.threads == threadCount }?.gflops
        }
        let charted = results.filter { rate($0, "tiled") != nil && rate($0, "materialized") != nil }
        let left = results.count - charted.count
        if left > 0 {
            progress("  throughput.svg leaves out \(left) shape(s) without a materialized run")
        }
        let throughput = ["tiled", "materialized"].map { path in
            ChartSeries(name: path, points: charted.enumerated().map { ChartPoint(x: Double($0.offset), y: rate($0.element, path)!) })
        }
        return try BenchmarkCharts.write(
            timings: timings, shapeLabels: charted.map(\.name), throughput: throughput,
            sgemmGFLOPS: sgemmGFLOPs, into: directory)
    }
}
