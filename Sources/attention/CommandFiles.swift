import Foundation
import Attention
import AttentionIO

/// A failure while running a subcommand, already phrased as one line that
/// names the flag or file. The tool exits with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Reads the `.npy` file given to `--flag`, prefixing errors with the flag.
func readArray(flag: String, path: String) throws -> NPYArray {
    do {
        return try NPYArray(contentsOfFile: path)
    } catch let error as NPYError {
        throw CommandFailure("--\(flag) \(error)")
    }
}

/// Reads the `.npy` file given to `--flag` as a float32 tensor.
func readTensor(flag: String, path: String) throws -> Tensor {
    do {
        return try readArray(flag: flag, path: path).tensor()
    } catch let error as NPYError {
        throw CommandFailure("--\(flag) \(error)")
    }
}

/// Reads the `.npy` file given to `--flag` as a bool tensor.
func readBoolTensor(flag: String, path: String) throws -> BoolTensor {
    do {
        return try readArray(flag: flag, path: path).boolTensor()
    } catch let error as NPYError {
        throw CommandFailure("--\(flag) \(error)")
    }
}

/// Runs an engine call and rephrases its `AttentionError` with the flag
/// that supplied the failing argument, using `flags` to map the library's
/// argument names (such as `query`) to flags (such as `--query`).
/// `hint` may add one more sentence of advice for the command line.
func runEngine<Result>(
    flags: [String: String], hint: (AttentionError) -> String? = { _ in nil }, _ body: () throws -> Result
) throws -> Result {
    do {
        return try body()
    } catch let error as AttentionError {
        var message = flagMessage(argument: error.argument, expected: error.expected, actual: error.actual, fix: error.fix, flags: flags)
        if let extra = hint(error) {
            message += ". \(extra)"
        }
        throw CommandFailure(message)
    }
}

/// Formats a library error as `--flag: expected …, got ….` with the flag
/// that `flags` maps `argument` to.
///
/// An argument with a member or an index, such as `window.left` or
/// `panels[2].values`, falls back to the flag of its base name (`window`,
/// `panels`) when `flags` has no entry for the whole name. An argument
/// without a flag keeps the library's name.
func flagMessage(argument: String, expected: String, actual: String, fix: String, flags: [String: String]) -> String {
    let baseName = String(argument.prefix { $0 != "." && $0 != "[" })
    let flag = (flags[argument] ?? flags[baseName]).map { "--\($0)" } ?? argument
    var message = "\(flag): expected \(expected), got \(actual)"
    let advice = commandLineAdvice[fix] ?? fix
    if !advice.isEmpty {
        message += ". \(advice)"
    }
    return message
}

/// Library advice that names Swift API, rephrased for the command line.
let commandLineAdvice: [String: String] = [
    "Add size-1 batch or head dimensions with unsqueezed(axis:)":
        "Reshape the array to rank 4: [B, H, L, D], or [B, L, H, D] with --layout blhd",
    "Add a batch dimension of size 1 with unsqueezed(axis: 0)": "Reshape the array to add a batch dimension of size 1",
    "Use the materialized path to get the attention weights": "Pass --path materialized or --path reference, or leave out --weights",
    "Set options.queryBlockSize to change the block size": "",
    "Paths select exact kernels; leave options.path nil": "--path selects an exact kernel; leave it out with --method",
    "Linear attention has no scale; pass nil": "Linear attention has no scale; leave out --scale",
    "Use the exact method, which returns the mean of the values": "Use --method exact, which returns the mean of the values",
    "Use the exact method for sliding-window attention": "Use --method exact or --method window with --window",
    "Use key padding for padded keys, or the exact method for an arbitrary mask":
        "Use --key-padding-mask for padded keys, or --method exact for an arbitrary mask",
    "Use linear or Performer attention for causal approximations": "Use --method linear or --method performer with --causal",
]

/// The output files of one run, written together at the end: each goes to
/// a temporary file first, and only when every one of them is complete are
/// they renamed into place. A failure removes the temporary files, so a run
/// never leaves a partial output.
struct OutputFiles {
    private var pending: [(flag: String, path: String, array: NPYArray)] = []

    /// Checks that no two output flags name the same file, however the
    /// paths are spelled.
    static func checkDistinct(_ outputs: [(flag: String, path: String?)]) throws {
        var seen: [[UInt8]: (flag: String, path: String)] = [:]
        for (flag, path) in outputs {
            guard let path else { continue }
            let identity = fileIdentity(path)
            if let other = seen[identity] {
                // Bytes, not String equality, which treats different Unicode
                // spellings of one name as equal.
                let spelling = Array(other.path.utf8) == Array(path.utf8) ? "'\(path)'" : "('\(other.path)' and '\(path)')"
                throw UsageError("--\(other.flag) and --\(flag) name the same file \(spelling)")
            }
            seen[identity] = (flag, path)
        }
    }

    /// Returns bytes that two spellings of one output path share: the
    /// device and inode of the parent folder as the kernel resolves it, and
    /// the bytes of the file name. The kernel's resolution covers `.`, `..`
    /// after a link, repeated slashes, relative and absolute forms and links
    /// to the folder. The file itself is not followed, because writing
    /// renames a new file over its name. A parent that does not exist keeps
    /// the path's own bytes, and writing there fails later.
    static func fileIdentity(_ path: String) -> [UInt8] {
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        let slash = bytes.lastIndex(of: UInt8(ascii: "/"))
        let parent = slash.map { $0 == 0 ? "/" : String(decoding: bytes[..<$0], as: UTF8.self) } ?? "."
        let name = slash.map { Array(bytes[($0 + 1)...]) } ?? bytes
        var info = stat()
        guard stat(parent, &info) == 0 else { return Array(path.utf8) }
        return Array("\(info.st_dev):\(info.st_ino)/".utf8) + name
    }

    /// Adds `tensor` as the content of the file given to `--flag`.
    mutating func add(flag: String, path: String, tensor: Tensor) throws {
        do {
            pending.append((flag, path, try NPYArray(tensor)))
        } catch let error as NPYError {
            throw CommandFailure("--\(flag) \(error)")
        }
    }

    /// Writes every added file, or none of them.
    func writeAll() throws {
        // A directory at a destination would make its rename fail after
        // earlier outputs were already in place, so it is rejected first.
        for output in pending {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: output.path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw CommandFailure("--\(output.flag) \(output.path): is a directory; expected the path of a file to write")
            }
        }
        var staged: [StagedFile] = []
        do {
            for output in pending {
                do {
                    staged.append(try output.array.staged(atPath: output.path))
                } catch let error as NPYError {
                    throw CommandFailure("--\(output.flag) \(error)")
                }
            }
        } catch {
            staged.forEach { $0.discard() }
            throw error
        }
        for (index, file) in staged.enumerated() {
            do {
                try file.commit()
            } catch let error as NPYError {
                // NOTE: outputs renamed before this one stay in place. With
                // directories rejected above, a rename within one directory
                // fails only if the file system changes during the run.
                staged[(index + 1)...].forEach { $0.discard() }
                throw CommandFailure("--\(pending[index].flag) \(error)")
            }
        }
    }
}
