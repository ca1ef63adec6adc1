/// Builds the bytes of a `.npy` file by hand: magic, version, header length,
/// the header text padded with spaces to a multiple of 64 bytes and ended by
/// a newline, then `payload`. Independent of the writer under test.
func npyFile(major: UInt8 = 1, minor: UInt8 = 0, header: String, payload: [UInt8], pad: Bool = true) -> [UInt8] {
    let preamble = major == 1 ? 10 : 12
    var text = Array(header.utf8)
    if pad {
        let unpadded = preamble + text.count + 1
        text += [UInt8](repeating: 0x20, count: (64 - unpadded % 64) % 64)
        text.append(0x0A)
    }
    var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, minor]
    bytes += littleEndianBytes(UInt64(text.count), count: preamble - 8)
    return bytes + text + payload
}

/// Returns the header dictionary NumPy writes for these fields.
func headerText(descr: String, fortranOrder: Bool = false, shape: String) -> String {
    "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shape), }"
}

func littleEndianBytes(_ value: UInt64, count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

/// Returns the bytes of one element whose bit pattern is `bits`, `count` bytes wide.
func elementBytes(_ bits: UInt64, count: Int, bigEndian: Bool) -> [UInt8] {
    let little = littleEndianBytes(bits, count: count)
    return bigEndian ? little.reversed() : little
}

/// Reorders row-major `values` of a rank-2 `shape` into column-major order.
func columnMajor<Element>(_ values: [Element], rows: Int, columns: Int) -> [Element] {
    var result: [Element] = []
    for column in 0..<columns {
        for row in 0..<rows {
            result.append(values[row * columns + column])
        }
    }
    return result
}
