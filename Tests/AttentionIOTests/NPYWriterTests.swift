import Attention
import Foundation
import Testing

@testable import AttentionIO

@Test func writerHeaderMatchesNumPy() throws {
    let tensor = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let bytes = try NPYArray(tensor).encoded()

    #expect(Array(bytes.prefix(8)) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
    let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
    #expect((10 + headerLength) % 64 == 0)
    let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
    #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
    #expect(header.hasSuffix(" \n"))
    #expect(bytes.count == 10 + headerLength + 24)
}

@Test(arguments: [([], "()"), ([5], "(5,)"), ([0, 3], "(0, 3)"), ([1, 2, 3, 4], "(1, 2, 3, 4)")])
func writerShapeText(_ shape: [Int], text: String) throws {
    let tensor = try Tensor(shape: shape, repeating: 0)
    let bytes = try NPYArray(tensor).encoded()
    #expect(String(decoding: bytes, as: UTF8.self).contains("'shape': \(text), }"))
    #expect(try NPYArray(parsing: bytes).shape == shape)
}

@Test func writerStridedTensorIsRowMajor() throws {
    let base = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let transposed = try base.transposed(0, 1)
    let array = try NPYArray(parsing: NPYArray(transposed).encoded())
    #expect(array.shape == [3, 2])
    #expect(try array.tensor().scalars == [1, 4, 2, 5, 3, 6])
}

@Test func writerBoolTensor() throws {
    let tensor = try BoolTensor(shape: [2, 2], scalars: [true, false, false, true])
    let bytes = try NPYArray(tensor).encoded()
    #expect(String(decoding: bytes, as: UTF8.self).contains("'descr': '|b1'"))
    #expect(try NPYArray(parsing: bytes).boolTensor().scalars == [true, false, false, true])
}

@Test func writerSpecialValuesRoundTrip() throws {
    let values: [Float] = [.infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
    let array = try NPYArray(parsing: NPYArray(Tensor(shape: [5], scalars: values)).encoded())
    #expect(try array.tensor().scalars.map(\.bitPattern) == values.map(\.bitPattern))
    let nan = try NPYArray(parsing: NPYArray(Tensor(shape: [1], scalars: [.nan])).encoded())
    #expect(try nan.tensor().scalars[0].isNaN)
}

@Test func writeToFileAndReadBack() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("npy-writer-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("out.npy").path

    try NPYArray(Tensor(shape: [2], scalars: [1, 2])).write(toFile: path)
    try NPYArray(Tensor(shape: [3], scalars: [3, 4, 5])).write(toFile: path)

    #expect(try NPYArray(contentsOfFile: path).tensor().scalars == [3, 4, 5])
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.npy"])
}

/// A file name of 255 bytes, the limit of common file systems, is written,
/// so its temporary name stays within the same limit. The temporary name
/// keeps whole characters of the name up to 200 bytes, which here stops
/// before a two-byte character.
@Test func writeLongestFileName() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("npy-long-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let name = "a" + String(repeating: "\u{E9}", count: 125) + ".npy"
    #expect(name.utf8.count == 255)
    let path = directory.path + "/" + name

    try NPYArray(Tensor(shape: [2], scalars: [1, 2])).write(toFile: path)

    #expect(try NPYArray(contentsOfFile: path).tensor().scalars == [1, 2])
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).count == 1)
}

@Test func stagedFileDiscardLeavesNothing() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("npy-staged-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("out.npy").path

    let staged = try NPYArray(Tensor(shape: [2], scalars: [1, 2])).staged(atPath: path)
    #expect(FileManager.default.fileExists(atPath: staged.temporaryPath))
    #expect(!FileManager.default.fileExists(atPath: path))
    staged.discard()

    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
}

@Test func writeIntoMissingDirectoryFails() throws {
    let error = #expect(throws: NPYError.self) {
        try NPYArray(Tensor(shape: [1], scalars: [1])).write(toFile: "/nonexistent-directory/out.npy")
    }
    #expect(error?.kind == .fileSystem)
    #expect(error?.description.hasPrefix("/nonexistent-directory/out.npy: ") == true)
}

@Test func writerVersion1RejectsHugeHeader() throws {
    // "1, " per dimension: a rank-30000 shape needs a header of about
    // 90000 bytes, more than version 1.0's 65535.
    let shape = [Int](repeating: 1, count: 30_000)
    let array = try NPYArray(dtype: .float32, shape: shape, data: [0, 0, 0, 0])
    #expect(throws: NPYError.self) { _ = try array.encoded(version: .version1) }
    let automatic = try array.encoded()
    #expect(automatic[6] == 2)
    #expect(try NPYArray(parsing: automatic).shape == shape)
}
