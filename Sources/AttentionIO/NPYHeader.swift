/// The header dictionary of a `.npy` file: dtype, memory order and shape.
///
/// The header is a Python dictionary literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, padded
/// with spaces and ending in a newline. The parser accepts the keys in any
/// order, any whitespace, trailing commas, single or double quotes, and the
/// `L` suffix that Python 2 wrote after integers. It rejects missing,
/// duplicate or unknown keys.
struct NPYHeader: Equatable {
    var dtype: NPYDType
    var isFortranOrder: Bool
    var shape: [Int]

    /// Formats the header dictionary the way NumPy writes it, without padding.
    var dictionaryText: String {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        return "{'descr': '\(dtype.descr)', 'fortran_order': \(isFortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
    }

    /// Parses the header text of `file`.
    init(parsing text: String, file: String) throws {
        var parser = LiteralParser(text: text, file: file)
        let value = try parser.parseValue(depth: 0)
        try parser.expectEnd()
        guard case .dictionary(let entries) = value else {
            throw NPYError(.malformedHeader, file: file, problem: "invalid header: expected a dictionary, got \(value.typeName)")
        }

        var descr: LiteralValue?
        var fortranOrder: LiteralValue?
        var shape: LiteralValue?
        for (key, entryValue) in entries {
            switch key {
            case "descr" where descr == nil: descr = entryValue
            case "fortran_order" where fortranOrder == nil: fortranOrder = entryValue
            case "shape" where shape == nil: shape = entryValue
            case "descr", "fortran_order", "shape":
                throw NPYError(.malformedHeader, file: file, problem: "invalid header: key '\(key)' appears twice")
            default:
                throw NPYError(
                    .malformedHeader, file: file,
                    problem: "invalid header: unexpected key '\(key)', expected only 'descr', 'fortran_order' and 'shape'")
            }
        }
        guard let descr, let fortranOrder, let shape else {
            let missing = [("descr", descr), ("fortran_order", fortranOrder), ("shape", shape)]
                .filter { $0.1 == nil }.map { "'\($0.0)'" }.joined(separator: ", ")
            throw NPYError(.malformedHeader, file: file, problem: "invalid header: missing key \(missing)")
        }

        switch descr {
        case .string(let text):
            dtype = try NPYDType(parsing: text, file: file)
        case .list:
            throw NPYError(.unsupportedDType, file: file, problem: "unsupported dtype: structured arrays (a list descr) are not supported")
        default:
            throw NPYError(.malformedHeader, file: file, problem: "invalid header: 'descr' must be a string, got \(descr.typeName)")
        }

        guard case .bool(let isFortran) = fortranOrder else {
            throw NPYError(.malformedHeader, file: file, problem: "invalid header: 'fortran_order' must be True or False, got \(fortranOrder.typeName)")
        }
        isFortranOrder = isFortran

        guard case .tuple(let dimensions) = shape else {
            throw NPYError(.malformedHeader, file: file, problem: "invalid header: 'shape' must be a tuple such as (2, 3), got \(shape.typeName)")
        }
        var sizes: [Int] = []
        for dimension in dimensions {
            guard case .integer(let size) = dimension else {
                throw NPYError(.malformedHeader, file: file, problem: "invalid header: shape entries must be integers, got \(dimension.typeName)")
            }
            guard let size else {
                throw NPYError(.invalidShape, file: file, problem: "invalid shape: a dimension does not fit a 64-bit integer")
            }
            guard size >= 0 else {
                throw NPYError(.invalidShape, file: file, problem: "invalid shape: dimension \(sizes.count) is \(size), expected a non-negative size")
            }
            sizes.append(size)
        }
        self.shape = sizes
    }

    init(dtype: NPYDType, isFortranOrder: Bool, shape: [Int]) {
        self.dtype = dtype
        self.isFortranOrder = isFortranOrder
        self.shape = shape
    }
}

/// A value of the Python literal subset that `.npy` headers use.
private enum LiteralValue {
    case string(String)
    case bool(Bool)
    /// `nil` when the digits do not fit `Int`.
    case integer(Int?)
    case tuple([LiteralValue])
    case list([LiteralValue])
    case dictionary([(String, LiteralValue)])
    case none

    var typeName: String {
        switch self {
        case .string: return "a string"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .dictionary: return "a dictionary"
        case .none: return "None"
        }
    }
}

/// A recursive-descent parser for Python literals: strings, integers,
/// `True`, `False`, `None`, tuples, lists and dictionaries with string keys.
private struct LiteralParser {
    /// Nesting deeper than this is rejected, so a hostile header cannot
    /// exhaust the stack. Valid headers nest at most a few levels.
    static let maximumDepth = 32

    let characters: [Character]
    let file: String
    var position = 0

    init(text: String, file: String) {
        characters = Array(text)
        self.file = file
    }

    mutating func parseValue(depth: Int) throws -> LiteralValue {
        guard depth < Self.maximumDepth else {
            throw malformed("nesting deeper than \(Self.maximumDepth) levels")
        }
        skipWhitespace()
        guard position < characters.count else {
            throw malformed("unexpected end of header")
        }
        let character = characters[position]
        switch character {
        case "'", "\"":
            return .string(try parseString())
        case "(":
            return .tuple(try parseSequence(closedBy: ")", depth: depth))
        case "[":
            return .list(try parseSequence(closedBy: "]", depth: depth))
        case "{":
            return .dictionary(try parseDictionary(depth: depth))
        case "-", "+", "0"..."9":
            return .integer(try parseInteger())
        default:
            let word = parseWord()
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default: throw malformed("unexpected '\(word.isEmpty ? String(character) : word)' at character \(position)")
            }
        }
    }

    mutating func expectEnd() throws {
        skipWhitespace()
        if position < characters.count {
            throw malformed("unexpected '\(characters[position])' after the dictionary at character \(position)")
        }
    }

    private mutating func parseString() throws -> String {
        let quote = characters[position]
        position += 1
        var text = ""
        while position < characters.count {
            let character = characters[position]
            position += 1
            if character == quote {
                return text
            }
            if character == "\\" {
                // Type strings and keys never need escapes; keep the escaped
                // character so that a quote inside a string does not end it.
                guard position < characters.count else { break }
                text.append(characters[position])
                position += 1
                continue
            }
            text.append(character)
        }
        throw malformed("unterminated string")
    }

    private mutating func parseInteger() throws -> Int? {
        var isNegative = false
        if characters[position] == "-" || characters[position] == "+" {
            isNegative = characters[position] == "-"
            position += 1
        }
        var digits = ""
        while position < characters.count, characters[position].isASCII, characters[position].isNumber {
            digits.append(characters[position])
            position += 1
        }
        guard !digits.isEmpty else {
            throw malformed("expected digits at character \(position)")
        }
        // Python 2 wrote long integers with an `L` suffix.
        if position < characters.count, characters[position] == "L" {
            position += 1
        }
        return Int(isNegative ? "-" + digits : digits)
    }

    private mutating func parseWord() -> String {
        var word = ""
        while position < characters.count, characters[position].isLetter || characters[position] == "_" {
            word.append(characters[position])
            position += 1
        }
        return word
    }

    private mutating func parseSequence(closedBy closing: Character, depth: Int) throws -> [LiteralValue] {
        position += 1
        var elements: [LiteralValue] = []
        while true {
            skipWhitespace()
            if try consume(closing) {
                return elements
            }
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if try consume(closing) {
                return elements
            }
            guard try consume(",") else {
                throw malformed("expected ',' or '\(closing)' at character \(position)")
            }
        }
    }

    private mutating func parseDictionary(depth: Int) throws -> [(String, LiteralValue)] {
        position += 1
        var entries: [(String, LiteralValue)] = []
        while true {
            skipWhitespace()
            if try consume("}") {
                return entries
            }
            guard case .string(let key) = try parseValue(depth: depth + 1) else {
                throw malformed("dictionary keys must be strings")
            }
            skipWhitespace()
            guard try consume(":") else {
                throw malformed("expected ':' after key '\(key)'")
            }
            entries.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            if try consume("}") {
                return entries
            }
            guard try consume(",") else {
                throw malformed("expected ',' or '}' at character \(position)")
            }
        }
    }

    private mutating func consume(_ expected: Character) throws -> Bool {
        guard position < characters.count else {
            throw malformed("unexpected end of header")
        }
        if characters[position] == expected {
            position += 1
            return true
        }
        return false
    }

    private mutating func skipWhitespace() {
        // "\r\n" is one Character (a grapheme cluster), so it is listed apart.
        while position < characters.count, [" ", "\t", "\n", "\r", "\r\n"].contains(characters[position]) {
            position += 1
        }
    }

    private func malformed(_ problem: String) -> NPYError {
        NPYError(.malformedHeader, file: file, problem: "invalid header: \(problem)")
    }
}
