// The variants benchmark: exact attention against sliding-window, linear,
// Performer and Nyström attention over a sweep of sequence lengths, with
// time, scratch memory and the error of each method against exact
// attention.
//
// Shapes: queries, keys and values [1, H, L, D] with H heads (Hq = Hkv).

import Attention
import Foundation

/// One method at one sequence length.
struct VariantRecord: Codable, Sendable {
    let method: String
    let sequenceLength: Int
    let heads: Int
    let dimension: Int
    /// Median seconds over `runs` timed calls after one warm-up call.
    let medianSeconds: Double
    /// Timed calls; 1 marks a single run without warm-up.
    let runs: Int
    /// Scratch bytes beyond inputs and outputs: the plan's figure for the
    /// exact paths, and an estimate from the kernel's scratch layout for the
    /// approximations (see `estimatedScratchBytes`).
    let scratchBytes: Int
    /// Whether `scratchBytes` is an estimate.
    let scratchIsEstimate: Bool
    /// The mean and maximum over output rows of ‖out − exact‖ / ‖exact‖,
    /// against the exact tiled kernel; 0 for exact attention itself.
    let meanRelativeError: Double
    let maximumRelativeError: Double
    /// Time of exact attention divided by this method's time.
    let speedup: Double
}

/// A build mode the benchmark refuses to publish numbers from.
struct DebugBuildError: Error, CustomStringConvertible {
    var description: String { "the variants benchmark needs a release build: swift build -c release" }
}

/// Runs every method at every length and prints an aligned table to stdout;
/// progress goes to stderr.
///
/// - Parameters:
///   - lengths: sequence lengths L (queries and keys).
///   - heads: query and key/value heads H.
///   - dimension: head size D of queries, keys and values.
///   - singleRunFrom: lengths at or above this are timed once, without a
///     warm-up call, because exact attention takes seconds there.
/// - Returns: one record per method and length.
/// - Throws: `DebugBuildError` in a debug build, or an `AttentionError`.
func runVariantsBenchmark(
    lengths: [Int] = [512, 1024, 2048, 4096, 8192, 16384, 32768],
    heads: Int = 2, dimension: Int = 64, singleRunFrom: Int = 16384
) throws -> [VariantRecord] {
    #if DEBUG
    throw DebugBuildError()
    #else
    let window = SlidingWindow(left: 128, right: 128)
    let methods: [(name: String, method: AttentionMethod, window: SlidingWindow?, options: ExecutionOptions)] = [
        ("exact (tiled)", .exact, nil, ExecutionOptions(path: .tiled)),
        ("window ±128 (materialized)", .exact, window, ExecutionOptions(path: .materialized)),
        ("linear", .linear, nil, ExecutionOptions()),
        ("performer m=128", .performer(features: 128, seed: 1), nil, ExecutionOptions()),
        ("nystrom m=64", .nystrom(landmarks: 64), nil, ExecutionOptions()),
    ]

    var records: [VariantRecord] = []
    for length in lengths {
        var generator = BenchmarkGenerator(seed: UInt64(length))
        let shape = [1, heads, length, dimension]
        let count = shape.reduce(1, *)
        // Inputs uniform in [-1, 1]: the scaled scores have a standard
        // deviation of about 1/3, so exact attention spreads its weight over
        // most keys and its output rows are close to the mean value.
        let query = try Tensor(shape: shape, scalars: (0..<count).map { _ in generator.nextSigned() })
        let key = try Tensor(shape: shape, scalars: (0..<count).map { _ in generator.nextSigned() })
        let value = try Tensor(shape: shape, scalars: (0..<count).map { _ in generator.nextSigned() })
        let runs = length >= singleRunFrom ? 1 : 5

        var exactOutput: [Float] = []
        var exactSeconds = 0.0
        for entry in methods {
            FileHandle.standardError.write(Data("L = \(length): \(entry.name)\n".utf8))
            func call() throws -> Tensor {
                try scaledDotProductAttention(
                    queries: query, keys: key, values: value, window: entry.window, method: entry.method,
                    options: entry.options)
            }
            if runs > 1 { _ = try call() }
            var times: [Double] = []
            var output: Tensor?
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                output = try call()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let scratch: Int
            if entry.method == .exact {
                scratch = try planAttention(
                    queries: query, keys: key, values: value, window: entry.window, options: entry.options).scratchBytes
            } else {
                scratch = estimatedScratchBytes(entry.method, length: length, heads: heads, dimension: dimension)
            }
            let median = times.sorted()[times.count / 2]
            let scalars = output!.scalars
            if entry.method == .exact && entry.window == nil {
                exactOutput = scalars
                exactSeconds = median
            }
            let errors = rowRelativeErrors(scalars, exactOutput, width: dimension)
            records.append(VariantRecord(
                method: entry.name, sequenceLength: length, heads: heads, dimension: dimension,
                medianSeconds: median, runs: runs, scratchBytes: scratch, scratchIsEstimate: entry.method != .exact,
                meanRelativeError: errors.mean, maximumRelativeError: errors.maximum,
                speedup: exactSeconds / median))
        }
    }
    return records
    #endif
}

/// The mean and maximum of `‖out_i − exact_i‖ / ‖exact_i‖` over rows.
private func rowRelativeErrors(_ actual: [Float], _ exact: [Float], width: Int) -> (mean: Double, maximum: Double) {
    let rows = exact.count / width
    var total = 0.0
    var maximum = 0.0
    for row in 0..<rows {
        var difference = 0.0
        var norm = 0.0
        for d in 0..<width {
            let e = Double(exact[row * width + d])
            let a = Double(actual[row * width + d])
            difference += (a - e) * (a - e)
            norm += e * e
        }
        let error = norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
        total += error
        maximum = max(maximum, error)
    }
    return (rows > 0 ? total / Double(rows) : 0, maximum)
}

/// Prints the records as an aligned table under a header naming the
/// machine, threads and build.
func printVariantsTable(_ records: [VariantRecord]) {
    print("variants benchmark: OpenBLAS \(BLAS.coreName), \(ProcessInfo.processInfo.activeProcessorCount) active processors, release build")
    print("time: median of 5 runs after a warm-up, or one run where runs = 1")
    print("scratch: from the plan for exact paths, estimated from the scratch layout (~) for approximations")
    print("error: mean and max over output rows of |out - exact| / |exact|, against the exact tiled kernel")
    let header = ["L", "method", "runs", "time (ms)", "speedup", "scratch (MiB)", "mean rel err", "max rel err"]
    var rows: [[String]] = [header]
    for record in records {
        rows.append([
            "\(record.sequenceLength)", record.method, "\(record.runs)",
            String(format: "%.2f", record.medianSeconds * 1000), String(format: "%.1f×", record.speedup),
            (record.scratchIsEstimate ? "~" : "") + String(format: "%.2f", Double(record.scratchBytes) / 1_048_576),
            String(format: "%.2e", record.meanRelativeError), String(format: "%.2e", record.maximumRelativeError),
        ])
    }
    let widths = header.indices.map { column in rows.map { $0[column].count }.max()! }
    for row in rows {
        let cells = row.indices.map { column in
            column == 1 ? row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[column] - row[column].count) + row[column]
        }
        print(cells.joined(separator: "  "))
    }
}

/// Estimates the scratch bytes of an approximate method, non-causal, at the
/// defaults this benchmark uses (128 query rows per block, one worker per
/// head up to the active processors), from the kernels' scratch layouts.
/// LAPACK's own SVD workspace, O(m²) floats, is left out.
private func estimatedScratchBytes(_ method: AttentionMethod, length n: Int, heads: Int, dimension d: Int) -> Int {
    let rows = min(128, n)
    let workers = min(heads, ProcessInfo.processInfo.activeProcessorCount)
    let floats: Int
    switch method {
    case .exact:
        floats = 0
    case .linear:
        // φ(K), S, φ(Q) of one block and the denominators, per worker.
        floats = workers * (n * d + d * d + rows * d + rows)
    case .performer(let m, _):
        // The projection once; φ(K), S, φ(Q) of one block and the
        // denominators per worker.
        floats = m * d + workers * (n * m + m * d + rows * m + rows)
    case .nystrom(let m):
        // Landmarks, A, B, B·V, A⁺·B·V and F of one block per worker, plus
        // the SVD factors and A⁺ (three m × m arrays).
        floats = workers * (2 * m * d + m * m + m * n + 2 * m * d + rows * m + 3 * m * m)
    }
    return floats * MemoryLayout<Float>.stride
}

/// Reproducible inputs from the library's SplitMix64 generator.
private struct BenchmarkGenerator {
    var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func nextSigned() -> Float { Float(next() >> 40) * 0x1p-23 - 1 }
}
