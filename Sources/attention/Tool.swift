#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Exit statuses: 0 on success, 1 when a run fails, 2 for a usage error.
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2
}

/// Writes one line to standard error; newlines inside `message` become spaces.
func printError(_ message: String) {
    let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

func topLevelHelp(subcommands: [any Subcommand.Type]) -> String {
    let width = (subcommands.map { $0.name.count }.max() ?? 0) + 2
    var lines = [
        "usage: attention <subcommand> [options]",
        "",
        "Runs the attention engine on NumPy .npy files and .safetensors model weights, and draws its results as SVG.",
        "",
        "subcommands:",
    ]
    for command in subcommands {
        lines.append("  " + command.name + String(repeating: " ", count: width - command.name.count) + command.summary)
    }
    lines += ["", "Run 'attention <subcommand> --help' for its options."]
    return lines.joined(separator: "\n")
}

/// Dispatches `arguments` (without the program name) to a subcommand and
/// returns the exit status.
func runTool(_ arguments: [String], subcommands: [any Subcommand.Type]) -> Int32 {
    guard let name = arguments.first else {
        printError("attention: missing subcommand; run 'attention --help' for the list")
        return ExitStatus.usage
    }
    if name == "--help" || name == "-h" || name == "help" {
        print(topLevelHelp(subcommands: subcommands))
        return ExitStatus.success
    }
    guard let command = subcommands.first(where: { $0.name == name }) else {
        let names = subcommands.map { $0.name }.joined(separator: ", ")
        printError("attention: unknown subcommand '\(name)'; expected one of \(names)")
        return ExitStatus.usage
    }

    let options = Array(arguments.dropFirst())
    if options.contains("--help") || options.contains("-h") {
        print(helpText(for: command))
        return ExitStatus.success
    }
    do {
        try command.run(ParsedArguments(options, options: command.options))
        return ExitStatus.success
    } catch let error as UsageError {
        printError("attention \(name): \(error); run 'attention \(name) --help' for usage")
        return ExitStatus.usage
    } catch {
        printError("attention \(name): \(error)")
        return ExitStatus.failure
    }
}

