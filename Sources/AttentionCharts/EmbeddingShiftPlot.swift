import Attention

/// A plot of 2-dimensional token vectors before and after self-attention,
/// with an arrow from each input to its output.
///
/// Both axes use the same pixels per unit, so distances and directions in
/// the picture are true to the vectors. A cross marks the mean of the
/// inputs: with a scale of 0, every output lands on it, and with larger
/// scales each output moves from there toward the inputs it attends most.
public enum EmbeddingShiftPlot {
    /// Converts a `[N, 2]` tensor into points.
    ///
    /// - Throws: `ChartError` for another shape, no rows, or NaN or infinite
    ///   coordinates (naming the row).
    public static func points(from tensor: Tensor, argument: String) throws -> [ChartPoint] {
        guard tensor.rank == 2, tensor.shape[1] == 2 else {
            throw ChartError(
                .invalidShape, argument: argument, expected: "shape [N, 2], one 2-dimensional point per token",
                actual: "shape \(describeShape(tensor.shape))",
                fix: "The plot draws 2-dimensional embeddings only")
        }
        let scalars = tensor.scalars.map(Double.init)
        try requireFinite(scalars, argument: argument) { "row \($0 / 2), column \($0 % 2)" }
        return stride(from: 0, to: scalars.count, by: 2).map { ChartPoint(x: scalars[$0], y: scalars[$0 + 1]) }
    }

    /// Draws each input point, its output point and an arrow between them.
    ///
    /// - Parameters:
    ///   - inputs: the `N` input vectors.
    ///   - outputs: the `N` self-attention outputs, in the same order.
    ///   - labels: `N` token labels, or `nil` for positions from 0.
    ///   - title: the caption above the plot.
    /// - Throws: `ChartError` for no points, different counts of inputs,
    ///   outputs or labels, and NaN or infinite coordinates.
    /// - Complexity: O(N) time and output size.
    public static func render(
        inputs: [ChartPoint], outputs: [ChartPoint], labels: [String]? = nil,
        title: String = "Self-attention moves each token"
    ) throws -> SVGDocument {
        guard !inputs.isEmpty else {
            throw ChartError(.emptyData, argument: "inputs", expected: "at least one point", actual: "none")
        }
        guard outputs.count == inputs.count else {
            throw ChartError(
                .labelCountMismatch, argument: "outputs", expected: "\(inputs.count) points, one per input",
                actual: "\(outputs.count) points")
        }
        let tokens = labels ?? (0..<inputs.count).map(String.init)
        guard tokens.count == inputs.count else {
            throw ChartError(
                .labelCountMismatch, argument: "labels", expected: "\(inputs.count) tokens, one per row",
                actual: "\(tokens.count) tokens", fix: "Pass exactly one token per input row")
        }
        for (name, points) in [("inputs", inputs), ("outputs", outputs)] {
            try requireFinite(points.flatMap { [$0.x, $0.y] }, argument: name) { "row \($0 / 2), column \($0 % 2)" }
        }

        let mean = ChartPoint(
            x: inputs.map(\.x).reduce(0, +) / Double(inputs.count),
            y: inputs.map(\.y).reduce(0, +) / Double(inputs.count))
        let all = inputs + outputs + [mean]
        var lowX = all.map(\.x).min()!, highX = all.map(\.x).max()!
        var lowY = all.map(\.y).min()!, highY = all.map(\.y).max()!
        // Equal units on both axes: widen the narrower range to the wider
        // one around its centre, then add a margin for labels.
        let span = max(highX - lowX, highY - lowY, 1e-6) * 1.3
        let centerX = (lowX + highX) / 2, centerY = (lowY + highY) / 2
        lowX = centerX - span / 2; highX = centerX + span / 2
        lowY = centerY - span / 2; highY = centerY + span / 2

        let side = 460.0
        let frame = PlotFrame(
            left: 80, top: 50, width: side, height: side,
            mapX: { 80 + ($0 - lowX) / (highX - lowX) * side },
            mapY: { 50 + side - ($0 - lowY) / (highY - lowY) * side })
        let xTicks = linearTicks(lower: lowX, upper: highX)
        let yTicks = linearTicks(lower: lowY, upper: highY)
        let xDecimals = decimals(forStep: xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1)
        let yDecimals = decimals(forStep: yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1)

        var document = SVGDocument(width: 790, height: 580, title: title)
        document.append(textElement(title, x: 80, y: 30, size: 16, weight: "bold", className: "figure-title"))
        document.append(frame.axes(
            xTicks: xTicks.map { ($0, formatNumber($0, maximumDecimals: xDecimals)) },
            yTicks: yTicks.map { ($0, formatNumber($0, maximumDecimals: yDecimals)) },
            xTitle: "dimension 0", yTitle: "dimension 1"))

        var definitions = SVGElement("defs")
        var marker = SVGElement("marker", [
            ("id", "arrowhead"), ("viewBox", "0 0 10 10"), ("refX", "9"), ("refY", "5"),
            ("markerWidth", "7"), ("markerHeight", "7"), ("orient", "auto-start-reverse"),
        ])
        marker.append(SVGElement("path", [("d", "M 0 0 L 10 5 L 0 10 z"), ("fill", "#555")]))
        definitions.append(marker)
        document.append(definitions)

        let meanX = frame.mapX(mean.x), meanY = frame.mapY(mean.y)
        var cross = SVGElement("g", [("class", "mean-marker")])
        cross.appendTitle("mean of the inputs: (\(formatNumber(mean.x, maximumDecimals: 4)), \(formatNumber(mean.y, maximumDecimals: 4)))")
        cross.append(lineElement(x1: meanX - 6, y1: meanY - 6, x2: meanX + 6, y2: meanY + 6, stroke: "#333", width: 2))
        cross.append(lineElement(x1: meanX - 6, y1: meanY + 6, x2: meanX + 6, y2: meanY - 6, stroke: "#333", width: 2))
        // The cross goes first so points drawn on the mean stay visible.
        document.append(cross)


        let inputColor = seriesColor(0)
        let outputColor = seriesColor(1)
        for index in inputs.indices {
            let start = (x: frame.mapX(inputs[index].x), y: frame.mapY(inputs[index].y))
            let end = (x: frame.mapX(outputs[index].x), y: frame.mapY(outputs[index].y))
            let label = tokens[index]
            var arrow = SVGElement("g", [("class", "shift")])
            arrow.appendTitle(
                "“\(label)”: (\(formatNumber(inputs[index].x, maximumDecimals: 4)), \(formatNumber(inputs[index].y, maximumDecimals: 4))) → (\(formatNumber(outputs[index].x, maximumDecimals: 4)), \(formatNumber(outputs[index].y, maximumDecimals: 4)))")
            // Stop the arrow short of both circles so its head stays visible.
            let dx = end.x - start.x, dy = end.y - start.y
            let length = (dx * dx + dy * dy).squareRoot()
            if length > 14 {
                let unitX = dx / length, unitY = dy / length
                var line = lineElement(
                    x1: start.x + unitX * 6, y1: start.y + unitY * 6, x2: end.x - unitX * 6, y2: end.y - unitY * 6,
                    stroke: "#555", width: 1.5, className: "shift-arrow")
                line.setAttribute("marker-end", "url(#arrowhead)")
                arrow.append(line)
            }
            arrow.append(SVGElement("circle", [
                ("cx", formatCoordinate(start.x)), ("cy", formatCoordinate(start.y)), ("r", "5"),
                ("fill", "white"), ("stroke", inputColor), ("stroke-width", "2"), ("class", "input-point"),
            ]))
            arrow.append(SVGElement("circle", [
                ("cx", formatCoordinate(end.x)), ("cy", formatCoordinate(end.y)), ("r", "5"),
                ("fill", outputColor), ("class", "output-point"),
            ]))
            arrow.append(textElement(label, x: start.x + 8, y: start.y - 8, size: 13, className: "point-label"))
            document.append(arrow)
        }

        document.append(legendBox([
            LegendEntry(label: "input vector") { x, y in
                SVGElement("circle", [("cx", formatCoordinate(x)), ("cy", formatCoordinate(y)), ("r", "5"),
                                      ("fill", "white"), ("stroke", inputColor), ("stroke-width", "2")])
            },
            LegendEntry(label: "self-attention output") { x, y in
                SVGElement("circle", [("cx", formatCoordinate(x)), ("cy", formatCoordinate(y)), ("r", "5"),
                                      ("fill", outputColor)])
            },
            LegendEntry(label: "mean of the inputs") { x, y in
                var group = SVGElement("g")
                group.append(lineElement(x1: x - 5, y1: y - 5, x2: x + 5, y2: y + 5, stroke: "#333", width: 2))
                group.append(lineElement(x1: x - 5, y1: y + 5, x2: x + 5, y2: y - 5, stroke: "#333", width: 2))
                return group
            },
        ], x: frame.right + 16, y: frame.top))
        return document
    }
}
