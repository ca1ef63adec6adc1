import Attention
import AttentionCharts

/// `attention embed-shift`: runs self-attention on 2-dimensional embeddings
/// and draws how each token moves.
enum EmbedShiftCommand {
    static let name = "embed-shift"
    static let summary = "Plot 2-d embeddings before and after self-attention as SVG"
    static let help = """
        Usage: attention embed-shift --input X.npy [--tokens "T1 T2 ..." | --tokens-file F]
                                     [--scale S] --output FILE.svg

        Computes out = softmax(S · X Xᵀ) X for float32 X [N, 2] and draws each input
        vector, its output and an arrow between them, with the mean of the inputs.

        Options:
          --input X.npy       float32 embeddings [N, 2]
          --tokens TEXT       N point labels separated by whitespace
          --tokens-file F     N point labels, one per line
          --scale S           multiplies X Xᵀ before the softmax (default 1, the
                              unscaled form; 0.7071 is 1/sqrt(2), the scaled form)
          --output FILE.svg   the file to write; it is replaced atomically
        """

    static func run(_ arguments: [String]) throws -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(help)
            return 0
        }
        let options = try ChartCommandOptions(
            arguments, allowed: ["input", "tokens", "tokens-file", "scale", "output"], command: name)
        let inputPath = try options.required("input", command: name)
        let outputPath = try options.required("output", command: name)
        var scale: Float = 1
        if let text = options["scale"] {
            guard let value = Float(text), value.isFinite else {
                throw ChartUsageError(message: "\(name): --scale expects a finite number, got '\(text)'")
            }
            scale = value
        }

        let sequence = try ChartsNPYReader.readFloat32(path: inputPath)
        let inputs = try EmbeddingShiftPlot.points(from: sequence, argument: "input \(inputPath)")
        let result = try selfAttention(sequence, scale: scale)
        let outputs = try EmbeddingShiftPlot.points(from: result.output, argument: "self-attention output")
        let document = try EmbeddingShiftPlot.render(
            inputs: inputs, outputs: outputs, labels: options.tokens(command: name),
            title: "Self-attention output, scale \(scale)")
        try writeSVG(document, toPath: outputPath)
        print("wrote \(outputPath)")
        return 0
    }
}
