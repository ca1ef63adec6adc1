import Testing
@testable import Attention

/// Checks `|actual - expected| <= atol + rtol * |expected|` for every
/// element (NumPy's `allclose` rule, with NaN required at the same
/// positions) and records one issue naming the worst element.
func expectClose(
    _ actual: [Float], _ expected: [Float], atol: Double, rtol: Double, _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record("\(label): \(actual.count) elements, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var worstIndex = -1
    var worstExcess = 0.0
    var worstDifference = 0.0
    for index in actual.indices {
        let a = Double(actual[index])
        let e = Double(expected[index])
        if e.isNaN || a.isNaN {
            if e.isNaN != a.isNaN {
                Issue.record("\(label): element \(index) is \(a), expected \(e)", sourceLocation: sourceLocation)
                return
            }
            continue
        }
        if a == e { continue }
        let difference = abs(a - e)
        let excess = difference - (atol + rtol * abs(e))
        if difference.isNaN || excess > worstExcess {
            worstExcess = excess.isNaN ? .infinity : excess
            worstIndex = index
            worstDifference = difference
        }
    }
    if worstIndex >= 0 {
        Issue.record(
            "\(label): max violation at element \(worstIndex): actual \(actual[worstIndex]), expected \(expected[worstIndex]), |difference| \(worstDifference) > atol \(atol) + rtol \(rtol)·|expected|",
            sourceLocation: sourceLocation)
    }
}

/// Checks bitwise equality and names the first differing element.
func expectBitwiseEqual(_ actual: [Float], _ expected: [Float], _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(label): \(actual.count) elements, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    if let index = actual.indices.first(where: { actual[$0].bitPattern != expected[$0].bitPattern }) {
        Issue.record("\(label): element \(index) is \(actual[index]), expected bitwise \(expected[index])", sourceLocation: sourceLocation)
    }
}

/// The kernel configurations every semantic test runs on: the reference,
/// the materialized path, and the tiled path with default, small and
/// one-element blocks, so a case spans several tiles.
enum KernelConfiguration: String, CaseIterable, CustomStringConvertible, Sendable {
    case reference, materialized, tiled, tiledSmallBlocks, tiledUnitBlocks

    var options: ExecutionOptions {
        switch self {
        case .reference: ExecutionOptions(path: .reference)
        case .materialized: ExecutionOptions(path: .materialized)
        case .tiled: ExecutionOptions(path: .tiled)
        case .tiledSmallBlocks: ExecutionOptions(path: .tiled, queryBlockSize: 3, keyBlockSize: 5)
        case .tiledUnitBlocks: ExecutionOptions(path: .tiled, queryBlockSize: 1, keyBlockSize: 1)
        }
    }

    var description: String { rawValue }
}
