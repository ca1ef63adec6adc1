import Foundation

/// glibc's `int mallopt(int param, int value)` from <malloc.h>, which the
/// Glibc module does not export.
@_silgen_name("mallopt")
private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32

/// `M_MMAP_THRESHOLD` in glibc's <malloc.h>.
private let mmapThresholdParameter: Int32 = -3

/// Peak resident memory of one call beyond what was resident before it.
///
/// Linux keeps the peak resident set size of a process as VmHWM in
/// /proc/self/status; writing "5" to /proc/self/clear_refs resets it to the
/// current resident size. Inputs and outputs are allocated and touched before
/// the call, so the difference is the call's scratch memory: its own buffers,
/// OpenBLAS packing buffers touched for the first time, and thread stacks.
///
/// glibc serves a freed large block again from its heap, whose pages stay
/// resident and would hide a repeated scratch allocation from VmHWM.
/// `prepare()` makes every allocation of 64 KiB or more a fresh mapping that
/// is returned on free, so each call's scratch shows up again.
enum PeakMemory {
    /// Sets glibc's mmap threshold to 64 KiB (this also stops glibc from
    /// raising the threshold after frees). Call once before measuring.
    static func prepare() {
        _ = mallopt(mmapThresholdParameter, 64 * 1024)
    }

    /// Runs `body` and returns the growth of VmHWM over the VmRSS before it in
    /// MiB, or `nil` when the kernel does not allow the reset.
    static func measure(_ body: () throws -> Void) rethrows -> Double? {
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
