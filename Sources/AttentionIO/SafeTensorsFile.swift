import Attention
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `.safetensors` file, memory-mapped and validated when opened.
///
/// The format is an 8-byte little-endian header length `N`, `N` bytes of JSON
/// header, then the data section. The header is an object that maps each
/// tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`, with
/// byte offsets relative to the start of the data section, plus an optional
/// `"__metadata__"` object of string values.
///
/// Opening the file checks the whole header before any tensor is read:
/// - the header length fits in the file (and is at most 100 MB);
/// - the header is well-formed JSON without duplicate keys, and is an object;
/// - every dtype is one the format defines;
/// - every shape's element count times the dtype size equals its byte range;
/// - the byte ranges, in offset order, start at 0, touch without overlapping,
///   and end at the end of the file. Gaps and trailing bytes are rejected, as
///   the reference implementation does, so no bytes of the file are hidden
///   from the header.
///
/// The file is memory-mapped, not read, so opening a multi-gigabyte
/// checkpoint costs only the header. Aligned little-endian F32 tensors are
/// returned as views of the mapping without a copy; other tensors are
/// converted into new storage.
///
/// - Note: The mapping is private and copy-on-write: writing through a
///   returned tensor changes only this process's copy, never the file.
///   Truncating the file while it is mapped makes later reads fault (the
///   usual `mmap` hazard), so don't rewrite a checkpoint that is in use.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The largest header accepted, in bytes. Real headers are kilobytes to
    /// a few megabytes; the limit keeps a corrupt length from driving a huge
    /// parse.
    public static let maximumHeaderByteCount = 100_000_000

    /// The description of one tensor in the header.
    public struct TensorInfo: Equatable, Sendable {
        /// The tensor's name in the header.
        public let name: String
        /// The element type stored in the file.
        public let dtype: SafeTensorsDType
        /// The size of each dimension; `[]` is a scalar.
        public let shape: [Int]
        /// The byte range relative to the start of the data section.
        public let byteRange: Range<Int>
    }

    /// The path the file was opened from.
    public let path: String
    /// The `__metadata__` entries, or an empty dictionary.
    public let metadata: [String: String]
    /// Every tensor in the header, by name.
    public let tensors: [String: TensorInfo]

    private let mapping: MappedFile
    /// The byte offset of the data section in the file: `8 + N`.
    private let dataStart: Int

    /// Opens, maps and validates the file at `path`.
    ///
    /// - Throws: `SafeTensorsError` naming the file, and the tensor when one
    ///   entry is at fault. Nothing is allocated beyond what the header
    ///   length, which is checked against the file size, justifies.
    /// - Complexity: O(N + T log T) for a header of N bytes describing T
    ///   tensors; no tensor data is read.
    public init(path: String) throws {
        self.path = path
        mapping = try MappedFile(path: path)
        let fileSize = mapping.size

        // 1. The header length: 8 bytes, little-endian, inside the file.
        guard fileSize >= 8 else {
            throw SafeTensorsError(
                .invalidHeaderLength, path: path,
                expected: "at least 8 bytes for the header length", actual: "a file of \(fileSize) bytes")
        }
        let headerLength = UInt64(littleEndian: mapping.base.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(fileSize - 8), headerLength <= UInt64(Self.maximumHeaderByteCount) else {
            throw SafeTensorsError(
                .invalidHeaderLength, path: path,
                expected: "a header length of at most \(min(fileSize - 8, Self.maximumHeaderByteCount)) bytes (file size \(fileSize) minus 8, capped at \(Self.maximumHeaderByteCount))",
                actual: "\(headerLength)",
                fix: "The file is truncated or not a safetensors file")
        }
        dataStart = 8 + Int(headerLength)
        let dataSize = fileSize - dataStart

        // 2. The JSON header.
        let headerBytes = UnsafeBufferPointer(
            start: (mapping.base + 8).assumingMemoryBound(to: UInt8.self), count: Int(headerLength))
        let header: JSONValue
        do {
            header = try JSONParser.parse(headerBytes)
        } catch {
            throw SafeTensorsError(
                .invalidJSON, path: path, expected: "a well-formed JSON header",
                actual: "\(error.reason) at header byte \(error.offset)")
        }
        guard case let .object(members) = header else {
            throw SafeTensorsError(
                .invalidHeader, path: path, expected: "a JSON object as the header", actual: header.typeName)
        }

        // 3. Each entry: metadata or a tensor description.
        var metadata: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try Self.parseMetadata(value, path: path)
            } else {
                tensors[name] = try Self.parseTensorInfo(name: name, value: value, dataSize: dataSize, path: path)
            }
        }

        // 4. The byte ranges tile the data section exactly.
        try Self.checkCoverage(of: Array(tensors.values), dataSize: dataSize, path: path)
        self.metadata = metadata
        self.tensors = tensors
    }

    /// The tensor names in lexicographic order.
    public var tensorNames: [String] { tensors.keys.sorted() }

    /// Returns the description of the tensor called `name`.
    ///
    /// - Throws: `SafeTensorsError` of kind `tensorNotFound`, listing the
    ///   closest names in the file.
    public func info(named name: String) throws -> TensorInfo {
        guard let info = tensors[name] else {
            let suggestions = closestNames(to: name)
            throw SafeTensorsError(
                .tensorNotFound, path: path, tensor: name,
                expected: "a tensor with this name", actual: "no such tensor among \(tensors.count)",
                fix: suggestions.isEmpty ? "" : "Close names: " + suggestions.joined(separator: ", "))
        }
        return info
    }

    /// Reads the tensor called `name` as float32.
    ///
    /// F32 is returned as stored; F16 and BF16 are converted exactly; F64 is
    /// rounded to the nearest float32. A little-endian F32 tensor whose
    /// offset in the file is a multiple of 4 is returned as a view of the
    /// memory mapping, which the view keeps alive. Anything else is copied.
    ///
    /// - Returns: a contiguous row-major tensor with the header's shape.
    /// - Throws: `SafeTensorsError` of kind `tensorNotFound` or
    ///   `unsupportedDType`.
    /// - Complexity: O(1) for a mapped F32 tensor, otherwise O(elements).
    public func tensor(named name: String) throws -> Tensor {
        let info = try info(named: name)
        guard info.dtype.convertsToFloat32 else {
            throw SafeTensorsError(
                .unsupportedDType, path: path, tensor: name,
                expected: "F32, F16, BF16 or F64 to read as float32", actual: info.dtype.rawValue)
        }
        let count = info.shape.reduce(1, *)
        let source = mapping.base + dataStart + info.byteRange.lowerBound
        let strides = Tensor.contiguousStrides(for: info.shape)

        #if _endian(little)
        if info.dtype == .float32, Int(bitPattern: source) % MemoryLayout<Float>.alignment == 0 {
            let mapping = self.mapping
            let floats = source.bindMemory(to: Float.self, capacity: count)
            let storage = TensorStorage<Float>(borrowing: floats, count: count) {
                withExtendedLifetime(mapping) {}
            }
            return try Tensor(storage: storage, shape: info.shape, strides: strides)
        }
        #endif

        let storage = TensorStorage<Float>(repeating: 0, count: count)
        let destination = storage.baseAddress
        switch info.dtype {
        case .float32:
            for i in 0..<count {
                let bits = UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                destination[i] = Float(bitPattern: bits)
            }
        case .float16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                destination[i] = HalfPrecision.float(fromFloat16Bits: bits)
            }
        case .bfloat16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                destination[i] = HalfPrecision.float(fromBFloat16Bits: bits)
            }
        case .float64:
            for i in 0..<count {
                let bits = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                destination[i] = Float(Double(bitPattern: bits))
            }
        default:
            preconditionFailure("convertsToFloat32 admitted \(info.dtype)")
        }
        return try Tensor(storage: storage, shape: info.shape, strides: strides)
    }

    // MARK: - Header validation

    private static func parseMetadata(_ value: JSONValue, path: String) throws -> [String: String] {
        guard case let .object(members) = value else {
            throw SafeTensorsError(
                .invalidHeader, path: path, tensor: "__metadata__",
                expected: "an object of string values", actual: value.typeName)
        }
        var metadata: [String: String] = [:]
        for (key, entry) in members {
            guard case let .string(text) = entry else {
                throw SafeTensorsError(
                    .invalidHeader, path: path, tensor: "__metadata__",
                    expected: "a string value for key \"\(key)\"", actual: entry.typeName)
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func parseTensorInfo(name: String, value: JSONValue, dataSize: Int, path: String) throws -> TensorInfo {
        func invalid(_ expected: String, _ actual: String) -> SafeTensorsError {
            SafeTensorsError(.invalidHeader, path: path, tensor: name, expected: expected, actual: actual)
        }
        guard case let .object(fields) = value else {
            throw invalid("an object with dtype, shape and data_offsets", value.typeName)
        }
        func field(_ key: String) throws -> JSONValue {
            guard let value = fields.first(where: { $0.key == key })?.value else {
                throw invalid("a \"\(key)\" field", "none")
            }
            return value
        }

        guard case let .string(dtypeName) = try field("dtype") else {
            throw invalid("a string dtype", try field("dtype").typeName)
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw SafeTensorsError(
                .unknownDType, path: path, tensor: name,
                expected: "one of " + SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", "),
                actual: "\"\(dtypeName)\"")
        }

        guard case let .array(shapeValues) = try field("shape") else {
            throw invalid("an array shape", try field("shape").typeName)
        }
        var shape: [Int] = []
        for dimension in shapeValues {
            guard let size = dimension.unsignedInteger, size <= UInt64(Int.max) else {
                throw invalid("non-negative integer dimensions", dimension.summary)
            }
            shape.append(Int(size))
        }

        guard case let .array(offsetValues) = try field("data_offsets"), offsetValues.count == 2,
              let begin = offsetValues[0].unsignedInteger, let end = offsetValues[1].unsignedInteger else {
            throw invalid("data_offsets as two non-negative integers [begin, end]", try field("data_offsets").summary)
        }
        guard begin <= end, end <= UInt64(dataSize) else {
            throw SafeTensorsError(
                .invalidOffsets, path: path, tensor: name,
                expected: "0 <= begin <= end <= \(dataSize) (the data section size)",
                actual: "data_offsets [\(begin), \(end)]")
        }
        let byteRange = Int(begin)..<Int(end)

        // The element count times the element size must equal the range.
        var byteCount = dtype.byteCount
        for size in shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw SafeTensorsError(
                    .sizeMismatch, path: path, tensor: name,
                    expected: "a shape whose byte size fits Int", actual: "shape \(shape)")
            }
            byteCount = product
        }
        guard byteCount == byteRange.count else {
            throw SafeTensorsError(
                .sizeMismatch, path: path, tensor: name,
                expected: "\(byteCount) bytes for shape \(shape) of \(dtype.rawValue)",
                actual: "data_offsets [\(begin), \(end)] spanning \(byteRange.count) bytes")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: byteRange)
    }

    /// Checks that the byte ranges, sorted by offset, cover `0..<dataSize`
    /// with no overlap and no gap.
    private static func checkCoverage(of tensors: [TensorInfo], dataSize: Int, path: String) throws {
        let ordered = tensors.sorted {
            ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name) < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name)
        }
        var covered = 0
        var previous: TensorInfo?
        for info in ordered {
            if info.byteRange.lowerBound < covered, let previous {
                throw SafeTensorsError(
                    .invalidOffsets, path: path, tensor: info.name,
                    expected: "a byte range that does not overlap another tensor",
                    actual: "data_offsets [\(info.byteRange.lowerBound), \(info.byteRange.upperBound)] overlapping \"\(previous.name)\" at [\(previous.byteRange.lowerBound), \(previous.byteRange.upperBound)]")
            }
            if info.byteRange.lowerBound > covered {
                throw SafeTensorsError(
                    .invalidOffsets, path: path, tensor: info.name,
                    expected: "a byte range starting at \(covered), where the previous tensor ends",
                    actual: "data_offsets [\(info.byteRange.lowerBound), \(info.byteRange.upperBound)], leaving a gap")
            }
            covered = info.byteRange.upperBound
            previous = info
        }
        guard covered == dataSize else {
            throw SafeTensorsError(
                .invalidOffsets, path: path,
                expected: "tensors that cover the data section of \(dataSize) bytes",
                actual: "tensors ending at byte \(covered), leaving \(dataSize - covered) bytes unused")
        }
    }

    // MARK: - Suggestions

    /// Up to five tensor names closest to `name` by edit distance.
    func closestNames(to name: String) -> [String] {
        let target = Array(name.utf8)
        let ranked = tensors.keys.map { candidate in
            (candidate, editDistance(target, Array(candidate.utf8)))
        }
        let limit = Swift.max(3, target.count / 3)
        return ranked.filter { $0.1 <= limit }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
            .prefix(5).map(\.0)
    }
}

/// The Levenshtein distance between two byte strings.
private func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty { return b.count }
    var previousRow = Array(0...b.count)
    var currentRow = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        currentRow[0] = i
        for j in 1...Swift.max(b.count, 1) where j <= b.count {
            let substitution = previousRow[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            currentRow[j] = Swift.min(substitution, previousRow[j] + 1, currentRow[j - 1] + 1)
        }
        swap(&previousRow, &currentRow)
    }
    return previousRow[b.count]
}

/// A whole file mapped private and copy-on-write, unmapped on release.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: Int

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SafeTensorsError(
                .unreadableFile, path: path, expected: "a readable file",
                actual: "open failed: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw SafeTensorsError(
                .unreadableFile, path: path, expected: "a file whose size can be read",
                actual: "fstat failed: \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw SafeTensorsError(
                .unreadableFile, path: path, expected: "a regular file", actual: "a directory or special file")
        }
        size = Int(status.st_size)
        guard size > 0 else {
            // mmap rejects a length of 0; an empty mapping needs no memory.
            base = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
            isAllocated = true
            return
        }
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw SafeTensorsError(
                .unreadableFile, path: path, expected: "a file that can be memory-mapped",
                actual: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = address
        isAllocated = false
    }

    /// Whether `base` came from `allocate` (empty file) rather than `mmap`.
    private let isAllocated: Bool

    deinit {
        if isAllocated {
            base.deallocate()
        } else {
            munmap(base, size)
        }
    }
}
