extension StridedTensor {
    /// Returns a view whose dimension `i` is dimension `axes[i]` of this view.
    ///
    /// A model's `[B, L, H, D]` buffer becomes the `[B, H, L, D]` layout that
    /// attention expects with `permuted([0, 2, 1, 3])`, without a copy.
    ///
    /// - Throws: `AttentionError` of kind `invalidShape` unless `axes` is a
    ///   permutation of `0..<rank`.
    /// - Complexity: O(rank); no element is copied.
    public func permuted(_ axes: [Int]) throws -> StridedTensor {
        guard axes.count == rank, Set(axes) == Set(0..<rank) else {
            throw AttentionError(
                .invalidShape, argument: "axes",
                expected: "a permutation of 0..<\(rank)", actual: describeShape(axes))
        }
        return StridedTensor(
            unchecked: storage, shape: axes.map { shape[$0] },
            strides: axes.map { strides[$0] }, offset: offset)
    }

    /// Returns a view with dimensions `first` and `second` swapped.
    ///
    /// - Throws: `AttentionError` of kind `invalidShape` for an axis outside
    ///   `0..<rank`.
    public func transposed(_ first: Int, _ second: Int) throws -> StridedTensor {
        try checkAxis(first, argument: "first")
        try checkAxis(second, argument: "second")
        var axes = Array(0..<rank)
        axes.swapAt(first, second)
        return try permuted(axes)
    }

    /// Returns the view restricted to `range` along `axis`.
    ///
    /// - Throws: `AttentionError` of kind `invalidShape` for an axis outside
    ///   `0..<rank` or a range outside `0...shape[axis]`.
    public func sliced(axis: Int, range: Range<Int>) throws -> StridedTensor {
        try checkAxis(axis, argument: "axis")
        guard range.lowerBound >= 0, range.upperBound <= shape[axis] else {
            throw AttentionError(
                .invalidShape, argument: "range",
                expected: "a range inside 0..<\(shape[axis]) for axis \(axis)",
                actual: "\(range.lowerBound)..<\(range.upperBound)")
        }
        var newShape = shape
        newShape[axis] = range.count
        // An empty slice keeps the original offset so it never points past
        // the storage.
        let newOffset = range.isEmpty ? offset : offset + range.lowerBound * strides[axis]
        return StridedTensor(unchecked: storage, shape: newShape, strides: strides, offset: newOffset)
    }

    /// Returns the view at `index` along `axis`, with that dimension removed.
    ///
    /// - Throws: `AttentionError` of kind `invalidShape` for an axis or index
    ///   out of range.
    public func selecting(axis: Int, index: Int) throws -> StridedTensor {
        try checkAxis(axis, argument: "axis")
        guard index >= 0, index < shape[axis] else {
            throw AttentionError(
                .invalidShape, argument: "index",
                expected: "an index in 0..<\(shape[axis]) for axis \(axis)", actual: "\(index)")
        }
        var newShape = shape
        var newStrides = strides
        newShape.remove(at: axis)
        newStrides.remove(at: axis)
        return StridedTensor(
            unchecked: storage, shape: newShape, strides: newStrides,
            offset: offset + index * strides[axis])
    }

    /// Returns a view with a dimension of size 1 inserted before `axis`.
    ///
    /// - Throws: `AttentionError` of kind `invalidShape` for an axis outside
    ///   `0...rank`.
    public func unsqueezed(axis: Int) throws -> StridedTensor {
        guard axis >= 0, axis <= rank else {
            throw AttentionError(
                .invalidShape, argument: "axis", expected: "an axis in 0...\(rank)", actual: "\(axis)")
        }
        var newShape = shape
        var newStrides = strides
        newShape.insert(1, at: axis)
        newStrides.insert(0, at: axis)
        return StridedTensor(unchecked: storage, shape: newShape, strides: newStrides, offset: offset)
    }

    /// Returns a view broadcast to `targetShape` with NumPy's rules: missing
    /// leading dimensions are added, and a dimension of size 1 repeats with
    /// stride 0.
    ///
    /// - Throws: `AttentionError` of kind `shapeMismatch` when a dimension is
    ///   neither 1 nor equal to the target.
    public func broadcast(to targetShape: [Int], argument: String = "tensor") throws -> StridedTensor {
        guard targetShape.count >= rank else {
            throw AttentionError(
                .shapeMismatch, argument: argument,
                expected: "at most \(targetShape.count) dimensions to broadcast to \(describeShape(targetShape))",
                actual: describeShape(shape))
        }
        // The target must be a valid shape whose element count fits Int.
        _ = try Self.elementCount(of: targetShape, argument: argument)
        let leading = targetShape.count - rank
        var newStrides = [Int](repeating: 0, count: targetShape.count)
        for axis in 0..<rank {
            let size = shape[axis]
            let target = targetShape[leading + axis]
            if size == target {
                newStrides[leading + axis] = size == 1 ? 0 : strides[axis]
            } else if size == 1 {
                newStrides[leading + axis] = 0
            } else {
                throw AttentionError(
                    .shapeMismatch, argument: argument,
                    expected: "a shape that broadcasts to \(describeShape(targetShape)) (each dimension 1 or equal)",
                    actual: describeShape(shape),
                    fix: "Dimension \(axis) has size \(size); use 1 to broadcast it or \(target) to match")
            }
        }
        return StridedTensor(unchecked: storage, shape: targetShape, strides: newStrides, offset: offset)
    }

    /// Returns a view of the same elements with another shape.
    ///
    /// - Throws: `AttentionError` of kind `invalidView` unless the view is
    ///   contiguous, and `shapeMismatch` when the element counts differ.
    public func reshaped(_ newShape: [Int]) throws -> StridedTensor {
        let newCount = try Self.elementCount(of: newShape, argument: "shape")
        guard newCount == count else {
            throw AttentionError(
                .shapeMismatch, argument: "shape",
                expected: "\(count) elements like \(describeShape(shape))",
                actual: "\(describeShape(newShape)) with \(newCount) elements")
        }
        guard isContiguous else {
            throw AttentionError(
                .invalidView, argument: "tensor",
                expected: "a contiguous view to reshape", actual: description,
                fix: "Call contiguous() first to make a copy")
        }
        return StridedTensor(
            unchecked: storage, shape: newShape,
            strides: Self.contiguousStrides(for: newShape), offset: offset)
    }

    private func checkAxis(_ axis: Int, argument: String) throws {
        guard axis >= 0, axis < rank else {
            throw AttentionError(
                .invalidShape, argument: argument,
                expected: "an axis in 0..<\(rank)", actual: "\(axis)")
        }
    }
}
