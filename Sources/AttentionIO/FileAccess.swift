#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and writes whole files through POSIX calls, so that every failure
/// becomes an `NPYError` naming the path and the system's reason.
enum FileAccess {
    /// Reads every byte of the regular file at `path`.
    ///
    /// Directories, devices and pipes are rejected before any read, so the
    /// allocation never exceeds the size the file system reports.
    static func readBytes(atPath path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw systemError("cannot open for reading")
        }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw systemError("cannot read file status")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw NPYError(.fileSystem, file: path, problem: "not a regular file")
        }

        let size = Int(status.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let count = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress! + filled, size - filled)
            }
            if count < 0 && errno == EINTR {
                continue
            }
            guard count >= 0 else {
                throw systemError("read failed")
            }
            guard count > 0 else {
                throw NPYError(.fileSystem, file: path, problem: "the file shrank to \(filled) bytes while being read")
            }
            filled += count
        }
        return bytes

        func systemError(_ action: String) -> NPYError {
            NPYError(.fileSystem, file: path, problem: "\(action): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `bytes` to a new temporary file next to `path` and returns it
    /// staged: `commit()` renames it over `path`, `discard()` removes it.
    ///
    /// Until `commit()` runs, `path` is untouched, so a failure at any step
    /// leaves either the old file or no file, never a partial one.
    static func stage(_ bytes: [UInt8], atPath path: String) throws -> StagedFile {
        let directory: String
        let name: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
            name = String(path[path.index(after: slash)...])
        } else {
            directory = "."
            name = path
        }
        guard !name.isEmpty else {
            throw NPYError(.fileSystem, file: path, problem: "the path names a directory, expected a file name")
        }

        // A file name may have 255 bytes, so the temporary name keeps whole
        // characters of the output's name up to 200 bytes. The temporary
        // path is read back as a String, which must stay valid UTF-8.
        var namePrefix = ""
        for scalar in name.unicodeScalars {
            if namePrefix.utf8.count + String(scalar).utf8.count > 200 { break }
            namePrefix.unicodeScalars.append(scalar)
        }
        var template = Array("\(directory)/.\(namePrefix).tmp-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer in
            mkstemp(buffer.baseAddress!)
        }
        guard descriptor >= 0 else {
            throw NPYError(.fileSystem, file: path, problem: "cannot create a temporary file in '\(directory)': \(String(cString: strerror(errno)))")
        }
        let temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }

        do {
            // mkstemp creates the file readable by its owner only; use the
            // permissions an ordinary new file gets.
            _ = fchmod(descriptor, 0o644)
            var written = 0
            while written < bytes.count {
                let count = bytes.withUnsafeBytes { buffer in
                    write(descriptor, buffer.baseAddress! + written, bytes.count - written)
                }
                if count < 0 && errno == EINTR {
                    continue
                }
                guard count > 0 else {
                    throw NPYError(.fileSystem, file: path, problem: "write failed: \(String(cString: strerror(errno)))")
                }
                written += count
            }
            guard fsync(descriptor) == 0 else {
                throw NPYError(.fileSystem, file: path, problem: "fsync failed: \(String(cString: strerror(errno)))")
            }
        } catch {
            close(descriptor)
            unlink(temporaryPath)
            throw error
        }
        guard close(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw NPYError(.fileSystem, file: path, problem: "close failed: \(reason)")
        }
        return StagedFile(path: path, temporaryPath: temporaryPath)
    }
}

/// A complete file written under a temporary name, waiting to replace its
/// destination.
public struct StagedFile: Sendable {
    /// The destination path.
    public let path: String
    /// The temporary file in the same directory as `path`.
    public let temporaryPath: String

    /// Renames the temporary file to `path`, replacing any file there.
    ///
    /// - Throws: `NPYError` of kind `fileSystem` when the rename fails; the
    ///   temporary file is removed in that case.
    public func commit() throws {
        guard rename(temporaryPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw NPYError(.fileSystem, file: path, problem: "cannot rename the temporary file into place: \(reason)")
        }
    }

    /// Removes the temporary file and leaves `path` untouched.
    public func discard() {
        unlink(temporaryPath)
    }
}
