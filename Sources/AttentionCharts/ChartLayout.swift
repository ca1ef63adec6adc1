import Foundation

/// A point in data coordinates.
public struct ChartPoint: Equatable, Sendable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// Colours for categorical series, chosen to stay distinguishable for the
/// common forms of colour blindness (the Okabe–Ito palette).
let seriesColors: [String] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
]

/// Returns the colour of series `index`, repeating the palette when there
/// are more series than colours.
func seriesColor(_ index: Int) -> String {
    seriesColors[index % seriesColors.count]
}

/// Returns evenly spaced tick values covering `lower...upper` with a step of
/// 1, 2 or 5 times a power of ten, about `targetCount` of them.
func linearTicks(lower: Double, upper: Double, targetCount: Int = 5) -> [Double] {
    let span = upper - lower
    guard span > 0, span.isFinite else { return [lower] }
    let rawStep = span / Double(max(targetCount, 1))
    let magnitude = pow(10, floor(log10(rawStep)))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rawStep } ?? 10 * magnitude
    var ticks: [Double] = []
    var tick = (lower / step).rounded(.down) * step
    while tick <= upper + step * 1e-9 {
        if tick >= lower - step * 1e-9 {
            // Snap to the step grid so labels read 0.3, not 0.30000000000000004.
            ticks.append((tick / step).rounded() * step)
        }
        tick += step
    }
    return ticks
}

/// Returns the number of decimals needed to tell ticks `step` apart.
func decimals(forStep step: Double) -> Int {
    guard step > 0, step.isFinite else { return 0 }
    return max(0, Int(-floor(log10(step) + 1e-9)))
}

/// Ticks for a logarithmic axis: powers of 10 when the data spans at least
/// two decades, otherwise powers of 2. The returned bounds are the outermost
/// ticks, so the axis starts and ends on a labelled power.
func logarithmicTicks(lower: Double, upper: Double) -> (ticks: [Double], lower: Double, upper: Double) {
    let lowDecade = floor(log10(lower))
    let highDecade = ceil(log10(upper))
    if log10(upper / lower) >= 2 {
        let ticks = stride(from: lowDecade, through: highDecade, by: 1).map { pow(10, $0) }
        return (ticks, ticks.first!, ticks.last!)
    }
    var lowOctave = floor(log2(lower))
    var highOctave = ceil(log2(upper))
    if lowOctave == highOctave {
        lowOctave -= 1
        highOctave += 1
    }
    let ticks = stride(from: lowOctave, through: highOctave, by: 1).map { pow(2, $0) }
    return (ticks, ticks.first!, ticks.last!)
}

/// Formats a tick on a logarithmic axis: plain digits from 0.001 to
/// 1 000 000, and `10⁷`-style powers outside that range.
func formatLogTick(_ value: Double) -> String {
    if value >= 0.001 && value <= 1_000_000 {
        return formatNumber(value, maximumDecimals: 6)
    }
    let exponent = Int(log10(value).rounded())
    let superscripts: [Character: Character] = [
        "-": "⁻", "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴",
        "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹",
    ]
    if abs(pow(10, Double(exponent)) - value) <= value * 1e-9 {
        return "10" + String(String(exponent).map { superscripts[$0]! })
    }
    return String(format: "%.3g", value)
}

/// Builds a `<text>` element.
func textElement(
    _ text: String, x: Double, y: Double, size: Double = 12, anchor: String = "start",
    weight: String? = nil, className: String? = nil, extra: [(String, String)] = []
) -> SVGElement {
    var attributes: [(String, String)] = [
        ("x", formatCoordinate(x)), ("y", formatCoordinate(y)),
        ("font-size", formatCoordinate(size)), ("text-anchor", anchor),
    ]
    if let weight { attributes.append(("font-weight", weight)) }
    if let className { attributes.append(("class", className)) }
    return SVGElement("text", attributes + extra, text: text)
}

/// Builds a `<line>` element.
func lineElement(
    x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1,
    dash: String? = nil, className: String? = nil
) -> SVGElement {
    var attributes: [(String, String)] = [
        ("x1", formatCoordinate(x1)), ("y1", formatCoordinate(y1)),
        ("x2", formatCoordinate(x2)), ("y2", formatCoordinate(y2)),
        ("stroke", stroke), ("stroke-width", formatCoordinate(width)),
    ]
    if let dash { attributes.append(("stroke-dasharray", dash)) }
    if let className { attributes.append(("class", className)) }
    return SVGElement("line", attributes)
}

/// Builds a `<rect>` element.
func rectElement(
    x: Double, y: Double, width: Double, height: Double, fill: String,
    className: String? = nil, extra: [(String, String)] = []
) -> SVGElement {
    var attributes: [(String, String)] = [
        ("x", formatCoordinate(x)), ("y", formatCoordinate(y)),
        ("width", formatCoordinate(width)), ("height", formatCoordinate(height)),
        ("fill", fill),
    ]
    if let className { attributes.append(("class", className)) }
    return SVGElement("rect", attributes + extra)
}

/// Estimates the width of `text` in pixels at `size`, for layout only.
/// NOTE: 0.6 em per character fits Latin text in common sans-serif fonts;
/// CJK and emoji labels are wider and can overlap their neighbours.
func estimatedTextWidth(_ text: String, size: Double) -> Double {
    Double(text.count) * size * 0.6
}

/// Checks that every value is finite and throws naming the first one that
/// is not.
func requireFinite(_ values: [Double], argument: String, position: (Int) -> String) throws {
    if let index = values.firstIndex(where: { !$0.isFinite }) {
        throw ChartError(
            .nonFiniteValue, argument: argument, expected: "finite values",
            actual: "\(values[index]) at \(position(index))",
            fix: "Remove or replace NaN and infinite values before drawing")
    }
}
