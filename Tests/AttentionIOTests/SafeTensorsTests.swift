import Attention
import Foundation
import Testing
@testable import AttentionIO

// MARK: - Helpers

/// Writes `bytes` to a new file in the temporary directory and returns its path.
private func temporaryFile(_ bytes: [UInt8], name: String = "tensors") throws -> String {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("safetensors-test-\(name)-\(UUID().uuidString).safetensors")
    try Data(bytes).write(to: url)
    return url.path
}

/// Builds a safetensors file with `header` as its JSON text and `data`
/// as its data section.
private func safeTensorsBytes(header: String, data: [UInt8]) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    var bytes = withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian, Array.init)
    bytes += headerBytes
    bytes += data
    return bytes
}

private func float32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
}

private func bits16Bytes(_ values: [UInt16]) -> [UInt8] {
    values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
}

/// Opens the file and returns the kind of `SafeTensorsError` it throws, or
/// `nil` when it opens.
private func openingErrorKind(_ bytes: [UInt8]) throws -> SafeTensorsError.Kind? {
    let path = try temporaryFile(bytes)
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
        _ = try SafeTensorsFile(path: path)
        return nil
    } catch let error as SafeTensorsError {
        #expect(error.path == path)
        return error.kind
    }
}

// MARK: - Well-formed files

@Test func readsFloat32TensorsByName() throws {
    let header = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[],"data_offsets":[24,28]}}"#
    let values: [Float] = [1, -2, 3.5, 0, .infinity, -0.25, 42]
    let path = try temporaryFile(safeTensorsBytes(header: header, data: float32Bytes(values)))
    defer { try? FileManager.default.removeItem(atPath: path) }

    let file = try SafeTensorsFile(path: path)
    #expect(file.metadata == ["format": "pt"])
    #expect(file.tensorNames == ["a", "b"])
    let a = try file.tensor(named: "a")
    #expect(a.shape == [2, 3])
    #expect(a.scalars == Array(values[0..<6]))
    let b = try file.tensor(named: "b")
    #expect(b.shape == [])
    #expect(b.scalars == [42])
}

@Test(arguments: [0, 1, 2, 3])
func readsFloat32AtAnyAlignment(padding: Int) throws {
    // Trailing spaces in the header move the data section off a 4-byte
    // boundary, so the reader must copy instead of mapping.
    let header = #"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"# + String(repeating: " ", count: padding)
    let values: [Float] = [0.5, -1e-30, 3e38]
    let path = try temporaryFile(safeTensorsBytes(header: header, data: float32Bytes(values)))
    defer { try? FileManager.default.removeItem(atPath: path) }

    let tensor = try SafeTensorsFile(path: path).tensor(named: "x")
    #expect(tensor.scalars == values)
}

@Test func mappedTensorOutlivesFile() throws {
    let header = #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    let path = try temporaryFile(safeTensorsBytes(header: header, data: float32Bytes([7, 8])))
    let tensor = try SafeTensorsFile(path: path).tensor(named: "x")
    try FileManager.default.removeItem(atPath: path)
    #expect(tensor.scalars == [7, 8])
    // The mapping is private: writing changes only this process's copy.
    tensor[0] = 9
    #expect(tensor.scalars == [9, 8])
}

/// Binary16 bit patterns and their exact float32 values.
private let float16Cases: [(bits: UInt16, value: Float)] = [
    (0x0000, 0), (0x8000, -0.0), (0x3C00, 1), (0xC000, -2), (0x3555, 0x1.554p-2),
    (0x7BFF, 65504), (0xFBFF, -65504), (0x0400, 0x1p-14),
    (0x0001, 0x1p-24), (0x8001, -0x1p-24), (0x03FF, 0x1.ff8p-15), (0x0200, 0x1p-15),
    (0x7C00, .infinity), (0xFC00, -.infinity),
]

@Test func convertsFloat16() throws {
    for (bits, value) in float16Cases {
        let converted = HalfPrecision.float(fromFloat16Bits: bits)
        #expect(converted.bitPattern == value.bitPattern, "0x\(String(bits, radix: 16)) gave \(converted), expected \(value)")
    }
    for bits: UInt16 in [0x7E00, 0x7C01, 0xFE00, 0x7FFF] {
        let converted = HalfPrecision.float(fromFloat16Bits: bits)
        #expect(converted.isNaN, "0x\(String(bits, radix: 16)) gave \(converted)")
        #expect(converted.sign == (bits & 0x8000 == 0 ? .plus : .minus))
    }
}

@Test func convertsFloat16AgainstSwiftFloat16() throws {
    #if arch(x86_64) || arch(arm64)
    // Every finite and infinite binary16 pattern against the standard
    // library's own conversion.
    for bits in UInt16.min...UInt16.max {
        let expected = Float(Float16(bitPattern: bits))
        let converted = HalfPrecision.float(fromFloat16Bits: bits)
        if expected.isNaN {
            #expect(converted.isNaN)
        } else if converted.bitPattern != expected.bitPattern {
            Issue.record("0x\(String(bits, radix: 16)): got \(converted), expected \(expected)")
            return
        }
    }
    #endif
}

@Test func convertsBFloat16() throws {
    let cases: [(UInt16, Float)] = [
        (0x0000, 0), (0x8000, -0.0), (0x3F80, 1), (0xC040, -3), (0x4049, 3.140625),
        (0x0001, Float(bitPattern: 0x0001_0000)), (0x007F, Float(bitPattern: 0x007F_0000)),
        (0x7F7F, Float(bitPattern: 0x7F7F_0000)), (0x7F80, .infinity), (0xFF80, -.infinity),
    ]
    for (bits, value) in cases {
        #expect(HalfPrecision.float(fromBFloat16Bits: bits).bitPattern == value.bitPattern)
    }
    #expect(HalfPrecision.float(fromBFloat16Bits: 0x7FC0).isNaN)
    #expect(HalfPrecision.float(fromBFloat16Bits: 0xFF81).isNaN)
}

@Test func readsHalfPrecisionTensors() throws {
    let halfBits: [UInt16] = float16Cases.map(\.bits) + [0x7E00]
    let brainBits: [UInt16] = [0x3F80, 0x0001, 0xFF80, 0x7FC0]
    let halfBytes = bits16Bytes(halfBits)
    let brainBytes = bits16Bytes(brainBits)
    let doubleBytes = [1.0, -0.1, 1e300].flatMap { withUnsafeBytes(of: ($0 as Double).bitPattern.littleEndian, Array.init) }
    let end1 = halfBytes.count
    let end2 = end1 + brainBytes.count
    let end3 = end2 + doubleBytes.count
    let header = """
        {"h":{"dtype":"F16","shape":[\(halfBits.count)],"data_offsets":[0,\(end1)]},\
        "bf":{"dtype":"BF16","shape":[2,2],"data_offsets":[\(end1),\(end2)]},\
        "d":{"dtype":"F64","shape":[3],"data_offsets":[\(end2),\(end3)]}}
        """
    let path = try temporaryFile(safeTensorsBytes(header: header, data: halfBytes + brainBytes + doubleBytes))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let file = try SafeTensorsFile(path: path)

    let half = try file.tensor(named: "h").scalars
    #expect(half.count == halfBits.count)
    for (index, (_, value)) in float16Cases.enumerated() {
        #expect(half[index].bitPattern == value.bitPattern)
    }
    #expect(half.last!.isNaN)

    let brain = try file.tensor(named: "bf")
    #expect(brain.shape == [2, 2])
    #expect(brain.scalars[0] == 1)
    #expect(brain.scalars[1] == Float(bitPattern: 0x0001_0000))
    #expect(brain.scalars[2] == -.infinity)
    #expect(brain.scalars[3].isNaN)

    #expect(try file.tensor(named: "d").scalars == [1, Float(-0.1), .infinity])
}

@Test func rejectsIntegerTensors() throws {
    let header = #"{"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#
    let path = try temporaryFile(safeTensorsBytes(header: header, data: [UInt8](repeating: 1, count: 16)))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let file = try SafeTensorsFile(path: path)
    #expect(file.tensors["ids"]?.dtype == .int64)
    let error = #expect(throws: SafeTensorsError.self) { try file.tensor(named: "ids") }
    #expect(error?.kind == .unsupportedDType)
    #expect(error?.tensor == "ids")
}

@Test func missingTensorListsCloseNames() throws {
    let header = #"{"layer.0.query.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"layer.0.key.weight":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"unrelated":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
    let path = try temporaryFile(safeTensorsBytes(header: header, data: float32Bytes([1, 2, 3])))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let file = try SafeTensorsFile(path: path)

    let error = #expect(throws: SafeTensorsError.self) { try file.tensor(named: "layer.0.querry.weight") }
    #expect(error?.kind == .tensorNotFound)
    #expect(error?.tensor == "layer.0.querry.weight")
    #expect(error?.description.contains(path) == true)
    #expect(error?.fix.contains("layer.0.query.weight") == true)
    #expect(error?.fix.contains("unrelated") == false)
}

@Test func acceptsEmptyAndZeroSizeTensors() throws {
    #expect(try openingErrorKind(safeTensorsBytes(header: "{}", data: [])) == nil)
    let header = #"{"empty":{"dtype":"F16","shape":[0,4],"data_offsets":[0,0]},"one":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
    let path = try temporaryFile(safeTensorsBytes(header: header, data: float32Bytes([5])))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let file = try SafeTensorsFile(path: path)
    #expect(try file.tensor(named: "empty").shape == [0, 4])
    #expect(try file.tensor(named: "one").scalars == [5])
}

// MARK: - Malformed files

private let validHeader = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#
private let validData = float32Bytes([1, 2, 3, 4])

/// A malformed file and the error kind it must raise.
struct MalformedFile: CustomTestStringConvertible, Sendable {
    let label: String
    let bytes: [UInt8]
    let kind: SafeTensorsError.Kind
    var testDescription: String { label }
}

private func headerLengthBytes(_ length: UInt64) -> [UInt8] {
    withUnsafeBytes(of: length.littleEndian, Array.init)
}

private let malformedFiles: [MalformedFile] = [
    MalformedFile(label: "empty file", bytes: [], kind: .invalidHeaderLength),
    MalformedFile(label: "short length field", bytes: [4, 0, 0], kind: .invalidHeaderLength),
    MalformedFile(label: "header length beyond file", bytes: headerLengthBytes(1000) + Array("{}".utf8), kind: .invalidHeaderLength),
    MalformedFile(label: "header length near UInt64.max", bytes: headerLengthBytes(.max) + Array("{}".utf8), kind: .invalidHeaderLength),
    MalformedFile(
        label: "truncated data",
        bytes: Array(safeTensorsBytes(header: validHeader, data: validData).dropLast(3)), kind: .invalidOffsets),
    MalformedFile(label: "trailing bytes", bytes: safeTensorsBytes(header: validHeader, data: validData + [0, 0, 0, 0]), kind: .invalidOffsets),
    MalformedFile(
        label: "offsets reversed",
        bytes: safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: float32Bytes([1, 2])),
        kind: .invalidOffsets),
    MalformedFile(
        label: "offsets overlapping",
        bytes: safeTensorsBytes(
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            data: float32Bytes([1, 2, 3])),
        kind: .invalidOffsets),
    MalformedFile(
        label: "offsets identical",
        bytes: safeTensorsBytes(
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            data: float32Bytes([1, 2])),
        kind: .invalidOffsets),
    MalformedFile(
        label: "gap between tensors",
        bytes: safeTensorsBytes(
            header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
            data: float32Bytes([1, 2, 3])),
        kind: .invalidOffsets),
    MalformedFile(
        label: "offset beyond data",
        bytes: safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: float32Bytes([1, 2])),
        kind: .invalidOffsets),
    MalformedFile(
        label: "unknown dtype",
        bytes: safeTensorsBytes(header: #"{"a":{"dtype":"F128","shape":[2],"data_offsets":[0,8]}}"#, data: float32Bytes([1, 2])),
        kind: .unknownDType),
    MalformedFile(
        label: "shape larger than range",
        bytes: safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: float32Bytes([1, 2])),
        kind: .sizeMismatch),
    MalformedFile(
        label: "shape smaller than range",
        bytes: safeTensorsBytes(header: #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}"#, data: float32Bytes([1, 2])),
        kind: .sizeMismatch),
    MalformedFile(
        label: "shape overflowing Int",
        bytes: safeTensorsBytes(
            header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,
            data: float32Bytes([1, 2])),
        kind: .sizeMismatch),
    MalformedFile(label: "invalid JSON", bytes: safeTensorsBytes(header: #"{"a":{"dtype":"F32",}"#, data: []), kind: .invalidJSON),
    MalformedFile(
        label: "duplicate tensor name",
        bytes: safeTensorsBytes(
            header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            data: float32Bytes([1, 2])),
        kind: .invalidJSON),
    MalformedFile(label: "header an array", bytes: safeTensorsBytes(header: "[1, 2]", data: []), kind: .invalidHeader),
    MalformedFile(label: "header a string", bytes: safeTensorsBytes(header: #""tensors""#, data: []), kind: .invalidHeader),
    MalformedFile(
        label: "entry without dtype",
        bytes: safeTensorsBytes(header: #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, data: float32Bytes([1])),
        kind: .invalidHeader),
    MalformedFile(
        label: "negative dimension",
        bytes: safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: float32Bytes([1])),
        kind: .invalidHeader),
    MalformedFile(
        label: "fractional offset",
        bytes: safeTensorsBytes(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}"#, data: float32Bytes([1])),
        kind: .invalidHeader),
    MalformedFile(
        label: "metadata not strings",
        bytes: safeTensorsBytes(header: #"{"__metadata__":{"n":1}}"#, data: []),
        kind: .invalidHeader),
]

@Test(arguments: malformedFiles)
func rejectsMalformedFile(_ file: MalformedFile) throws {
    #expect(try openingErrorKind(file.bytes) == file.kind)
}

@Test func rejectsInvalidUTF8Header() throws {
    let bytes = headerLengthBytes(4) + [UInt8(ascii: "\""), 0xFF, 0xFE, UInt8(ascii: "\"")]
    #expect(try openingErrorKind(bytes) == .invalidJSON)
}

@Test func rejectsDeeplyNestedHeader() throws {
    let header = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    #expect(try openingErrorKind(safeTensorsBytes(header: header, data: [])) == .invalidJSON)
}

@Test func errorNamesFileAndTensor() throws {
    let bytes = safeTensorsBytes(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: float32Bytes([1, 2]))
    let path = try temporaryFile(bytes)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: path) }
    #expect(error?.tensor == "w")
    #expect(error?.description.hasPrefix(path) == true)
    #expect(error?.description.contains("\"w\"") == true)
}

@Test func missingFileIsAnError() throws {
    let error = #expect(throws: SafeTensorsError.self) {
        try SafeTensorsFile(path: "/nonexistent/weights.safetensors")
    }
    #expect(error?.kind == .unreadableFile)
}

@Test func truncationsNeverCrash() throws {
    // Every prefix of a valid file is an error, never a trap.
    let bytes = safeTensorsBytes(header: validHeader, data: validData)
    for length in 0..<bytes.count {
        #expect(try openingErrorKind(Array(bytes[0..<length])) != nil, "prefix of \(length) bytes opened")
    }
    #expect(try openingErrorKind(bytes) == nil)
}
