/// XML 1.0 escaping for SVG text content and attribute values.
///
/// Non-ASCII characters are written unchanged, because documents are UTF-8.
/// Characters that XML 1.0 does not allow anywhere in a document (C0 control
/// characters other than tab, line feed and carriage return, and U+FFFE and
/// U+FFFF) are replaced with U+FFFD REPLACEMENT CHARACTER, so a label taken
/// from a tokenizer never makes the document invalid.
enum XMLEscaping {
    /// The character written in place of one that XML 1.0 does not allow.
    static let replacement: Unicode.Scalar = "\u{FFFD}"

    /// Escapes `<`, `>` and `&` for use between tags.
    static func escapeText(_ text: String) -> String {
        escape(text, inAttribute: false)
    }

    /// Escapes `<`, `>`, `&`, both quote characters and the whitespace that
    /// attribute-value normalization would otherwise turn into spaces.
    static func escapeAttribute(_ value: String) -> String {
        escape(value, inAttribute: true)
    }

    /// Whether XML 1.0's `Char` production allows `scalar`.
    static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD: true
        case 0x20...0xD7FF: true
        case 0xE000...0xFFFD: true
        case 0x10000...0x10FFFF: true
        default: false
        }
    }

    private static func escape(_ text: String, inAttribute: Bool) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\"" where inAttribute: escaped += "&quot;"
            case "'" where inAttribute: escaped += "&apos;"
            case "\t" where inAttribute: escaped += "&#9;"
            case "\n" where inAttribute: escaped += "&#10;"
            case "\r": escaped += "&#13;"
            default:
                escaped.unicodeScalars.append(isAllowed(scalar) ? scalar : replacement)
            }
        }
        return escaped
    }
}
