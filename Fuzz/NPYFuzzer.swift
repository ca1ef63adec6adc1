// libFuzzer target for the `.npy` reader. Every input must either parse or
// throw `NPYError`; a crash, an overflow trap, a hang or an allocation over
// `-malloc_limit_mb` is a finding. Fuzz/build.sh compiles this file.
import AttentionIO

#if canImport(Glibc)
import Glibc
#endif

/// The path each input is written to, so that the file-reading entry point
/// runs too. It is unique per process because several fuzzers may run at once.
private let scratchPath = "/tmp/attention-npy-fuzz-\(getpid()).npy"

@_cdecl("LLVMFuzzerTestOneInput")
public func npyFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    exerciseConversions(try? NPYArray(parsing: bytes, source: "fuzz-input"))

    guard writeWholeFile(bytes, to: scratchPath) else {
        fatalError("cannot write the fuzz input to \(scratchPath)")
    }
    defer { unlink(scratchPath) }
    exerciseConversions(try? NPYArray(contentsOfFile: scratchPath))
    return 0
}

/// Runs every conversion; each may throw but none may crash.
private func exerciseConversions(_ array: NPYArray?) {
    guard let array else { return }
    _ = try? array.tensor()
    _ = try? array.boolTensor()
    _ = try? array.integers()
}

/// Writes `bytes` to `path`, replacing it, and returns whether every byte
/// was written.
func writeWholeFile(_ bytes: [UInt8], to path: String) -> Bool {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var written = 0
    while written < bytes.count {
        let count = bytes.withUnsafeBytes { buffer in
            write(descriptor, buffer.baseAddress! + written, bytes.count - written)
        }
        guard count > 0 else { return false }
        written += count
    }
    return true
}
