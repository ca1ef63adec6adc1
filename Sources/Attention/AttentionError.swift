import Foundation

/// An error thrown by the public API when an argument is invalid.
///
/// Every public entry point validates its arguments before it does any work
/// and throws this error instead of trapping. The message names the argument,
/// the expected and the actual value, and what to change.
public struct AttentionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The category of a validation failure.
    public enum Kind: String, Equatable, Sendable {
        /// A tensor has the wrong rank, or a dimension has the wrong size.
        case invalidShape
        /// Two arguments disagree on a dimension they share.
        case shapeMismatch
        /// A view addresses elements outside its storage, or its strides
        /// cannot be used for the requested operation.
        case invalidView
        /// An output view overlaps an input or another output.
        case overlappingOutput
        /// A scalar argument is out of its valid range.
        case invalidValue
        /// A size, stride or count does not fit the integers a BLAS or
        /// LAPACK call takes, or the total size overflows `Int`.
        case sizeLimitExceeded
        /// The combination of options is not supported by the requested path.
        case unsupported
        /// A LAPACK routine reported a failure.
        case lapackFailure
    }

    /// The category of the failure.
    public let kind: Kind
    /// The name of the argument that failed validation, for example `query`.
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

/// Formats a shape as `[2, 8, 16, 64]` for error messages.
func describeShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

/// `a + b`, or `Int.max` when the sum overflows; for size estimates that a
/// caller then compares against a limit.
func saturatingSum(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : sum
}

/// `a · b` for non-negative operands, or `Int.max` when the product overflows.
func saturatingProduct(_ a: Int, _ b: Int) -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? Int.max : product
}

/// The maximum bytes one call allocates for scratch and index arrays: half
/// the machine's physical memory. Larger requests throw `sizeLimitExceeded`.
var scratchMemoryLimit: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory / 2) }

/// `a / b` rounded up, for `a >= 0` and `b > 0`, without the overflow of
/// `(a + b - 1) / b` near `Int.max`.
func ceilingDivision(_ a: Int, _ b: Int) -> Int {
    a / b + (a % b == 0 ? 0 : 1)
}
