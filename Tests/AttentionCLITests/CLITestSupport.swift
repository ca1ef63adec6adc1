import AttentionIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The folder that contains `manifest.json` and the fixture arrays.
let fixtureDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

/// The result of one run of the `attention` executable.
struct ToolRun {
    let status: Int32
    let standardOutput: String
    let standardError: String
}

/// Finds the `attention` executable next to the test bundle, where
/// `swift build` and `swift test` put it; `ATTENTION_CLI` overrides the path.
func toolPath() -> String {
    if let path = ProcessInfo.processInfo.environment["ATTENTION_CLI"] {
        return path
    }
    let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return testBinary.deletingLastPathComponent().appendingPathComponent("attention").path
}

/// Runs `attention` with `arguments` and waits for it to exit.
///
/// The child is started with `posix_spawn` and reaped with `waitpid`, and its
/// standard output and standard error go to files, so no run loop, signal
/// handler or pipe is involved. Swift's crash backtracer is turned off in the
/// child so that a crash ends the run at once with a signal status.
func runTool(_ arguments: [String]) throws -> ToolRun {
    let directory = try makeScratchDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let outputPath = directory.appendingPathComponent("stdout").path
    let errorPath = directory.appendingPathComponent("stderr").path

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

    let executable = toolPath()
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }

    var processID = pid_t()
    let spawnResult = posix_spawn(&processID, executable, &actions, nil, argv, envp)
    guard spawnResult == 0 else {
        throw POSIXError(POSIXErrorCode(rawValue: spawnResult) ?? .EINVAL)
    }
    var waitStatus: Int32 = 0
    while waitpid(processID, &waitStatus, 0) < 0 {
        guard errno == EINTR else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL)
        }
    }
    // Exit code when the child exited, or 128 + signal number when a signal ended it.
    let signal = waitStatus & 0x7F
    let status = signal == 0 ? (waitStatus >> 8) & 0xFF : 128 + signal

    return ToolRun(
        status: status,
        standardOutput: String(decoding: try Data(contentsOf: URL(fileURLWithPath: outputPath)), as: UTF8.self),
        standardError: String(decoding: try Data(contentsOf: URL(fileURLWithPath: errorPath)), as: UTF8.self))
}

/// Creates a new empty directory for one test's output files.
func makeScratchDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("attention-cli-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// An `allclose` tolerance: `|actual - expected| <= atol + rtol·|expected|`.
struct Tolerance: CustomStringConvertible {
    let absolute: Double
    let relative: Double

    var description: String { "atol \(absolute), rtol \(relative)" }
}

/// Compares two arrays element by element under `tolerance` and records one
/// issue naming the worst element. A NaN expected value must be NaN.
func expectClose(
    _ actual: [Float], _ expected: [Float], tolerance: Tolerance, label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(label): \(actual.count) elements, expected \(expected.count)", sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    var worstExcess = 0.0
    var worstIndex: Int?
    for index in expected.indices {
        let want = Double(expected[index])
        let got = Double(actual[index])
        if want.isNaN || got.isNaN {
            if want.isNaN != got.isNaN {
                Issue.record("\(label): element \(index) is \(got), expected \(want)", sourceLocation: sourceLocation)
                return
            }
            continue
        }
        if want == got {
            continue
        }
        let excess = abs(got - want) - (tolerance.absolute + tolerance.relative * abs(want))
        if excess > worstExcess || (excess.isNaN && worstIndex == nil) {
            worstExcess = excess.isNaN ? .infinity : excess
            worstIndex = index
        }
    }
    if let worstIndex {
        Issue.record(
            "\(label): element \(worstIndex) is \(actual[worstIndex]), expected \(expected[worstIndex]) within \(tolerance)",
            sourceLocation: sourceLocation)
    }
}

/// The parts of `manifest.json` the CLI tests use.
struct Manifest: Decodable {
    let cases: [FixtureCase]

    /// Returns every case whose operation is one of `operations`, or an
    /// empty list when the manifest cannot be read, which a test then reports.
    static func cases(operations: Set<String>) -> [FixtureCase] {
        guard let data = try? Data(contentsOf: fixtureDirectory.appendingPathComponent("manifest.json")),
            let manifest = try? JSONDecoder().decode(Manifest.self, from: data)
        else {
            return []
        }
        return manifest.cases.filter { operations.contains($0.operation) }
    }
}

/// One case of `manifest.json`.
struct FixtureCase: Decodable, CustomStringConvertible, Sendable {
    struct Parameters: Decodable, Sendable {
        let scale: Double?
        let scale_is_default: Bool?
        let is_causal: Bool?
        let causal_alignment: String?
    }

    struct Input: Decodable, Sendable {
        let file: String
        let optional: Bool?
    }

    struct Expected: Decodable, Sendable {
        let file: String
        let shape: [Int]
        let tolerance: ManifestTolerance?
    }

    struct ManifestTolerance: Decodable, Sendable {
        let atol: Double
        let rtol: Double
    }

    let name: String
    let operation: String
    let params: Parameters
    let inputs: [String: Input]
    let expected: [String: Expected]
    let tolerance: ManifestTolerance?

    var description: String { name }

    /// Returns the absolute path of a file named in the manifest.
    func path(_ file: String) -> String {
        fixtureDirectory.appendingPathComponent(file).path
    }

    /// Returns the absolute path of a required input, or `nil` when the case has
    /// no such input or marks it optional.
    func inputPath(_ name: String) -> String? {
        guard let input = inputs[name], input.optional != true else {
            return nil
        }
        return path(input.file)
    }

    /// Returns the tolerance of one expected output: its own, else the case's.
    func tolerance(of output: String) -> Tolerance {
        let entry = expected[output]?.tolerance ?? tolerance
        return Tolerance(absolute: entry?.atol ?? 0, relative: entry?.rtol ?? 0)
    }
}
