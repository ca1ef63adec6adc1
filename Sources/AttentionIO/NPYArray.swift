/// A NumPy array as stored in a `.npy` file: its dtype, shape, memory order
/// and raw data bytes.
///
/// The data keeps the file's byte order and memory order; the conversions
/// in `NPYArray+Conversion.swift` decode it into tensors or integers.
///
/// The format is NumPy's `.npy`, versions 1.0, 2.0 and 3.0. A file starts
/// with the magic string `\x93NUMPY`, a major and a minor version byte, and
/// the header length as a little-endian `UInt16` (version 1) or `UInt32`
/// (versions 2 and 3). The header dictionary follows, as Latin-1 text in
/// versions 1 and 2 and UTF-8 in version 3, and then the data.
public struct NPYArray: Sendable {
    /// The element type.
    public let dtype: NPYDType
    /// The size of each dimension; `[]` for a scalar.
    public let shape: [Int]
    /// Whether the data is in column-major (Fortran) order rather than
    /// row-major (C) order.
    public let isFortranOrder: Bool
    /// The element bytes, `elementCount · dtype.byteCount` of them.
    public let data: [UInt8]
    /// The file the array came from, used to label errors.
    public let source: String

    /// The number of elements, the product of `shape`.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Creates an array from raw element bytes.
    ///
    /// - Throws: `NPYError` when a dimension is negative, the size overflows
    ///   `Int`, or `data` does not hold exactly one element per index.
    public init(dtype: NPYDType, shape: [Int], isFortranOrder: Bool = false, data: [UInt8], source: String = "<memory>") throws {
        let byteCount = try Self.byteCount(of: shape, dtype: dtype, file: source)
        guard data.count == byteCount else {
            throw NPYError(
                .sizeMismatch, file: source,
                problem: "the shape \(describe(shape)) of '\(dtype.descr)' needs \(byteCount) data bytes, got \(data.count)")
        }
        self.dtype = dtype
        self.shape = shape
        self.isFortranOrder = isFortranOrder
        self.data = data
        self.source = source
    }

    /// Reads the `.npy` file at `path`.
    ///
    /// - Throws: `NPYError` naming `path` when the file cannot be read, is
    ///   not a `.npy` file, is truncated, has a malformed header or an
    ///   unsupported dtype, or contains a different number of data bytes than
    ///   its shape needs.
    /// - Complexity: O(file size) time and memory; nothing is allocated
    ///   beyond the file's own size.
    public init(contentsOfFile path: String) throws {
        try self.init(parsing: FileAccess.readBytes(atPath: path), source: path)
    }

    /// Parses the bytes of a `.npy` file; `source` labels errors.
    ///
    /// - Throws: `NPYError`, as `init(contentsOfFile:)`.
    public init(parsing bytes: [UInt8], source: String = "<memory>") throws {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.starts(with: magic) else {
            if bytes.count < magic.count && magic.starts(with: bytes) {
                throw NPYError(.truncated, file: source, problem: "truncated: the file has \(bytes.count) bytes, fewer than the 10-byte preamble")
            }
            throw NPYError(.notNPY, file: source, problem: "not a .npy file: expected the magic string \\x93NUMPY at the start")
        }
        guard bytes.count >= 8 else {
            throw NPYError(.truncated, file: source, problem: "truncated: the file ends inside the version bytes")
        }

        let major = bytes[6]
        let minor = bytes[7]
        guard (1...3).contains(major), minor == 0 else {
            throw NPYError(.unsupportedVersion, file: source, problem: "unsupported format version \(major).\(minor): expected 1.0, 2.0 or 3.0")
        }
        let lengthFieldSize = major == 1 ? 2 : 4
        let headerStart = 8 + lengthFieldSize
        guard bytes.count >= headerStart else {
            throw NPYError(.truncated, file: source, problem: "truncated: the file ends inside the header length field")
        }
        var headerLength = 0
        for index in 0..<lengthFieldSize {
            headerLength |= Int(bytes[8 + index]) << (8 * index)
        }
        let dataStart = headerStart + headerLength
        guard dataStart <= bytes.count else {
            throw NPYError(
                .truncated, file: source,
                problem: "truncated: the header length \(headerLength) reaches past the end of the \(bytes.count)-byte file")
        }

        let headerBytes = bytes[headerStart..<dataStart]
        let headerText: String
        if major == 3 {
            guard let text = String(validating: headerBytes, as: UTF8.self) else {
                throw NPYError(.malformedHeader, file: source, problem: "invalid header: the version 3.0 header is not valid UTF-8")
            }
            headerText = text
        } else {
            // Versions 1.0 and 2.0 store Latin-1: every byte is one code point.
            headerText = String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))
        }
        let header = try NPYHeader(parsing: headerText, file: source)

        let byteCount = try Self.byteCount(of: header.shape, dtype: header.dtype, file: source)
        let available = bytes.count - dataStart
        guard available >= byteCount else {
            throw NPYError(
                .truncated, file: source,
                problem: "truncated data: the shape \(describe(header.shape)) of '\(header.dtype.descr)' needs \(byteCount) bytes, the file has \(available)")
        }
        guard available == byteCount else {
            throw NPYError(
                .sizeMismatch, file: source,
                problem: "the shape \(describe(header.shape)) of '\(header.dtype.descr)' needs \(byteCount) data bytes, the file has \(available)")
        }

        dtype = header.dtype
        shape = header.shape
        isFortranOrder = header.isFortranOrder
        data = Array(bytes[dataStart...])
        self.source = source
    }

    /// Returns the data size in bytes, checking each step for overflow.
    ///
    /// The product of the non-zero dimensions must fit `Int` even when
    /// another dimension is zero, so that row-major strides can be computed.
    static func byteCount(of shape: [Int], dtype: NPYDType, file: String) throws -> Int {
        if let axis = shape.firstIndex(where: { $0 < 0 }) {
            throw NPYError(.invalidShape, file: file, problem: "invalid shape \(describe(shape)): dimension \(axis) is negative")
        }
        var product = dtype.byteCount
        for size in shape where size != 0 {
            let (next, overflow) = product.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw NPYError(.invalidShape, file: file, problem: "invalid shape \(describe(shape)): the size in bytes overflows a 64-bit integer")
            }
            product = next
        }
        return shape.contains(0) ? 0 : product
    }
}

/// Formats a shape as `[2, 3]` for messages.
func describe(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
