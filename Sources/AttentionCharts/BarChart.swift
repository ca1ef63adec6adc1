import Foundation

/// A grouped bar chart with a linear y axis from 0, for rates per
/// configuration, with an optional dashed reference line.
///
/// Each group is one configuration (for example a shape) and holds one bar
/// per series (for example a kernel path). Series `i` gives its value for
/// group `g` as `values[i][g]`.
public struct BarChart: Sendable {
    /// The caption above the chart.
    public var title: String
    /// The y axis title with its unit, for example `throughput (GFLOP/s)`.
    public var yTitle: String
    /// The label under each group of bars.
    public var groupLabels: [String]
    /// The series names shown in the legend.
    public var seriesNames: [String]
    /// `values[series][group]`; every value must be finite and non-negative.
    public var values: [[Double]]
    /// A value drawn as a dashed horizontal line across all groups, with its
    /// legend label, or `nil` for none.
    public var reference: (label: String, value: Double)?

    public init(
        title: String, yTitle: String, groupLabels: [String], seriesNames: [String], values: [[Double]],
        reference: (label: String, value: Double)? = nil
    ) {
        self.title = title
        self.yTitle = yTitle
        self.groupLabels = groupLabels
        self.seriesNames = seriesNames
        self.values = values
        self.reference = reference
    }

    /// Draws the chart.
    ///
    /// - Throws: `ChartError` for no groups or series, a series whose value
    ///   count differs from the group count, and negative, NaN or infinite
    ///   values.
    /// - Complexity: O(series · groups) time and output size.
    public func render() throws -> SVGDocument {
        guard !groupLabels.isEmpty else {
            throw ChartError(.emptyData, argument: "groupLabels", expected: "at least one group", actual: "none")
        }
        guard !seriesNames.isEmpty else {
            throw ChartError(.emptyData, argument: "seriesNames", expected: "at least one series", actual: "none")
        }
        guard values.count == seriesNames.count else {
            throw ChartError(
                .labelCountMismatch, argument: "values", expected: "\(seriesNames.count) rows, one per series",
                actual: "\(values.count) rows")
        }
        for (index, row) in values.enumerated() {
            guard row.count == groupLabels.count else {
                throw ChartError(
                    .labelCountMismatch, argument: "values[\(index)] (\(seriesNames[index]))",
                    expected: "\(groupLabels.count) values, one per group", actual: "\(row.count) values")
            }
            try requireFinite(row, argument: "values[\(index)] (\(seriesNames[index]))") { "group \($0)" }
            if let negative = row.firstIndex(where: { $0 < 0 }) {
                throw ChartError(
                    .invalidValue, argument: "values[\(index)] (\(seriesNames[index]))",
                    expected: "non-negative values", actual: "\(row[negative]) at group \(negative)")
            }
        }
        if let reference {
            guard reference.value.isFinite, reference.value >= 0 else {
                throw ChartError(
                    .invalidValue, argument: "reference", expected: "a finite non-negative value",
                    actual: "\(reference.value)")
            }
        }

        let largest = max(values.flatMap { $0 }.max() ?? 0, reference?.value ?? 0)
        let ticks = linearTicks(lower: 0, upper: largest > 0 ? largest * 1.05 : 1)
        var upper = ticks.last!
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        if upper < largest * 1.05 { upper += step }
        let allTicks = linearTicks(lower: 0, upper: upper)

        let plotWidth = max(420, Double(groupLabels.count) * (Double(seriesNames.count) * 22 + 30))
        let frame = PlotFrame(
            left: 90, top: 50, width: plotWidth, height: 340,
            mapX: { 90 + $0 }, mapY: { 50 + 340 - $0 / upper * 340 })
        let groupWidth = plotWidth / Double(groupLabels.count)
        let barWidth = min(28, groupWidth * 0.8 / Double(seriesNames.count))

        var legend = seriesNames.enumerated().map { index, name in
            LegendEntry(label: name) { x, y in
                rectElement(x: x - 8, y: y - 6, width: 16, height: 12, fill: seriesColor(index))
            }
        }
        let legendWidth = 60 + (seriesNames + [reference?.label ?? ""]).map { estimatedTextWidth($0, size: 12) }.max()!
        var document = SVGDocument(width: frame.right + 16 + legendWidth + 16, height: 480, title: title)
        document.append(textElement(title, x: frame.left, y: 30, size: 16, weight: "bold", className: "figure-title"))
        document.append(frame.axes(
            xTicks: [], yTicks: allTicks.map { ($0, formatNumber($0, maximumDecimals: decimals(forStep: step))) },
            xTitle: "", yTitle: yTitle))

        for (group, label) in groupLabels.enumerated() {
            let groupLeft = frame.left + Double(group) * groupWidth
            let barsLeft = groupLeft + (groupWidth - barWidth * Double(seriesNames.count)) / 2
            for (index, name) in seriesNames.enumerated() {
                let value = values[index][group]
                let top = frame.mapY(value)
                var bar = rectElement(
                    x: barsLeft + Double(index) * barWidth, y: top, width: barWidth - 2,
                    height: frame.bottom - top, fill: seriesColor(index), className: "bar")
                bar.appendTitle("\(label), \(name): \(String(format: "%.4g", value))")
                document.append(bar)
            }
            let labelX = groupLeft + groupWidth / 2
            let labelY = frame.bottom + 16
            document.append(textElement(
                label, x: labelX, y: labelY, size: 11, anchor: "end", className: "group-label",
                extra: [("transform", "rotate(-25 \(formatCoordinate(labelX)) \(formatCoordinate(labelY)))")]))
        }

        if let reference {
            let y = frame.mapY(reference.value)
            var line = lineElement(
                x1: frame.left, y1: y, x2: frame.right, y2: y, stroke: "#222", width: 1.5, dash: "6 4",
                className: "reference-line")
            line.setAttribute("fill", "none")
            var group = SVGElement("g", [("class", "reference")])
            group.appendTitle("\(reference.label): \(String(format: "%.4g", reference.value))")
            group.append(line)
            document.append(group)
            legend.append(LegendEntry(label: reference.label) { x, y in
                lineElement(x1: x - 12, y1: y, x2: x + 12, y2: y, stroke: "#222", width: 1.5, dash: "6 4")
            })
        }
        document.append(legendBox(legend, x: frame.right + 16, y: frame.top))
        return document
    }
}
