import Attention

/// Conversions from stored elements to tensors and integers.
///
/// Every conversion returns elements in row-major order, whatever the
/// file's memory order and byte order. A value that the target type cannot
/// hold exactly throws instead of being rounded or clamped silently, except
/// float64 to float32, which rounds to nearest as any float32 computation
/// on the data would.
extension NPYArray {
    /// Decodes a float or integer array as float32, row-major.
    ///
    /// - float32 is copied exactly; float16 converts exactly.
    /// - float64 rounds to the nearest float32. NaN and infinities carry
    ///   over; a finite value beyond float32's range throws.
    /// - Integers convert when float32 represents them exactly (every value up to
    ///   2²⁴ in magnitude, and larger ones that need no rounding); any other
    ///   value throws.
    /// - Throws: `NPYError` of kind `conversion` for a bool array or an
    ///   element that float32 cannot hold.
    public func tensor() throws -> Tensor {
        let values: [Float]
        switch dtype.kind {
        case .bool:
            throw NPYError(
                .conversion, file: source,
                problem: "expected a float or integer array, got bool ('\(dtype.descr)'); pass it where a boolean mask is accepted")
        case .float where dtype.byteCount == 4 && dtype.byteOrder == .little:
            values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        case .float where dtype.byteCount == 4:
            values = (0..<elementCount).map { Float(bitPattern: UInt32(truncatingIfNeeded: bits(at: $0))) }
        case .float where dtype.byteCount == 2:
            values = (0..<elementCount).map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: bits(at: $0)))) }
        case .float:
            values = try (0..<elementCount).map { index in
                let wide = Double(bitPattern: bits(at: index))
                let narrow = Float(wide)
                if narrow.isInfinite && wide.isFinite {
                    throw NPYError(
                        .conversion, file: source,
                        problem: "element \(index) (\(wide)) of a float64 array is outside the float32 range")
                }
                return narrow
            }
        case .signedInteger:
            values = try (0..<elementCount).map { index in
                let value = signedInteger(at: index)
                guard let exact = Float(exactly: value) else {
                    throw inexact(index: index, value: String(value))
                }
                return exact
            }
        case .unsignedInteger:
            values = try (0..<elementCount).map { index in
                let value = bits(at: index)
                guard let exact = Float(exactly: value) else {
                    throw inexact(index: index, value: String(value))
                }
                return exact
            }
        }
        return try Tensor(shape: shape, scalars: rowMajor(values))
    }

    /// Decodes a bool array, row-major.
    ///
    /// - Throws: `NPYError` of kind `conversion` for any other dtype, and
    ///   for a byte other than 0 or 1, which NumPy never writes for bool.
    public func boolTensor() throws -> BoolTensor {
        guard dtype.kind == .bool else {
            throw NPYError(.conversion, file: source, problem: "expected a bool array ('|b1'), got '\(dtype.descr)'")
        }
        if let index = data.firstIndex(where: { $0 > 1 }) {
            throw NPYError(.conversion, file: source, problem: "bool element \(index) has the byte \(data[index]), expected 0 or 1")
        }
        return try BoolTensor(shape: shape, scalars: rowMajor(data.map { $0 == 1 }))
    }

    /// Decodes an integer array as `Int`, row-major.
    ///
    /// - Throws: `NPYError` of kind `conversion` for a float or bool array,
    ///   or a `uint64` element above `Int.max`.
    public func integers() throws -> [Int] {
        let values: [Int]
        switch dtype.kind {
        case .signedInteger:
            values = (0..<elementCount).map { Int(signedInteger(at: $0)) }
        case .unsignedInteger:
            values = try (0..<elementCount).map { index in
                let value = bits(at: index)
                guard let exact = Int(exactly: value) else {
                    throw NPYError(.conversion, file: source, problem: "element \(index) (\(value)) does not fit a 64-bit signed integer")
                }
                return exact
            }
        case .bool, .float:
            throw NPYError(.conversion, file: source, problem: "expected an integer array, got '\(dtype.descr)'")
        }
        return rowMajor(values)
    }

    /// Returns the bytes of element `index` (in storage order) as an
    /// unsigned integer in this machine's order.
    private func bits(at index: Int) -> UInt64 {
        let size = dtype.byteCount
        let start = index * size
        var value: UInt64 = 0
        for byte in 0..<size {
            let shift = dtype.byteOrder == .little ? byte : size - 1 - byte
            value |= UInt64(data[start + byte]) << (8 * shift)
        }
        return value
    }

    /// Returns the element at `index` (in storage order), sign-extended.
    private func signedInteger(at index: Int) -> Int64 {
        let unusedBits = 64 - 8 * dtype.byteCount
        return Int64(bitPattern: bits(at: index) << unusedBits) >> unusedBits
    }

    private func inexact(index: Int, value: String) -> NPYError {
        NPYError(
            .conversion, file: source,
            problem: "element \(index) (\(value)) of a '\(dtype.descr)' array has no exact float32 value; convert the array to float32 first if rounding is acceptable")
    }

    /// Reorders elements from storage order into row-major order.
    private func rowMajor<Element>(_ stored: [Element]) -> [Element] {
        guard isFortranOrder, shape.count > 1, !stored.isEmpty else {
            return stored
        }
        // Column-major strides: the first dimension varies fastest.
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in 1..<shape.count {
            strides[axis] = strides[axis - 1] * shape[axis - 1]
        }
        var result: [Element] = []
        result.reserveCapacity(stored.count)
        var index = [Int](repeating: 0, count: shape.count)
        var offset = 0
        for _ in 0..<stored.count {
            result.append(stored[offset])
            // Advance the row-major index: the last dimension varies fastest.
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                offset += strides[axis]
                if index[axis] < shape[axis] {
                    break
                }
                offset -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }
}
