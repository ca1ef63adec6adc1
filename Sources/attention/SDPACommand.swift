import Attention

/// `attention sdpa`: scaled dot-product attention with masks, causal
/// alignment and grouped-query heads.
enum SDPACommand: Subcommand {
    /// The axis order of the query, key, value and output files.
    enum Layout: String, CaseIterable {
        /// `[B, H, L, D]`, the engine's own order.
        case bhld
        /// `[B, L, H, D]`, the order a model's projections produce; read
        /// through a permuted view without a copy.
        case blhd
    }

    /// The values of `--method`: exact attention or an approximation.
    enum Method: String, CaseIterable {
        /// `window` is exact attention restricted to the `--window` keys.
        case exact, window, linear, performer, nystrom
    }

    static let name = "sdpa"
    static let summary = "Compute scaled dot-product attention, softmax(scale · Q Kᵀ + mask) · V, from .npy files."
    static let options: [OptionSpecification] = [
        .required("query", "Q.npy", "queries [B, Hq, Lq, Dk] (bhld) or [B, Lq, Hq, Dk] (blhd)"),
        .required("key", "K.npy", "keys [B, Hkv, Lk, Dk] (bhld) or [B, Lk, Hkv, Dk] (blhd)"),
        .required("value", "V.npy", "values [B, Hkv, Lk, Dv] (bhld) or [B, Lk, Hkv, Dv] (blhd)"),
        .required("output", "OUT.npy", "where to write the output [B, Hq, Lq, Dv] (bhld) or [B, Lq, Hq, Dv] (blhd) as float32"),
        .optional("scale", "S", "multiplies Q Kᵀ before masking (default 1/sqrt(Dk)); 0 and negative values are used as given"),
        .optional("layout", "bhld|blhd", "axis order of the query, key, value and output files (default bhld)"),
        .optional("mask", "M.npy", "bool (true = attend) or float (added to the scaled scores) mask, broadcastable to [B, Hq, Lq, Lk]"),
        .optional("key-padding-mask", "P.npy", "bool [B, Lk]; false marks a padded key, which is never read"),
        .optional("causal", "top-left|bottom-right", "causal mask: top-left keeps key j <= i, bottom-right keeps j <= i + Lk - Lq"),
        .optional("lse", "LSE.npy", "where to write the log-sum-exp of each query row [B, Hq, Lq]"),
        .optional("weights", "W.npy", "where to write the attention weights [B, Hq, Lq, Lk]"),
        .optional("window", "L,R", "sliding window: query i sees the L keys before and the R keys after key i + Lk - Lq (exact attention inside the window, also spelled --method window)"),
        .optional("method", "exact|window|linear|performer|nystrom", "exact attention (default), exact attention inside --window, or an approximation whose cost grows linearly with the length"),
        .optional("features", "N", "random features of --method performer"),
        .optional("seed", "S", "seed of the random features of --method performer, an integer in 0...2^64-1 (default 0)"),
        .optional("landmarks", "N", "landmarks of --method nystrom, at most Lq and the fewest real keys of a batch item"),
        .optional("path", "reference|materialized|tiled", "kernel to run (default: the plan chooses)"),
        .optional("threads", "N", "worker threads (default: every processor)"),
        .flag("sgemm-only", "run every product of the tiled path on sgemm, also in tiles of at most 8 query rows"),
        .flag("plan", "print the plan that ran (path, threads, blocks, masks) to stderr"),
    ]
    static let discussion = """
        Grouped-query attention follows from the head counts: Hq must be a \
        multiple of Hkv, and query head h reads key/value head h / (Hq / Hkv).

        Masks, the log-sum-exp and the weights are indexed [B, H, Lq, Lk] \
        (head before position) in both layouts, the order torch's \
        scaled_dot_product_attention uses for them. Only the query, key, \
        value and output files follow --layout. A fully masked query row \
        gives zeros in the output and -inf in the log-sum-exp.

        --method linear uses the feature map elu(x) + 1 and takes no scale; \
        performer estimates softmax attention with random features; nystrom \
        uses segment-mean landmarks. The approximations accept \
        --key-padding-mask and --causal (not nystrom), but no --mask, \
        --window, --path or --plan, and write only the output (no --lse or \
        --weights).

        Output files are written completely or not at all. Exit status: 0 on \
        success, 1 when the run fails, 2 for a usage error.
        """

    /// The engine's argument names and the flags that supply them.
    static let flagsByArgument = [
        "query": "query", "key": "key", "value": "value", "scale": "scale",
        "mask": "mask", "keyPadding": "key-padding-mask", "weights": "weights",
        "logSumExp": "lse", "threadCount": "threads", "options.path": "path",
        "causal": "causal", "window": "window", "features": "features", "landmarks": "landmarks",
    ]

    static func run(_ arguments: ParsedArguments) throws {
        let queryPath = try arguments.requiredString("query")
        let keyPath = try arguments.requiredString("key")
        let valuePath = try arguments.requiredString("value")
        let outputPath = try arguments.requiredString("output")
        let scale = try arguments.float("scale")
        let layout = try arguments.choice("layout", as: Layout.self) ?? .bhld
        let maskPath = try arguments.string("mask")
        let keyPaddingPath = try arguments.string("key-padding-mask")
        let causal = try arguments.choice("causal", as: CausalAlignment.self)
        let logSumExpPath = try arguments.string("lse")
        let weightsPath = try arguments.string("weights")
        let path = try arguments.choice("path", as: AttentionPath.self)
        let threadCount = try arguments.positiveInteger("threads")
        let window = try slidingWindow(arguments.string("window"))
        let method = try attentionMethod(arguments)
        if method != .exact {
            for flag in ["lse", "weights", "plan"] where arguments.isSet(flag) || arguments.stringAllowingEmpty(flag) != nil {
                throw UsageError("--\(flag) needs --method exact; the approximations return only the output")
            }
            // The approximations take neither masks nor the exact paths'
            // options. Linear attention has no scale, and Nyström has no
            // causal form.
            var exactOnly = ["mask", "window", "path", "sgemm-only"]
            if method == .linear { exactOnly.append("scale") }
            if case .nystrom = method { exactOnly.append("causal") }
            for flag in exactOnly where arguments.isSet(flag) || arguments.stringAllowingEmpty(flag) != nil {
                throw UsageError("--\(flag) is not supported with --method \(try arguments.string("method") ?? ""); drop it, or use --method exact")
            }
        }
        try OutputFiles.checkDistinct([("output", outputPath), ("lse", logSumExpPath), ("weights", weightsPath)])

        // 1. Read the inputs and view them as [B, H, L, D].
        var tensors: [Tensor] = []
        for (flag, path) in [("query", queryPath), ("key", keyPath), ("value", valuePath)] {
            let tensor = try readTensor(flag: flag, path: path)
            tensors.append(try view(tensor, layout: layout, flag: flag, path: path))
        }
        let mask = try maskPath.map { path in
            let dtype = try readArray(flag: "mask", path: path).dtype
            switch dtype.kind {
            case .bool:
                return AttentionMask.boolean(try readBoolTensor(flag: "mask", path: path))
            case .float:
                return AttentionMask.additive(try readTensor(flag: "mask", path: path))
            case .signedInteger, .unsignedInteger:
                // A 0/1 integer mask read as additive would hide nothing.
                // PyTorch 2.15's SDPA rejects integer masks, so this does too.
                let name = (dtype.kind == .signedInteger ? "int" : "uint") + "\(dtype.byteCount * 8)"
                throw CommandFailure(
                    "--mask \(path): expected a bool mask (true = attend) or a float mask (added to the scaled scores), "
                        + "got \(name). Convert it with astype(bool) or astype(numpy.float32)")
            }
        }
        let keyPadding = try keyPaddingPath.map { KeyPadding.mask(try readBoolTensor(flag: "key-padding-mask", path: $0)) }

        // 2. Run the engine.
        var outputs: AttentionOutputs = []
        if logSumExpPath != nil {
            outputs.insert(.logSumExp)
        }
        if weightsPath != nil {
            outputs.insert(.weights)
        }
        let options = ExecutionOptions(path: path, threadCount: threadCount, sgemmOnly: arguments.isSet("sgemm-only"))
        let hint = { (error: AttentionError) -> String? in
            // The two likeliest mix-ups: [B, L, H, D] files read as
            // [B, H, L, D], and a [B, Lk] padding mask passed as --mask.
            if layout == .bhld, error.kind == .shapeMismatch, ["key", "value"].contains(error.argument) {
                return "If the files are [B, L, H, D], pass --layout blhd"
            }
            if error.argument == "mask", let mask, case .boolean(let tensor) = mask, tensor.rank == 2 {
                return "For a [B, Lk] key padding mask, use --key-padding-mask"
            }
            return nil
        }
        var output: Tensor
        var logSumExp: Tensor?
        var weights: Tensor?
        if method == .exact {
            let result = try runEngine(flags: flagsByArgument, hint: hint) {
                try scaledDotProductAttention(
                    queries: tensors[0], keys: tensors[1], values: tensors[2],
                    scale: scale, mask: mask, causal: causal, window: window, keyPadding: keyPadding,
                    returning: outputs, options: options)
            }
            if arguments.isSet("plan") {
                printError("plan: \(result.plan)")
            }
            output = result.output
            logSumExp = result.logSumExp
            weights = result.weights
        } else {
            output = try runEngine(flags: flagsByArgument, hint: hint) {
                try scaledDotProductAttention(
                    queries: tensors[0], keys: tensors[1], values: tensors[2],
                    scale: scale, mask: mask, causal: causal, window: window, keyPadding: keyPadding,
                    method: method, options: options)
            }
        }

        // 3. Write the output in the query's layout; the log-sum-exp and the
        // weights stay head-major.
        var files = OutputFiles()
        if layout == .blhd {
            output = try output.permuted([0, 2, 1, 3])
        }
        try files.add(flag: "output", path: outputPath, tensor: output)
        if let logSumExpPath, let logSumExp {
            try files.add(flag: "lse", path: logSumExpPath, tensor: logSumExp)
        }
        if let weightsPath, let weights {
            try files.add(flag: "weights", path: weightsPath, tensor: weights)
        }
        try files.writeAll()
    }

    /// Parses `--window L,R` into a window of `L` keys before and `R` keys
    /// after the centre.
    private static func slidingWindow(_ text: String?) throws -> SlidingWindow? {
        guard let text else {
            return nil
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let left = Int(parts[0]), let right = Int(parts[1]), left >= 0, right >= 0 else {
            throw UsageError("--window expects two integers of at least 0 as L,R, such as 64,0, got '\(text)'")
        }
        return SlidingWindow(left: left, right: right)
    }

    /// Builds the attention method from `--method` and its parameters, and
    /// rejects a parameter that the chosen method does not take.
    private static func attentionMethod(_ arguments: ParsedArguments) throws -> AttentionMethod {
        let method = try arguments.choice("method", as: Method.self) ?? .exact
        let features = try arguments.positiveInteger("features")
        let landmarks = try arguments.positiveInteger("landmarks")
        let seedText = try arguments.string("seed")
        let seed = try seedText.map { text in
            guard let seed = UInt64(text) else {
                throw UsageError("--seed expects an integer in 0...\(UInt64.max), got '\(text)'")
            }
            return seed
        }

        if method != .performer, features != nil || seed != nil {
            throw UsageError("--\(features != nil ? "features" : "seed") needs --method performer")
        }
        if method != .nystrom, landmarks != nil {
            throw UsageError("--landmarks needs --method nystrom")
        }
        if method == .window, try arguments.string("window") == nil {
            throw UsageError("--method window needs --window L,R")
        }
        switch method {
        case .exact, .window:
            return .exact
        case .linear:
            return .linear
        case .performer:
            guard let features else {
                throw UsageError("--method performer needs --features N")
            }
            return .performer(features: features, seed: seed ?? 0)
        case .nystrom:
            guard let landmarks else {
                throw UsageError("--method nystrom needs --landmarks N")
            }
            return .nystrom(landmarks: landmarks)
        }
    }

    /// Returns `tensor` as a `[B, H, L, D]` view; a `blhd` file is permuted
    /// without a copy.
    private static func view(_ tensor: Tensor, layout: Layout, flag: String, path: String) throws -> Tensor {
        switch layout {
        case .bhld:
            return tensor
        case .blhd:
            guard tensor.rank == 4 else {
                throw CommandFailure("--\(flag) \(path): expected a rank-4 array [B, L, H, D] for --layout blhd, got shape \(tensor.shape)")
            }
            return try tensor.permuted([0, 2, 1, 3])
        }
    }
}
