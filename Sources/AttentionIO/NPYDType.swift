/// The element type of a `.npy` array: a kind, a size in bytes and a byte order.
///
/// The reader handles bool (`b1`), signed integers (`i1`, `i2`, `i4`, `i8`),
/// unsigned integers (`u1`, `u2`, `u4`, `u8`) and floats (`f2`, `f4`, `f8`)
/// in either byte order. Everything else NumPy can store (objects, strings,
/// complex numbers, datetimes, structured records) is rejected.
public struct NPYDType: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The family of an element type.
    public enum Kind: Character, Equatable, Hashable, Sendable, CaseIterable {
        case bool = "b"
        case signedInteger = "i"
        case unsignedInteger = "u"
        case float = "f"
    }

    /// The order of the bytes inside one element.
    public enum ByteOrder: Equatable, Hashable, Sendable, CaseIterable {
        case little
        case big
    }

    /// The family of the element type.
    public let kind: Kind
    /// The size of one element in bytes.
    public let byteCount: Int
    /// The byte order; always `.little` for one-byte types, where it has no effect.
    public let byteOrder: ByteOrder

    /// Creates an element type, or returns `nil` for a combination NumPy does
    /// not define or this reader does not handle (for example `f1` or `b2`).
    public init?(kind: Kind, byteCount: Int, byteOrder: ByteOrder = .little) {
        let validSizes: [Int]
        switch kind {
        case .bool: validSizes = [1]
        case .signedInteger, .unsignedInteger: validSizes = [1, 2, 4, 8]
        case .float: validSizes = [2, 4, 8]
        }
        guard validSizes.contains(byteCount) else {
            return nil
        }
        self.kind = kind
        self.byteCount = byteCount
        self.byteOrder = byteCount == 1 ? .little : byteOrder
    }

    public static let bool = NPYDType(kind: .bool, byteCount: 1)!
    public static let float16 = NPYDType(kind: .float, byteCount: 2)!
    public static let float32 = NPYDType(kind: .float, byteCount: 4)!
    public static let float64 = NPYDType(kind: .float, byteCount: 8)!
    public static let int64 = NPYDType(kind: .signedInteger, byteCount: 8)!

    /// The NumPy type string, such as `<f4`, `>i2` or `|b1`.
    public var descr: String {
        let order: Character = byteCount == 1 ? "|" : (byteOrder == .little ? "<" : ">")
        return "\(order)\(kind.rawValue)\(byteCount)"
    }

    public var description: String { descr }

    /// Parses a NumPy type string.
    ///
    /// The first character may be `<` (little endian), `>` (big endian), `|`
    /// (not applicable, valid only for one-byte types) or `=` (native order,
    /// taken as this machine's order); without it the native order applies.
    init(parsing descr: String, file: String) throws {
        var rest = Substring(descr)
        var order: ByteOrder? = nil
        var orderIsNotApplicable = false
        switch rest.first {
        case "<": order = .little
        case ">": order = .big
        case "|": orderIsNotApplicable = true
        case "=": order = nil
        default: break
        }
        if let first = rest.first, "<>|=".contains(first) {
            rest = rest.dropFirst()
        }

        guard let kindCharacter = rest.first else {
            throw NPYError(.malformedHeader, file: file, problem: "invalid descr '\(descr)': expected a type string such as '<f4'")
        }
        let sizeText = rest.dropFirst()
        guard let kind = Kind(rawValue: kindCharacter) else {
            throw NPYError(
                .unsupportedDType, file: file,
                problem: "unsupported dtype '\(descr)' (\(Self.name(ofUnsupportedKind: kindCharacter))): expected bool, int, uint or float")
        }
        guard !sizeText.isEmpty, sizeText.allSatisfy({ $0.isASCII && $0.isNumber }), let byteCount = Int(sizeText) else {
            throw NPYError(.malformedHeader, file: file, problem: "invalid descr '\(descr)': expected a size in bytes after '\(kindCharacter)'")
        }
        let nativeOrder: ByteOrder = 1.littleEndian == 1 ? .little : .big
        guard let dtype = NPYDType(kind: kind, byteCount: byteCount, byteOrder: order ?? nativeOrder) else {
            throw NPYError(
                .unsupportedDType, file: file,
                problem: "unsupported dtype '\(descr)': expected b1, i1/i2/i4/i8, u1/u2/u4/u8 or f2/f4/f8")
        }
        if orderIsNotApplicable && byteCount != 1 {
            throw NPYError(
                .malformedHeader, file: file,
                problem: "invalid descr '\(descr)': byte order '|' applies only to one-byte types, expected '<' or '>'")
        }
        self = dtype
    }

    private static func name(ofUnsupportedKind character: Character) -> String {
        switch character {
        case "O": return "Python objects"
        case "c": return "complex"
        case "V": return "raw or structured records"
        case "S", "a": return "byte strings"
        case "U": return "Unicode strings"
        case "M", "m": return "datetime"
        default: return "unknown type code '\(character)'"
        }
    }
}
