import Foundation

/// Peak resident memory of one call beyond what was resident before it.
///
/// Linux keeps the peak resident set size of a process as VmHWM in
/// /proc/self/status; writing "5" to /proc/self/clear_refs resets it to the
/// current resident size. Inputs and outputs are allocated and touched before
/// the call, so the difference is the call's scratch memory: its own buffers,
/// OpenBLAS packing buffers touched for the first time, and thread stacks.
enum PeakMemory {
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

    /// A "Name: value kB" field of /proc/self/status, in KiB.
    private static func statusValue(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2 { return Int(fields[1]) }
        }
        return nil
    }
}
