import Attention
import CAttentionKernels
import Dispatch
import Foundation

/// Facts about the machine and build that the table header names.
enum Machine {
    static var buildMode: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    static var cpuName: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    /// The 1-minute load average from /proc/loadavg; above 0 when other
    /// processes compete for the cores.
    static var loadAverage: Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first
        else { return -1 }
        return Double(first) ?? -1
    }

    static func describe(threadCount: Int) -> MachineDescription {
        MachineDescription(
            cpu: cpuName, logicalProcessors: ProcessInfo.processInfo.activeProcessorCount,
            openBLASCore: BLAS.coreName,
            openBLASConfiguration: BLAS.configuration.trimmingCharacters(in: .whitespaces),
            threadCount: threadCount, buildMode: buildMode, loadAverageBefore: loadAverage, loadAverageAfter: nil,
            exponentialBody: ["portable C", "AVX2+FMA (run-time dispatch)", "AVX-512F (run-time dispatch)"][Int(attention_kernels_variant())])
    }

    /// Measures the rate of an n × n × n sgemm in GFLOP/s with OpenBLAS on
    /// `threads` threads, from the fastest of `repetitions` calls so that a
    /// busy moment on a shared machine does not lower it.
    static func sgemmRate(size: Int, threads: Int, repetitions: Int) throws -> Double {
        let a = try Tensor(shape: [size, size], scalars: (0..<size * size).map { Float($0 % 7) * 0.25 - 0.75 })
        let b = try Tensor(shape: [size, size], scalars: (0..<size * size).map { Float($0 % 5) * 0.25 - 0.5 })
        let c = try Tensor(shape: [size, size], repeating: 0)
        let saved = BLAS.threadCount
        BLAS.threadCount = threads
        defer { BLAS.threadCount = saved }
        // Calls for at least 0.3 s before timing. OpenBLAS's idle threads
        // spin for about 0.1 s after the library loads, and the first
        // 1024³ readings of a short run came out at half the later ones.
        let warmUpStart = now()
        repeat {
            try BLAS.multiply(a, b, into: c)
        } while now() - warmUpStart < 0.3
        var fastest = Double.infinity
        for _ in 0..<repetitions {
            let start = now()
            try BLAS.multiply(a, b, into: c)
            fastest = Swift.min(fastest, (now() - start) * 1000)
        }
        let milliseconds = fastest
        return 2 * pow(Double(size), 3) / (milliseconds / 1000) / 1e9
    }

    /// Measures the read bandwidth in GB/s of `threads` threads summing
    /// disjoint parts of a `megabytes` buffer with the widest vectors the CPU
    /// has, best of `repetitions`.
    static func readBandwidth(megabytes: Int, threads: Int, repetitions: Int) -> Double {
        let count = megabytes * 1024 * 1024 / MemoryLayout<Float>.stride
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: count)
        let shared = SendablePointer(pointer: buffer)
        let sink = ResultSink()
        var best = 0.0
        for _ in 0..<repetitions {
            let start = now()
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                let first = worker * count / threads
                let last = (worker + 1) * count / threads
                sink.add(attention_sum(shared.pointer + first, last - first))
            }
            let seconds = now() - start
            best = Swift.max(best, Double(count * MemoryLayout<Float>.stride) / seconds / 1e9)
        }
        return best
    }
}

/// A pointer shared by worker threads that read disjoint ranges.
struct SendablePointer<Pointee>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Pointee>
}

/// Keeps the bandwidth sums alive so the reads are not optimized away.
final class ResultSink: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var total: Float = 0
    func add(_ value: Float) { lock.withLock { total += value } }
}
