import Attention
import AttentionIO
import Foundation
import Testing

/// Query, key and value files of one seeded random problem
/// `[1, 2, Lq, 4]`, `[1, 2, Lk, 4]`, `[1, 2, Lk, 3]`.
struct VariantProblem {
    let directory: URL
    let queryLength: Int
    let keyLength: Int
    let query: [Float]
    let key: [Float]
    let value: [Float]
    static let heads = 2
    static let keyDimension = 4
    static let valueDimension = 3

    init(queryLength: Int, keyLength: Int, seed: UInt64) throws {
        directory = try makeScratchDirectory()
        self.queryLength = queryLength
        self.keyLength = keyLength
        var generator = SplitMix64(seed: seed)
        func uniform(_ count: Int) -> [Float] {
            (0..<count).map { _ in generator.nextUniform() * 2 - 1 }
        }
        query = uniform(Self.heads * queryLength * Self.keyDimension)
        key = uniform(Self.heads * keyLength * Self.keyDimension)
        value = uniform(Self.heads * keyLength * Self.valueDimension)
        try NPYArray(Tensor(shape: [1, Self.heads, queryLength, Self.keyDimension], scalars: query)).write(toFile: path("q.npy"))
        try NPYArray(Tensor(shape: [1, Self.heads, keyLength, Self.keyDimension], scalars: key)).write(toFile: path("k.npy"))
        try NPYArray(Tensor(shape: [1, Self.heads, keyLength, Self.valueDimension], scalars: value)).write(toFile: path("v.npy"))
    }

    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// Returns the `sdpa` arguments that read this problem and write `output`.
    func arguments(output: String) -> [String] {
        ["sdpa", "--query", path("q.npy"), "--key", path("k.npy"), "--value", path("v.npy"), "--output", path(output)]
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

extension SplitMix64 {
    /// Returns a value in [0, 1) with 24 random bits.
    mutating func nextUniform() -> Float {
        Float(next() >> 40) / Float(1 << 24)
    }
}

/// A sliding window and the problem it runs on.
struct WindowCase: CustomStringConvertible, Sendable {
    let left: Int
    let right: Int
    let queryLength: Int
    let keyLength: Int

    var description: String { "window \(left),\(right) on Lq \(queryLength), Lk \(keyLength)" }
}

let windowCases = [
    WindowCase(left: 0, right: 0, queryLength: 7, keyLength: 9),
    WindowCase(left: 1, right: 1, queryLength: 7, keyLength: 9),
    WindowCase(left: 3, right: 0, queryLength: 9, keyLength: 9),
    WindowCase(left: 0, right: 2, queryLength: 9, keyLength: 9),
    WindowCase(left: 20, right: 20, queryLength: 7, keyLength: 9),
    WindowCase(left: 40, right: 5, queryLength: 300, keyLength: 333),
]

/// `--window L,R` gives the output of `--mask` with the equivalent boolean
/// mask, which lets query `i` attend to key `j` when `i - L <= j - (Lk - Lq) <= i + R`.
@Test(arguments: windowCases, ["reference", "materialized", "tiled"])
func sdpaWindowMatchesMask(_ window: WindowCase, path: String) throws {
    let problem = try VariantProblem(queryLength: window.queryLength, keyLength: window.keyLength, seed: 7)
    defer { problem.remove() }
    let offset = window.keyLength - window.queryLength
    var mask: [Bool] = []
    for i in 0..<window.queryLength {
        for j in 0..<window.keyLength {
            mask.append(i - window.left <= j - offset && j - offset <= i + window.right)
        }
    }
    try NPYArray(BoolTensor(shape: [1, 1, window.queryLength, window.keyLength], scalars: mask)).write(toFile: problem.path("mask.npy"))

    let windowRun = try runTool(problem.arguments(output: "window.npy") + ["--path", path, "--window", "\(window.left),\(window.right)"])
    let maskRun = try runTool(problem.arguments(output: "mask-out.npy") + ["--path", path, "--mask", problem.path("mask.npy")])
    let methodRun = try runTool(
        problem.arguments(output: "method.npy") + ["--path", path, "--method", "window", "--window", "\(window.left),\(window.right)"])

    #expect(windowRun.status == 0, "stderr: \(windowRun.standardError)")
    #expect(maskRun.status == 0, "stderr: \(maskRun.standardError)")
    #expect(methodRun.status == 0, "stderr: \(methodRun.standardError)")
    guard windowRun.status == 0, maskRun.status == 0, methodRun.status == 0 else { return }
    let methodOutput = try NPYArray(contentsOfFile: problem.path("method.npy")).tensor().scalars
    let windowed = try NPYArray(contentsOfFile: problem.path("window.npy")).tensor().scalars
    let masked = try NPYArray(contentsOfFile: problem.path("mask-out.npy")).tensor().scalars
    // The two runs differ only in the order of a softmax over at most Lk
    // keys, so they agree to a few float32 roundings per key.
    let bound = 4 * Double(Float.ulpOfOne) * Double(window.keyLength)
    expectClose(windowed, masked, tolerance: Tolerance(absolute: bound, relative: bound), label: "\(window) on \(path)")
    #expect(methodOutput == windowed, "--method window is exact attention inside --window")
}

@Test func sdpaLinearMatchesItsFormula() throws {
    let problem = try VariantProblem(queryLength: 5, keyLength: 6, seed: 11)
    defer { problem.remove() }

    let run = try runTool(problem.arguments(output: "out.npy") + ["--method", "linear"])

    #expect(run.status == 0, "stderr: \(run.standardError)")
    guard run.status == 0 else { return }
    let output = try NPYArray(contentsOfFile: problem.path("out.npy"))
    #expect(output.shape == [1, VariantProblem.heads, 5, VariantProblem.valueDimension])

    // out_i = Σ_j φ(q_i)·φ(k_j) v_j / Σ_j φ(q_i)·φ(k_j), φ(x) = elu(x) + 1,
    // in float64.
    func feature(_ x: Float) -> Double {
        x > 0 ? Double(x) + 1 : exp(Double(x))
    }
    let (dk, dv) = (VariantProblem.keyDimension, VariantProblem.valueDimension)
    var expected: [Float] = []
    for head in 0..<VariantProblem.heads {
        for i in 0..<problem.queryLength {
            var numerator = [Double](repeating: 0, count: dv)
            var denominator = 0.0
            for j in 0..<problem.keyLength {
                var similarity = 0.0
                for d in 0..<dk {
                    let q = problem.query[(head * problem.queryLength + i) * dk + d]
                    let k = problem.key[(head * problem.keyLength + j) * dk + d]
                    similarity += feature(q) * feature(k)
                }
                denominator += similarity
                for d in 0..<dv {
                    numerator[d] += similarity * Double(problem.value[(head * problem.keyLength + j) * dv + d])
                }
            }
            expected += numerator.map { Float($0 / denominator) }
        }
    }
    // Positive weights over Lk keys and Dk features: the float32 sums are
    // within a few roundings per term of the float64 ones.
    let bound = 4 * Double(Float.ulpOfOne) * Double(problem.keyLength + dk)
    expectClose(try output.tensor().scalars, expected, tolerance: Tolerance(absolute: bound, relative: bound), label: "linear")
}

@Test func sdpaPerformerRepeatsForSeed() throws {
    let problem = try VariantProblem(queryLength: 8, keyLength: 8, seed: 13)
    defer { problem.remove() }
    let method = ["--method", "performer", "--features", "16"]

    let first = try runTool(problem.arguments(output: "first.npy") + method + ["--seed", "5"])
    let second = try runTool(problem.arguments(output: "second.npy") + method + ["--seed", "5"])
    let other = try runTool(problem.arguments(output: "other.npy") + method + ["--seed", "6"])

    for run in [first, second, other] {
        #expect(run.status == 0, "stderr: \(run.standardError)")
    }
    let firstOutput = try NPYArray(contentsOfFile: problem.path("first.npy")).tensor().scalars
    let secondOutput = try NPYArray(contentsOfFile: problem.path("second.npy")).tensor().scalars
    let otherOutput = try NPYArray(contentsOfFile: problem.path("other.npy")).tensor().scalars
    #expect(firstOutput == secondOutput, "the same seed gave different outputs")
    #expect(firstOutput != otherOutput, "seeds 5 and 6 gave the same output")
}

@Test func sdpaNystromWritesOutput() throws {
    let problem = try VariantProblem(queryLength: 6, keyLength: 8, seed: 17)
    defer { problem.remove() }

    let run = try runTool(problem.arguments(output: "out.npy") + ["--method", "nystrom", "--landmarks", "3"])

    // The library's tests check Nyström's accuracy; this checks that the
    // flags reach it and that its output is written.
    #expect(run.status == 0, "stderr: \(run.standardError)")
    guard run.status == 0 else { return }
    let output = try NPYArray(contentsOfFile: problem.path("out.npy"))
    #expect(output.shape == [1, VariantProblem.heads, 6, VariantProblem.valueDimension])
    #expect(try output.tensor().scalars.allSatisfy(\.isFinite))
}
