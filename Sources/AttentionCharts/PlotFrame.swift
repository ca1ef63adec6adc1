/// The rectangle a chart draws data into, with the mapping from data to
/// pixels on each axis.
struct PlotFrame {
    let left: Double
    let top: Double
    let width: Double
    let height: Double
    /// Maps a data x value to a pixel column.
    let mapX: (Double) -> Double
    /// Maps a data y value to a pixel row.
    let mapY: (Double) -> Double

    var right: Double { left + width }
    var bottom: Double { top + height }

    /// Draws grid lines, ticks, tick labels and axis titles.
    func axes(
        xTicks: [(value: Double, label: String)], yTicks: [(value: Double, label: String)],
        xTitle: String, yTitle: String
    ) -> SVGElement {
        var group = SVGElement("g", [("class", "axes")])
        for tick in xTicks {
            let x = mapX(tick.value)
            group.append(lineElement(x1: x, y1: top, x2: x, y2: bottom, stroke: "#e3e3e3"))
            group.append(lineElement(x1: x, y1: bottom, x2: x, y2: bottom + 5, stroke: "#333"))
            group.append(textElement(tick.label, x: x, y: bottom + 18, size: 11, anchor: "middle", className: "x-tick-label"))
        }
        for tick in yTicks {
            let y = mapY(tick.value)
            group.append(lineElement(x1: left, y1: y, x2: right, y2: y, stroke: "#e3e3e3"))
            group.append(lineElement(x1: left - 5, y1: y, x2: left, y2: y, stroke: "#333"))
            group.append(textElement(tick.label, x: left - 8, y: y + 4, size: 11, anchor: "end", className: "y-tick-label"))
        }
        group.append(rectElement(
            x: left, y: top, width: width, height: height, fill: "none",
            extra: [("stroke", "#333"), ("stroke-width", "1")]))
        group.append(textElement(
            xTitle, x: left + width / 2, y: bottom + 40, size: 13, anchor: "middle", className: "axis-title"))
        let titleX = left - 58
        let titleY = top + height / 2
        group.append(textElement(
            yTitle, x: titleX, y: titleY, size: 13, anchor: "middle", className: "axis-title",
            extra: [("transform", "rotate(-90 \(formatCoordinate(titleX)) \(formatCoordinate(titleY)))")]))
        return group
    }
}

/// One row of a legend: a swatch drawn by `swatch` at the given centre, and
/// a label.
struct LegendEntry {
    let label: String
    let swatch: (_ x: Double, _ y: Double) -> SVGElement
}

/// Draws legend entries in a column with a light box behind them. Each
/// entry is a `<g class="legend-entry">`.
func legendBox(_ entries: [LegendEntry], x: Double, y: Double) -> SVGElement {
    let rowHeight = 20.0
    let width = 44 + (entries.map { estimatedTextWidth($0.label, size: 12) }.max() ?? 0)
    var group = SVGElement("g", [("class", "legend")])
    group.append(rectElement(
        x: x, y: y, width: width, height: rowHeight * Double(entries.count) + 8, fill: "white",
        extra: [("fill-opacity", "0.9"), ("stroke", "#999"), ("stroke-width", "0.5")]))
    for (index, entry) in entries.enumerated() {
        let rowY = y + 4 + rowHeight * (Double(index) + 0.5)
        var row = SVGElement("g", [("class", "legend-entry")])
        row.append(entry.swatch(x + 18, rowY))
        row.append(textElement(entry.label, x: x + 36, y: rowY + 4, size: 12))
        group.append(row)
    }
    return group
}
