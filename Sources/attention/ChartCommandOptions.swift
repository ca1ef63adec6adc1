import Foundation

/// An invalid command line for a chart command.
struct ChartUsageError: Error, CustomStringConvertible {
    let message: String

    var description: String { message }
}

/// `--name value` pairs parsed from a chart command's arguments.
struct ChartCommandOptions {
    private var values: [String: String] = [:]

    /// Parses `arguments`, accepting each name in `allowed` at most once,
    /// as `--name value` or `--name=value`.
    init(_ arguments: [String], allowed: Set<String>, command: String) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else {
                throw ChartUsageError(message: "\(command): unexpected argument '\(argument)'; options start with --")
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard allowed.contains(name) else {
                let known = allowed.sorted().map { "--\($0)" }.joined(separator: ", ")
                throw ChartUsageError(message: "\(command): unknown option --\(name); valid options are \(known)")
            }
            guard values[name] == nil else {
                throw ChartUsageError(message: "\(command): option --\(name) is given more than once")
            }
            if value == nil {
                index += 1
                guard index < arguments.count else {
                    throw ChartUsageError(message: "\(command): option --\(name) is missing its value")
                }
                value = arguments[index]
            }
            values[name] = value
            index += 1
        }
    }

    subscript(_ name: String) -> String? { values[name] }

    /// Returns the value of a required option.
    func required(_ name: String, command: String) throws -> String {
        guard let value = values[name] else {
            throw ChartUsageError(message: "\(command): missing required option --\(name); see 'attention \(command) --help'")
        }
        return value
    }

    /// Returns an integer option, or `nil` when it is absent.
    func integer(_ name: String, command: String) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text) else {
            throw ChartUsageError(message: "\(command): --\(name) expects an integer, got '\(text)'")
        }
        return value
    }

    /// Returns the tokens from `--tokens` (split on whitespace) or from
    /// `--tokens-file` (one token per line, so tokens may contain spaces),
    /// or `nil` when neither is given.
    func tokens(command: String) throws -> [String]? {
        switch (values["tokens"], values["tokens-file"]) {
        case (.some, .some):
            throw ChartUsageError(message: "\(command): give either --tokens or --tokens-file, not both")
        case (.some(let text), nil):
            return text.split(whereSeparator: \.isWhitespace).map(String.init)
        case (nil, .some(let path)):
            guard let data = FileManager.default.contents(atPath: path),
                  let text = String(data: data, encoding: .utf8)
            else {
                throw ChartUsageError(message: "\(command): --tokens-file \(path) is missing, unreadable or not UTF-8")
            }
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
                $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
            }
            if lines.last == "" { lines.removeLast() }
            return lines
        case (nil, nil):
            return nil
        }
    }
}
