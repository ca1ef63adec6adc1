import Attention
import AttentionCharts
import Foundation

/// Runs a chart or engine call and rephrases its `ChartError` or
/// `AttentionError` with the flag that supplied the failing argument; see
/// `flagMessage(argument:expected:actual:fix:flags:)`.
func runChart<Result>(flags: [String: String], _ body: () throws -> Result) throws -> Result {
    do {
        return try body()
    } catch let error as ChartError {
        throw CommandFailure(
            flagMessage(argument: error.argument, expected: error.expected, actual: error.actual, fix: error.fix, flags: flags))
    } catch let error as AttentionError {
        throw CommandFailure(
            flagMessage(argument: error.argument, expected: error.expected, actual: error.actual, fix: error.fix, flags: flags))
    }
}

/// Token labels and the flag they came from.
struct TokenLabels {
    let tokens: [String]
    /// The flag name, `tokens` or `tokens-file`.
    let flag: String

    /// Reads the labels from `--tokens` (split on whitespace) or from
    /// `--tokens-file` (one token per line, so tokens may contain spaces),
    /// or returns `nil` when neither is given.
    ///
    /// - Throws: `UsageError` when both are given, and `CommandFailure`
    ///   naming `--tokens-file` when the file is missing or not UTF-8.
    static func read(_ arguments: ParsedArguments) throws -> TokenLabels? {
        switch (try arguments.string("tokens"), try arguments.string("tokens-file")) {
        case (.some, .some):
            throw UsageError("give either --tokens or --tokens-file, not both")
        case (.some(let text), nil):
            return TokenLabels(tokens: text.split(whereSeparator: \.isWhitespace).map(String.init), flag: "tokens")
        case (nil, .some(let path)):
            guard let data = FileManager.default.contents(atPath: path),
                let text = String(data: data, encoding: .utf8)
            else {
                throw CommandFailure("--tokens-file \(path): the file is missing, unreadable or not UTF-8")
            }
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            }
            if lines.last == "" {
                lines.removeLast()
            }
            return TokenLabels(tokens: lines, flag: "tokens-file")
        case (nil, nil):
            return nil
        }
    }
}

/// Writes `document` to the file given to `--output` through a temporary
/// file and a rename, so a failed run leaves no partial file.
func writeChart(_ document: SVGDocument, outputPath: String) throws {
    try runChart(flags: ["output": "output"]) {
        try writeSVG(document, toPath: outputPath)
    }
}

/// Returns the file name at the end of `path`.
func lastPathComponent(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}
