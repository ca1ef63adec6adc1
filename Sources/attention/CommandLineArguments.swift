/// A subcommand of the `attention` tool.
///
/// To add one, write a type that conforms to this protocol in its own file
/// and list it in `subcommands` in `main.swift`.
protocol Subcommand {
    /// The word that selects the subcommand, such as `sdpa`.
    static var name: String { get }
    /// One line for the top-level help.
    static var summary: String { get }
    /// The options the subcommand accepts, in the order its help lists them.
    static var options: [OptionSpecification] { get }
    /// Paragraphs printed after the option list in `--help`.
    static var discussion: String { get }
    /// Runs the subcommand; throws `UsageError` for invalid flags and any
    /// other error for a failure.
    static func run(_ arguments: ParsedArguments) throws
}

/// One `--name value` option or `--name` flag of a subcommand.
struct OptionSpecification {
    /// The name without the leading dashes.
    let name: String
    /// The placeholder for the value in help, or `nil` for a flag that takes none.
    let valueName: String?
    /// Whether the subcommand fails without it.
    let isRequired: Bool
    /// The help line: the setting the option changes, and its unit or choices.
    let help: String

    static func required(_ name: String, _ valueName: String, _ help: String) -> OptionSpecification {
        OptionSpecification(name: name, valueName: valueName, isRequired: true, help: help)
    }

    static func optional(_ name: String, _ valueName: String, _ help: String) -> OptionSpecification {
        OptionSpecification(name: name, valueName: valueName, isRequired: false, help: help)
    }

    static func flag(_ name: String, _ help: String) -> OptionSpecification {
        OptionSpecification(name: name, valueName: nil, isRequired: false, help: help)
    }
}

/// An invalid command line: an unknown flag, a missing or malformed value,
/// or a missing required option. The tool exits with status 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// The options of one invocation after parsing, with typed accessors that
/// throw `UsageError` naming the flag.
struct ParsedArguments {
    private(set) var values: [String: String] = [:]
    private(set) var flags: Set<String> = []

    /// Parses `--name value`, `--name=value` and `--name` flags.
    ///
    /// - Throws: `UsageError` for an unknown option, a missing value, a
    ///   repeated option, a positional argument or a missing required option.
    init(_ arguments: [String], options: [OptionSpecification]) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw UsageError("unexpected argument '\(argument)'; options start with --")
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = options.first(where: { $0.name == name }) else {
                throw UsageError("unknown option '--\(name)'")
            }
            guard values[name] == nil, !flags.contains(name) else {
                throw UsageError("--\(name) is given more than once")
            }
            guard let valueName = option.valueName else {
                if inlineValue != nil {
                    throw UsageError("--\(name) takes no value")
                }
                flags.insert(name)
                continue
            }
            if let inlineValue {
                values[name] = inlineValue
                continue
            }
            // A value may start with "-" (a negative scale), but not with "--".
            guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                throw UsageError("--\(name) needs a value (\(valueName))")
            }
            values[name] = arguments[index]
            index += 1
        }

        for option in options where option.isRequired && values[option.name] == nil {
            throw UsageError("missing required option --\(option.name) \(option.valueName ?? "")")
        }
    }

    /// Returns the value of `--name`, or `nil` when it is absent.
    func string(_ name: String) throws -> String? {
        guard let value = values[name] else {
            return nil
        }
        guard !value.isEmpty else {
            throw UsageError("--\(name) needs a non-empty value")
        }
        return value
    }

    /// Returns the value of `--name`, which may be the empty string, or
    /// `nil` when it is absent.
    func stringAllowingEmpty(_ name: String) -> String? {
        values[name]
    }

    /// Returns the value of a required `--name`.
    func requiredString(_ name: String) throws -> String {
        guard let value = try string(name) else {
            throw UsageError("missing required option --\(name)")
        }
        return value
    }

    /// Returns whether the flag `--name` is present.
    func isSet(_ name: String) -> Bool {
        flags.contains(name)
    }

    /// Returns the value of `--name` as a finite float. A number that is
    /// not 0 but rounds to 0 in float32 is rejected, not silently zeroed.
    func float(_ name: String) throws -> Float? {
        guard let text = try string(name) else {
            return nil
        }
        guard let value = Float(text), value.isFinite else {
            throw UsageError(
                "--\(name) expects a finite number of magnitude at most \(Float.greatestFiniteMagnitude) (float32), got '\(text)'")
        }
        if value == 0, let wide = Double(text), wide != 0 {
            throw UsageError(
                "invalid --\(name) '\(text)': it rounds to 0 in float32; pass 0, or a magnitude of at least \(Float.leastNonzeroMagnitude)")
        }
        return value
    }

    /// Returns the value of `--name` as a positive integer.
    func positiveInteger(_ name: String) throws -> Int? {
        guard let text = try string(name) else {
            return nil
        }
        guard let value = Int(text), value > 0 else {
            throw UsageError("--\(name) expects a positive integer, got '\(text)'")
        }
        return value
    }

    /// Returns the value of `--name` as an integer of at least 0.
    func nonNegativeInteger(_ name: String) throws -> Int? {
        guard let text = try string(name) else {
            return nil
        }
        guard let value = Int(text), value >= 0 else {
            throw UsageError("--\(name) expects an integer of at least 0, got '\(text)'")
        }
        return value
    }

    /// Returns the value of `--name` as one of `Choice`'s cases.
    func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, as type: Choice.Type) throws -> Choice?
    where Choice.RawValue == String {
        guard let text = try string(name) else {
            return nil
        }
        guard let value = Choice(rawValue: text) else {
            let choices = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw UsageError("--\(name) expects one of \(choices), got '\(text)'")
        }
        return value
    }
}

/// Formats the `--help` text of a subcommand.
func helpText(for command: any Subcommand.Type) -> String {
    let synopsis = command.options.map { option -> String in
        let text = option.valueName.map { "--\(option.name) \($0)" } ?? "--\(option.name)"
        return option.isRequired ? text : "[\(text)]"
    }
    var lines = ["usage: attention \(command.name) " + synopsis.joined(separator: " "), "", command.summary, "", "options:"]
    let labels = command.options.map { option in
        option.valueName.map { "--\(option.name) \($0)" } ?? "--\(option.name)"
    } + ["--help"]
    let helps = command.options.map(\.help) + ["print this help and exit"]
    let width = (labels.map(\.count).max() ?? 0) + 2
    for (label, help) in zip(labels, helps) {
        lines.append("  " + label + String(repeating: " ", count: width - label.count) + help)
    }
    if !command.discussion.isEmpty {
        lines += ["", command.discussion]
    }
    return lines.joined(separator: "\n")
}
