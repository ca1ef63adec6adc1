import Foundation

/// The two benchmark pictures, built from plain arrays so a benchmark can
/// draw its results without this module knowing its types.
public enum BenchmarkCharts {
    /// Writes `scaling.svg` and `throughput.svg` into `directory`.
    ///
    /// - Parameters:
    ///   - timings: one series per kernel path; x is the sequence length in
    ///     tokens and y the median time per call in milliseconds.
    ///   - shapeLabels: one label per benchmarked shape, for example
    ///     `B1 H8 L1024 D64`.
    ///   - throughput: one series per kernel path with one GFLOP/s value per
    ///     shape, in the order of `shapeLabels`; the x values are ignored.
    ///   - sgemmGFLOPS: the measured sgemm rate, drawn as a reference line,
    ///     or `nil`.
    ///   - directory: an existing directory; files there are replaced.
    /// - Returns: the paths of the two files written.
    /// - Throws: `ChartError` for invalid data (see `LogLogChart.render()`
    ///   and `BarChart.render()`) or when a file cannot be written.
    @discardableResult
    public static func write(
        timings: [ChartSeries], shapeLabels: [String], throughput: [ChartSeries], sgemmGFLOPS: Double?,
        into directory: String
    ) throws -> [String] {
        let scaling = try LogLogChart(
            title: "Attention time against sequence length",
            xTitle: "sequence length L (tokens)", yTitle: "median time per call (ms)",
            series: timings
        ).render()
        let rates = try BarChart(
            title: "Attention throughput per shape",
            yTitle: "throughput (GFLOP/s)", groupLabels: shapeLabels,
            seriesNames: throughput.map(\.name), values: throughput.map { $0.points.map(\.y) },
            reference: sgemmGFLOPS.map { (label: "sgemm rate", value: $0) }
        ).render()

        let base = URL(fileURLWithPath: directory)
        let paths = [
            base.appendingPathComponent("scaling.svg").path,
            base.appendingPathComponent("throughput.svg").path,
        ]
        try writeSVG(scaling, toPath: paths[0])
        try writeSVG(rates, toPath: paths[1])
        return paths
    }
}
