import Attention
import Foundation
import Testing

@testable import AttentionIO

/// One dtype with logical values (row-major, shape [2, 3]) and the bit
/// pattern that stores each value.
struct DTypeCase: CustomStringConvertible, Sendable {
    let code: String
    let byteCount: Int
    let values: [Double]
    let bits: @Sendable (Double) -> UInt64

    var description: String { "\(code)\(byteCount)" }
}

let numericDTypeCases: [DTypeCase] = [
    DTypeCase(code: "f", byteCount: 2, values: [0.5, -1.25, 3, 65504, -0.0, 6.103515625e-05]) { UInt64(Float16(Float($0)).bitPattern) },
    DTypeCase(code: "f", byteCount: 4, values: [0.5, -1.25, 3.1415927, 1e30, -0.0, .infinity]) { UInt64(Float($0).bitPattern) },
    DTypeCase(code: "f", byteCount: 8, values: [0.5, -1.25, 0.1, 1e30, -2.5e-3, -.infinity]) { $0.bitPattern },
    DTypeCase(code: "i", byteCount: 1, values: [0, 1, -2, 127, -128, 5]) { UInt64(bitPattern: Int64($0)) },
    DTypeCase(code: "i", byteCount: 2, values: [0, 1, -2, 32767, -32768, 300]) { UInt64(bitPattern: Int64($0)) },
    DTypeCase(code: "i", byteCount: 4, values: [0, 1, -2, 16_777_216, -16_777_216, 70000]) { UInt64(bitPattern: Int64($0)) },
    DTypeCase(code: "i", byteCount: 8, values: [0, 1, -2, 16_777_216, -16_777_216, 1_099_511_627_776]) { UInt64(bitPattern: Int64($0)) },
    DTypeCase(code: "u", byteCount: 1, values: [0, 1, 2, 255, 128, 5]) { UInt64($0) },
    DTypeCase(code: "u", byteCount: 2, values: [0, 1, 2, 65535, 256, 5]) { UInt64($0) },
    DTypeCase(code: "u", byteCount: 4, values: [0, 1, 2, 16_777_216, 65536, 5]) { UInt64($0) },
    DTypeCase(code: "u", byteCount: 8, values: [0, 1, 2, 16_777_216, 1_099_511_627_776, 5]) { UInt64($0) },
]

/// Every combination of format version, memory order and byte order.
struct Layout: CustomStringConvertible, Sendable {
    let major: UInt8
    let fortranOrder: Bool
    let orderCharacter: Character

    var description: String { "v\(major) \(fortranOrder ? "F" : "C") \(orderCharacter)" }

    static let all: [Layout] = [1, 2, 3].flatMap { major in
        [false, true].flatMap { fortran in
            ["<", ">", "="].map { Layout(major: major, fortranOrder: fortran, orderCharacter: $0) }
        }
    }
}

@Test(arguments: numericDTypeCases, Layout.all)
func readNumericDType(_ dtypeCase: DTypeCase, layout: Layout) throws {
    let order = dtypeCase.byteCount == 1 && layout.orderCharacter != "=" ? "|" : String(layout.orderCharacter)
    let bigEndian = order == ">"
    let stored = layout.fortranOrder ? columnMajor(dtypeCase.values, rows: 2, columns: 3) : dtypeCase.values
    let payload = stored.flatMap { elementBytes(dtypeCase.bits($0), count: dtypeCase.byteCount, bigEndian: bigEndian) }
    let header = headerText(descr: "\(order)\(dtypeCase.code)\(dtypeCase.byteCount)", fortranOrder: layout.fortranOrder, shape: "(2, 3)")

    let array = try NPYArray(parsing: npyFile(major: layout.major, header: header, payload: payload))

    #expect(array.shape == [2, 3])
    #expect(array.dtype.byteCount == dtypeCase.byteCount)
    #expect(array.isFortranOrder == layout.fortranOrder)
    let tensor = try array.tensor()
    #expect(tensor.shape == [2, 3])
    #expect(tensor.scalars == dtypeCase.values.map { Float($0) })
    if dtypeCase.code != "f" {
        #expect(try array.integers() == dtypeCase.values.map { Int($0) })
    }

    // Writing the array in any version and reading it back keeps every byte.
    for version in NPYVersion.allCases {
        let reread = try NPYArray(parsing: array.encoded(version: version))
        #expect(reread.dtype == array.dtype)
        #expect(reread.shape == array.shape)
        #expect(reread.isFortranOrder == array.isFortranOrder)
        #expect(reread.data == array.data)
    }
}

@Test(arguments: Layout.all)
func readBool(_ layout: Layout) throws {
    let values = [true, false, false, true, true, false]
    let stored = layout.fortranOrder ? columnMajor(values, rows: 2, columns: 3) : values
    let descr = layout.orderCharacter == "=" ? "=b1" : "|b1"
    let header = headerText(descr: descr, fortranOrder: layout.fortranOrder, shape: "(2, 3)")

    let array = try NPYArray(parsing: npyFile(major: layout.major, header: header, payload: stored.map { $0 ? 1 : 0 }))

    #expect(try array.boolTensor().scalars == values)
    for version in NPYVersion.allCases {
        #expect(try NPYArray(parsing: array.encoded(version: version)).boolTensor().scalars == values)
    }
}

@Test(arguments: [
    ("{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}", [2]),
    ("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}", [2]),
    ("{ 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , ) , }", [2]),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", [1, 2]),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }", [2]),
    ("{'descr': 'f4', 'fortran_order': False, 'shape': (2,), }", [2]),
])
func headerVariants(_ header: String, shape: [Int]) throws {
    let payload = [Float(1.5), -2].flatMap { elementBytes(UInt64($0.bitPattern), count: 4, bigEndian: false) }
    let array = try NPYArray(parsing: npyFile(header: header, payload: payload))
    #expect(array.shape == shape)
    #expect(try array.tensor().scalars == [1.5, -2])
}

@Test func headerScalarShape() throws {
    let payload = elementBytes(UInt64(Float(7).bitPattern), count: 4, bigEndian: false)
    let array = try NPYArray(parsing: npyFile(header: headerText(descr: "<f4", shape: "()"), payload: payload))
    #expect(array.shape == [])
    #expect(try array.tensor().scalars == [7])
}

@Test func headerZeroSizeShape() throws {
    let array = try NPYArray(parsing: npyFile(header: headerText(descr: "<f4", shape: "(0, 5)"), payload: []))
    #expect(array.shape == [0, 5])
    #expect(try array.tensor().scalars.isEmpty)
}

@Test func headerWithoutPadding() throws {
    let payload = [UInt8](repeating: 0, count: 8)
    let array = try NPYArray(parsing: npyFile(header: headerText(descr: "<f4", shape: "(2,)"), payload: payload, pad: false))
    #expect(try array.tensor().scalars == [0, 0])
}

@Test func readingFloat64RoundsToNearest() throws {
    let payload = elementBytes(0.1.bitPattern, count: 8, bigEndian: false)
    let array = try NPYArray(parsing: npyFile(header: headerText(descr: "<f8", shape: "(1,)"), payload: payload))
    #expect(try array.tensor().scalars == [Float(0.1)])
}

/// A value that the requested conversion cannot hold exactly.
@Test(arguments: [
    ("<f8", (1e39).bitPattern, "tensor"),
    ("<i8", UInt64(16_777_217), "tensor"),
    ("<u8", UInt64.max, "tensor"),
    ("<u8", UInt64.max, "integers"),
    ("<f4", UInt64(Float(1).bitPattern), "integers"),
    ("<f4", UInt64(Float(1).bitPattern), "boolTensor"),
    ("|b1", UInt64(1), "tensor"),
    ("|b1", UInt64(2), "boolTensor"),
])
func conversionRejectsLossyValue(_ descr: String, bits: UInt64, conversion: String) throws {
    let size = Int(String(descr.last!))!
    let bytes = npyFile(header: headerText(descr: descr, shape: "(1,)"), payload: elementBytes(bits, count: size, bigEndian: false))
    let array = try NPYArray(parsing: bytes, source: "lossy.npy")
    let error = #expect(throws: NPYError.self) {
        switch conversion {
        case "tensor": _ = try array.tensor()
        case "integers": _ = try array.integers()
        default: _ = try array.boolTensor()
        }
    }
    #expect(error?.kind == .conversion)
    #expect(error?.description.hasPrefix("lossy.npy: ") == true)
}

@Test func fixturesLoadWithManifestShapes() throws {
    struct Manifest: Decodable {
        struct Case: Decodable {
            let inputs: [String: Entry]
            let expected: [String: Entry]
        }
        struct Entry: Decodable {
            let file: String
            let shape: [Int]?
            let dtype: String?
        }
        let cases: [Case]
    }
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: fixtures.appendingPathComponent("manifest.json")))
    let entries = manifest.cases.flatMap { Array($0.inputs.values) + Array($0.expected.values) }.filter { $0.file.hasSuffix(".npy") }
    #expect(entries.count > 50)

    let descrs = ["float32": "<f4", "bool": "|b1", "int64": "<i8"]
    for entry in entries {
        let array = try NPYArray(contentsOfFile: fixtures.appendingPathComponent(entry.file).path)
        #expect(array.shape == entry.shape, "\(entry.file)")
        if let dtype = entry.dtype {
            #expect(array.dtype.descr == descrs[dtype], "\(entry.file): \(array.dtype) for \(dtype)")
        }
        switch array.dtype.kind {
        case .bool: #expect(try array.boolTensor().count == array.elementCount)
        case .float: #expect(try array.tensor().count == array.elementCount)
        case .signedInteger, .unsignedInteger: #expect(try array.integers().count == array.elementCount)
        }
    }
}

@Test func readMissingFile() throws {
    let error = #expect(throws: NPYError.self) { try NPYArray(contentsOfFile: "/nonexistent/array.npy") }
    #expect(error?.kind == .fileSystem)
    #expect(error?.description.hasPrefix("/nonexistent/array.npy: ") == true)
}

@Test func readDirectory() throws {
    let error = #expect(throws: NPYError.self) { try NPYArray(contentsOfFile: FileManager.default.temporaryDirectory.path) }
    #expect(error?.kind == .fileSystem)
}
