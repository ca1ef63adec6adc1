/// An error thrown when a `.npy` file cannot be read, converted or written.
///
/// The message names the file and the problem, for example
/// `q.npy: truncated data: the shape [2, 3] of '<f4' needs 24 bytes, the file has 20`.
public struct NPYError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The category of a failure.
    public enum Kind: String, Equatable, Sendable {
        /// The file could not be opened, read, written or renamed.
        case fileSystem
        /// The file does not start with the `.npy` magic string.
        case notNPY
        /// The format version is not 1.0, 2.0 or 3.0.
        case unsupportedVersion
        /// The file ends inside the preamble, the header or the data.
        case truncated
        /// The header is not a valid dictionary with the keys `descr`,
        /// `fortran_order` and `shape`.
        case malformedHeader
        /// The dtype is valid NumPy but not one this reader handles, for
        /// example an object, structured or complex dtype.
        case unsupportedDType
        /// The shape has a negative dimension, or its byte size overflows `Int`.
        case invalidShape
        /// The data size disagrees with the shape and dtype.
        case sizeMismatch
        /// The array cannot be converted to the requested element type
        /// without losing values.
        case conversion
    }

    /// The category of the failure.
    public let kind: Kind
    /// The path of the file, or a label such as `<memory>` for bytes that
    /// did not come from a file.
    public let file: String
    /// What is wrong, with the expected and the actual value where they apply.
    public let problem: String

    public init(_ kind: Kind, file: String, problem: String) {
        self.kind = kind
        self.file = file
        self.problem = problem
    }

    public var description: String {
        "\(file): \(problem)"
    }
}
