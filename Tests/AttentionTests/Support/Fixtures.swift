import Foundation
@testable import Attention

/// The golden fixtures under `Tests/Fixtures`, computed in float64 by
/// PyTorch and rounded to float32 once. `manifest.json` lists every case.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// One case of the manifest.
    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let operation: String
        let params: [String: JSONValue]
        let inputs: [String: String]
        let expected: [String: (file: String, atol: Double, rtol: Double)]

        var description: String { name }

        func input(_ name: String) throws -> NPYFile { try NPYFile(Fixtures.directory.appendingPathComponent(inputs[name]!)) }
        func expectedArray(_ name: String) throws -> NPYFile {
            try NPYFile(Fixtures.directory.appendingPathComponent(expected[name]!.file))
        }
        func hasInput(_ name: String) -> Bool { inputs[name] != nil }
    }

    /// Every case of the manifest, in order.
    static let cases: [Case] = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (root["cases"] as! [[String: Any]]).map { entry in
            let caseTolerance = entry["tolerance"] as? [String: Any]
            var expected: [String: (String, Double, Double)] = [:]
            for (key, value) in entry["expected"] as! [String: [String: Any]] {
                let tolerance = value["tolerance"] as? [String: Any] ?? caseTolerance ?? [:]
                expected[key] = (
                    value["file"] as! String,
                    (tolerance["atol"] as? Double) ?? 1e-6,
                    (tolerance["rtol"] as? Double) ?? 1e-5)
            }
            var inputs: [String: String] = [:]
            for (key, value) in entry["inputs"] as! [String: [String: Any]] {
                inputs[key] = value["file"] as? String
            }
            return Case(
                name: entry["name"] as! String,
                operation: entry["operation"] as! String,
                params: (entry["params"] as! [String: Any]).mapValues(JSONValue.init),
                inputs: inputs,
                expected: expected)
        }
    }()

    static func cases(operation: String) -> [Case] { cases.filter { $0.operation == operation } }
}

/// A JSON value of the manifest's `params`.
enum JSONValue: Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([JSONValue])
    case null
    case other

    init(_ any: Any) {
        switch any {
        case let value as Bool where type(of: any) == type(of: NSNumber(value: true)): self = .bool(value)
        case let value as NSNumber: self = .number(value.doubleValue)
        case let value as String: self = .string(value)
        case let value as [Any]: self = .array(value.map(JSONValue.init))
        case is NSNull: self = .null
        default: self = .other
        }
    }

    var double: Double? { if case .number(let value) = self { value } else { nil } }
    var string: String? { if case .string(let value) = self { value } else { nil } }
    var bool: Bool? {
        switch self {
        case .bool(let value): value
        case .number(let value): value != 0
        default: nil
        }
    }
    var ints: [Int]? {
        if case .array(let values) = self { values.compactMap { $0.double.map { Int($0) } } } else { nil }
    }
}

/// A minimal reader of the fixtures' `.npy` files: format 1.0, little
/// endian, C order, dtypes `<f4`, `|b1` and `<i8`. The full reader lives in
/// AttentionIO; this one keeps the kernel tests independent of it.
struct NPYFile {
    let shape: [Int]
    let descr: String
    let payload: Data

    init(_ url: URL) throws {
        let data = try Data(contentsOf: url)
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        let descrRange = header.range(of: #"'descr': '([^']*)'"#, options: .regularExpression)!
        descr = String(header[descrRange].dropFirst(10).dropLast())
        let shapeRange = header.range(of: #"\([0-9, ]*\)"#, options: .regularExpression)!
        shape = header[shapeRange].dropFirst().dropLast().split(separator: ",")
            .map { Int($0.trimmingCharacters(in: .whitespaces))! }
        payload = data[(10 + headerLength)...]
    }

    var floats: [Float] {
        precondition(descr == "<f4")
        return payload.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
        }
    }

    var bools: [Bool] {
        precondition(descr == "|b1")
        return payload.map { $0 != 0 }
    }

    var tensor: Tensor { try! Tensor(shape: shape, scalars: floats) }
    var boolTensor: BoolTensor { try! BoolTensor(shape: shape, scalars: bools) }
}
