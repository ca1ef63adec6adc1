import Attention
import AttentionCharts
import AttentionIO
import Foundation

// attention-bench: verifies and times the attention kernels. Results go to
// stdout, progress and errors to stderr.

let arguments: Arguments
switch Arguments.parse(Array(CommandLine.arguments.dropFirst())) {
case .success(let parsed):
    arguments = parsed
case .failure(let error) where error.message.isEmpty:
    print(Arguments.help)
    exit(0)
case .failure(let error):
    progress("attention-bench: \(error.message)")
    exit(2)
}

if Machine.buildMode != "release" {
    progress("WARNING: this is a debug build; its numbers mean nothing. Use `swift build -c release`.")
}

let fixtures = arguments.fixturesPath ?? URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Tests/Fixtures").path
// A folder passed by hand must hold the MiniLM case. Outside a checkout the
// default folder may be missing, so the suite then runs without that case.
if let path = arguments.fixturesPath {
    let expected = path + "/" + BenchmarkCase.miniLMFolder + "/q.npy"
    if !FileManager.default.isReadableFile(atPath: expected) {
        progress("attention-bench: invalid value for --fixtures: \(expected) is missing or unreadable;"
            + " pass the folder that holds \(BenchmarkCase.miniLMFolder), such as Tests/Fixtures of a checkout")
        exit(2)
    }
}

PeakMemory.prepare()

// The layer and variant benchmarks have their own tables.
if arguments.layers || arguments.variants {
    do {
        if arguments.layers {
            let result = try runLayerBenchmark()
            print(Table.layers(result))
        }
        if arguments.variants {
            printVariantsTable(try runVariantsBenchmark())
        }
        exit(0)
    } catch {
        progress("attention-bench: \(error)")
        exit(1)
    }
}

do {
    var machine = Machine.describe(threadCount: arguments.threadCount)
    progress("measuring the sgemm rate and memory bandwidth")
    let sgemmSize = arguments.quick ? 1024 : 2048
    let sgemmRepetitions = arguments.quick ? 3 : 5
    var sgemm = SgemmRates(
        size: sgemmSize,
        singleThreadGFLOPs: try Machine.sgemmRate(size: sgemmSize, threads: 1, repetitions: sgemmRepetitions),
        allThreadsGFLOPs: try Machine.sgemmRate(size: sgemmSize, threads: arguments.threadCount, repetitions: sgemmRepetitions))
    let bandwidthAtStart = Machine.readBandwidth(megabytes: 512, threads: arguments.threadCount, repetitions: 5)
    let exponential = ExponentialSpeed.measure()

    let cases: [BenchmarkCase] = arguments.shapes.isEmpty
        ? BenchmarkCase.defaultSuite(quick: arguments.quick)
        : arguments.shapes.map { BenchmarkCase(nil, $0[0], $0[1], $0[2], $0[3], $0[4], causal: arguments.causal) }
    let runner = CaseRunner(arguments: arguments, sgemm: sgemm, bandwidthGBPerSecond: bandwidthAtStart, fixtures: fixtures)
    var results: [ShapeResult] = []
    var skippedCases: [String] = []
    for benchmarkCase in cases {
        progress("\(benchmarkCase.name)")
        do {
            results.append(try runner.run(benchmarkCase))
        } catch let error as NPYError {
            // The MiniLM case needs the fixture files; the rest runs without them.
            progress("skipped \(benchmarkCase.name): \(error)")
            skippedCases.append("\(benchmarkCase.name): skipped, fixture not readable: \(error)")
        }
    }

    // The sgemm rate again: when it rose, efficiency is recomputed against
    // the higher rate, so a busy start never flatters the kernels.
    progress("measuring the sgemm rate again")
    sgemm.singleThreadGFLOPsAtEnd = try Machine.sgemmRate(size: sgemmSize, threads: 1, repetitions: sgemmRepetitions)
    sgemm.allThreadsGFLOPsAtEnd = try Machine.sgemmRate(size: sgemmSize, threads: arguments.threadCount, repetitions: sgemmRepetitions)
    let singleRate = Swift.max(sgemm.singleThreadGFLOPs, sgemm.singleThreadGFLOPsAtEnd!)
    let allRate = Swift.max(sgemm.allThreadsGFLOPs, sgemm.allThreadsGFLOPsAtEnd!)
    for index in results.indices {
        for timingIndex in results[index].timings.indices {
            let timing = results[index].timings[timingIndex]
            results[index].timings[timingIndex].efficiency = timing.gflops / (timing.threads == 1 ? singleRate : allRate)
        }
    }
    // The bandwidth again, for the same reason: decode figures use the
    // higher of the two readings.
    let bandwidthAtEnd = Machine.readBandwidth(megabytes: 512, threads: arguments.threadCount, repetitions: 5)
    let bandwidth = Swift.max(bandwidthAtStart, bandwidthAtEnd)
    for index in results.indices {
        results[index].decode?.useBandwidth(bandwidth)
    }
    machine.loadAverageAfter = Machine.loadAverage

    let report = BenchmarkReport(
        machine: machine, sgemm: sgemm,
        memoryBandwidthGBPerSecond: bandwidth, memoryBandwidthReadingsGBPerSecond: [bandwidthAtStart, bandwidthAtEnd],
        exponential: exponential, results: results)
    print(Table.header(report))
    print("")
    print(Table.results(results, skippedCases: skippedCases))
    print("\nPlans (tiled path, all threads):")
    print(Table.plans(results))
    if let directory = arguments.plotDirectory {
        progress("timing the sweep for the charts")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let paths = try Plots.write(
            into: directory, results: results, sgemmGFLOPs: allRate,
            threadCount: arguments.threadCount, quick: arguments.quick)
        progress("wrote \(paths.joined(separator: " and "))")
    }
    if let path = arguments.jsonPath {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: path))
        progress("wrote \(path)")
    }
} catch {
    progress("attention-bench: \(error)")
    exit(1)
}
