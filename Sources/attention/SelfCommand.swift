import Attention

/// `attention self`: the self-attention of one sequence, where the sequence
/// is its own query, key and value.
enum SelfCommand: Subcommand {
    static let name = "self"
    static let summary = "Compute self-attention of one sequence X [N, d]: weights = softmax(scale · X Xᵀ), output = weights · X."
    static let options: [OptionSpecification] = [
        .required("input", "X.npy", "the sequence X [N, d] (float32, float64, float16 or integer)"),
        .required("output", "OUT.npy", "where to write the output [N, d] as float32"),
        .optional("weights", "W.npy", "where to write the attention weights [N, N]; row i holds query i's weights"),
        .optional("scale", "S", "multiplies X Xᵀ before the softmax (default 1, the unscaled textbook form)"),
        .optional("path", "reference|materialized|tiled", "kernel to run (default: the plan chooses); --weights needs reference or materialized"),
        .optional("threads", "N", "worker threads (default: every processor)"),
    ]
    static let discussion = """
        Output files are written completely or not at all. Exit status: 0 on \
        success, 1 when the run fails, 2 for a usage error.
        """

    static func run(_ arguments: ParsedArguments) throws {
        let inputPath = try arguments.requiredString("input")
        let outputPath = try arguments.requiredString("output")
        let weightsPath = try arguments.string("weights")
        let scale = try arguments.float("scale") ?? 1
        let path = try arguments.choice("path", as: AttentionPath.self)
        let threadCount = try arguments.positiveInteger("threads")
        try OutputFiles.checkDistinct([("output", outputPath), ("weights", weightsPath)])

        let sequence = try readTensor(flag: "input", path: inputPath)
        guard sequence.rank == 2 else {
            throw CommandFailure("--input \(inputPath): expected a rank-2 array [N, d], got shape \(sequence.shape)")
        }

        let flags = [
            "sequence": "input", "scale": "scale", "weights": "weights", "options.path": "path", "threadCount": "threads",
        ]
        let result = try runEngine(flags: flags) {
            try selfAttention(
                sequence, scale: scale, returningWeights: weightsPath != nil,
                options: ExecutionOptions(path: path, threadCount: threadCount))
        }

        var outputs = OutputFiles()
        try outputs.add(flag: "output", path: outputPath, tensor: result.output)
        if let weightsPath, let weights = result.weights {
            try outputs.add(flag: "weights", path: weightsPath, tensor: weights)
        }
        try outputs.writeAll()
    }
}
