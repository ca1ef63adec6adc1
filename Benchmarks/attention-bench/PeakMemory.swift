import Foundation

/// glibc's `int mallopt(int param, int value)` from <malloc.h>, which the
/// Glibc module does not export.
@_silgen_name("mallopt")
private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32

/// glibc's `int malloc_trim(size_t pad)` from <malloc.h>.
@_silgen_name("malloc_trim")
private func malloc_trim(_ pad: Int) -> Int32

/// `M_MMAP_THRESHOLD` in glibc's <malloc.h>.
private let mmapThresholdParameter: Int32 = -3
/// `M_TRIM_THRESHOLD` in glibc's <malloc.h>.
private let trimThresholdParameter: Int32 = -1

/// Peak resident memory of one call beyond what was resident before it.
///
/// Linux keeps the peak resident set size of a process as VmHWM in
/// /proc/self/status; writing "5" to /proc/self/clear_refs resets it to the
/// current resident size. Inputs and outputs are allocated and touched before
/// the call, so the difference is the call's scratch memory: its own buffers,
/// OpenBLAS packing buffers touched for the first time, and thread stacks.
///
/// Timed calls and the measured call need different allocator settings.
/// A program that calls the engine again and again gets its scratch back
/// from glibc's heap after the first call, because glibc raises its mmap
/// threshold when a large block is freed. Timed calls should see that, not
/// a fresh mapping whose pages fault in on every call, which added about
/// 0.5 ms to a 1 ms call. The measured call must fault its scratch in, or
/// reused heap pages would hide it from VmHWM.
enum PeakMemory {
    /// Keeps freed blocks of up to 32 MiB in glibc's heap, resident, for the
    /// timed calls. Call once before any timing.
    static func prepare() {
        _ = mallopt(trimThresholdParameter, Int32.max)
        _ = mallopt(mmapThresholdParameter, timingMmapThreshold)
    }

    /// The mmap threshold while calls are timed: glibc's largest allowed
    /// value on 64-bit systems.
    private static let timingMmapThreshold: Int32 = 32 * 1024 * 1024

    /// Runs `body` and returns the growth of VmHWM over the VmRSS before it in
    /// MiB, or `nil` when the kernel does not allow the reset.
    ///
    /// Before the call, `malloc_trim` returns the free pages of every glibc
    /// heap to the kernel, and blocks of 64 KiB or more are mapped fresh
    /// during the call. So the call's scratch is faulted in and counted
    /// whether it comes from the heap or from a new mapping.
    static func measure(_ body: () throws -> Void) rethrows -> Double? {
        _ = mallopt(mmapThresholdParameter, 64 * 1024)
        defer { _ = mallopt(mmapThresholdParameter, timingMmapThreshold) }
        _ = malloc_trim(0)
        guard reset(), let before = statusValue("VmRSS") else {
            try body()
            return nil
        }
        try body()
        guard let peak = statusValue("VmHWM") else { return nil }
        return Double(Swift.max(0, peak - before)) / 1024
    }

    private static func reset() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("5".utf8))
            return true
        } catch {
            return false
        }
    }

    /// Reads a "Name: value kB" field of /proc/self/status, in KiB.
    private static func statusValue(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2 { return Int(fields[1]) }
        }
        return nil
    }
}
