/// A linear layer `y = x · Wᵀ + b` with the weight stored `[out, in]`, the
/// layout of PyTorch's `nn.Linear` and of most checkpoints.
public struct LinearProjection: Sendable {
    /// `[out, in]`.
    public let weight: Tensor
    /// `[out]`, or `nil` for no bias.
    public let bias: Tensor?

    /// The number of input features.
    public var inputSize: Int { weight.shape[1] }
    /// The number of output features.
    public var outputSize: Int { weight.shape[0] }

    /// Creates a projection after checking the shapes.
    ///
    /// - Parameters:
    ///   - weight: `[out, in]`, any strides.
    ///   - bias: `[out]`, any strides.
    ///   - name: the name used in error messages, for example `query`.
    /// - Throws: `AttentionError` of kind `invalidShape` when `weight` is not
    ///   rank 2, and `shapeMismatch` when `bias` is not `[out]`.
    public init(weight: Tensor, bias: Tensor? = nil, name: String = "projection") throws {
        guard weight.rank == 2 else {
            throw AttentionError(
                .invalidShape, argument: "\(name) weight", expected: "rank 2 [out, in]",
                actual: "rank \(weight.rank) \(describeShape(weight.shape))")
        }
        if let bias, bias.shape != [weight.shape[0]] {
            throw AttentionError(
                .shapeMismatch, argument: "\(name) bias",
                expected: "\(describeShape([weight.shape[0]])) to match the weight \(describeShape(weight.shape))",
                actual: describeShape(bias.shape))
        }
        self.weight = weight
        self.bias = bias
    }

    /// Applies the projection to every row of `input` by one `cblas_sgemm`
    /// over the `[B·L, in]` matrix.
    ///
    /// - Parameters:
    ///   - input: `[B, L, in]`. A view whose batch and sequence dimensions
    ///     cannot be merged into one matrix dimension is copied first.
    ///   - name: the argument name used in error messages.
    /// - Returns: a new contiguous `[B, L, out]` tensor.
    /// - Throws: `AttentionError` when `input` is not rank 3 or its last
    ///   dimension is not `in`.
    /// - Complexity: O(B·L·in·out) time, O(B·L·out) memory for the result.
    public func apply(to input: Tensor, name: String = "input") throws -> Tensor {
        guard input.rank == 3 else {
            throw AttentionError(
                .invalidShape, argument: name, expected: "rank 3 [B, L, \(inputSize)]",
                actual: "rank \(input.rank) \(describeShape(input.shape))")
        }
        guard input.shape[2] == inputSize else {
            throw AttentionError(
                .shapeMismatch, argument: name,
                expected: "\(inputSize) features in the last dimension, the projection's input size",
                actual: describeShape(input.shape))
        }
        let batch = input.shape[0]
        let length = input.shape[1]
        let rows = try Tensor.elementCount(of: [batch, length], argument: name)
        let result = try Tensor(shape: [batch, length, outputSize], repeating: 0)
        let resultMatrix = try result.contiguousView(as: [rows, outputSize])

        // 1. Start from the bias in every row, so the product accumulates
        //    onto it with beta = 1.
        var beta: Float = 0
        if let bias, rows > 0, outputSize > 0 {
            let biasValues = bias.scalars
            let destination = result.storage.baseAddress
            for row in 0..<rows {
                (destination + row * outputSize).update(from: biasValues, count: outputSize)
            }
            beta = 1
        }

        // 2. y += x · Wᵀ over the whole [B·L, in] matrix.
        try BLAS.multiply(
            try Self.matrixView(of: input, rows: rows), try weight.transposed(0, 1),
            into: resultMatrix, beta: beta)
        return result
    }

    /// Returns `input` `[B, L, in]` as a `[B·L, in]` view when its strides
    /// allow, otherwise as a contiguous copy.
    private static func matrixView(of input: Tensor, rows: Int) throws -> Tensor {
        let (batch, length) = (input.shape[0], input.shape[1])
        let rowStride: Int?
        if rows == 0 || batch == 1 {
            rowStride = input.strides[1]
        } else if length == 1 {
            rowStride = input.strides[0]
        } else if input.strides[0] == input.strides[1] * length {
            rowStride = input.strides[1]
        } else {
            rowStride = nil
        }
        guard let rowStride else {
            return try input.contiguous().reshaped([rows, input.shape[2]])
        }
        return try Tensor(
            storage: input.storage, shape: [rows, input.shape[2]],
            strides: [rowStride, input.strides[2]], offset: input.offset)
    }
}

extension Tensor {
    /// Returns a row-major view with `newShape` of a freshly allocated
    /// contiguous tensor. Unlike `reshaped`, it also accepts tensors with a
    /// zero-size dimension, whose strides `reshaped` does not recognize as
    /// contiguous.
    ///
    /// - Precondition: `self` is row-major with `contiguousStrides` and
    ///   `newShape` has the same element count.
    func contiguousView(as newShape: [Int]) throws -> Tensor {
        precondition(newShape.reduce(1, *) == count, "contiguousView changes the element count")
        return try Tensor(storage: storage, shape: newShape, strides: Tensor.contiguousStrides(for: newShape), offset: offset)
    }
}
