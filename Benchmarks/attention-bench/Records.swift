// Result records of one benchmark run. They are Codable so that `--json`
// output can be read back, for example to draw charts.

/// Everything one run measured.
struct BenchmarkReport: Codable {
    var machine: MachineDescription
    /// Large square sgemm rates of this run, the denominators of efficiency.
    var sgemm: SgemmRates
    /// Read bandwidth over a buffer far larger than the caches, all threads:
    /// the higher of the readings at the start and at the end of the run.
    var memoryBandwidthGBPerSecond: Double
    /// The bandwidth readings at the start and at the end of the run.
    var memoryBandwidthReadingsGBPerSecond: [Double]?
    /// Speed of the softmax exp bodies, nanoseconds per value.
    var exponential: ExponentialTiming
    var results: [ShapeResult]
}

struct MachineDescription: Codable {
    var cpu: String
    var logicalProcessors: Int
    var openBLASCore: String
    var openBLASConfiguration: String
    var threadCount: Int
    var buildMode: String
    /// The 1-minute load averages before and after the run; other processes
    /// on the machine raise them and make timings noisy.
    var loadAverageBefore: Double
    var loadAverageAfter: Double?
    var exponentialBody: String
}

/// Large sgemm rates, measured at the start and the end of the run; the
/// higher of the two is the denominator of efficiency.
struct SgemmRates: Codable {
    /// The square size n of the n × n × n product.
    var size: Int
    var singleThreadGFLOPs: Double
    var allThreadsGFLOPs: Double
    var singleThreadGFLOPsAtEnd: Double?
    var allThreadsGFLOPsAtEnd: Double?
}

struct ExponentialTiming: Codable {
    var dispatchedNanosecondsPerValue: Double
    /// The AVX2 body, or the best supported body on a CPU without AVX2.
    var avx2NanosecondsPerValue: Double
    var portableNanosecondsPerValue: Double
    /// A `SIMD16<Float>` Swift version of the same polynomial, built with the
    /// package's default target flags.
    var swiftSIMD16NanosecondsPerValue: Double
}

/// One shape of the suite with every measurement taken on it.
struct ShapeResult: Codable {
    var name: String
    var batch: Int
    var heads: Int
    var keyValueHeads: Int
    var queryLength: Int
    var keyLength: Int
    var headDimension: Int
    var causal: Bool
    /// 4 · B · H · Lq · Lk · D, counted without masks.
    var flopCount: Double
    var plan: String
    var verification: [Verification]
    var timings: [Timing]
    var reference: ReferenceTiming
    var decode: DecodeFigures?
    /// For causal shapes, the causal time against the unmasked time, per
    /// thread count.
    var causalRatios: [CausalFigures] = []
    /// Runs left out of this shape, each with the reason.
    var skipped: [String] = []
}

/// The error of one path against the float64 reference.
struct Verification: Codable {
    var path: String
    var maximumAbsoluteError: Double
    /// The maximum absolute error divided by the largest reference magnitude.
    var maximumRelativeError: Double
    /// Query rows compared per (batch, head), out of `queryLength`.
    var rowsChecked: Int
}

struct Timing: Codable {
    var path: String
    var threads: Int
    var medianMilliseconds: Double
    var repetitions: Int
    var gflops: Double
    /// GFLOP/s divided by the same run's higher sgemm rate (start or end) at
    /// the same thread count.
    var efficiency: Double
    /// Median time of the reference divided by this time; `nil` when the
    /// reference was not timed on the whole shape.
    var speedUpOverReference: Double?
    /// Estimated from the reference's rate on the verification rows when the
    /// whole shape was too slow to time; always labelled as an estimate.
    var estimatedSpeedUpOverReference: Double?
    /// Peak resident memory during one call beyond what was resident before
    /// it (inputs and a preallocated output), from VmHWM; `nil` when the
    /// kernel could not reset the peak.
    var peakExtraMiB: Double?
}

struct ReferenceTiming: Codable {
    /// Median time on the whole shape, `nil` when it was too slow to time.
    var medianMilliseconds: Double?
    /// Its rate on the rows it ran, whole shape or verification rows.
    var gflops: Double
    var threads: Int
    var note: String
}

/// The tiled path's causal time as a fraction of its unmasked time on the
/// same inputs, from calls that alternate between the two. Alternating
/// keeps a change in the machine's speed out of the ratio, which two
/// separate medians timed seconds apart would contain.
struct CausalFigures: Codable {
    var threads: Int
    /// Causal and unmasked calls, one of each per pair.
    var pairs: Int
    /// The median over the pairs of causal time divided by unmasked time.
    var medianRatio: Double
}

/// Memory-traffic figures for few query rows against a long key cache.
struct DecodeFigures: Codable {
    /// Bytes of K and V together.
    var keyValueBytes: Double
    /// K and V bytes divided by the tiled path's median time (all threads).
    var streamedGBPerSecond: Double
    /// Time to read K and V once at the measured bandwidth.
    var readOnceMilliseconds: Double
    /// Tiled median time divided by the read-once time.
    var ratioToReadOnce: Double

    /// Recomputes the read-once figures at `gigabytesPerSecond`.
    mutating func useBandwidth(_ gigabytesPerSecond: Double) {
        let tiledMilliseconds = ratioToReadOnce * readOnceMilliseconds
        readOnceMilliseconds = keyValueBytes / (gigabytesPerSecond * 1e9) * 1000
        ratioToReadOnce = tiledMilliseconds / readOnceMilliseconds
    }
}
