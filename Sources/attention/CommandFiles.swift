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
func runEngine<Result>(flags: [String: String], _ body: () throws -> Result) throws -> Result {
    do {
        return try body()
    } catch let error as AttentionError {
        let flag = flags[error.argument].map { "--\($0)" } ?? error.argument
        var message = "\(flag): expected \(error.expected), got \(error.actual)"
        if !error.fix.isEmpty {
            message += ". \(error.fix)"
        }
        throw CommandFailure(message)
    }
}

/// The output files of one run, written together at the end: each goes to
/// a temporary file first, and only when every one of them is complete are
/// they renamed into place. A failure removes the temporary files, so a run
/// never leaves a partial output.
struct OutputFiles {
    private var pending: [(flag: String, path: String, array: NPYArray)] = []

    /// Checks that no two output flags name the same path.
    static func checkDistinct(_ outputs: [(flag: String, path: String?)]) throws {
        var seen: [String: String] = [:]
        for (flag, path) in outputs {
            guard let path else { continue }
            if let other = seen[path] {
                throw UsageError("--\(other) and --\(flag) name the same file '\(path)'")
            }
            seen[path] = flag
        }
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
                // NOTE: outputs renamed before this one stay in place. A
                // rename within one directory fails only in rare cases, for
                // example when the destination is a directory.
                staged[(index + 1)...].forEach { $0.discard() }
                throw CommandFailure("--\(pending[index].flag) \(error)")
            }
        }
    }
}
