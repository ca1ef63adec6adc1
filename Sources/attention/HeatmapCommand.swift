import Attention
import AttentionCharts

/// `attention heatmap`: draws attention weights from a `.npy` file as SVG.
enum HeatmapCommand: Subcommand {
    static let name = "heatmap"
    static let summary = "Draw attention weights from a .npy file as an SVG heatmap, one panel per head."
    static let options: [OptionSpecification] = [
        .required("weights", "W.npy", "attention weights [Lq, Lk], [H, Lq, Lk] or [B, H, Lq, Lk]; rows are queries, columns keys"),
        .optional("tokens", "\"T1 T2 ...\"", "key labels separated by whitespace, exactly Lk of them (padding tokens included); they also label the queries when Lq = Lk"),
        .optional("tokens-file", "F", "key labels, one per line, for tokens that contain spaces; replaces --tokens"),
        .optional("query-tokens", "\"T1 T2 ...\"", "query labels separated by whitespace, exactly Lq of them, when they differ from the key labels"),
        .optional("batch", "B", "the batch item to draw from [B, H, Lq, Lk] weights (default 0)"),
        .optional("heads", "all|H,H,...", "'all' (default) or comma-separated head indices, such as 0,3,7"),
        .required("output", "FILE.svg", "where to write the SVG file"),
    ]
    static let discussion = """
        Several heads are drawn in a grid with one shared colour scale and its \
        legend; each panel's title is its head index. Without labels, rows \
        and columns are numbered from 0.

        The SVG file is written completely or not at all. Exit status: 0 on \
        success, 1 when the run fails, 2 for a usage error.
        """

    static func run(_ arguments: ParsedArguments) throws {
        let weightsPath = try arguments.requiredString("weights")
        let outputPath = try arguments.requiredString("output")
        let batch = try arguments.nonNegativeInteger("batch")
        let heads = try headList(arguments.string("heads"))
        let keyTokens = try TokenLabels.read(arguments)
        let queryTokenText = try arguments.string("query-tokens")

        let weights = try readTensor(flag: "weights", path: weightsPath)

        // Key labels also label the queries of a square matrix unless
        // --query-tokens gives their own.
        var queryTokens = queryTokenText.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
        var queryTokensFlag = "query-tokens"
        let isSquare = weights.rank >= 2 && weights.shape[weights.rank - 2] == weights.shape[weights.rank - 1]
        if queryTokens == nil, isSquare, let keyTokens {
            queryTokens = keyTokens.tokens
            queryTokensFlag = keyTokens.flag
        }

        let flags = [
            "weights": "weights", "panels": "weights", "batch": "batch", "heads": "heads",
            "keyTokens": keyTokens?.flag ?? "tokens", "queryTokens": queryTokensFlag,
        ]
        let document = try runChart(flags: flags) {
            try Heatmap.render(
                weights: weights, batch: batch, heads: heads,
                queryTokens: queryTokens, keyTokens: keyTokens?.tokens,
                title: "Attention weights: \(lastPathComponent(weightsPath))")
        }
        try writeChart(document, outputPath: outputPath)
    }

    /// Parses `--heads`: `nil` or `all` for every head, else indices.
    private static func headList(_ text: String?) throws -> [Int]? {
        guard let text, text != "all" else {
            return nil
        }
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            guard let head = Int(item.trimmingCharacters(in: .whitespaces)), head >= 0 else {
                throw UsageError("--heads expects 'all' or head indices such as 0,3,7, got '\(text)'")
            }
            return head
        }
    }
}
