// Shape legend:
//   B    batch size
//   Hq   query heads;  Hkv key/value heads (Hq is a multiple of Hkv)
//   Lq   query length; Lk  key length
//   Dk   query/key head size; Dv value head size

/// The keys of one batch item that are not padding, in order.
enum KeySelection: Sendable {
    /// Keys `0..<count`; the rest are padding and never read.
    case prefix(Int)
    /// The listed keys, ascending; padded keys between them are never read.
    case gathered([Int])

    /// The number of keys that are not padding.
    var count: Int {
        switch self {
        case .prefix(let count): count
        case .gathered(let keys): keys.count
        }
    }

    /// Returns the key position of the `index`-th selected key.
    @inline(__always)
    func key(_ index: Int) -> Int {
        switch self {
        case .prefix: index
        case .gathered(let keys): keys[index]
        }
    }
}

/// A validated attention call: every view has the expected shape, masks are
/// broadcast to `[B, Hq, Lq, Lk]` views, and outputs do not overlap inputs.
///
/// Kernels receive only validated problems, so they check internal
/// invariants with `precondition`. The errors a kernel can still throw come
/// from the BLAS and LAPACK wrappers, for sizes those libraries cannot take.
struct AttentionProblem: @unchecked Sendable {
    let query: Tensor        // [B, Hq, Lq, Dk]
    let key: Tensor          // [B, Hkv, Lk, Dk]
    let value: Tensor        // [B, Hkv, Lk, Dv]
    let output: Tensor       // [B, Hq, Lq, Dv]
    let logSumExp: Tensor?   // [B, Hq, Lq]
    let weights: Tensor?     // [B, Hq, Lq, Lk]

    let batchSize: Int
    let queryHeads: Int
    let keyValueHeads: Int
    let queryLength: Int
    let keyLength: Int
    let keyDimension: Int
    let valueDimension: Int

    let scale: Float
    let booleanMask: BoolTensor?   // [B, Hq, Lq, Lk] broadcast view
    let additiveMask: Tensor?      // [B, Hq, Lq, Lk] broadcast view
    let causal: CausalAlignment?
    /// The sliding window, with sizes clamped to `Lq + Lk` so that bounds
    /// computed from them cannot overflow; a larger size hides nothing more.
    let window: SlidingWindow?
    /// The keys that are not padding, one entry per batch item.
    let keySelections: [KeySelection]

    /// Query heads per key/value head.
    var groupSize: Int { keyValueHeads == 0 ? 0 : queryHeads / keyValueHeads }

    /// Returns the key/value head that query head `head` reads.
    @inline(__always)
    func keyValueHead(forQueryHead head: Int) -> Int { head / groupSize }

    /// Returns the last key position query `row` may see under the causal mask, or
    /// `Int.max` without one. May be negative, which hides every key.
    @inline(__always)
    func causalLimit(forQuery row: Int) -> Int {
        switch causal {
        case nil: Int.max
        case .topLeft: row
        case .bottomRight: row + keyLength - queryLength
        }
    }

    /// Returns the key positions that query `row` may see under the causal mask and
    /// the sliding window, as bounds `lower...upper`; the range is empty when
    /// `lower > upper`. Without either mask the bounds are `0` and `Int.max`.
    @inline(__always)
    func visiblePositions(forQuery row: Int) -> (lower: Int, upper: Int) {
        var lower = 0
        var upper = causalLimit(forQuery: row)
        if let window {
            let centre = row + keyLength - queryLength
            lower = Swift.max(lower, centre - window.left)
            upper = Swift.min(upper, centre + window.right)
        }
        return (lower, upper)
    }

    /// Whether any mask other than key padding is present.
    var hasElementMask: Bool { booleanMask != nil || additiveMask != nil }

    /// The number of floating-point operations of the two products,
    /// `2·B·Hq·Lq·Lk·(Dk + Dv)`, counted without masks.
    var flopCount: Double {
        2 * Double(batchSize) * Double(queryHeads) * Double(queryLength) * Double(keyLength)
            * Double(keyDimension + valueDimension)
    }
}

// MARK: - Validation

extension AttentionProblem {
    /// Validates a call and builds the problem.
    ///
    /// - Throws: `AttentionError` naming the first argument that fails.
    init(
        query: Tensor, key: Tensor, value: Tensor, output: Tensor,
        logSumExp: Tensor?, weights: Tensor?,
        scale: Float?, mask: AttentionMask?, causal: CausalAlignment?, window: SlidingWindow? = nil,
        keyPadding: KeyPadding?, outputsArePlaceholders: Bool = false
    ) throws {
        try Self.checkRank(query, 4, "query", legend: "[B, Hq, Lq, Dk]")
        try Self.checkRank(key, 4, "key", legend: "[B, Hkv, Lk, Dk]")
        try Self.checkRank(value, 4, "value", legend: "[B, Hkv, Lk, Dv]")
        let batchSize = query.shape[0]
        let queryHeads = query.shape[1]
        let queryLength = query.shape[2]
        let keyDimension = query.shape[3]
        let keyValueHeads = key.shape[1]
        let keyLength = key.shape[2]
        let valueDimension = value.shape[3]

        try Self.checkDimension(key, 0, batchSize, "key", "batch size B of query")
        try Self.checkDimension(value, 0, batchSize, "value", "batch size B of query")
        try Self.checkDimension(key, 3, keyDimension, "key", "head size Dk of query")
        try Self.checkDimension(value, 1, keyValueHeads, "value", "head count Hkv of key")
        try Self.checkDimension(value, 2, keyLength, "value", "key length Lk of key")
        if queryHeads > 0 {
            guard keyValueHeads > 0, queryHeads % keyValueHeads == 0 else {
                throw AttentionError(
                    .shapeMismatch, argument: "key",
                    expected: "a head count Hkv that divides the query head count Hq = \(queryHeads)",
                    actual: "Hkv = \(keyValueHeads) in key shape \(describeShape(key.shape))",
                    fix: "Grouped-query attention needs Hq to be a multiple of Hkv")
            }
        }

        let resolvedScale: Float
        if let scale {
            guard scale.isFinite else {
                throw AttentionError(
                    .invalidValue, argument: "scale", expected: "a finite number or nil for 1/sqrt(Dk)",
                    actual: "\(scale)")
            }
            resolvedScale = scale
        } else {
            // The default 1/sqrt(Dk); an empty head (Dk = 0) has no scores to
            // scale, so any finite value serves.
            resolvedScale = keyDimension > 0 ? Float(1 / Double(keyDimension).squareRoot()) : 1
        }

        // Stride-0 views can describe shapes whose score count overflows
        // Int; block and work-item arithmetic needs it to fit.
        let scoreCount = [batchSize, queryHeads, queryLength, Swift.max(keyLength, 1)].reduce(1, saturatingProduct)
        if scoreCount == Int.max || saturatingSum(queryLength, keyLength) == Int.max {
            throw AttentionError(
                .sizeLimitExceeded, argument: "query",
                expected: "B·Hq·Lq·Lk scores that fit Int",
                actual: "B = \(batchSize), Hq = \(queryHeads), Lq = \(queryLength), Lk = \(keyLength)",
                fix: "Split the batch, the heads or the sequence into several calls")
        }

        // A plan without a run passes stride-0 placeholders of the right
        // shapes; only real outputs are checked.
        if !outputsArePlaceholders {
            var inputs: [(String, Tensor)] = [("query", query), ("key", key), ("value", value)]
            if case .additive(let tensor) = mask {
                inputs.append(("mask", tensor))
            }
            try Self.checkOutputs(
                output: output, logSumExp: logSumExp, weights: weights, inputs: inputs,
                shape: [batchSize, queryHeads, queryLength, valueDimension, keyLength])
        }

        var clampedWindow: SlidingWindow?
        if let window {
            for (name, size) in [("left", window.left), ("right", window.right)] where size < 0 {
                throw AttentionError(
                    .invalidValue, argument: "window.\(name)", expected: "a window size of at least 0",
                    actual: "\(size) in \(window)",
                    fix: "Pass 0 to see no keys on that side of the centre")
            }
            let reach = queryLength + keyLength
            clampedWindow = SlidingWindow(left: Swift.min(window.left, reach), right: Swift.min(window.right, reach))
        }

        let scoreShape = [batchSize, queryHeads, queryLength, keyLength]
        var booleanMask: BoolTensor?
        var additiveMask: Tensor?
        switch mask {
        case nil:
            break
        case .boolean(let tensor):
            booleanMask = try tensor.broadcast(to: scoreShape, argument: "mask")
        case .additive(let tensor):
            additiveMask = try tensor.broadcast(to: scoreShape, argument: "mask")
        }

        var keySelections = [KeySelection](repeating: .prefix(keyLength), count: batchSize)
        switch keyPadding {
        case nil:
            break
        case .lengths(let lengths):
            guard lengths.count == batchSize else {
                throw AttentionError(
                    .shapeMismatch, argument: "keyPadding",
                    expected: "one length per batch item (\(batchSize))", actual: "\(lengths.count) lengths")
            }
            for (item, length) in lengths.enumerated() {
                guard length >= 0, length <= keyLength else {
                    throw AttentionError(
                        .invalidValue, argument: "keyPadding",
                        expected: "lengths in 0...\(keyLength) (the key length Lk)",
                        actual: "length \(length) for batch item \(item)")
                }
                keySelections[item] = .prefix(length)
            }
        case .mask(let tensor):
            guard tensor.rank == 2 else {
                throw AttentionError(
                    .invalidShape, argument: "keyPadding", expected: "a [B, Lk] mask",
                    actual: describeShape(tensor.shape))
            }
            let padding = try tensor.broadcast(to: [batchSize, keyLength], argument: "keyPadding")
            // Each batch item lists its real key positions, up to Lk of them.
            let indexBytes = saturatingProduct(saturatingProduct(batchSize, keyLength), MemoryLayout<Int>.stride)
            guard indexBytes <= scratchMemoryLimit else {
                throw AttentionError(
                    .sizeLimitExceeded, argument: "keyPadding",
                    expected: "a [B, Lk] mask whose key index fits in half the physical memory (\(scratchMemoryLimit) bytes)",
                    actual: "B = \(batchSize), Lk = \(keyLength): up to \(indexBytes == Int.max ? "more than Int.max" : "\(indexBytes)") bytes",
                    fix: "Pass the key padding as lengths when the real keys of each item are a prefix")
            }
            for item in 0..<batchSize {
                var visible: [Int] = []
                for position in 0..<keyLength where padding[item, position] {
                    visible.append(position)
                }
                // A mask whose real keys are a prefix needs no gather.
                keySelections[item] = visible.last.map { $0 + 1 == visible.count } ?? true
                    ? .prefix(visible.count) : .gathered(visible)
            }
        }

        self.query = query
        self.key = key
        self.value = value
        self.output = output
        self.logSumExp = logSumExp
        self.weights = weights
        self.batchSize = batchSize
        self.queryHeads = queryHeads
        self.keyValueHeads = keyValueHeads
        self.queryLength = queryLength
        self.keyLength = keyLength
        self.keyDimension = keyDimension
        self.valueDimension = valueDimension
        self.scale = resolvedScale
        self.booleanMask = booleanMask
        self.additiveMask = additiveMask
        self.causal = causal
        self.window = clampedWindow
        self.keySelections = keySelections
    }

    /// Checks output shapes, and that no output overlaps an input or
    /// another output. `shape` is `[B, Hq, Lq, Dv, Lk]`.
    private static func checkOutputs(
        output: Tensor, logSumExp: Tensor?, weights: Tensor?, inputs: [(String, Tensor)], shape: [Int]
    ) throws {
        try Self.checkOutput(output, [shape[0], shape[1], shape[2], shape[3]], "output", legend: "[B, Hq, Lq, Dv]")
        if let logSumExp {
            try Self.checkOutput(logSumExp, [shape[0], shape[1], shape[2]], "logSumExp", legend: "[B, Hq, Lq]")
        }
        if let weights {
            try Self.checkOutput(weights, [shape[0], shape[1], shape[2], shape[4]], "weights", legend: "[B, Hq, Lq, Lk]")
        }
        let outputs: [(String, Tensor)] = [("output", output)]
            + (logSumExp.map { [("logSumExp", $0)] } ?? [])
            + (weights.map { [("weights", $0)] } ?? [])
        for (outputIndex, (outputName, outputView)) in outputs.enumerated() {
            for (inputName, inputView) in inputs + Array(outputs[(outputIndex + 1)...]) {
                if Self.mayOverlap(outputView, inputView) {
                    throw AttentionError(
                        .overlappingOutput, argument: outputName,
                        expected: "memory that does not overlap \(inputName)",
                        actual: "a view sharing storage with \(inputName) in overlapping positions",
                        fix: "Pass a separate output buffer")
                }
            }
        }
    }

    private static func checkRank<Scalar>(_ tensor: StridedTensor<Scalar>, _ rank: Int, _ name: String, legend: String) throws {
        guard tensor.rank == rank else {
            throw AttentionError(
                .invalidShape, argument: name, expected: "rank \(rank) \(legend)",
                actual: "rank \(tensor.rank) \(describeShape(tensor.shape))",
                fix: rank == 4 ? "Add size-1 batch or head dimensions with unsqueezed(axis:)" : "")
        }
    }

    private static func checkDimension(_ tensor: Tensor, _ axis: Int, _ expected: Int, _ name: String, _ meaning: String) throws {
        guard tensor.shape[axis] == expected else {
            throw AttentionError(
                .shapeMismatch, argument: name,
                expected: "dimension \(axis) = \(expected) (the \(meaning))",
                actual: "\(tensor.shape[axis]) in shape \(describeShape(tensor.shape))")
        }
    }

    private static func checkOutput(_ tensor: Tensor, _ shape: [Int], _ name: String, legend: String) throws {
        guard tensor.shape == shape else {
            throw AttentionError(
                .invalidShape, argument: name, expected: "\(legend) = \(describeShape(shape))",
                actual: describeShape(tensor.shape))
        }
        guard tensor.isNonOverlapping else {
            throw AttentionError(
                .overlappingOutput, argument: name,
                expected: "a view that addresses each element once",
                actual: "strides \(describeShape(tensor.strides)) for shape \(describeShape(tensor.shape))")
        }
    }

    /// Returns whether two views of the same storage may address a common element.
    /// Compares address ranges, so interleaved views that never touch count
    /// as overlapping; pass separate buffers to avoid that.
    static func mayOverlap(_ first: Tensor, _ second: Tensor) -> Bool {
        guard first.storage === second.storage, !first.isEmpty, !second.isEmpty else { return false }
        guard let a = try? Tensor.addressRange(shape: first.shape, strides: first.strides, offset: first.offset),
              let b = try? Tensor.addressRange(shape: second.shape, strides: second.strides, offset: second.offset)
        else { return false }
        return a.overlaps(b)
    }
}

extension StridedTensor {
    /// Whether no two indices address the same storage position.
    ///
    /// Checks a sufficient condition: sorted by stride, each stride exceeds
    /// the span of the smaller dimensions. Views that interleave in other
    /// ways are reported as overlapping.
    var isNonOverlapping: Bool {
        if isEmpty { return true }
        let dimensions = zip(shape, strides).filter { $0.0 > 1 }.sorted { abs($0.1) < abs($1.1) }
        var span = 1
        for (size, stride) in dimensions {
            if abs(stride) < span { return false }
            span = abs(stride) * (size - 1) + span
        }
        return true
    }
}
