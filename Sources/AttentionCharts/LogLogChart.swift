import Foundation

/// A line chart with logarithmic x and y axes, for time against size.
///
/// Ticks fall on powers of 10 when an axis spans at least two decades and on
/// powers of 2 otherwise. An optional dashed guide line `y = c · x^k` passes
/// through the first point of the first series, so a series parallel to it
/// grows as `x^k`.
public struct LogLogChart: Sendable {
    /// The caption above the chart.
    public var title: String
    /// The x axis title with its unit, for example `sequence length L (tokens)`.
    public var xTitle: String
    /// The y axis title with its unit, for example `time per call (ms)`.
    public var yTitle: String
    /// The series to draw; every value must be positive and finite.
    public var series: [ChartSeries]
    /// The exponent of the guide line, or `nil` for none.
    public var guideExponent: Double?
    /// The legend label of the guide line.
    public var guideLabel: String

    public init(
        title: String, xTitle: String, yTitle: String, series: [ChartSeries],
        guideExponent: Double? = 2, guideLabel: String = "O(L²) guide"
    ) {
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.series = series
        self.guideExponent = guideExponent
        self.guideLabel = guideLabel
    }

    /// Draws the chart.
    ///
    /// - Throws: `ChartError` for no series, a series without points, and
    ///   zero, negative, NaN or infinite values.
    /// - Complexity: O(total points) time and output size.
    public func render() throws -> SVGDocument {
        guard !series.isEmpty else {
            throw ChartError(.emptyData, argument: "series", expected: "at least one series", actual: "none")
        }
        for (index, line) in series.enumerated() {
            guard !line.points.isEmpty else {
                throw ChartError(
                    .emptyData, argument: "series[\(index)] (\(line.name))", expected: "at least one point",
                    actual: "none")
            }
            for (pointIndex, point) in line.points.enumerated() {
                for (axis, value) in [("x", point.x), ("y", point.y)] {
                    guard value.isFinite else {
                        throw ChartError(
                            .nonFiniteValue, argument: "series[\(index)] (\(line.name))",
                            expected: "finite values", actual: "\(axis) = \(value) at point \(pointIndex)")
                    }
                    guard value > 0 else {
                        throw ChartError(
                            .nonPositiveValue, argument: "series[\(index)] (\(line.name))",
                            expected: "positive values on the logarithmic \(axis) axis",
                            actual: "\(axis) = \(value) at point \(pointIndex)",
                            fix: "Drop zero or negative measurements before drawing")
                    }
                }
            }
        }

        let points = series.flatMap(\.points)
        let xAxis = logarithmicTicks(lower: points.map(\.x).min()!, upper: points.map(\.x).max()!)
        let yAxis = logarithmicTicks(lower: points.map(\.y).min()!, upper: points.map(\.y).max()!)
        let frame = PlotFrame(
            left: 90, top: 50, width: 560, height: 380,
            mapX: { 90 + (log($0) - log(xAxis.lower)) / (log(xAxis.upper) - log(xAxis.lower)) * 560 },
            mapY: { 50 + 380 - (log($0) - log(yAxis.lower)) / (log(yAxis.upper) - log(yAxis.lower)) * 380 })

        var document = SVGDocument(width: 900, height: 500, title: title)
        document.append(textElement(title, x: frame.left, y: 30, size: 16, weight: "bold", className: "figure-title"))
        document.append(frame.axes(
            xTicks: xAxis.ticks.map { ($0, formatLogTick($0)) },
            yTicks: yAxis.ticks.map { ($0, formatLogTick($0)) },
            xTitle: xTitle, yTitle: yTitle))

        var definitions = SVGElement("defs")
        var clip = SVGElement("clipPath", [("id", "plot-area")])
        clip.append(rectElement(x: frame.left, y: frame.top, width: frame.width, height: frame.height, fill: "black"))
        definitions.append(clip)
        document.append(definitions)

        var legend: [LegendEntry] = []
        if let exponent = guideExponent {
            let anchor = series[0].points[0]
            let guideY = { (x: Double) in anchor.y * pow(x / anchor.x, exponent) }
            var guide = SVGElement("polyline", [
                ("points", [xAxis.lower, xAxis.upper].map {
                    "\(formatCoordinate(frame.mapX($0))),\(formatCoordinate(frame.mapY(guideY($0))))"
                }.joined(separator: " ")),
                ("fill", "none"), ("stroke", "#777"), ("stroke-width", "1.5"), ("stroke-dasharray", "6 4"),
                ("clip-path", "url(#plot-area)"), ("class", "guide-line"),
            ])
            guide.appendTitle(guideLabel)
            document.append(guide)
            legend.append(LegendEntry(label: guideLabel) { x, y in
                lineElement(x1: x - 12, y1: y, x2: x + 12, y2: y, stroke: "#777", width: 1.5, dash: "6 4")
            })
        }

        for (index, line) in series.enumerated() {
            let color = seriesColor(index)
            var group = SVGElement("g", [("class", "series")])
            group.append(SVGElement("polyline", [
                ("points", line.points.map {
                    "\(formatCoordinate(frame.mapX($0.x))),\(formatCoordinate(frame.mapY($0.y)))"
                }.joined(separator: " ")),
                ("fill", "none"), ("stroke", color), ("stroke-width", "2"),
            ]))
            for point in line.points {
                var marker = SVGElement("circle", [
                    ("cx", formatCoordinate(frame.mapX(point.x))), ("cy", formatCoordinate(frame.mapY(point.y))),
                    ("r", "3.5"), ("fill", color), ("class", "data-point"),
                ])
                marker.appendTitle("\(line.name): x = \(formatNumber(point.x, maximumDecimals: 4)), y = \(String(format: "%.4g", point.y))")
                group.append(marker)
            }
            document.append(group)
            legend.insert(LegendEntry(label: line.name) { x, y in
                var swatch = SVGElement("g")
                swatch.append(lineElement(x1: x - 12, y1: y, x2: x + 12, y2: y, stroke: color, width: 2))
                swatch.append(SVGElement("circle", [
                    ("cx", formatCoordinate(x)), ("cy", formatCoordinate(y)), ("r", "3.5"), ("fill", color),
                ]))
                return swatch
            }, at: index)
        }
        document.append(legendBox(legend, x: frame.right + 16, y: frame.top))
        return document
    }
}
