import Attention
import Foundation

/// Runs one case: verification against the reference, timing, memory and
/// decode figures.
struct CaseRunner {
    let arguments: Arguments
    let sgemm: SgemmRates
    let bandwidthGBPerSecond: Double
    let fixtures: String

    /// The whole shape is checked and timed on the reference up to this many
    /// floating-point operations; larger shapes check a few rows.
    var fullReferenceLimit: Double { arguments.quick ? 6e8 : 2.2e9 }
    /// Query rows per (batch, head) checked on shapes above the limit.
    static let verificationRowCount = 8

    func run(_ benchmarkCase: BenchmarkCase) throws -> ShapeResult {
        let inputs = try CaseInputs(benchmarkCase, fixtures: fixtures)
        let output = try Tensor(shape: [benchmarkCase.batch, benchmarkCase.heads, benchmarkCase.queryLength, benchmarkCase.dimension], repeating: 0)
        let threads = arguments.threadCount

        // 1. The reference on every row, or on a few rows of a large shape.
        progress("  reference")
        let checkAllRows = benchmarkCase.flopCount <= fullReferenceLimit
        let rows = checkAllRows
            ? Array(0..<benchmarkCase.queryLength)
            : (0..<Self.verificationRowCount).map { $0 * (benchmarkCase.queryLength - 1) / (Self.verificationRowCount - 1) }
        let (expected, reference) = try runReference(benchmarkCase, inputs, rows: rows, wholeShape: checkAllRows)

        // 2. Each BLAS path: verify on its first (warm-up) run, then time.
        var verification: [Verification] = []
        var timings: [Timing] = []
        var skipped: [String] = []
        var paths: [(AttentionPath, Int)] = [(.tiled, threads)]
        if threads > 1 && !benchmarkCase.heavy { paths.append((.tiled, 1)) }
        if threads > 1 && benchmarkCase.heavy { skipped.append("tiled on 1 thread: one call takes seconds") }
        let scoreBytes = Double(benchmarkCase.queryLength) * Double(benchmarkCase.keyLength) * 4
        let scoreLimit = Double(arguments.quick ? 64 : 1100) * 1024 * 1024
        if benchmarkCase.heavy {
            skipped.append("materialized: one call takes seconds")
        } else if scoreBytes > scoreLimit {
            skipped.append(String(format: "materialized: its scores need %.0f MiB per worker", scoreBytes / 1048576))
        } else {
            paths.append((.materialized, threads))
        }
        for (path, pathThreads) in paths {
            progress("  \(path.rawValue), \(pathThreads) thread\(pathThreads == 1 ? "" : "s")")
            let options = ExecutionOptions(
                path: path, threadCount: pathThreads,
                queryBlockSize: path == .tiled ? arguments.queryBlockSize : nil,
                keyBlockSize: path == .tiled ? arguments.keyBlockSize : nil, sgemmOnly: arguments.sgemmOnly)
            let call = {
                try scaledDotProductAttention(
                    queries: inputs.queries, keys: inputs.keys, values: inputs.values, into: output,
                    scale: inputs.scale, causal: inputs.causal, keyPadding: inputs.keyPadding, options: options)
            }
            let warmUpStart = now()
            _ = try call()
            let warmUpSeconds = now() - warmUpStart
            if pathThreads == threads {
                verification.append(compare(output, expected, rows: rows, path: path.rawValue))
            }
            let count = benchmarkCase.heavy
                ? 2
                : repetitions(forCallTaking: warmUpSeconds, budget: arguments.quick ? 0.4 : 1.5, minimum: arguments.quick ? 1 : 3, maximum: 15)
            let milliseconds = try medianMilliseconds(repetitions: count, warmedUp: true) { _ = try call() }
            let peak = pathThreads == threads ? try PeakMemory.measure { _ = try call() } : nil
            let gflops = benchmarkCase.flopCount / (milliseconds / 1000) / 1e9
            let rate = pathThreads == 1 ? sgemm.singleThreadGFLOPs : sgemm.allThreadsGFLOPs
            var timing = Timing(
                path: path.rawValue, threads: pathThreads, medianMilliseconds: milliseconds, repetitions: count,
                gflops: gflops, efficiency: gflops / rate, peakExtraMiB: peak)
            if reference.threads == pathThreads {
                if let referenceMilliseconds = reference.medianMilliseconds {
                    timing.speedUpOverReference = referenceMilliseconds / milliseconds
                } else {
                    timing.estimatedSpeedUpOverReference = gflops / reference.gflops
                }
            }
            timings.append(timing)
        }

        // 3. Causal shapes: the causal time against the unmasked time, from
        //    alternating calls, on every thread count the tiled path ran.
        var causalRatios: [CausalFigures] = []
        if inputs.causal != nil {
            for timing in timings where timing.path == AttentionPath.tiled.rawValue {
                if arguments.quick && timing.threads != threads { continue }
                progress("  causal against unmasked, \(timing.threads) thread\(timing.threads == 1 ? "" : "s")")
                let pairs = arguments.quick ? 3 : (timing.threads == threads ? 5 : 3)
                causalRatios.append(try causalRatio(inputs, into: output, threads: timing.threads, pairs: pairs))
            }
        }

        // 4. Decode figures: K and V bytes against the time to read them once.
        var decode: DecodeFigures?
        if benchmarkCase.queryLength <= 16, benchmarkCase.keyLength >= 1024, let tiled = timings.first {
            let bytes = Double(benchmarkCase.batch * benchmarkCase.heads * benchmarkCase.keyLength * benchmarkCase.dimension * 2 * 4)
            let readOnce = bytes / (bandwidthGBPerSecond * 1e9) * 1000
            decode = DecodeFigures(
                keyValueBytes: bytes, streamedGBPerSecond: bytes / (tiled.medianMilliseconds / 1000) / 1e9,
                readOnceMilliseconds: readOnce, ratioToReadOnce: tiled.medianMilliseconds / readOnce)
        }

        let plan = try planAttention(
            queries: inputs.queries, keys: inputs.keys, values: inputs.values, scale: inputs.scale,
            causal: inputs.causal, keyPadding: inputs.keyPadding,
            options: ExecutionOptions(
                threadCount: threads, queryBlockSize: arguments.queryBlockSize, keyBlockSize: arguments.keyBlockSize,
                sgemmOnly: arguments.sgemmOnly))
        return ShapeResult(
            name: benchmarkCase.name, batch: benchmarkCase.batch, heads: benchmarkCase.heads,
            keyValueHeads: benchmarkCase.heads, queryLength: benchmarkCase.queryLength,
            keyLength: benchmarkCase.keyLength, headDimension: benchmarkCase.dimension,
            causal: benchmarkCase.causal, flopCount: benchmarkCase.flopCount, plan: plan.description,
            verification: verification, timings: timings, reference: reference, decode: decode,
            causalRatios: causalRatios, skipped: skipped)
    }

    /// Times `pairs` causal calls of the tiled path, each followed by the
    /// same call without the mask, and returns the median of their ratios.
    private func causalRatio(_ inputs: CaseInputs, into output: Tensor, threads: Int, pairs: Int) throws -> CausalFigures {
        let options = ExecutionOptions(
            path: .tiled, threadCount: threads, queryBlockSize: arguments.queryBlockSize,
            keyBlockSize: arguments.keyBlockSize, sgemmOnly: arguments.sgemmOnly)
        func call(causal: CausalAlignment?) throws -> Double {
            let start = now()
            try scaledDotProductAttention(
                queries: inputs.queries, keys: inputs.keys, values: inputs.values, into: output,
                scale: inputs.scale, causal: causal, keyPadding: inputs.keyPadding, options: options)
            return now() - start
        }
        _ = try call(causal: nil)
        var ratios: [Double] = []
        for _ in 0..<pairs {
            let masked = try call(causal: inputs.causal)
            let unmasked = try call(causal: nil)
            ratios.append(masked / unmasked)
        }
        ratios.sort()
        let middle = ratios.count / 2
        let median = ratios.count % 2 == 1 ? ratios[middle] : (ratios[middle - 1] + ratios[middle]) / 2
        return CausalFigures(threads: threads, pairs: pairs, medianRatio: median)
    }

    /// Runs the reference on `rows` of every (batch, head) and returns its
    /// output `[B, H, rows.count, D]` and timing.
    private func runReference(
        _ benchmarkCase: BenchmarkCase, _ inputs: CaseInputs, rows: [Int], wholeShape: Bool
    ) throws -> (Tensor, ReferenceTiming) {
        let threads = arguments.threadCount
        let options = ExecutionOptions(path: .reference, threadCount: threads)
        if wholeShape {
            var result: Tensor?
            let once = now()
            result = try scaledDotProductAttention(
                queries: inputs.queries, keys: inputs.keys, values: inputs.values, scale: inputs.scale,
                causal: inputs.causal, keyPadding: inputs.keyPadding, options: options)
            let seconds = now() - once
            // Long reference runs are timed once; short ones take a median.
            let milliseconds = seconds > 0.5
                ? seconds * 1000
                : try medianMilliseconds(repetitions: 3, warmedUp: true) {
                    result = try scaledDotProductAttention(
                        queries: inputs.queries, keys: inputs.keys, values: inputs.values, scale: inputs.scale,
                        causal: inputs.causal, keyPadding: inputs.keyPadding, options: options)
                }
            let timing = ReferenceTiming(
                medianMilliseconds: milliseconds, gflops: benchmarkCase.flopCount / (milliseconds / 1000) / 1e9,
                threads: threads, note: seconds > 0.5 ? "whole shape, timed once" : "whole shape")
            return (result!, timing)
        }

        // A copy of the chosen query rows; a causal mask becomes an explicit
        // boolean mask so that each copied row keeps its original position.
        let b = benchmarkCase.batch
        let h = benchmarkCase.heads
        let d = benchmarkCase.dimension
        var scalars: [Float] = []
        scalars.reserveCapacity(b * h * rows.count * d)
        for batch in 0..<b {
            for head in 0..<h {
                for row in rows {
                    for feature in 0..<d { scalars.append(inputs.queries[batch, head, row, feature]) }
                }
            }
        }
        let subset = try Tensor(shape: [b, h, rows.count, d], scalars: scalars)
        var mask: AttentionMask?
        if inputs.causal != nil {
            let keyLength = benchmarkCase.keyLength
            let flags = rows.flatMap { row in (0..<keyLength).map { $0 <= row } }
            mask = .boolean(try BoolTensor(shape: [1, 1, rows.count, keyLength], scalars: flags))
        }
        let start = now()
        let result = try scaledDotProductAttention(
            queries: subset, keys: inputs.keys, values: inputs.values, scale: inputs.scale,
            mask: mask, keyPadding: inputs.keyPadding, options: options)
        let seconds = now() - start
        let flops = benchmarkCase.flopCount * Double(rows.count) / Double(benchmarkCase.queryLength)
        let timing = ReferenceTiming(
            medianMilliseconds: nil, gflops: flops / seconds / 1e9, threads: threads,
            note: "too slow for the whole shape; ran \(rows.count) of \(benchmarkCase.queryLength) query rows per head")
        return (result, timing)
    }

    /// Compares `actual` at `rows` with the reference rows.
    private func compare(_ actual: Tensor, _ expected: Tensor, rows: [Int], path: String) -> Verification {
        var maximumError = 0.0
        var maximumMagnitude = 0.0
        let shape = expected.shape
        if rows.count == actual.shape[2] {
            for (a, e) in zip(actual.scalars, expected.scalars) {
                maximumError = Swift.max(maximumError, abs(Double(a) - Double(e)).nanToInfinity)
                maximumMagnitude = Swift.max(maximumMagnitude, abs(Double(e)))
            }
        } else {
            for batch in 0..<shape[0] {
                for head in 0..<shape[1] {
                    for (index, row) in rows.enumerated() {
                        for feature in 0..<shape[3] {
                            let a = Double(actual[batch, head, row, feature])
                            let e = Double(expected[batch, head, index, feature])
                            maximumError = Swift.max(maximumError, abs(a - e).nanToInfinity)
                            maximumMagnitude = Swift.max(maximumMagnitude, abs(e))
                        }
                    }
                }
            }
        }
        return Verification(
            path: path, maximumAbsoluteError: maximumError,
            maximumRelativeError: maximumMagnitude > 0 ? maximumError / maximumMagnitude : maximumError,
            rowsChecked: rows.count)
    }
}

extension Double {
    /// NaN as +infinity, so a NaN error is never hidden by `max`.
    var nanToInfinity: Double { isNaN ? .infinity : self }
}
