import Attention
import Foundation

/// Formats the report as aligned text tables.
enum Table {
    static func header(_ report: BenchmarkReport) -> String {
        let machine = report.machine
        var lines: [String] = []
        if machine.buildMode != "release" {
            lines.append(String(repeating: "!", count: 72))
            lines.append("!! DEBUG BUILD: these numbers mean nothing. Run `swift build -c release`")
            lines.append("!! and .build/release/attention-bench for real measurements.")
            lines.append(String(repeating: "!", count: 72))
        }
        lines.append("attention-bench, \(machine.buildMode) build")
        lines.append("CPU: \(machine.cpu), \(machine.logicalProcessors) logical processors; worker threads: \(machine.threadCount)")
        lines.append("OpenBLAS: core \(machine.openBLASCore); \(machine.openBLASConfiguration)")
        let exp = report.exponential
        lines.append(String(
            format: "softmax exp: %@ body; ns per value: chosen %.3f, AVX2 C %.3f, portable C %.3f, Swift SIMD16 (default target) %.3f",
            machine.exponentialBody, exp.dispatchedNanosecondsPerValue, exp.avx2NanosecondsPerValue, exp.portableNanosecondsPerValue,
            exp.swiftSIMD16NanosecondsPerValue))
        let sgemm = report.sgemm
        var sgemmLine = String(
            format: "sgemm %d x %d x %d, fastest of several calls, at start / end of run: 1 thread %.1f / %.1f GFLOP/s",
            sgemm.size, sgemm.size, sgemm.size, sgemm.singleThreadGFLOPs, sgemm.singleThreadGFLOPsAtEnd ?? .nan)
        if machine.threadCount > 1 {
            sgemmLine += String(
                format: ", %d threads %.1f / %.1f GFLOP/s",
                machine.threadCount, sgemm.allThreadsGFLOPs, sgemm.allThreadsGFLOPsAtEnd ?? .nan)
        }
        lines.append(sgemmLine)
        if let warning = Self.sharedCoresWarning(sgemm: sgemm, machine: machine) {
            lines.append(warning)
        }
        lines.append(String(
            format: "load average (1 min) before / after: %.2f / %.2f (before: other recent work; after: this run included)",
            machine.loadAverageBefore, machine.loadAverageAfter ?? .nan))
        let readings = report.memoryBandwidthReadingsGBPerSecond ?? []
        lines.append(String(
            format: "memory read bandwidth (%d thread%@), at start / end of run: %@ GB/s; decode figures use %.1f",
            machine.threadCount, machine.threadCount == 1 ? "" : "s",
            readings.map { String(format: "%.1f", $0) }.joined(separator: " / "), report.memoryBandwidthGBPerSecond))
        if let warning = Self.driftWarning(sgemm: sgemm, threadCount: machine.threadCount, bandwidthReadings: readings) {
            lines.append(warning)
        }
        lines.append("GFLOP/s counts 4*B*H*Lq*Lk*D; eff = GFLOP/s / the higher sgemm rate at the same thread count;")
        lines.append("extra MiB = peak resident memory (VmHWM) during one call minus resident memory before it.")
        return lines.joined(separator: "\n")
    }

    /// Returns a warning when the multi-thread sgemm rate is below 0.6
    /// times the single-thread rate times the usable cores. Another process
    /// then held a core while the rate was measured, and efficiency at that
    /// thread count is measured against too low a rate.
    static func sharedCoresWarning(sgemm: SgemmRates, machine: MachineDescription) -> String? {
        if machine.threadCount > machine.logicalProcessors {
            return "warning: \(machine.threadCount) threads were requested on \(machine.logicalProcessors) logical processors,"
                + " so threads share cores and the \(machine.threadCount)-thread rows run slower than the machine can."
                + " Pass --threads \(machine.logicalProcessors) or fewer for figures to compare."
        }
        let cores = Swift.min(machine.threadCount, machine.logicalProcessors)
        guard cores > 1 else { return nil }
        let single = Swift.max(sgemm.singleThreadGFLOPs, sgemm.singleThreadGFLOPsAtEnd ?? 0)
        let all = Swift.max(sgemm.allThreadsGFLOPs, sgemm.allThreadsGFLOPsAtEnd ?? 0)
        let scaling = all / single
        guard scaling < 0.6 * Double(cores) else { return nil }
        return String(
            format: "warning: the %d-thread sgemm ran only %.2f times as fast as 1 thread; other processes held cores, "
                + "so %d-thread efficiency is overstated. Rerun on a quiet machine.",
            machine.threadCount, scaling, machine.threadCount)
    }

    /// Returns a warning when a reference figure taken at the start and at
    /// the end of the run differs by more than `driftLimit`, or nil.
    ///
    /// The multi-thread warning above detects only a core held during both
    /// readings. A process that starts halfway through shows up here
    /// instead, and the rows timed after it are slower than the rest.
    static func driftWarning(sgemm: SgemmRates, threadCount: Int, bandwidthReadings: [Double]) -> String? {
        var pairs: [(String, Double, Double?)] = [("1-thread sgemm rate", sgemm.singleThreadGFLOPs, sgemm.singleThreadGFLOPsAtEnd)]
        if threadCount > 1 {
            pairs.append(("\(threadCount)-thread sgemm rate", sgemm.allThreadsGFLOPs, sgemm.allThreadsGFLOPsAtEnd))
        }
        if bandwidthReadings.count == 2 {
            pairs.append(("read bandwidth", bandwidthReadings[0], bandwidthReadings[1]))
        }
        var changed: [String] = []
        for (name, start, end) in pairs {
            guard let end, start > 0, end > 0 else { continue }
            let change = Swift.max(start, end) / Swift.min(start, end) - 1
            guard change > driftLimit else { continue }
            // "the 1-thread sgemm rate changed by 40%, the read bandwidth by 30%"
            let verb = changed.isEmpty ? " changed" : ""
            changed.append(String(format: "the %@%@ by %.0f%%", name, verb, change * 100))
        }
        guard let last = changed.last else { return nil }
        let list = changed.count == 1 ? last : changed.dropLast().joined(separator: ", ") + " and " + last
        return "warning: from the start to the end of the run, " + list
            + "; another process probably shared the cores or the memory bus for part of the run,"
            + " so rows timed at different moments are not comparable. Rerun on a quiet machine."
    }

    /// The largest change between start and end readings that passes
    /// without a warning. The recorded quiet runs changed by 6% or less.
    static let driftLimit = 0.25

    /// Formats the results table and its notes. `skippedCases` lists whole
    /// cases that could not run, such as a fixture case without its files.
    static func results(_ results: [ShapeResult], skippedCases: [String] = []) -> String {
        var rows: [[String]] = [["shape", "path", "thr", "ms", "GFLOP/s", "eff", "x ref", "extra MiB", "max abs err", "max rel err", "rows"]]
        var notes: [String] = []
        var causalNotes: [String] = []
        var skippedRuns = skippedCases
        var estimated = false
        for result in results {
            skippedRuns += result.skipped.map { "\(result.name): skipped \($0)" }
            for (index, timing) in result.timings.enumerated() {
                let check = result.verification.first { $0.path == timing.path && timing.threads == result.timings[0].threads }
                var speedUp = "-"
                if let value = timing.speedUpOverReference {
                    speedUp = String(format: "%.0f", value)
                } else if let value = timing.estimatedSpeedUpOverReference {
                    speedUp = String(format: "~%.0f*", value)
                    estimated = true
                }
                rows.append([
                    index == 0 ? result.name : "",
                    timing.path, "\(timing.threads)",
                    format(timing.medianMilliseconds),
                    String(format: "%.1f", timing.gflops),
                    String(format: "%.0f%%", timing.efficiency * 100),
                    speedUp,
                    timing.peakExtraMiB.map { String(format: "%.1f", $0) } ?? "-",
                    check.map { String(format: "%.1e", $0.maximumAbsoluteError) } ?? "",
                    check.map { String(format: "%.1e", $0.maximumRelativeError) } ?? "",
                    check.map { "\($0.rowsChecked)/\(result.queryLength)" } ?? "",
                ])
            }
            if !result.causalRatios.isEmpty {
                causalNotes.append("\(result.name): " + result.causalRatios.map {
                    String(format: "%.3f of the unmasked time on %d thread%@ (median of %d alternating pairs)",
                           $0.medianRatio, $0.threads, $0.threads == 1 ? "" : "s", $0.pairs)
                }.joined(separator: ", "))
            }
            if let decode = result.decode {
                notes.append(String(
                    format: "%@: K+V %.0f MiB streamed at %.1f GB/s; reading them once takes %.2f ms; tiled time = %.2fx that",
                    result.name, decode.keyValueBytes / 1048576, decode.streamedGBPerSecond,
                    decode.readOnceMilliseconds, decode.ratioToReadOnce))
            }
        }
        var text = align(rows)
        if estimated {
            text += "\n* estimated: the reference was too slow to time on the whole shape, so its GFLOP/s on the"
            text += "\n  verified rows stands in for it (rows column: query rows per head checked)."
        }
        if !skippedRuns.isEmpty { text += "\n\nSkipped runs:\n" + skippedRuns.joined(separator: "\n") }
        if !causalNotes.isEmpty { text += "\n\nCausal:\n" + causalNotes.joined(separator: "\n") }
        if !notes.isEmpty { text += "\n\nDecode:\n" + notes.joined(separator: "\n") }
        return text
    }

    /// Formats the layer benchmark: engine and naive tokens per second.
    static func layers(_ result: LayerBenchmarkResult) -> String {
        var lines: [String] = []
        if result.isDebugBuild {
            lines.append("!! DEBUG BUILD: these numbers mean nothing. Run `swift build -c release`.")
        }
        lines.append("multi-head attention layer, \(Machine.buildMode) build, OpenBLAS \(BLAS.coreName), median of \(result.repetitions) runs")
        var rows: [[String]] = [["layer", "B", "L", "E", "H", "engine ms", "tokens/s", "naive tokens/s", "speed-up", "max diff"]]
        for row in result.rows {
            let configuration = row.configuration
            rows.append([
                configuration.name, "\(configuration.batch)", "\(configuration.length)", "\(configuration.hidden)",
                "\(configuration.heads)", String(format: "%.2f", row.engineMedianSeconds * 1000),
                String(format: "%.0f", row.engineTokensPerSecond), String(format: "%.0f", row.referenceTokensPerSecond),
                String(format: "%.0f", row.engineTokensPerSecond / row.referenceTokensPerSecond),
                String(format: "%.1e", row.maximumDifference),
            ])
        }
        lines.append(align(rows))
        return lines.joined(separator: "\n")
    }

    static func plans(_ results: [ShapeResult]) -> String {
        results.map { "\($0.name): \($0.plan)" }.joined(separator: "\n")
    }

    private static func format(_ milliseconds: Double) -> String {
        milliseconds >= 100 ? String(format: "%.0f", milliseconds)
            : milliseconds >= 1 ? String(format: "%.2f", milliseconds) : String(format: "%.4f", milliseconds)
    }

    private static func align(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == 0 || column == 1
                    ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
