// libFuzzer target for the `.safetensors` reader. The reader memory-maps a
// path, so each input is written to a file first. Every input must either
// load or throw `SafeTensorsError`, and so must `tensor(named:)` for every
// tensor it lists. Fuzz/build.sh compiles this file.
import AttentionIO

#if canImport(Glibc)
import Glibc
#endif

/// The path each input is written to. It is unique per process because
/// several fuzzers may run at once.
private let scratchPath = "/tmp/attention-safetensors-fuzz-\(getpid()).safetensors"

@_cdecl("LLVMFuzzerTestOneInput")
public func safeTensorsFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    guard writeWholeFile(bytes, to: scratchPath) else {
        fatalError("cannot write the fuzz input to \(scratchPath)")
    }
    defer { unlink(scratchPath) }

    guard let file = try? SafeTensorsFile(path: scratchPath) else { return 0 }
    for name in file.tensorNames {
        _ = try? file.tensor(named: name)
    }
    _ = try? file.tensor(named: "missing tensor name")
    return 0
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
