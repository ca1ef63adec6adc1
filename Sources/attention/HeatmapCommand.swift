import Attention
import AttentionCharts

/// `attention heatmap`: draws attention weights from a `.npy` file as SVG.
enum HeatmapCommand {
    static let name = "heatmap"
    static let summary = "Draw attention weights from a .npy file as an SVG heatmap"
    static let help = """
        Usage: attention heatmap --weights W.npy [--tokens "T1 T2 ..." | --tokens-file F]
                                 [--query-tokens "T1 T2 ..."] [--batch B] [--heads all|H,H,...]
                                 --output FILE.svg

        Draws one heatmap per head, rows = queries and columns = keys, in a grid
        when several heads are drawn, with one shared colour scale and legend.

        Options:
          --weights W.npy     float32 weights [Lq, Lk], [H, Lq, Lk] or [B, H, Lq, Lk]
          --tokens TEXT       key labels separated by whitespace; they also label the
                              queries when Lq = Lk. The count must equal Lk exactly,
                              padding tokens included.
          --tokens-file F     key labels, one per line (tokens may contain spaces)
          --query-tokens TEXT query labels when they differ from the key labels
          --batch B           the batch item of [B, H, Lq, Lk] weights (default 0)
          --heads LIST        'all' (default) or comma-separated head indices
          --output FILE.svg   the file to write; it is replaced atomically
        """

    static func run(_ arguments: [String]) throws -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(help)
            return 0
        }
        let options = try ChartCommandOptions(
            arguments,
            allowed: ["weights", "tokens", "tokens-file", "query-tokens", "batch", "heads", "output"],
            command: name)
        let weightsPath = try options.required("weights", command: name)
        let outputPath = try options.required("output", command: name)
        let weights = try ChartsNPYReader.readFloat32(path: weightsPath)

        var heads: [Int]?
        if let list = options["heads"], list != "all" {
            heads = try list.split(separator: ",", omittingEmptySubsequences: false).map { item in
                guard let head = Int(item.trimmingCharacters(in: .whitespaces)) else {
                    throw ChartUsageError(message: "\(name): --heads expects 'all' or indices like 0,3,7, got '\(list)'")
                }
                return head
            }
        }

        let keyTokens = try options.tokens(command: name)
        var queryTokens = options["query-tokens"].map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
        let rows = weights.rank >= 2 ? weights.shape[weights.rank - 2] : 0
        let columns = weights.rank >= 2 ? weights.shape[weights.rank - 1] : 0
        if queryTokens == nil, rows == columns {
            queryTokens = keyTokens
        }

        let document = try Heatmap.render(
            weights: weights, batch: options.integer("batch", command: name), heads: heads,
            queryTokens: queryTokens, keyTokens: keyTokens,
            title: "Attention weights: \(lastPathComponent(weightsPath))")
        try writeSVG(document, toPath: outputPath)
        print("wrote \(outputPath)")
        return 0
    }
}

/// The file name at the end of `path`.
func lastPathComponent(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}
