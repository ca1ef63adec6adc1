import Attention
import AttentionIO
import Foundation
import Testing

/// Small input files for error cases, written into a scratch directory.
struct ErrorCaseFiles {
    let directory: URL

    init() throws {
        directory = try makeScratchDirectory()
        func write(_ name: String, _ shape: [Int]) throws {
            let count = shape.reduce(1, *)
            let tensor = try Tensor(shape: shape, scalars: (0..<count).map { Float($0 % 7) * 0.25 })
            try NPYArray(tensor).write(toFile: path(name))
        }
        try write("q.npy", [1, 2, 3, 4])
        try write("k.npy", [1, 2, 5, 4])
        try write("v.npy", [1, 2, 5, 4])
        try write("q6.npy", [1, 6, 3, 4])
        try write("k4.npy", [1, 4, 5, 4])
        try write("k-wrong-d.npy", [1, 2, 5, 3])
        try write("mask-wrong.npy", [1, 2, 3, 7])
        try write("padding-float.npy", [1, 5])
        try write("rank3.npy", [2, 3, 4])
        try NPYArray(BoolTensor(shape: [1, 2, 3, 4], repeating: true)).write(toFile: path("bool.npy"))
        let valid = try FileAccessHelper.bytes(path("k.npy"))
        try Data(valid.prefix(valid.count - 5)).write(to: URL(fileURLWithPath: path("truncated.npy")))
        try Data("not an array\n".utf8).write(to: URL(fileURLWithPath: path("text.npy")))
    }

    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// Lists the file names in the directory, to check that a failed run added none.
    func listing() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

enum FileAccessHelper {
    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// An invalid invocation and a fragment that its one-line message must contain.
struct ErrorCase: CustomStringConvertible, Sendable {
    let label: String
    let arguments: @Sendable (ErrorCaseFiles) -> [String]
    let messageFragment: String

    var description: String { label }
}

/// Returns the `sdpa` arguments of a valid run, which writes `out.npy`.
func validSDPA(_ files: ErrorCaseFiles) -> [String] {
    ["sdpa", "--query", files.path("q.npy"), "--key", files.path("k.npy"), "--value", files.path("v.npy"), "--output", files.path("out.npy")]
}

let usageErrorCases: [ErrorCase] = [
    ErrorCase(label: "no subcommand", arguments: { _ in [] }, messageFragment: "missing subcommand"),
    ErrorCase(label: "unknown subcommand", arguments: { _ in ["frobnicate"] }, messageFragment: "unknown subcommand 'frobnicate'"),
    ErrorCase(label: "unknown option", arguments: { validSDPA($0) + ["--bogus", "1"] }, messageFragment: "unknown option '--bogus'"),
    ErrorCase(label: "missing value", arguments: { validSDPA($0) + ["--scale"] }, messageFragment: "--scale needs a value"),
    ErrorCase(label: "value that is a flag", arguments: { validSDPA($0) + ["--lse", "--plan"] }, messageFragment: "--lse needs a value"),
    ErrorCase(label: "bad number", arguments: { validSDPA($0) + ["--scale", "abc"] }, messageFragment: "--scale expects a finite number"),
    ErrorCase(label: "non-finite scale", arguments: { validSDPA($0) + ["--scale", "nan"] }, messageFragment: "--scale expects a finite number"),
    ErrorCase(label: "zero threads", arguments: { validSDPA($0) + ["--threads", "0"] }, messageFragment: "--threads expects a positive integer"),
    ErrorCase(label: "bad layout", arguments: { validSDPA($0) + ["--layout", "bhdl"] }, messageFragment: "--layout expects one of bhld, blhd"),
    ErrorCase(label: "bad causal alignment", arguments: { validSDPA($0) + ["--causal", "yes"] }, messageFragment: "--causal expects one of top-left, bottom-right"),
    ErrorCase(label: "bad path", arguments: { validSDPA($0) + ["--path", "fast"] }, messageFragment: "--path expects one of"),
    ErrorCase(label: "missing required option", arguments: { Array(validSDPA($0).prefix(5)) + ["--output", $0.path("out.npy")] }, messageFragment: "missing required option --value"),
    ErrorCase(label: "repeated option", arguments: { validSDPA($0) + ["--query", $0.path("q.npy")] }, messageFragment: "--query is given more than once"),
    ErrorCase(label: "positional argument", arguments: { validSDPA($0) + ["extra"] }, messageFragment: "unexpected argument 'extra'"),
    ErrorCase(label: "flag with a value", arguments: { validSDPA($0) + ["--plan=yes"] }, messageFragment: "--plan takes no value"),
    ErrorCase(label: "same file twice", arguments: { validSDPA($0) + ["--weights", $0.path("out.npy")] }, messageFragment: "--output and --weights name the same file"),
    ErrorCase(label: "self without output", arguments: { ["self", "--input", $0.path("rank3.npy")] }, messageFragment: "missing required option --output"),
]

let failureCases: [ErrorCase] = [
    ErrorCase(label: "missing file", arguments: { validSDPA($0) + ["--mask", $0.path("absent.npy")] }, messageFragment: "--mask"),
    ErrorCase(label: "truncated file", arguments: { files in
        validSDPA(files).map { $0 == files.path("k.npy") ? files.path("truncated.npy") : $0 }
    }, messageFragment: "--key"),
    ErrorCase(label: "not an npy file", arguments: { files in
        validSDPA(files).map { $0 == files.path("v.npy") ? files.path("text.npy") : $0 }
    }, messageFragment: "--value"),
    ErrorCase(label: "bool query", arguments: { files in
        validSDPA(files).map { $0 == files.path("q.npy") ? files.path("bool.npy") : $0 }
    }, messageFragment: "--query"),
    ErrorCase(label: "head size mismatch", arguments: { files in
        validSDPA(files).map { $0 == files.path("k.npy") ? files.path("k-wrong-d.npy") : $0 }
    }, messageFragment: "--key"),
    ErrorCase(label: "heads not a multiple", arguments: { files in
        ["sdpa", "--query", files.path("q6.npy"), "--key", files.path("k4.npy"), "--value", files.path("k4.npy"), "--output", files.path("out.npy")]
    }, messageFragment: "--key: expected a head count Hkv that divides"),
    ErrorCase(label: "mask does not broadcast", arguments: { validSDPA($0) + ["--mask", $0.path("mask-wrong.npy")] }, messageFragment: "--mask"),
    ErrorCase(label: "float key padding", arguments: { validSDPA($0) + ["--key-padding-mask", $0.path("padding-float.npy")] }, messageFragment: "--key-padding-mask"),
    ErrorCase(label: "weights on tiled path", arguments: { validSDPA($0) + ["--path", "tiled", "--weights", $0.path("w.npy")] }, messageFragment: "--weights"),
    ErrorCase(label: "blhd with rank 3", arguments: { files in
        validSDPA(files).map { $0 == files.path("q.npy") ? files.path("rank3.npy") : $0 } + ["--layout", "blhd"]
    }, messageFragment: "--query"),
    ErrorCase(label: "output directory missing", arguments: { files in
        validSDPA(files).map { $0 == files.path("out.npy") ? files.path("absent/out.npy") : $0 }
    }, messageFragment: "--output"),
    ErrorCase(label: "second output unwritable", arguments: { validSDPA($0) + ["--lse", $0.path("absent/lse.npy")] }, messageFragment: "--lse"),
    ErrorCase(label: "self on rank 3", arguments: { ["self", "--input", $0.path("rank3.npy"), "--output", $0.path("out.npy")] }, messageFragment: "--input"),
]

@Test(arguments: usageErrorCases)
func usageErrorExitsWithTwo(_ errorCase: ErrorCase) throws {
    try checkRejected(errorCase, status: 2)
}

@Test(arguments: failureCases)
func failureExitsWithOne(_ errorCase: ErrorCase) throws {
    try checkRejected(errorCase, status: 1)
}

/// Runs an invalid invocation and checks the exit status, that standard
/// error contains exactly one line with `messageFragment`, and that no file
/// (output or temporary) was left behind.
func checkRejected(_ errorCase: ErrorCase, status: Int32) throws {
    let files = try ErrorCaseFiles()
    defer { files.remove() }
    let before = try files.listing()

    let run = try runTool(errorCase.arguments(files))

    #expect(run.status == status, "\(errorCase.label): exit status \(run.status), stderr: \(run.standardError)")
    let lines = run.standardError.split(separator: "\n")
    #expect(lines.count == 1, "\(errorCase.label): expected one line on stderr, got: \(run.standardError)")
    #expect(run.standardError.contains(errorCase.messageFragment), "\(errorCase.label): stderr lacks '\(errorCase.messageFragment)': \(run.standardError)")
    #expect(run.standardOutput.isEmpty, "\(errorCase.label): stdout: \(run.standardOutput)")
    #expect(try files.listing() == before, "\(errorCase.label): the run left files behind")
}

@Test(arguments: [["--help"], ["self", "--help"], ["sdpa", "--help"], ["sdpa", "--query", "q.npy", "--help"]])
func helpPrintsUsage(_ arguments: [String]) throws {
    let run = try runTool(arguments)
    #expect(run.status == 0)
    #expect(run.standardOutput.hasPrefix("usage: attention"), "stdout: \(run.standardOutput)")
    #expect(run.standardError.isEmpty)
}

@Test func sdpaReplacesExistingOutput() throws {
    let files = try ErrorCaseFiles()
    defer { files.remove() }
    try Data("old".utf8).write(to: URL(fileURLWithPath: files.path("out.npy")))
    let run = try runTool(validSDPA(files))
    #expect(run.status == 0, "stderr: \(run.standardError)")
    let output = try NPYArray(contentsOfFile: files.path("out.npy"))
    #expect(output.shape == [1, 2, 3, 4])
    #expect(try files.listing().allSatisfy { !$0.hasPrefix(".") }, "a temporary file was left behind")
}
