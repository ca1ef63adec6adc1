/// The element types a `.safetensors` header can name in `dtype`.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case uint8 = "U8"
    case int8 = "I8"
    case float8E5M2 = "F8_E5M2"
    case float8E4M3 = "F8_E4M3"
    case int16 = "I16"
    case uint16 = "U16"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case int32 = "I32"
    case uint32 = "U32"
    case float32 = "F32"
    case float64 = "F64"
    case int64 = "I64"
    case uint64 = "U64"

    /// The size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .bool, .uint8, .int8, .float8E5M2, .float8E4M3: return 1
        case .int16, .uint16, .float16, .bfloat16: return 2
        case .int32, .uint32, .float32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// Whether `SafeTensorsFile.tensor(named:)` converts this type to
    /// float32. F64 is rounded to the nearest float32; integer, boolean and
    /// 8-bit float tensors are rejected rather than reinterpreted.
    public var convertsToFloat32: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return true
        default: return false
        }
    }
}

/// Conversions from 16-bit float encodings to float32.
enum HalfPrecision {
    /// Converts IEEE 754 binary16 bits to float32 exactly. Every binary16
    /// value, including subnormals, infinities and NaN, has an exact float32
    /// value; a NaN keeps its sign and payload bits.
    static func float(fromFloat16Bits bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits) & 0x3FF

        if exponent == 0x1F {
            // Infinity (mantissa 0) or NaN, with the payload moved to the top.
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            // Zero or a subnormal: mantissa · 2^-24, exact in float32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        // A normal number: rebias the exponent from 15 to 127.
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// Converts bfloat16 bits to float32 exactly: bfloat16 is the upper half
    /// of a float32.
    static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
