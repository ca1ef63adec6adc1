import Attention
import AttentionCharts

/// `attention embed-shift`: runs self-attention on 2-dimensional embeddings
/// and draws how each token moves.
enum EmbedShiftCommand: Subcommand {
    static let name = "embed-shift"
    static let summary = "Plot 2-d embeddings before and after self-attention as SVG."
    static let options: [OptionSpecification] = [
        .required("input", "X.npy", "the embeddings X [N, 2]"),
        .optional("tokens", "\"T1 T2 ...\"", "N point labels separated by whitespace"),
        .optional("tokens-file", "F", "N point labels, one per line; replaces --tokens"),
        .optional("scale", "S", "multiplies X Xᵀ before the softmax (default 1, the unscaled form; 0.7071 is 1/sqrt(2), the scaled form)"),
        .required("output", "FILE.svg", "where to write the SVG file"),
    ]
    static let discussion = """
        Computes out = softmax(S · X Xᵀ) · X and draws each input vector, its \
        output and an arrow between them, with a cross at the mean of the \
        inputs. Without labels, points are numbered from 0.

        The SVG file is written completely or not at all. Exit status: 0 on \
        success, 1 when the run fails, 2 for a usage error.
        """

    static func run(_ arguments: ParsedArguments) throws {
        let inputPath = try arguments.requiredString("input")
        let outputPath = try arguments.requiredString("output")
        let scale = try arguments.float("scale") ?? 1
        let labels = try TokenLabels.read(arguments)

        let sequence = try readTensor(flag: "input", path: inputPath)
        let flags = [
            "input": "input", "sequence": "input", "inputs": "input", "scale": "scale",
            "labels": labels?.flag ?? "tokens",
        ]
        let document = try runChart(flags: flags) {
            let inputs = try EmbeddingShiftPlot.points(from: sequence, argument: "input")
            let result = try selfAttention(sequence, scale: scale)
            // NOTE: finite inputs can still give a non-finite output when
            // scale · X Xᵀ overflows float32; the error then names the
            // output, which no flag supplies.
            let outputs = try EmbeddingShiftPlot.points(from: result.output, argument: "self-attention output")
            return try EmbeddingShiftPlot.render(
                inputs: inputs, outputs: outputs, labels: labels?.tokens,
                title: "Self-attention output, scale \(scale)")
        }
        try writeChart(document, outputPath: outputPath)
    }
}
