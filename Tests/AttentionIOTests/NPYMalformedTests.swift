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
