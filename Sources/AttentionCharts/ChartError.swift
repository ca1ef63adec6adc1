/// An error thrown when chart input cannot be drawn.
///
/// The message names the argument, the expected and the actual value, and
/// what to change.
public struct ChartError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The category of a chart input failure.
    public enum Kind: String, Equatable, Sendable {
        /// A tensor has a rank or a dimension the chart cannot draw.
        case invalidShape
        /// A value is NaN or infinite.
        case nonFiniteValue
        /// A value is zero or negative on a logarithmic axis.
        case nonPositiveValue
        /// The number of labels differs from the number of rows, columns
        /// or points.
        case labelCountMismatch
        /// There is nothing to draw.
        case emptyData
        /// An index or another scalar argument is out of range.
        case invalidValue
        /// Writing a file failed.
        case writeFailed
    }

    /// The category of the failure.
    public let kind: Kind
    /// The name of the argument that failed, for example `weights`.
    public let argument: String
    /// The condition the argument must satisfy.
    public let expected: String
    /// The value the argument had.
    public let actual: String
    /// The change that fixes the call, or an empty string.
    public let fix: String

    public init(_ kind: Kind, argument: String, expected: String, actual: String, fix: String = "") {
        self.kind = kind
        self.argument = argument
        self.expected = expected
        self.actual = actual
        self.fix = fix
    }

    public var description: String {
        var message = "\(argument): expected \(expected), got \(actual)"
        if !fix.isEmpty {
            message += ". \(fix)"
        }
        return message
    }
}

/// Formats a shape as `[2, 8, 16]` for error messages.
func describeShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
