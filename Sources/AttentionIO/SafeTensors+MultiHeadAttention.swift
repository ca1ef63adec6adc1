import Attention

/// The naming scheme of the four projections of an attention block in a
/// checkpoint.
public enum AttentionWeightNaming: String, Sendable, CaseIterable {
    /// BERT and its relatives: `attention.self.query`, `attention.self.key`,
    /// `attention.self.value` and `attention.output.dense`.
    case bert
    /// Decoder models such as Llama and Mistral: `q_proj`, `k_proj`,
    /// `v_proj` and `o_proj`.
    case decoder

    /// The tensor name stems of the query, key, value and output
    /// projections, without the prefix and the `.weight` or `.bias` suffix.
    public var projectionStems: (query: String, key: String, value: String, output: String) {
        switch self {
        case .bert:
            return ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")
        case .decoder:
            return ("q_proj", "k_proj", "v_proj", "o_proj")
        }
    }

    /// Joins a prefix and a stem with exactly one dot: the prefixes
    /// `encoder.layer.2` and `encoder.layer.2.` both give
    /// `encoder.layer.2.attention.self.query`. An empty prefix adds nothing.
    public static func join(prefix: String, stem: String) -> String {
        if prefix.isEmpty || prefix.hasSuffix(".") {
            return prefix + stem
        }
        return prefix + "." + stem
    }
}

extension MultiHeadAttention {
    /// Builds a layer from the projections stored under `prefix` in a
    /// `.safetensors` file.
    ///
    /// Weights are `[out, in]`; each `.bias` is optional and read when
    /// present. F32 weights are views of the file's memory mapping, and
    /// F16, BF16 and F64 weights are converted to float32.
    ///
    /// - Parameters:
    ///   - file: an opened `.safetensors` file.
    ///   - prefix: the path to the block, for example `encoder.layer.2` or
    ///     `model.layers.0.self_attn`; a trailing dot is optional.
    ///   - headCount: H, the number of query heads.
    ///   - keyValueHeadCount: Hkv for grouped-query attention; `nil` means H.
    ///   - naming: the naming scheme, or `nil` to use whichever scheme's query
    ///     weight exists under `prefix`.
    ///   - scale: multiplies the scores; `nil` means `1/sqrt(D)`.
    /// - Throws: `SafeTensorsError` naming the tensor that is missing, has an
    ///   unsupported dtype, or has a shape that disagrees with the head counts
    ///   or the other projections.
    /// - Complexity: O(1) per F32 tensor; O(elements) per converted tensor.
    public init(
        safeTensors file: SafeTensorsFile, prefix: String, headCount: Int, keyValueHeadCount: Int? = nil,
        naming: AttentionWeightNaming? = nil, scale: Float? = nil
    ) throws {
        let naming = try naming ?? Self.detectNaming(in: file, prefix: prefix)
        let stems = naming.projectionStems
        func name(_ stem: String, _ suffix: String) -> String {
            AttentionWeightNaming.join(prefix: prefix, stem: stem) + suffix
        }

        func projection(_ stem: String, role: String) throws -> LinearProjection {
            let weightName = name(stem, ".weight")
            let biasName = name(stem, ".bias")
            let weight = try file.tensor(named: weightName)
            let bias = file.tensors[biasName] == nil ? nil : try file.tensor(named: biasName)
            do {
                return try LinearProjection(weight: weight, bias: bias, name: role)
            } catch let error as AttentionError {
                let culprit = error.argument.hasSuffix("bias") ? biasName : weightName
                throw SafeTensorsError(
                    .shapeMismatch, path: file.path, tensor: culprit, expected: error.expected, actual: error.actual)
            }
        }
        let query = try projection(stems.query, role: "query")
        let key = try projection(stems.key, role: "key")
        let value = try projection(stems.value, role: "value")
        let output = try projection(stems.output, role: "output")

        do {
            try self.init(
                query: query, key: key, value: value, output: output,
                headCount: headCount, keyValueHeadCount: keyValueHeadCount, scale: scale)
        } catch let error as AttentionError {
            // Name the tensor behind the projection that failed, or pass a
            // head-count error through unchanged.
            let stemsByArgument = [
                "query weight": stems.query, "key weight": stems.key,
                "value weight": stems.value, "output weight": stems.output,
            ]
            guard let stem = stemsByArgument[error.argument] else { throw error }
            throw SafeTensorsError(
                .shapeMismatch, path: file.path, tensor: name(stem, ".weight"),
                expected: error.expected, actual: error.actual, fix: error.fix)
        }
    }

    /// Builds a layer from the `.safetensors` file at `path`; see
    /// `init(safeTensors:prefix:headCount:keyValueHeadCount:naming:scale:)`.
    public init(
        contentsOf path: String, prefix: String, headCount: Int, keyValueHeadCount: Int? = nil,
        naming: AttentionWeightNaming? = nil, scale: Float? = nil
    ) throws {
        try self.init(
            safeTensors: try SafeTensorsFile(path: path), prefix: prefix, headCount: headCount,
            keyValueHeadCount: keyValueHeadCount, naming: naming, scale: scale)
    }

    /// Returns the scheme whose query weight exists under `prefix`.
    private static func detectNaming(in file: SafeTensorsFile, prefix: String) throws -> AttentionWeightNaming {
        let candidates = AttentionWeightNaming.allCases.map { naming in
            (naming, AttentionWeightNaming.join(prefix: prefix, stem: naming.projectionStems.query) + ".weight")
        }
        let present = candidates.filter { file.tensors[$0.1] != nil }
        if present.count == 1 {
            return present[0].0
        }
        let names = candidates.map { "\"\($0.1)\"" }.joined(separator: " or ")
        if present.isEmpty {
            let suggestions = candidates.flatMap { file.closestNames(to: $0.1) }
            throw SafeTensorsError(
                .tensorNotFound, path: file.path, tensor: candidates[0].1,
                expected: "a query weight named \(names)", actual: "neither among \(file.tensors.count) tensors",
                fix: suggestions.isEmpty
                    ? "Check the prefix \"\(prefix)\""
                    : "Check the prefix \"\(prefix)\"; close names: " + Array(Set(suggestions)).sorted().joined(separator: ", "))
        }
        throw SafeTensorsError(
            .invalidHeader, path: file.path, tensor: candidates[0].1,
            expected: "one naming scheme under the prefix", actual: "both \(names)",
            fix: "Pass the naming scheme explicitly")
    }
}
