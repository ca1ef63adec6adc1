import Foundation

/// Writes `document` to `path` as UTF-8 through a temporary file in the same
/// directory and a rename, so a reader never sees a partly written file.
///
/// - Throws: `ChartError` of kind `writeFailed` naming the path and the
///   system error when the directory is missing or not writable.
public func writeSVG(_ document: SVGDocument, toPath path: String) throws {
    let target = URL(fileURLWithPath: path)
    let directory = target.deletingLastPathComponent()
    let temporary = directory.appendingPathComponent(
        ".\(target.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
    do {
        try Data(document.render().utf8).write(to: temporary)
    } catch {
        throw ChartError(
            .writeFailed, argument: "output", expected: "a writable file path",
            actual: "\(path) (\(error.localizedDescription))",
            fix: "Check that the directory \(directory.path) exists and is writable")
    }
    guard rename(temporary.path, target.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temporary)
        throw ChartError(
            .writeFailed, argument: "output", expected: "a path the file can be renamed to",
            actual: "\(path) (\(reason))")
    }
}
