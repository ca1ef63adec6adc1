import Testing

@testable import AttentionIO

/// A file the reader must reject, and the kind of error it must throw.
struct MalformedCase: CustomStringConvertible, Sendable {
    let label: String
    let bytes: [UInt8]
    let kind: NPYError.Kind

    var description: String { label }
}

private let floats = [UInt8](repeating: 0, count: 24)

private func file(_ header: String, payload: [UInt8] = floats, major: UInt8 = 1) -> [UInt8] {
    npyFile(major: major, header: header, payload: payload)
}

let malformedCases: [MalformedCase] = [
    MalformedCase(label: "empty file", bytes: [], kind: .truncated),
    MalformedCase(label: "partial magic", bytes: [0x93, 0x4E, 0x55], kind: .truncated),
    MalformedCase(label: "wrong magic", bytes: Array("PK\u{3}\u{4} not numpy at all".utf8), kind: .notNPY),
    MalformedCase(label: "no version bytes", bytes: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1], kind: .truncated),
    MalformedCase(label: "version 4.0", bytes: file(headerText(descr: "<f4", shape: "(2, 3)"), major: 4), kind: .unsupportedVersion),
    MalformedCase(label: "version 1.1", bytes: npyFile(minor: 1, header: headerText(descr: "<f4", shape: "(2, 3)"), payload: floats), kind: .unsupportedVersion),
    MalformedCase(label: "no header length", bytes: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 0x10], kind: .truncated),
    MalformedCase(label: "header past end", bytes: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0xFF, 0xFF] + Array("{'descr'".utf8), kind: .truncated),
    MalformedCase(label: "version 2 header past end", bytes: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x7B], kind: .truncated),
    MalformedCase(label: "header not a dictionary", bytes: file("['<f4', False, (2, 3)]"), kind: .malformedHeader),
    MalformedCase(label: "missing shape", bytes: file("{'descr': '<f4', 'fortran_order': False}"), kind: .malformedHeader),
    MalformedCase(label: "unknown key", bytes: file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}"), kind: .malformedHeader),
    MalformedCase(label: "duplicate key", bytes: file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}"), kind: .malformedHeader),
    MalformedCase(label: "unterminated string", bytes: file("{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}"), kind: .malformedHeader),
    MalformedCase(label: "missing colon", bytes: file("{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3)}"), kind: .malformedHeader),
    MalformedCase(label: "unclosed dictionary", bytes: file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)"), kind: .malformedHeader),
    MalformedCase(label: "text after dictionary", bytes: file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)} x"), kind: .malformedHeader),
    MalformedCase(label: "deep nesting", bytes: file("{'descr': '<f4', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 5000) + "}"), kind: .malformedHeader),
    MalformedCase(label: "fortran_order not bool", bytes: file("{'descr': '<f4', 'fortran_order': 'no', 'shape': (2, 3)}"), kind: .malformedHeader),
    MalformedCase(label: "shape as list", bytes: file("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}"), kind: .malformedHeader),
    MalformedCase(label: "shape of strings", bytes: file("{'descr': '<f4', 'fortran_order': False, 'shape': ('2', 3)}"), kind: .malformedHeader),
    MalformedCase(label: "descr not a string", bytes: file("{'descr': 4, 'fortran_order': False, 'shape': (2, 3)}"), kind: .malformedHeader),
    MalformedCase(label: "byte order | on f4", bytes: file(headerText(descr: "|f4", shape: "(2, 3)")), kind: .malformedHeader),
    MalformedCase(label: "descr without size", bytes: file(headerText(descr: "<f", shape: "(2, 3)")), kind: .malformedHeader),
    MalformedCase(label: "object dtype", bytes: file(headerText(descr: "|O", shape: "(2, 3)")), kind: .unsupportedDType),
    MalformedCase(label: "complex dtype", bytes: file(headerText(descr: "<c8", shape: "(2, 3)")), kind: .unsupportedDType),
    MalformedCase(label: "unicode dtype", bytes: file(headerText(descr: "<U1", shape: "(2, 3)")), kind: .unsupportedDType),
    MalformedCase(label: "float128", bytes: file(headerText(descr: "<f16", shape: "(2, 3)")), kind: .unsupportedDType),
    MalformedCase(label: "bool of two bytes", bytes: file(headerText(descr: "|b2", shape: "(2, 3)")), kind: .unsupportedDType),
    MalformedCase(label: "structured dtype", bytes: file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3)}"), kind: .unsupportedDType),
    MalformedCase(label: "negative dimension", bytes: file(headerText(descr: "<f4", shape: "(2, -3)")), kind: .invalidShape),
    MalformedCase(label: "dimension beyond Int", bytes: file(headerText(descr: "<f4", shape: "(99999999999999999999,)")), kind: .invalidShape),
    MalformedCase(label: "byte count overflows", bytes: file(headerText(descr: "<f4", shape: "(4611686018427387904, 4)")), kind: .invalidShape),
    MalformedCase(label: "huge shape in small file", bytes: file(headerText(descr: "<f4", shape: "(1000000, 1000000)")), kind: .truncated),
    MalformedCase(label: "truncated data", bytes: file(headerText(descr: "<f4", shape: "(2, 3)"), payload: Array(floats.prefix(20))), kind: .truncated),
    MalformedCase(label: "trailing data", bytes: file(headerText(descr: "<f4", shape: "(2, 3)"), payload: floats + [0]), kind: .sizeMismatch),
    MalformedCase(label: "version 3 invalid UTF-8", bytes: npyFile(major: 3, header: "{'descr': '<f4\u{FF}'}", payload: []).map { $0 == 0xC3 ? 0xFF : $0 }, kind: .malformedHeader),
]

@Test(arguments: malformedCases)
func readerRejectsMalformedFile(_ malformed: MalformedCase) {
    let error = #expect(throws: NPYError.self) {
        try NPYArray(parsing: malformed.bytes, source: "bad.npy")
    }
    #expect(error?.kind == malformed.kind, "\(malformed.label): \(String(describing: error))")
    #expect(error?.description.hasPrefix("bad.npy: ") == true)
}

/// Every prefix of a valid file is rejected as truncated, never read as a
/// smaller array and never a crash.
@Test func readerRejectsEveryPrefix() throws {
    let complete = file(headerText(descr: "<f4", shape: "(2, 3)"))
    _ = try NPYArray(parsing: complete)
    for length in 0..<complete.count {
        let error = #expect(throws: NPYError.self) { try NPYArray(parsing: Array(complete.prefix(length))) }
        #expect(error?.kind == .truncated || error?.kind == .malformedHeader, "prefix of \(length) bytes: \(String(describing: error))")
    }
}

/// Random byte changes to valid files of every version either load or throw
/// `NPYError`; a crash fails the whole run. The generator is seeded, so a
/// failure reproduces, and the seed and iteration are in every message.
@Test(arguments: NPYVersion.allCases)
func readerSurvivesMutatedFiles(_ version: NPYVersion) throws {
    let seed: UInt64 = 0x5EED_0000 + UInt64(version.rawValue)
    var generator = SplitMix64(seed: seed)
    let valid = try NPYArray(dtype: .float32, shape: [2, 3], data: floats).encoded(version: version)

    for iteration in 0..<2000 {
        var bytes = valid
        let changes = 1 + Int(generator.next() % 4)
        for _ in 0..<changes {
            // Most changes hit the preamble and header, where the parser works.
            let limit = generator.next() % 4 == 0 ? bytes.count : Swift.min(bytes.count, 80)
            let position = Int(generator.next() % UInt64(limit))
            switch generator.next() % 3 {
            case 0: bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            case 1: bytes.remove(at: position)
            default: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: position)
            }
        }
        do {
            let array = try NPYArray(parsing: bytes, source: "mutated.npy")
            #expect(array.data.count == array.elementCount * array.dtype.byteCount, "seed \(seed), iteration \(iteration)")
        } catch let error as NPYError {
            #expect(error.description.hasPrefix("mutated.npy: "), "seed \(seed), iteration \(iteration)")
        } catch {
            Issue.record("seed \(seed), iteration \(iteration): unexpected error \(error)")
        }
    }
}

/// The SplitMix64 generator: small, fast and the same on every platform.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
