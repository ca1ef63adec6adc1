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
        try write("rank1.npy", [5])
        try write("x.npy", [3, 4])
        try write("points.npy", [3, 2])
        try write("heads.npy", [2, 3, 3])
        try NPYArray(Tensor(shape: [3, 2], scalars: [0, 1, .nan, 2, 3, 4])).write(toFile: path("points-nan.npy"))
        try NPYArray(Tensor(shape: [2, 3, 3], scalars: (0..<18).map { $0 == 10 ? .nan : 0.25 })).write(toFile: path("heads-nan.npy"))
        try NPYArray(BoolTensor(shape: [1, 1, 3, 5], repeating: true)).write(toFile: path("mask-bool.npy"))
        // The kernel resolves "link/.." to the folder "run", because the
        // link points to run/sub; read as text, it would be the scratch
        // directory itself.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("run/sub"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: path("link"), withDestinationPath: path("run/sub"))
        let uint8 = NPYDType(kind: .unsignedInteger, byteCount: 1)!
        try NPYArray(dtype: uint8, shape: [1, 1, 3, 5], data: [UInt8](repeating: 1, count: 15)).write(toFile: path("mask-uint8.npy"))
        try NPYArray(BoolTensor(shape: [1, 2, 3, 4], repeating: true)).write(toFile: path("bool.npy"))
        try NPYArray(BoolTensor(shape: [2, 5], repeating: true)).write(toFile: path("padding-as-mask.npy"))
        // [B, L, H, D] files with L = 3 queries, 5 keys and H = 2 heads.
        try write("q-blhd.npy", [1, 3, 2, 4])
        try write("k-blhd.npy", [1, 5, 2, 4])
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

/// Returns the `mha` arguments of a valid run on the MiniLM fixture block,
/// which writes `out.npy`.
func validMHA(_ files: ErrorCaseFiles) -> [String] {
    let block = fixtureDirectory.appendingPathComponent("minilm_layer2_attention_block")
    return [
        "mha", "--weights", block.appendingPathComponent("layer2_attention.safetensors").path, "--prefix", "encoder.layer.2",
        "--heads", "12", "--hidden", block.appendingPathComponent("hidden_states.npy").path, "--output", files.path("out.npy"),
    ]
}

/// Returns `arguments` with the value of `flag` replaced by `value`.
func replacing(_ flag: String, with value: String, in arguments: [String]) -> [String] {
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else {
        return arguments
    }
    var result = arguments
    result[index + 1] = value
    return result
}

func validHeatmap(_ files: ErrorCaseFiles) -> [String] {
    ["heatmap", "--weights", files.path("heads.npy"), "--output", files.path("out.svg")]
}

func validEmbedShift(_ files: ErrorCaseFiles) -> [String] {
    ["embed-shift", "--input", files.path("points.npy"), "--output", files.path("out.svg")]
}

let usageErrorCases: [ErrorCase] = [
    ErrorCase(label: "no subcommand", arguments: { _ in [] }, messageFragment: "missing subcommand"),
    ErrorCase(label: "unknown subcommand", arguments: { _ in ["frobnicate"] }, messageFragment: "unknown subcommand 'frobnicate'"),
    ErrorCase(label: "unknown option", arguments: { validSDPA($0) + ["--bogus", "1"] }, messageFragment: "unknown option '--bogus'"),
    ErrorCase(label: "missing value", arguments: { validSDPA($0) + ["--scale"] }, messageFragment: "--scale needs a value"),
    ErrorCase(label: "value that is a flag", arguments: { validSDPA($0) + ["--lse", "--plan"] }, messageFragment: "--lse needs a value"),
    ErrorCase(label: "bad number", arguments: { validSDPA($0) + ["--scale", "abc"] }, messageFragment: "--scale expects a finite number"),
    ErrorCase(label: "non-finite scale", arguments: { validSDPA($0) + ["--scale", "nan"] }, messageFragment: "--scale expects a finite number"),
    ErrorCase(label: "scale beyond float32", arguments: { validSDPA($0) + ["--scale", "1e39"] }, messageFragment: "magnitude at most 3.4028235e+38"),
    ErrorCase(label: "scale that rounds to 0", arguments: { validSDPA($0) + ["--scale", "1e-46"] }, messageFragment: "rounds to 0 in float32"),
    ErrorCase(label: "zero threads", arguments: { validSDPA($0) + ["--threads", "0"] }, messageFragment: "--threads expects a positive integer"),
    ErrorCase(label: "bad layout", arguments: { validSDPA($0) + ["--layout", "bhdl"] }, messageFragment: "--layout expects one of bhld, blhd"),
    ErrorCase(label: "bad causal alignment", arguments: { validSDPA($0) + ["--causal", "yes"] }, messageFragment: "--causal expects one of top-left, bottom-right"),
    ErrorCase(label: "bad path", arguments: { validSDPA($0) + ["--path", "fast"] }, messageFragment: "--path expects one of"),
    ErrorCase(label: "missing required option", arguments: { Array(validSDPA($0).prefix(5)) + ["--output", $0.path("out.npy")] }, messageFragment: "missing required option --value"),
    ErrorCase(label: "repeated option", arguments: { validSDPA($0) + ["--query", $0.path("q.npy")] }, messageFragment: "--query is given more than once"),
    ErrorCase(label: "positional argument", arguments: { validSDPA($0) + ["extra"] }, messageFragment: "unexpected argument 'extra'"),
    ErrorCase(label: "flag with a value", arguments: { validSDPA($0) + ["--plan=yes"] }, messageFragment: "--plan takes no value"),
    ErrorCase(label: "same file twice", arguments: { validSDPA($0) + ["--weights", $0.path("out.npy")] }, messageFragment: "--output and --weights name the same file"),
    ErrorCase(label: "same file spelled with a dot", arguments: { validSDPA($0) + ["--lse", $0.directory.path + "//./out.npy"] }, messageFragment: "--output and --lse name the same file ("),
    ErrorCase(
        label: "same file after a link and ..",
        arguments: { Array(validSDPA($0).dropLast(2)) + ["--output", $0.path("run/out.npy"), "--lse", $0.path("link") + "/../out.npy"] },
        messageFragment: "--output and --lse name the same file ("),
    ErrorCase(
        label: "same file through the parent folder",
        arguments: { validSDPA($0) + ["--weights", $0.directory.path + "/../" + $0.directory.lastPathComponent + "/out.npy"] },
        messageFragment: "--output and --weights name the same file ("),
    ErrorCase(label: "self without output", arguments: { ["self", "--input", $0.path("rank3.npy")] }, messageFragment: "missing required option --output"),
    ErrorCase(label: "self bad path", arguments: { ["self", "--input", $0.path("x.npy"), "--output", $0.path("out.npy"), "--path", "fast"] }, messageFragment: "--path expects one of"),
    ErrorCase(label: "self zero threads", arguments: { ["self", "--input", $0.path("x.npy"), "--output", $0.path("out.npy"), "--threads", "0"] }, messageFragment: "--threads expects a positive integer"),
    ErrorCase(label: "bad method", arguments: { validSDPA($0) + ["--method", "sparse"] }, messageFragment: "--method expects one of exact, window, linear, performer, nystrom"),
    ErrorCase(label: "window with one size", arguments: { validSDPA($0) + ["--window", "4"] }, messageFragment: "--window expects two integers"),
    ErrorCase(label: "negative window", arguments: { validSDPA($0) + ["--window=-1,2"] }, messageFragment: "--window expects two integers"),
    ErrorCase(label: "window not numbers", arguments: { validSDPA($0) + ["--window", "a,b"] }, messageFragment: "--window expects two integers"),
    ErrorCase(label: "zero features", arguments: { validSDPA($0) + ["--method", "performer", "--features", "0"] }, messageFragment: "--features expects a positive integer"),
    ErrorCase(label: "window method without window", arguments: { validSDPA($0) + ["--method", "window"] }, messageFragment: "--method window needs --window"),
    ErrorCase(label: "performer without features", arguments: { validSDPA($0) + ["--method", "performer"] }, messageFragment: "--method performer needs --features"),
    ErrorCase(label: "features without performer", arguments: { validSDPA($0) + ["--features", "8"] }, messageFragment: "--features needs --method performer"),
    ErrorCase(label: "seed without performer", arguments: { validSDPA($0) + ["--method", "linear", "--seed", "1"] }, messageFragment: "--seed needs --method performer"),
    ErrorCase(label: "negative seed", arguments: { validSDPA($0) + ["--method", "performer", "--features", "4", "--seed", "-1"] }, messageFragment: "--seed expects an integer"),
    ErrorCase(label: "nystrom without landmarks", arguments: { validSDPA($0) + ["--method", "nystrom"] }, messageFragment: "--method nystrom needs --landmarks"),
    ErrorCase(label: "landmarks without nystrom", arguments: { validSDPA($0) + ["--landmarks", "2"] }, messageFragment: "--landmarks needs --method nystrom"),
    ErrorCase(label: "lse with linear", arguments: { validSDPA($0) + ["--method", "linear", "--lse", $0.path("lse.npy")] }, messageFragment: "--lse needs --method exact"),
    ErrorCase(label: "mask with linear", arguments: { validSDPA($0) + ["--method", "linear", "--mask", $0.path("mask-bool.npy")] }, messageFragment: "--mask is not supported with --method linear"),
    ErrorCase(label: "window with performer", arguments: { validSDPA($0) + ["--method", "performer", "--features", "4", "--window", "1,1"] }, messageFragment: "--window is not supported with --method performer"),
    ErrorCase(label: "path with linear", arguments: { validSDPA($0) + ["--method", "linear", "--path", "tiled"] }, messageFragment: "--path is not supported with --method linear"),
    ErrorCase(label: "sgemm-only with nystrom", arguments: { validSDPA($0) + ["--method", "nystrom", "--landmarks", "2", "--sgemm-only"] }, messageFragment: "--sgemm-only is not supported with --method nystrom"),
    ErrorCase(label: "scale with linear", arguments: { validSDPA($0) + ["--method", "linear", "--scale", "0.5"] }, messageFragment: "--scale is not supported with --method linear"),
    ErrorCase(label: "causal with nystrom", arguments: { validSDPA($0) + ["--method", "nystrom", "--landmarks", "2", "--causal", "top-left"] }, messageFragment: "--causal is not supported with --method nystrom"),
    ErrorCase(label: "mha without prefix", arguments: { files in
        validMHA(files).filter { $0 != "--prefix" && $0 != "encoder.layer.2" }
    }, messageFragment: "missing required option --prefix"),
    ErrorCase(label: "mha zero heads", arguments: { replacing("--heads", with: "0", in: validMHA($0)) }, messageFragment: "--heads expects a positive integer"),
    ErrorCase(label: "mha bad kv-heads", arguments: { validMHA($0) + ["--kv-heads", "x"] }, messageFragment: "--kv-heads expects a positive integer"),
    ErrorCase(label: "mha bad causal", arguments: { validMHA($0) + ["--causal", "left"] }, messageFragment: "--causal expects one of"),
    ErrorCase(label: "mha same file twice", arguments: { validMHA($0) + ["--context", $0.path("out.npy")] }, messageFragment: "--output and --context name the same file"),
    ErrorCase(label: "heatmap bad heads", arguments: { validHeatmap($0) + ["--heads", "0,x"] }, messageFragment: "--heads expects 'all' or head indices"),
    ErrorCase(label: "heatmap negative batch", arguments: { validHeatmap($0) + ["--batch=-1"] }, messageFragment: "--batch expects an integer of at least 0"),
    ErrorCase(label: "heatmap two token sources", arguments: { validHeatmap($0) + ["--tokens", "a b c", "--tokens-file", $0.path("x.npy")] }, messageFragment: "either --tokens or --tokens-file"),
    ErrorCase(label: "heatmap without output", arguments: { Array(validHeatmap($0).prefix(3)) }, messageFragment: "missing required option --output"),
    ErrorCase(label: "embed-shift bad scale", arguments: { validEmbedShift($0) + ["--scale", "inf"] }, messageFragment: "--scale expects a finite number"),
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
    ErrorCase(label: "integer mask", arguments: { validSDPA($0) + ["--mask", $0.path("mask-uint8.npy")] }, messageFragment: "or a float mask (added to the scaled scores), got uint8"),
    ErrorCase(label: "float key padding", arguments: { validSDPA($0) + ["--key-padding-mask", $0.path("padding-float.npy")] }, messageFragment: "--key-padding-mask"),
    ErrorCase(label: "weights on tiled path", arguments: { validSDPA($0) + ["--path", "tiled", "--weights", $0.path("w.npy")] }, messageFragment: "Pass --path materialized"),
    ErrorCase(label: "rank 2 query", arguments: { files in
        validSDPA(files).map { $0 == files.path("q.npy") ? files.path("x.npy") : $0 }
    }, messageFragment: "Reshape the array to rank 4"),
    ErrorCase(label: "blhd files without layout", arguments: { files in
        ["sdpa", "--query", files.path("q-blhd.npy"), "--key", files.path("k-blhd.npy"), "--value", files.path("k-blhd.npy"), "--output", files.path("out.npy")]
    }, messageFragment: "pass --layout blhd"),
    ErrorCase(label: "padding mask as mask", arguments: { validSDPA($0) + ["--mask", $0.path("padding-as-mask.npy")] }, messageFragment: "use --key-padding-mask"),
    ErrorCase(label: "blhd with rank 3", arguments: { files in
        validSDPA(files).map { $0 == files.path("q.npy") ? files.path("rank3.npy") : $0 } + ["--layout", "blhd"]
    }, messageFragment: "--query"),
    ErrorCase(label: "output directory missing", arguments: { files in
        validSDPA(files).map { $0 == files.path("out.npy") ? files.path("absent/out.npy") : $0 }
    }, messageFragment: "--output"),
    ErrorCase(label: "weights path is a directory", arguments: { validSDPA($0) + ["--weights", $0.directory.path] }, messageFragment: "is a directory"),
    ErrorCase(label: "second output unwritable", arguments: { validSDPA($0) + ["--lse", $0.path("absent/lse.npy")] }, messageFragment: "--lse"),
    ErrorCase(label: "self on rank 3", arguments: { ["self", "--input", $0.path("rank3.npy"), "--output", $0.path("out.npy")] }, messageFragment: "--input"),
    ErrorCase(label: "self weights on tiled path", arguments: {
        ["self", "--input", $0.path("x.npy"), "--output", $0.path("out.npy"), "--weights", $0.path("w.npy"), "--path", "tiled"]
    }, messageFragment: "--weights"),
    ErrorCase(label: "too many landmarks", arguments: { validSDPA($0) + ["--method", "nystrom", "--landmarks", "4"] }, messageFragment: "--landmarks: expected at most 3"),
    ErrorCase(label: "mha unknown prefix", arguments: { replacing("--prefix", with: "encoder.layer.9", in: validMHA($0)) }, messageFragment: "--weights"),
    ErrorCase(label: "mha missing weights file", arguments: { replacing("--weights", with: $0.path("absent.safetensors"), in: validMHA($0)) }, messageFragment: "--weights"),
    ErrorCase(label: "mha kv-heads not a divisor", arguments: { validMHA($0) + ["--kv-heads", "5"] }, messageFragment: "--kv-heads"),
    ErrorCase(label: "mha hidden of wrong size", arguments: { replacing("--hidden", with: $0.path("rank3.npy"), in: validMHA($0)) }, messageFragment: "--hidden"),
    ErrorCase(label: "mha padding of wrong shape", arguments: { validMHA($0) + ["--key-padding-mask", $0.path("mask-bool.npy")] }, messageFragment: "--key-padding-mask"),
    ErrorCase(label: "mha second output unwritable", arguments: { validMHA($0) + ["--probs", $0.path("absent/probs.npy")] }, messageFragment: "--probs"),
    ErrorCase(label: "heatmap rank 1", arguments: { replacing("--weights", with: $0.path("rank1.npy"), in: validHeatmap($0)) }, messageFragment: "--weights"),
    ErrorCase(label: "heatmap NaN weight", arguments: { replacing("--weights", with: $0.path("heads-nan.npy"), in: validHeatmap($0)) }, messageFragment: "--weights: expected finite"),
    ErrorCase(label: "heatmap too many tokens", arguments: { validHeatmap($0) + ["--tokens", "a b c d"] }, messageFragment: "--tokens: expected 3 tokens"),
    ErrorCase(label: "heatmap batch of rank 3", arguments: { validHeatmap($0) + ["--batch", "1"] }, messageFragment: "--batch"),
    ErrorCase(label: "heatmap head out of range", arguments: { validHeatmap($0) + ["--heads", "2"] }, messageFragment: "--heads"),
    ErrorCase(label: "heatmap missing tokens file", arguments: { validHeatmap($0) + ["--tokens-file", $0.path("absent.txt")] }, messageFragment: "--tokens-file"),
    ErrorCase(label: "heatmap output directory missing", arguments: { replacing("--output", with: $0.path("absent/out.svg"), in: validHeatmap($0)) }, messageFragment: "--output"),
    ErrorCase(label: "embed-shift wrong rank", arguments: { replacing("--input", with: $0.path("rank3.npy"), in: validEmbedShift($0)) }, messageFragment: "--input: expected shape [N, 2]"),
    ErrorCase(label: "embed-shift NaN input", arguments: { replacing("--input", with: $0.path("points-nan.npy"), in: validEmbedShift($0)) }, messageFragment: "--input: expected finite"),
    ErrorCase(label: "embed-shift token mismatch", arguments: { validEmbedShift($0) + ["--tokens", "I love"] }, messageFragment: "--tokens: expected 3 tokens"),
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

@Test(arguments: [
    ["--help"], ["self", "--help"], ["sdpa", "--help"], ["sdpa", "--query", "q.npy", "--help"],
    ["mha", "--help"], ["heatmap", "--help"], ["embed-shift", "--help"],
])
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

/// Paths that look alike but name different files are both written. The
/// file system keeps é as one code point apart from e plus a combining
/// accent, and "link/../out.npy" is run/out.npy, not out.npy.
@Test(arguments: ["unicode", "link"])
func sdpaWritesDistinctLookalikes(_ kind: String) throws {
    let files = try ErrorCaseFiles()
    defer { files.remove() }
    // Joined as strings, so that no URL conversion touches the bytes.
    let (first, second) = kind == "unicode"
        ? (files.directory.path + "/\u{E9}.npy", files.directory.path + "/e\u{301}.npy")
        : (files.path("out.npy"), files.path("link") + "/../out.npy")
    let run = try runTool(Array(validSDPA(files).dropLast(2)) + ["--output", first, "--lse", second])
    #expect(run.status == 0, "stderr: \(run.standardError)")
    #expect(try NPYArray(contentsOfFile: first).shape == [1, 2, 3, 4])
    #expect(try NPYArray(contentsOfFile: second).shape == [1, 2, 3])
}
