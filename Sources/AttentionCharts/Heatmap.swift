import Attention
import Foundation

/// One matrix to draw as a heatmap: rows are queries, columns are keys.
public struct HeatmapPanel: Sendable {
    /// The caption above the matrix, for example `head 3`.
    public let title: String
    /// The number of rows (queries).
    public let rowCount: Int
    /// The number of columns (keys).
    public let columnCount: Int
    /// `[rowCount, columnCount]` in row-major order.
    public let values: [Float]

    /// Creates a panel after checking that `values` fills the matrix.
    ///
    /// - Throws: `ChartError` of kind `invalidShape` when `values.count`
    ///   differs from `rowCount · columnCount`.
    public init(title: String, rowCount: Int, columnCount: Int, values: [Float]) throws {
        guard rowCount >= 0, columnCount >= 0, values.count == rowCount * columnCount else {
            throw ChartError(
                .invalidShape, argument: "values",
                expected: "\(rowCount) × \(columnCount) values in row-major order",
                actual: "\(values.count) values")
        }
        self.title = title
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.values = values
    }
}

/// Heatmaps of attention weights, one panel per head, in SVG.
///
/// Rows are queries and columns are keys. All panels share one colour scale
/// from `min(0, smallest value)` to the largest value, so panels can be
/// compared by colour, and one legend explains it.
///
/// Token labels must match the matrix exactly: a list with more or fewer
/// tokens than rows or columns is an error rather than padded with indices,
/// because a shifted label would mislabel every cell after it. Without
/// tokens the axes show positions from 0.
public enum Heatmap {
    /// Longest label drawn in full; longer labels are cut with an ellipsis on
    /// the axis and shown in full in the cell tooltips.
    public static let maximumLabelLength = 16

    /// Splits attention weights into one panel per selected head.
    ///
    /// - Parameters:
    ///   - weights: `[Lq, Lk]`, `[H, Lq, Lk]` or `[B, H, Lq, Lk]`.
    ///   - batch: the batch item to draw from rank-4 weights; `nil` means 0.
    ///     It must be `nil` for lower ranks.
    ///   - heads: the heads to draw, in order; `nil` means all heads. It must
    ///     be `nil` or `[0]` for rank-2 weights.
    /// - Throws: `ChartError` for another rank, an empty dimension, a batch
    ///   or head index out of range, a repeated head, and for NaN or
    ///   infinite weights (naming the index in `weights`).
    /// - Complexity: O(heads · Lq · Lk) time and memory.
    public static func panels(weights: Tensor, batch: Int? = nil, heads: [Int]? = nil) throws -> [HeatmapPanel] {
        var heads3D: Tensor
        var prefix: [Int] = []
        switch weights.rank {
        case 2:
            if let batch {
                throw ChartError(
                    .invalidValue, argument: "batch", expected: "no batch index for [Lq, Lk] weights",
                    actual: "\(batch)", fix: "Omit the batch index")
            }
            heads3D = try weights.unsqueezed(axis: 0)
        case 3:
            if let batch {
                throw ChartError(
                    .invalidValue, argument: "batch", expected: "no batch index for [H, Lq, Lk] weights",
                    actual: "\(batch)", fix: "Omit the batch index")
            }
            heads3D = weights
        case 4:
            let item = batch ?? 0
            guard (0..<weights.shape[0]).contains(item) else {
                throw ChartError(
                    .invalidValue, argument: "batch", expected: "an index in 0..<\(weights.shape[0])",
                    actual: "\(item)")
            }
            heads3D = try weights.selecting(axis: 0, index: item)
            prefix = [item]
        default:
            throw ChartError(
                .invalidShape, argument: "weights",
                expected: "rank 2 [Lq, Lk], rank 3 [H, Lq, Lk] or rank 4 [B, H, Lq, Lk]",
                actual: "rank \(weights.rank) \(describeShape(weights.shape))")
        }

        let headCount = heads3D.shape[0]
        let rowCount = heads3D.shape[1]
        let columnCount = heads3D.shape[2]
        guard headCount > 0, rowCount > 0, columnCount > 0 else {
            throw ChartError(
                .emptyData, argument: "weights", expected: "at least one head, query and key",
                actual: "shape \(describeShape(weights.shape))")
        }

        let selected = heads ?? Array(0..<headCount)
        guard !selected.isEmpty else {
            throw ChartError(.emptyData, argument: "heads", expected: "at least one head index", actual: "an empty list")
        }
        if let outside = selected.first(where: { !(0..<headCount).contains($0) }) {
            throw ChartError(
                .invalidValue, argument: "heads", expected: "indices in 0..<\(headCount)",
                actual: "\(outside)")
        }
        if Set(selected).count != selected.count {
            throw ChartError(
                .invalidValue, argument: "heads", expected: "each head at most once",
                actual: selected.map(String.init).joined(separator: ","))
        }

        let showsHeadIndex = weights.rank > 2
        return try selected.map { head in
            let matrix = try heads3D.selecting(axis: 0, index: head)
            let values = matrix.scalars
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                let headIndex = weights.rank > 2 ? [head] : []
                let index = prefix + headIndex + [bad / columnCount, bad % columnCount]
                throw ChartError(
                    .nonFiniteValue, argument: "weights", expected: "finite weights",
                    actual: "\(values[bad]) at index \(describeShape(index))",
                    fix: "Attention weights are finite; check how the file was produced")
            }
            return try HeatmapPanel(
                title: showsHeadIndex ? "head \(head)" : "attention weights",
                rowCount: rowCount, columnCount: columnCount, values: values)
        }
    }

    /// Draws `panels` in a grid with token labels, tooltips and a legend.
    ///
    /// - Parameters:
    ///   - panels: matrices of one common shape `[Lq, Lk]`.
    ///   - queryTokens: `Lq` row labels, or `nil` for positions.
    ///   - keyTokens: `Lk` column labels, or `nil` for positions.
    ///   - title: the caption of the whole figure.
    ///   - gridColumns: panels per grid row; `nil` picks about a square grid.
    /// - Throws: `ChartError` for no panels, panels of different shapes, NaN
    ///   or infinite values, and token counts that differ from `Lq` or `Lk`.
    /// - Complexity: O(panels · Lq · Lk) time and output size.
    public static func render(
        _ panels: [HeatmapPanel], queryTokens: [String]? = nil, keyTokens: [String]? = nil,
        title: String = "Attention weights", gridColumns: Int? = nil
    ) throws -> SVGDocument {
        guard let first = panels.first else {
            throw ChartError(.emptyData, argument: "panels", expected: "at least one panel", actual: "none")
        }
        let rowCount = first.rowCount
        let columnCount = first.columnCount
        guard rowCount > 0, columnCount > 0 else {
            throw ChartError(
                .emptyData, argument: "panels", expected: "at least one row and one column",
                actual: "\(rowCount) × \(columnCount)")
        }
        for (index, panel) in panels.enumerated() where panel.rowCount != rowCount || panel.columnCount != columnCount {
            throw ChartError(
                .invalidShape, argument: "panels[\(index)]",
                expected: "\(rowCount) × \(columnCount) like the first panel",
                actual: "\(panel.rowCount) × \(panel.columnCount)")
        }
        for (index, panel) in panels.enumerated() {
            try requireFinite(panel.values.map(Double.init), argument: "panels[\(index)].values") {
                "row \($0 / columnCount), column \($0 % columnCount)"
            }
        }
        let columnLabels = try labels(keyTokens, count: columnCount, argument: "keyTokens", axis: "key columns")
        let rowLabels = try labels(queryTokens, count: rowCount, argument: "queryTokens", axis: "query rows")
        if let gridColumns, gridColumns < 1 {
            throw ChartError(.invalidValue, argument: "gridColumns", expected: "at least 1", actual: "\(gridColumns)")
        }

        let allValues = panels.flatMap(\.values)
        let scale = ColorScale(
            lowerBound: min(0, Double(allValues.min()!)), upperBound: Double(allValues.max()!))
        let layout = Layout(
            rowCount: rowCount, columnCount: columnCount,
            rowLabels: rowLabels, columnLabels: columnLabels,
            panelCount: panels.count, gridColumns: gridColumns)

        var document = SVGDocument(width: layout.width, height: layout.height, title: title)
        document.append(textElement(title, x: layout.margin, y: 24, size: 16, weight: "bold", className: "figure-title"))
        for (index, panel) in panels.enumerated() {
            let origin = layout.panelOrigin(index)
            document.append(drawPanel(
                panel, at: origin, layout: layout, scale: scale,
                rowLabels: rowLabels, columnLabels: columnLabels))
        }
        document.append(colorLegend(
            scale: scale, title: "weight", x: layout.legendX, y: layout.legendY,
            height: layout.legendHeight))
        return document
    }

    /// Draws the selected heads of `weights`; see `panels(weights:batch:heads:)`
    /// and `render(_:queryTokens:keyTokens:title:gridColumns:)`.
    public static func render(
        weights: Tensor, batch: Int? = nil, heads: [Int]? = nil,
        queryTokens: [String]? = nil, keyTokens: [String]? = nil, title: String = "Attention weights"
    ) throws -> SVGDocument {
        let panels = try panels(weights: weights, batch: batch, heads: heads)
        return try render(panels, queryTokens: queryTokens, keyTokens: keyTokens, title: title)
    }

    private static func labels(_ tokens: [String]?, count: Int, argument: String, axis: String) throws -> [String] {
        guard let tokens else {
            return (0..<count).map(String.init)
        }
        guard tokens.count == count else {
            throw ChartError(
                .labelCountMismatch, argument: argument,
                expected: "\(count) tokens, one per \(axis == "query rows" ? "query row" : "key column")",
                actual: "\(tokens.count) tokens",
                fix: "Pass exactly one token per position, including padding tokens")
        }
        return tokens
    }

    /// Cuts `label` to `maximumLabelLength` characters with an ellipsis.
    static func shortened(_ label: String) -> String {
        label.count <= maximumLabelLength ? label : String(label.prefix(maximumLabelLength - 1)) + "…"
    }

    private static func drawPanel(
        _ panel: HeatmapPanel, at origin: (x: Double, y: Double), layout: Layout, scale: ColorScale,
        rowLabels: [String], columnLabels: [String]
    ) -> SVGElement {
        let cell = layout.cellSize
        let gridX = origin.x + layout.rowLabelWidth
        let gridY = origin.y + layout.panelTitleHeight + layout.columnLabelHeight
        let fontSize = layout.labelFontSize
        var group = SVGElement("g", [("class", "heatmap-panel")])
        group.append(textElement(
            panel.title, x: gridX + cell * Double(panel.columnCount) / 2, y: origin.y + 16,
            size: 14, anchor: "middle", weight: "bold", className: "panel-title"))

        for (column, label) in columnLabels.enumerated() {
            let x = gridX + (Double(column) + 0.5) * cell
            let y = gridY - 4
            group.append(textElement(
                shortened(label), x: x, y: y, size: fontSize, className: "column-label",
                extra: [("transform", "rotate(-60 \(formatCoordinate(x)) \(formatCoordinate(y)))")]))
        }
        for (row, label) in rowLabels.enumerated() {
            group.append(textElement(
                shortened(label), x: gridX - 4, y: gridY + (Double(row) + 0.5) * cell + fontSize * 0.35,
                size: fontSize, anchor: "end", className: "row-label"))
        }

        for row in 0..<panel.rowCount {
            for column in 0..<panel.columnCount {
                let value = panel.values[row * panel.columnCount + column]
                var rect = rectElement(
                    x: gridX + Double(column) * cell, y: gridY + Double(row) * cell,
                    width: cell, height: cell, fill: scale.color(for: Double(value)).hexString,
                    className: "cell")
                rect.appendTitle(
                    "\(panel.title): query \(row) “\(rowLabels[row])” → key \(column) “\(columnLabels[column])” = \(formatNumber(Double(value), maximumDecimals: 4))")
                group.append(rect)
            }
        }
        group.append(rectElement(
            x: gridX, y: gridY, width: cell * Double(panel.columnCount), height: cell * Double(panel.rowCount),
            fill: "none", extra: [("stroke", "#444"), ("stroke-width", "0.75")]))
        group.append(textElement(
            "keys →", x: gridX, y: gridY + cell * Double(panel.rowCount) + 16, size: 11,
            className: "axis-title"))
        let queryX = origin.x + 10
        let queryY = gridY + cell * Double(panel.rowCount)
        group.append(textElement(
            "queries →", x: queryX, y: queryY, size: 11, className: "axis-title",
            extra: [("transform", "rotate(-90 \(formatCoordinate(queryX)) \(formatCoordinate(queryY)))")]))
        return group
    }

    /// Sizes and positions of the panels, labels and legend.
    private struct Layout {
        let margin = 16.0
        let figureTitleHeight = 36.0
        let panelTitleHeight = 24.0
        let panelGap = 24.0
        let cellSize: Double
        let labelFontSize: Double
        let rowLabelWidth: Double
        let columnLabelHeight: Double
        let panelWidth: Double
        let panelHeight: Double
        let gridColumns: Int
        let gridRows: Int

        init(
            rowCount: Int, columnCount: Int, rowLabels: [String], columnLabels: [String],
            panelCount: Int, gridColumns requestedColumns: Int?
        ) {
            // Cells shrink as the sequence grows, and as more panels share
            // the figure, so a grid of 12 heads of 16 tokens stays about
            // 1300 pixels wide; they never shrink below 4 pixels.
            let panelBudget = panelCount == 1 ? 480.0 : panelCount <= 4 ? 320 : 240
            cellSize = min(28, max(4, panelBudget / Double(max(rowCount, columnCount))))
            labelFontSize = min(12, max(5, cellSize * 0.75))
            let longestRow = rowLabels.map { Heatmap.shortened($0).count }.max() ?? 1
            let longestColumn = columnLabels.map { Heatmap.shortened($0).count }.max() ?? 1
            rowLabelWidth = 22 + Double(longestRow) * labelFontSize * 0.62
            // Column labels are rotated by 60 degrees, so their height is
            // sin(60°) ≈ 0.87 of their length.
            columnLabelHeight = 10 + Double(longestColumn) * labelFontSize * 0.62 * 0.87
            panelWidth = rowLabelWidth + cellSize * Double(columnCount)
            panelHeight = panelTitleHeight + columnLabelHeight + cellSize * Double(rowCount) + 22
            gridColumns = min(panelCount, requestedColumns ?? Int(Double(panelCount).squareRoot().rounded(.up)))
            gridRows = (panelCount + gridColumns - 1) / gridColumns
        }

        var legendX: Double { margin + Double(gridColumns) * (panelWidth + panelGap) + 8 }
        var legendY: Double { figureTitleHeight + panelTitleHeight + columnLabelHeight + 16 }
        var legendHeight: Double { max(120, min(240, panelHeight - panelTitleHeight - columnLabelHeight - 22)) }
        var width: Double { legendX + 70 }
        var height: Double {
            max(figureTitleHeight + Double(gridRows) * (panelHeight + panelGap) + margin,
                legendY + legendHeight + 20)
        }

        func panelOrigin(_ index: Int) -> (x: Double, y: Double) {
            let column = index % gridColumns
            let row = index / gridColumns
            return (margin + Double(column) * (panelWidth + panelGap),
                    figureTitleHeight + Double(row) * (panelHeight + panelGap))
        }
    }
}
