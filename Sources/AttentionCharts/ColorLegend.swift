/// Draws a vertical colour bar for `scale` with about `tickCount` ticks at
/// round values (see `linearTicks`),
/// its top-left corner at (`x`, `y`), and `title` above it.
///
/// The bar is a gradient through the scale's anchors, which matches the
/// cell colours because SVG interpolates gradients in sRGB by default.
/// Each tick is a `<g class="legend-tick">` holding a line and a label.
func colorLegend(
    scale: ColorScale, title: String, x: Double, y: Double, height: Double,
    tickCount: Int = 5, gradientID: String = "color-scale"
) -> SVGElement {
    let barWidth = 16.0
    var group = SVGElement("g", [("class", "color-legend")])

    var gradient = SVGElement("linearGradient", [
        ("id", gradientID), ("x1", "0"), ("y1", "1"), ("x2", "0"), ("y2", "0"),
    ])
    for (index, anchor) in scale.anchors.enumerated() {
        let offset = Double(index) / Double(scale.anchors.count - 1)
        gradient.append(SVGElement("stop", [
            ("offset", formatNumber(offset, maximumDecimals: 4)), ("stop-color", anchor.hexString),
        ]))
    }
    var definitions = SVGElement("defs")
    definitions.append(gradient)
    group.append(definitions)

    group.append(textElement(title, x: x, y: y - 10, size: 12, className: "legend-title"))
    group.append(rectElement(
        x: x, y: y, width: barWidth, height: height, fill: "url(#\(gradientID))",
        extra: [("stroke", "#444"), ("stroke-width", "0.5")]))

    let ticks = linearTicks(lower: scale.lowerBound, upper: scale.upperBound, targetCount: tickCount)
    let labelDecimals = decimals(forStep: ticks.count > 1 ? ticks[1] - ticks[0] : 1)
    for value in ticks {
        let tickY = y + height * (1 - scale.position(of: value))
        var tick = SVGElement("g", [("class", "legend-tick")])
        tick.append(lineElement(x1: x + barWidth, y1: tickY, x2: x + barWidth + 4, y2: tickY, stroke: "#444"))
        tick.append(textElement(
            formatNumber(value, maximumDecimals: labelDecimals), x: x + barWidth + 7, y: tickY + 4,
            size: 11))
        group.append(tick)
    }
    return group
}
