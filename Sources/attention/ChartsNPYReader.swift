import Attention
import Foundation

// TODO: Replace with the shared reader in AttentionIO once it lands; this
// copy reads only what the chart commands need.

/// An error reading a `.npy` file for the chart commands.
struct ChartsNPYError: Error, CustomStringConvertible {
    let path: String
    let message: String

    var description: String { "\(path): \(message)" }
}

/// Reads a little-endian float32 `.npy` file (format 1.0, C order) into a
/// contiguous tensor. Other versions, types and orders are rejected with an
/// error that names the file and what it contains.
enum ChartsNPYReader {
    static func readFloat32(path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ChartsNPYError(path: path, message: "file not found or not readable")
        }
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw ChartsNPYError(path: path, message: "not a .npy file (the \\x93NUMPY magic is missing)")
        }
        guard bytes[6] == 1, bytes[7] == 0 else {
            throw ChartsNPYError(
                path: path, message: "expected .npy format version 1.0, got \(bytes[6]).\(bytes[7])")
        }
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes.count >= 10 + headerLength,
              let header = String(bytes: bytes[10..<(10 + headerLength)], encoding: .ascii)
        else {
            throw ChartsNPYError(path: path, message: "the header is truncated or not ASCII")
        }

        guard let descriptor = headerValue(header, key: "descr"), descriptor == "'<f4'" else {
            throw ChartsNPYError(
                path: path,
                message: "expected dtype '<f4' (little-endian float32), got \(headerValue(header, key: "descr") ?? "none")")
        }
        guard headerValue(header, key: "fortran_order") == "False" else {
            throw ChartsNPYError(path: path, message: "expected C order, got fortran_order True")
        }
        guard let shapeText = headerValue(header, key: "shape") else {
            throw ChartsNPYError(path: path, message: "the header has no shape")
        }
        let dimensions = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = dimensions.compactMap { Int($0) }
        guard shape.count == dimensions.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw ChartsNPYError(path: path, message: "invalid shape \(shapeText)")
        }

        let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
        let dataStart = 10 + headerLength
        guard bytes.count - dataStart == count * 4 else {
            throw ChartsNPYError(
                path: path,
                message: "expected \(count * 4) data bytes for shape \(shapeText), got \(bytes.count - dataStart)")
        }
        var scalars = [Float](repeating: 0, count: count)
        for index in 0..<count {
            let offset = dataStart + index * 4
            let bits = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
                | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
            scalars[index] = Float(bitPattern: bits)
        }
        return try Tensor(shape: shape, scalars: scalars)
    }

    /// Returns the text of `key`'s value in a Python dict literal, up to the
    /// next top-level comma, with a tuple kept whole.
    private static func headerValue(_ header: String, key: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)':") else { return nil }
        var value = ""
        var depth = 0
        for character in header[keyRange.upperBound...] {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if depth == 0 && (character == "," || character == "}") { break }
            value.append(character)
            if depth == 0 && character == ")" { break }
        }
        return value.trimmingCharacters(in: .whitespaces)
    }
}
