import CAttentionKernels
import Foundation

/// Times the softmax exp in nanoseconds per value: the C body chosen at run
/// time, the AVX2 and portable C bodies, and a Swift `SIMD16<Float>` version of the same
/// polynomial compiled with the package's default flags (no AVX on x86-64).
/// The Swift version exists only here, to show why the library uses C.
enum ExponentialSpeed {
    static func measure(count: Int = 4096, rounds: Int = 2000) -> ExponentialTiming {
        var values = (0..<count).map { Float($0 % 97) * -0.25 }
        let input = values

        func time(_ body: () -> Void) -> Double {
            body()
            let start = now()
            for _ in 0..<rounds { body() }
            return (now() - start) * 1e9 / Double(rounds * count)
        }
        func timeC(_ variant: Int32) -> Double {
            time {
                input.withUnsafeBufferPointer { source in
                    values.withUnsafeMutableBufferPointer { attention_exp_using(variant, source.baseAddress, $0.baseAddress, count) }
                }
            }
        }
        let dispatched = timeC(attention_kernels_variant())
        let avx2 = timeC(ATTENTION_VARIANT_AVX2)
        let portable = timeC(ATTENTION_VARIANT_PORTABLE)
        let swiftSIMD = time {
            input.withUnsafeBufferPointer { source in
                values.withUnsafeMutableBufferPointer { destination in
                    swiftExp(source.baseAddress!, destination.baseAddress!, count: count)
                }
            }
        }
        return ExponentialTiming(
            dispatchedNanosecondsPerValue: dispatched, avx2NanosecondsPerValue: avx2, portableNanosecondsPerValue: portable,
            swiftSIMD16NanosecondsPerValue: swiftSIMD)
    }

    /// Computes exp with the same range reduction and degree-7 polynomial on
    /// `SIMD16<Float>`.
    @inline(never)
    static func swiftExp(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, count: Int) {
        let log2e = SIMD16<Float>(repeating: 1.44269504)
        let ln2High = SIMD16<Float>(repeating: 0.693359375)
        let ln2Low = SIMD16<Float>(repeating: -2.12194440e-4)
        var index = 0
        while index + 16 <= count {
            var x = UnsafeRawPointer(input + index).loadUnaligned(as: SIMD16<Float>.self)
            x = x.clamped(lowerBound: SIMD16(repeating: -87.3), upperBound: SIMD16(repeating: 88.7))
            let n = (x * log2e).rounded(.toNearestOrEven)
            var r = x - n * ln2High
            r = r - n * ln2Low
            var p = SIMD16<Float>(repeating: 1.0 / 5040)
            p = p * r + SIMD16(repeating: 1.0 / 720)
            p = p * r + SIMD16(repeating: 1.0 / 120)
            p = p * r + SIMD16(repeating: 1.0 / 24)
            p = p * r + SIMD16(repeating: 1.0 / 6)
            p = p * r + SIMD16(repeating: 0.5)
            p = p * r + SIMD16(repeating: 1)
            p = p * r + SIMD16(repeating: 1)
            let exponent = SIMD16<Int32>(truncatingIfNeeded: SIMD16<Int32>(n) &+ 127) &<< 23
            let result = p * unsafeBitCast(exponent, to: SIMD16<Float>.self)
            UnsafeMutableRawPointer(output + index).storeBytes(of: result, as: SIMD16<Float>.self)
            index += 16
        }
        while index < count {
            output[index] = Foundation.exp(input[index])
            index += 1
        }
    }
}
