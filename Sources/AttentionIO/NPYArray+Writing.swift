import Attention

/// The `.npy` format versions. They differ only in the header: version 1.0
/// has a `UInt16` header length and Latin-1 text, 2.0 a `UInt32` length,
/// and 3.0 a `UInt32` length and UTF-8 text.
public enum NPYVersion: UInt8, Sendable, CaseIterable {
    case version1 = 1
    case version2 = 2
    case version3 = 3
}

extension NPYArray {
    /// Creates a little-endian float32 array holding the elements of `tensor`
    /// in row-major order, whatever the tensor's strides.
    public init(_ tensor: Tensor) throws {
        let scalars = tensor.scalars
        let bytes = scalars.withUnsafeBytes { buffer in
            // The format stores little endian; convert on a big-endian host.
            1.littleEndian == 1 ? Array(buffer) : scalars.flatMap { value in
                withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
            }
        }
        try self.init(dtype: .float32, shape: tensor.shape, data: bytes)
    }

    /// Creates a bool array holding the elements of `tensor` in row-major
    /// order, one byte (0 or 1) per element.
    public init(_ tensor: BoolTensor) throws {
        try self.init(dtype: .bool, shape: tensor.shape, data: tensor.scalars.map { $0 ? 1 : 0 })
    }

    /// Returns the complete `.npy` file for this array.
    ///
    /// The header is padded with spaces so that the data starts at a multiple
    /// of 64 bytes, as NumPy does.
    ///
    /// - Parameter version: the format version, or `nil` for 1.0 when the
    ///   header fits its 65535-byte limit and 2.0 otherwise.
    /// - Throws: `NPYError` when version 1.0 is requested for a header longer
    ///   than 65535 bytes.
    public func encoded(version: NPYVersion? = nil) throws -> [UInt8] {
        let header = NPYHeader(dtype: dtype, isFortranOrder: isFortranOrder, shape: shape)
        let text = Array(header.dictionaryText.utf8)

        func paddedLength(preamble: Int) -> Int {
            // One newline ends the header; spaces pad it to a multiple of 64.
            let unpadded = preamble + text.count + 1
            return text.count + 1 + (64 - unpadded % 64) % 64
        }
        let chosenVersion = version ?? (paddedLength(preamble: 10) <= Int(UInt16.max) ? .version1 : .version2)
        let preamble = chosenVersion == .version1 ? 10 : 12
        let headerLength = paddedLength(preamble: preamble)
        if chosenVersion == .version1 && headerLength > Int(UInt16.max) {
            throw NPYError(
                .invalidShape, file: source,
                problem: "the header needs \(headerLength) bytes, more than version 1.0 allows (65535); use version 2.0")
        }

        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, chosenVersion.rawValue, 0]
        bytes.reserveCapacity(preamble + headerLength + data.count)
        for index in 0..<(preamble - 8) {
            bytes.append(UInt8(truncatingIfNeeded: headerLength >> (8 * index)))
        }
        bytes += text
        bytes += [UInt8](repeating: 0x20, count: headerLength - text.count - 1)
        bytes.append(0x0A)
        bytes += data
        return bytes
    }

    /// Writes this array to `path` as a complete file, replacing any file there.
    ///
    /// The bytes go to a temporary file in the same directory, which is then
    /// renamed to `path`, so a failure never leaves a partial file.
    ///
    /// - Throws: `NPYError` of kind `fileSystem` naming `path`.
    public func write(toFile path: String, version: NPYVersion? = nil) throws {
        try staged(atPath: path, version: version).commit()
    }

    /// Writes this array to a temporary file next to `path` and returns it
    /// uncommitted, so that several outputs can be put in place together.
    ///
    /// - Throws: `NPYError` of kind `fileSystem` naming `path`.
    public func staged(atPath path: String, version: NPYVersion? = nil) throws -> StagedFile {
        try FileAccess.stage(encoded(version: version), atPath: path)
    }
}
