/// A named sequence of points, drawn as one line or one colour of bars.
public struct ChartSeries: Equatable, Sendable {
    /// The name shown in the legend, for example `tiled`.
    public var name: String
    /// The points in drawing order.
    public var points: [ChartPoint]

    public init(name: String, points: [ChartPoint]) {
        self.name = name
        self.points = points
    }

    /// Creates a series from parallel arrays of x and y values.
    ///
    /// - Throws: `ChartError` of kind `labelCountMismatch` when the arrays
    ///   differ in length.
    public init(name: String, x: [Double], y: [Double]) throws {
        guard x.count == y.count else {
            throw ChartError(
                .labelCountMismatch, argument: "y", expected: "\(x.count) values, one per x value",
                actual: "\(y.count) values")
        }
        self.init(name: name, points: zip(x, y).map { ChartPoint(x: $0, y: $1) })
    }
}
