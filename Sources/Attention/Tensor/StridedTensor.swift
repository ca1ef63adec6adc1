import Foundation

/// A float32 tensor: a strided view over shared storage.
public typealias Tensor = StridedTensor<Float>

/// A boolean tensor, used for masks (`true` = the query may attend the key).
public typealias BoolTensor = StridedTensor<Bool>

/// A strided view over shared storage: a shape, strides counted in elements,
/// and the offset of the first element.
///
/// The element at index `(i0, i1, …)` lives at
/// `storage.baseAddress + offset + i0 * strides[0] + i1 * strides[1] + …`.
/// Views are cheap: permuting, slicing, selecting and broadcasting return a
/// new view of the same storage without copying. A stride of 0 repeats one
/// element along its dimension, which is how broadcasting works.
///
/// Views have reference semantics like the storage they share: writing an
/// element through one view is visible through every view of that storage.
///
/// Every view that the API creates addresses only elements inside its
/// storage; the initializer checks this and throws `AttentionError` otherwise.
public struct StridedTensor<Scalar: BitwiseCopyable & Sendable>: Sendable {
    /// The shared buffer.
    public let storage: TensorStorage<Scalar>
    /// The size of each dimension.
    public let shape: [Int]
    /// The distance in elements between neighbours along each dimension.
    public let strides: [Int]
    /// The position in `storage` of the element at index `(0, 0, …)`.
    public let offset: Int

    /// Creates a view of `storage` after checking that every element it
    /// addresses lies inside the storage.
    ///
    /// - Throws: `AttentionError` of kind `invalidShape` for a negative
    ///   dimension or mismatched ranks, and `invalidView` when an addressed
    ///   element lies outside the storage.
    public init(storage: TensorStorage<Scalar>, shape: [Int], strides: [Int], offset: Int = 0) throws {
        guard shape.count == strides.count else {
            throw AttentionError(
                .invalidShape, argument: "strides",
                expected: "one stride per dimension (\(shape.count))",
                actual: "\(strides.count) strides")
        }
        if let negative = shape.firstIndex(where: { $0 < 0 }) {
            throw AttentionError(
                .invalidShape, argument: "shape",
                expected: "non-negative dimensions",
                actual: "\(describeShape(shape)) with dimension \(negative) negative")
        }
        // Stride-0 dimensions address few elements but still count them all.
        _ = try Self.elementCount(of: shape, argument: "shape")
        let extent = try Self.addressRange(shape: shape, strides: strides, offset: offset)
        if let extent, extent.lowerBound < 0 || extent.upperBound >= storage.count {
            throw AttentionError(
                .invalidView, argument: "view",
                expected: "elements inside storage of \(storage.count) scalars",
                actual: "shape \(describeShape(shape)), strides \(describeShape(strides)), offset \(offset) addressing \(extent.lowerBound)...\(extent.upperBound)",
                fix: "Check the strides and the offset against the buffer size")
        }
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// Creates a view without checks. Callers guarantee that the view stays
    /// inside its storage.
    init(unchecked storage: TensorStorage<Scalar>, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// Creates a contiguous row-major tensor with every element set to `value`.
    ///
    /// - Throws: `AttentionError` for a negative dimension, a total size that
    ///   overflows `Int`, or more bytes than the machine's physical memory.
    public init(shape: [Int], repeating value: Scalar) throws {
        let count = try Self.elementCount(of: shape, argument: "shape")
        // An allocation that cannot succeed would trap, so it is rejected here.
        let bytes = saturatingProduct(count, MemoryLayout<Scalar>.stride)
        let limit = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        guard bytes <= limit else {
            throw AttentionError(
                .sizeLimitExceeded, argument: "shape",
                expected: "at most \(limit) bytes, the physical memory", actual: "\(describeShape(shape)) needing \(bytes == Int.max ? "more than Int.max" : String(bytes)) bytes",
                fix: "Split the work into smaller tensors")
        }
        self.init(
            unchecked: TensorStorage(repeating: value, count: count),
            shape: shape, strides: Self.contiguousStrides(for: shape), offset: 0)
    }

    /// Creates a contiguous row-major tensor holding `scalars`.
    ///
    /// - Throws: `AttentionError` when `scalars.count` differs from the
    ///   product of `shape`.
    public init(shape: [Int], scalars: [Scalar]) throws {
        let count = try Self.elementCount(of: shape, argument: "shape")
        guard count == scalars.count else {
            throw AttentionError(
                .shapeMismatch, argument: "scalars",
                expected: "\(count) scalars for shape \(describeShape(shape))",
                actual: "\(scalars.count) scalars")
        }
        self.init(
            unchecked: TensorStorage(scalars),
            shape: shape, strides: Self.contiguousStrides(for: shape), offset: 0)
    }

    // MARK: - Properties

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The number of elements the view addresses (the product of `shape`).
    /// Every initializer and view operation checks that it fits `Int`.
    public var count: Int { shape.reduce(1, *) }

    /// Whether any dimension is zero.
    public var isEmpty: Bool { shape.contains(0) }

    /// Whether the view is row-major with no gaps, so that its elements are
    /// `count` consecutive scalars starting at `offset`.
    public var isContiguous: Bool {
        var expected = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// The address of the element at index `(0, 0, …)`.
    var baseAddress: UnsafeMutablePointer<Scalar> { storage.baseAddress + offset }

    // MARK: - Element access

    /// Returns the storage position of the element at `indices`.
    ///
    /// - Precondition: one index per dimension, each inside its dimension,
    ///   like `Array`'s subscript. Use `element(at:)` for a throwing check.
    @inlinable
    func position(of indices: [Int]) -> Int {
        precondition(indices.count == rank, "expected \(rank) indices, got \(indices.count)")
        var position = offset
        for axis in 0..<rank {
            precondition(indices[axis] >= 0 && indices[axis] < shape[axis], "index out of range")
            position += indices[axis] * strides[axis]
        }
        return position
    }

    /// The element at `indices`, read or written through the shared storage.
    ///
    /// - Precondition: one index per dimension, each inside its dimension.
    public subscript(_ indices: Int...) -> Scalar {
        get { storage.baseAddress[position(of: indices)] }
        nonmutating set { storage.baseAddress[position(of: indices)] = newValue }
    }

    /// Returns the element at `indices`.
    ///
    /// - Throws: `AttentionError` of kind `invalidShape` when the number of
    ///   indices differs from the rank or an index is out of range.
    public func element(at indices: [Int]) throws -> Scalar {
        guard indices.count == rank else {
            throw AttentionError(.invalidShape, argument: "indices", expected: "\(rank) indices", actual: "\(indices.count)")
        }
        for axis in 0..<rank where indices[axis] < 0 || indices[axis] >= shape[axis] {
            throw AttentionError(
                .invalidShape, argument: "indices",
                expected: "index \(axis) in 0..<\(shape[axis])", actual: "\(indices[axis])")
        }
        return storage.baseAddress[position(of: indices)]
    }

    /// The elements in row-major order, as a new array.
    ///
    /// - Complexity: O(count).
    public var scalars: [Scalar] {
        let total = count
        if total == 0 { return [] }
        return [Scalar](unsafeUninitializedCapacity: total) { buffer, initialized in
            var destination = 0
            forEachPosition { position in
                buffer[destination] = storage.baseAddress[position]
                destination += 1
            }
            initialized = total
        }
    }

    /// Calls `body` with the storage position of every element, in row-major
    /// order of the indices.
    func forEachPosition(_ body: (Int) -> Void) {
        if isEmpty { return }
        if rank == 0 {
            body(offset)
            return
        }
        var index = [Int](repeating: 0, count: rank)
        var position = offset
        let last = rank - 1
        while true {
            let innerStride = strides[last]
            for i in 0..<shape[last] {
                body(position + i * innerStride)
            }
            // Advance the outer indices like an odometer.
            var axis = last - 1
            while axis >= 0 {
                index[axis] += 1
                position += strides[axis]
                if index[axis] < shape[axis] { break }
                position -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }

    /// Returns a contiguous row-major copy with its own storage.
    ///
    /// - Complexity: O(count) time and memory.
    public func contiguous() -> StridedTensor {
        StridedTensor(
            unchecked: TensorStorage(scalars), shape: shape,
            strides: Self.contiguousStrides(for: shape), offset: 0)
    }

    /// Copies the elements of `source`, which must have the same shape, into
    /// this view.
    ///
    /// - Throws: `AttentionError` of kind `shapeMismatch` for different shapes.
    public func assign(from source: StridedTensor) throws {
        guard source.shape == shape else {
            throw AttentionError(
                .shapeMismatch, argument: "source",
                expected: "shape \(describeShape(shape))", actual: describeShape(source.shape))
        }
        let values = source.scalars
        var next = 0
        forEachPosition { position in
            storage.baseAddress[position] = values[next]
            next += 1
        }
    }

    // MARK: - Size arithmetic

    /// Row-major strides for `shape`.
    public static func contiguousStrides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running = running &* Swift.max(shape[axis], 1)
        }
        return strides
    }

    /// Returns the product of `shape`, checked for negative dimensions and overflow.
    static func elementCount(of shape: [Int], argument: String) throws -> Int {
        var total = 1
        for (axis, size) in shape.enumerated() {
            guard size >= 0 else {
                throw AttentionError(
                    .invalidShape, argument: argument,
                    expected: "non-negative dimensions",
                    actual: "\(describeShape(shape)) with dimension \(axis) negative")
            }
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw AttentionError(
                    .sizeLimitExceeded, argument: argument,
                    expected: "an element count that fits Int", actual: describeShape(shape))
            }
            total = product
        }
        return total
    }

    /// Returns the lowest and highest storage positions a view addresses, or `nil`
    /// for an empty view, with overflow checks.
    static func addressRange(shape: [Int], strides: [Int], offset: Int) throws -> ClosedRange<Int>? {
        if shape.contains(0) { return nil }
        var low = offset
        var high = offset
        for (size, stride) in zip(shape, strides) {
            let (reach, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
            guard !overflow else {
                throw AttentionError(
                    .sizeLimitExceeded, argument: "strides",
                    expected: "addresses that fit Int", actual: describeShape(strides))
            }
            let (sum, sumOverflow) = reach < 0 ? low.addingReportingOverflow(reach) : high.addingReportingOverflow(reach)
            guard !sumOverflow else {
                throw AttentionError(
                    .sizeLimitExceeded, argument: "strides",
                    expected: "addresses that fit Int", actual: describeShape(strides))
            }
            if reach < 0 { low = sum } else { high = sum }
        }
        return low...high
    }
}

extension StridedTensor: CustomStringConvertible {
    public var description: String {
        "\(Scalar.self) tensor \(describeShape(shape)) strides \(describeShape(strides)) offset \(offset)"
    }
}
