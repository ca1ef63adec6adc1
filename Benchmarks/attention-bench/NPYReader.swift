import Attention
import Foundation

// NOTE: A deliberately minimal .npy reader for the benchmark's MiniLM
// fixture: format 1.0 to 3.0, little-endian float32 or bool, C order. The
// AttentionIO module is gaining full .npy support; switch to it once that
// lands, and delete this file.
enum NPYReader {
    struct Array {
        var shape: [Int]
        var descriptor: String
        var payload: Data
    }

    static func read(_ path: String) throws -> Array {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard data.count >= 10, Swift.Array(data.prefix(6)) == magic else {
            throw NPYError("\(path): not a .npy file (missing the \\x93NUMPY magic)")
        }
        let major = data[data.startIndex + 6]
        let headerStart = major == 1 ? 10 : 12
        guard [1, 2, 3].contains(major), data.count >= headerStart else {
            throw NPYError("\(path): unsupported .npy format version \(major)")
        }
        var headerLength = 0
        for byte in (major == 1 ? 0..<2 : 0..<4).reversed() {
            headerLength = headerLength << 8 | Int(data[data.startIndex + 8 + byte])
        }
        guard data.count >= headerStart + headerLength,
              let header = String(data: data.subdata(in: headerStart..<(headerStart + headerLength)), encoding: .utf8)
        else {
            throw NPYError("\(path): truncated .npy header")
        }
        guard let descriptor = field("descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")),
              let order = field("fortran_order", in: header),
              let shapeText = field("shape", in: header)
        else {
            throw NPYError("\(path): .npy header lacks descr, fortran_order or shape: \(header)")
        }
        guard order == "False" else { throw NPYError("\(path): Fortran order is not supported here") }
        let shape = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
            .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        return Array(shape: shape, descriptor: descriptor, payload: data.subdata(in: (headerStart + headerLength)..<data.count))
    }

    /// Reads a float32 file of any shape as a contiguous tensor.
    static func readFloat32(_ path: String) throws -> Tensor {
        let array = try read(path)
        guard array.descriptor == "<f4" else { throw NPYError("\(path): expected dtype <f4, found \(array.descriptor)") }
        let count = array.shape.reduce(1, *)
        guard array.payload.count >= count * 4 else { throw NPYError("\(path): data shorter than its shape \(array.shape)") }
        let scalars = array.payload.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return try Tensor(shape: array.shape, scalars: scalars)
    }

    static func readBool(_ path: String) throws -> BoolTensor {
        let array = try read(path)
        guard array.descriptor == "|b1" else { throw NPYError("\(path): expected dtype |b1, found \(array.descriptor)") }
        let count = array.shape.reduce(1, *)
        guard array.payload.count >= count else { throw NPYError("\(path): data shorter than its shape \(array.shape)") }
        return try BoolTensor(shape: array.shape, scalars: array.payload.prefix(count).map { $0 != 0 })
    }

    /// Returns the text after `'name':` up to the next top-level comma or
    /// brace.
    private static func field(_ name: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(name)':") else { return nil }
        var depth = 0
        var value = ""
        for character in header[keyRange.upperBound...] {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if depth == 0 && (character == "," || character == "}") { break }
            value.append(character)
        }
        return value.trimmingCharacters(in: .whitespaces)
    }
}

struct NPYError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
