/// An error reading a `.safetensors` file or a tensor in it.
///
/// The message names the file, the tensor when one is involved, what was
/// expected and what the file contains.
public struct SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The category of a failure.
    public enum Kind: String, Equatable, Sendable {
        /// The file could not be opened, measured or memory-mapped.
        case unreadableFile
        /// The 8-byte header length is missing, or the header it announces
        /// does not fit the file.
        case invalidHeaderLength
        /// The header is not well-formed JSON.
        case invalidJSON
        /// The header is JSON but not a valid safetensors header: not an
        /// object, or an entry lacks `dtype`, `shape` or `data_offsets` or
        /// has a field of the wrong type.
        case invalidHeader
        /// A `dtype` string that the safetensors format does not define.
        case unknownDType
        /// A dtype the format defines but this reader does not convert to
        /// float32 (integers, booleans, 8-bit floats).
        case unsupportedDType
        /// `data_offsets` are reversed, outside the data section, overlap
        /// another tensor, or leave bytes of the data section unused.
        case invalidOffsets
        /// The shape times the dtype size differs from the byte range.
        case sizeMismatch
        /// No tensor has the requested name.
        case tensorNotFound
        /// A tensor exists but has the wrong shape for its use.
        case shapeMismatch
    }

    /// The category of the failure.
    public let kind: Kind
    /// The path of the file.
    public let path: String
    /// The tensor involved, or `nil` for a failure of the whole file.
    public let tensor: String?
    /// The requirement the file or tensor failed.
    public let expected: String
    /// The value found in the file.
    public let actual: String
    /// A suggested fix, or an empty string.
    public let fix: String

    public init(_ kind: Kind, path: String, tensor: String? = nil, expected: String, actual: String, fix: String = "") {
        self.kind = kind
        self.path = path
        self.tensor = tensor
        self.expected = expected
        self.actual = actual
        self.fix = fix
    }

    public var description: String {
        var message = path
        if let tensor {
            message += ": tensor \"\(tensor)\""
        }
        message += ": expected \(expected), got \(actual)"
        if !fix.isEmpty {
            message += ". \(fix)"
        }
        return message
    }
}
