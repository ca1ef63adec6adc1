import Attention
import AttentionIO

/// `attention mha`: runs one multi-head attention block with weights from a
/// `.safetensors` file on hidden states from a `.npy` file.
enum MHACommand: Subcommand {
    static let name = "mha"
    static let summary = "Run a multi-head attention block with .safetensors weights on .npy hidden states."
    static let options: [OptionSpecification] = [
        .required("weights", "FILE.safetensors", "the block's weights (F32, F16, BF16 or F64); biases are used when present"),
        .required("prefix", "PREFIX", "name prefix of the block, such as encoder.layer.2 or model.layers.0.self_attn; a trailing dot is optional, and '' means no prefix"),
        .required("heads", "N", "number of query heads"),
        .optional("kv-heads", "M", "number of key/value heads for grouped-query attention, a divisor of N (default N)"),
        .required("hidden", "H.npy", "hidden states [B, L, hidden]"),
        .optional("key-padding-mask", "P.npy", "bool [B, L]; true marks a real token, false a padding key that no query attends"),
        .optional("causal", "top-left|bottom-right", "causal mask: query i sees keys j <= i; the two alignments agree for self-attention"),
        .required("output", "OUT.npy", "where to write the block output [B, L, out] as float32"),
        .optional("probs", "PROBS.npy", "where to write the attention probabilities [B, N, L, L]"),
        .optional("context", "CTX.npy", "where to write the merged heads [B, L, N·head size] before the output projection"),
    ]
    static let discussion = """
        Runs the attention block stored under PREFIX: the query, key, value \
        and output projections (y = x · Wᵀ + b, weights [out, in]) around \
        scaled dot-product attention with scale 1/sqrt(head size). \
        BERT-style names (PREFIX.attention.self.query, .key, .value and \
        PREFIX.attention.output.dense) and decoder-style names \
        (PREFIX.q_proj, k_proj, v_proj, o_proj) are recognized, each with \
        .weight and an optional .bias.

        Output files are written completely or not at all. Exit status: 0 on \
        success, 1 when the run fails, 2 for a usage error.
        """

    /// The library's argument names and the flags that supply them.
    static let flagsByArgument = [
        "headCount": "heads", "keyValueHeadCount": "kv-heads", "queries": "hidden", "keys": "hidden",
        "values": "hidden", "keyPadding": "key-padding-mask", "causal": "causal", "weights": "probs",
    ]

    static func run(_ arguments: ParsedArguments) throws {
        let weightsPath = try arguments.requiredString("weights")
        guard let prefix = arguments.stringAllowingEmpty("prefix") else {
            throw UsageError("missing required option --prefix")
        }
        guard let heads = try arguments.positiveInteger("heads") else {
            throw UsageError("missing required option --heads")
        }
        let keyValueHeads = try arguments.positiveInteger("kv-heads")
        let hiddenPath = try arguments.requiredString("hidden")
        let keyPaddingPath = try arguments.string("key-padding-mask")
        let causal = try arguments.choice("causal", as: CausalAlignment.self)
        let outputPath = try arguments.requiredString("output")
        let probsPath = try arguments.string("probs")
        let contextPath = try arguments.string("context")
        try OutputFiles.checkDistinct([("output", outputPath), ("probs", probsPath), ("context", contextPath)])

        // 1. Load the layer and the inputs.
        let layer: MultiHeadAttention
        do {
            layer = try runEngine(flags: flagsByArgument) {
                try MultiHeadAttention(
                    contentsOf: weightsPath, prefix: prefix, headCount: heads, keyValueHeadCount: keyValueHeads)
            }
        } catch let error as SafeTensorsError {
            throw CommandFailure("--weights \(error)")
        }
        let hidden = try readTensor(flag: "hidden", path: hiddenPath)
        guard hidden.rank == 3, hidden.shape[2] == layer.hiddenSize else {
            throw CommandFailure(
                "--hidden \(hiddenPath): expected [B, L, \(layer.hiddenSize)] for the layer's hidden size, got \(hidden.shape)")
        }
        let keyPadding = try keyPaddingPath.map { path in
            let mask = try readBoolTensor(flag: "key-padding-mask", path: path)
            let expected = [hidden.shape[0], hidden.shape[1]]
            guard mask.shape == expected else {
                throw CommandFailure(
                    "--key-padding-mask \(path): expected \(expected) to match --hidden [B, L], got \(mask.shape)")
            }
            return KeyPadding.mask(mask)
        }

        // 2. Run the block.
        let result = try runEngine(flags: flagsByArgument) {
            try layer(hidden, causal: causal, keyPadding: keyPadding, returning: probsPath == nil ? [] : [.weights])
        }

        // 3. Write the outputs together.
        var files = OutputFiles()
        try files.add(flag: "output", path: outputPath, tensor: result.output)
        if let probsPath, let weights = result.weights {
            try files.add(flag: "probs", path: probsPath, tensor: weights)
        }
        if let contextPath {
            try files.add(flag: "context", path: contextPath, tensor: result.context)
        }
        try files.writeAll()
    }
}
