import Foundation

/// SplitMix64: a small generator whose sequence depends only on its seed,
/// on every platform and Swift version. Performer's random features, the
/// tests and the benchmark draw from it so their results are reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in `(0, 1]` from the top 53 bits of one draw.
    mutating func nextUnitInterval() -> Double {
        Double((next() >> 11) + 1) * 0x1p-53
    }

    /// A standard normal sample by the Box–Muller transform, which consumes
    /// two draws per sample.
    mutating func nextGaussian() -> Double {
        let radius = (-2 * Foundation.log(nextUnitInterval())).squareRoot()
        let angle = 2 * Double.pi * nextUnitInterval()
        return radius * cos(angle)
    }
}
