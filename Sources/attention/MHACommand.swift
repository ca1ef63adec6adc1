import Attention
import AttentionIO
import Foundation

/// `attention mha`: runs one multi-head attention block with weights from a
/// `.safetensors` file on hidden states from a `.npy` file.
enum MHACommand {
    static let name = "mha"

    static let summary = "Run a multi-head attention block with .safetensors weights on .npy hidden states"

    static let help = """
        Usage: attention mha --weights FILE.safetensors --prefix PREFIX --heads N
                             --hidden H.npy --output OUT.npy [options]

        Runs the attention block stored under PREFIX: the query, key, value and
        output projections (y = x · Wᵀ + b, weights [out, in]) around scaled
        dot-product attention with scale 1/sqrt(head size).

        Required:
          --weights FILE        .safetensors file with the block's weights (F32, F16,
                                BF16 or F64). BERT-style names ({PREFIX}.attention.self.query,
                                .key, .value, {PREFIX}.attention.output.dense) and
                                decoder-style names ({PREFIX}.q_proj, k_proj, v_proj, o_proj)
                                are recognized; biases are used when present.
          --prefix PREFIX       name prefix of the block, for example encoder.layer.2 or
                                model.layers.0.self_attn; a trailing dot is optional,
                                and an empty string means no prefix
          --heads N             number of query heads
          --hidden FILE         float32 .npy hidden states [B, L, hidden]
          --output FILE         float32 .npy to write the block output [B, L, out]

        Options:
          --kv-heads M          number of key/value heads (grouped-query attention);
                                default N
          --key-padding-mask P  bool .npy [B, L]; true marks a real token, false a padding
                                key that no query attends
          --causal ALIGNMENT    causal masking, top-left (query i sees keys j <= i) or
                                bottom-right; the two agree for self-attention
          --probs FILE          float32 .npy to write the attention probabilities [B, N, L, L]
          --context FILE        float32 .npy to write the merged heads [B, L, N·head size]
                                before the output projection
          -h, --help            show this help

        Each output is written to a temporary file and renamed into place, so a failed
        run leaves no partial file. Exit status: 0 on success, 1 when a file or the
        computation fails, 2 for invalid arguments.
        """

    /// Runs the command with the arguments after `mha` and returns the exit
    /// status. Errors are one line on stderr naming the flag or file.
    static func run(_ arguments: [String]) throws -> Int32 {
        let options: Options
        do {
            guard let parsed = try Options.parse(arguments) else {
                print(help)
                return 0
            }
            options = parsed
        } catch let error as CommandError {
            reportError(error.message + ". Run 'attention mha --help' for usage")
            return 2
        }

        do {
            try execute(options)
            return 0
        } catch let error as CommandError {
            reportError(error.message)
        } catch let error as SafeTensorsError {
            reportError("--weights \(error)")
        } catch let error as AttentionError {
            reportError(error.description)
        } catch {
            reportError("\(error)")
        }
        return 1
    }

    private static func reportError(_ message: String) {
        let line = "attention mha: " + message.replacingOccurrences(of: "\n", with: " ") + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    // MARK: - Running

    private static func execute(_ options: Options) throws {
        let layer = try MultiHeadAttention(
            contentsOf: options.weightsPath, prefix: options.prefix,
            headCount: options.heads, keyValueHeadCount: options.keyValueHeads)

        let hidden = try NPYFile.readFloat32(options.hiddenPath, flag: "--hidden")
        guard hidden.rank == 3, hidden.shape[2] == layer.hiddenSize else {
            throw CommandError(
                "--hidden \(options.hiddenPath): expected [B, L, \(layer.hiddenSize)] for the layer's hidden size, got \(describe(hidden.shape))")
        }

        var keyPadding: KeyPadding?
        if let maskPath = options.keyPaddingMaskPath {
            let mask = try NPYFile.readBool(maskPath, flag: "--key-padding-mask")
            guard mask.shape == [hidden.shape[0], hidden.shape[1]] else {
                throw CommandError(
                    "--key-padding-mask \(maskPath): expected \(describe([hidden.shape[0], hidden.shape[1]])) to match --hidden [B, L], got \(describe(mask.shape))")
            }
            keyPadding = .mask(mask)
        }

        let result = try layer(
            hidden, causal: options.causal, keyPadding: keyPadding,
            returning: options.probsPath == nil ? [] : [.weights])

        var writes: [(path: String, flag: String, tensor: Tensor)] = [(options.outputPath, "--output", result.output)]
        if let path = options.probsPath, let weights = result.weights {
            writes.append((path, "--probs", weights))
        }
        if let path = options.contextPath {
            writes.append((path, "--context", result.context))
        }
        for write in writes {
            try NPYFile.writeFloat32(write.tensor, to: write.path, flag: write.flag)
        }
    }

    private static func describe(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    // MARK: - Arguments

    private struct CommandError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    private struct Options {
        var weightsPath = ""
        var prefix = ""
        var heads = 0
        var keyValueHeads: Int?
        var hiddenPath = ""
        var keyPaddingMaskPath: String?
        var causal: CausalAlignment?
        var outputPath = ""
        var probsPath: String?
        var contextPath: String?

        /// Parses `--flag value` and `--flag=value` pairs; returns `nil` when
        /// help was requested.
        static func parse(_ arguments: [String]) throws -> Options? {
            var values: [String: String] = [:]
            var index = 0
            while index < arguments.count {
                let argument = arguments[index]
                index += 1
                if argument == "-h" || argument == "--help" { return nil }
                guard argument.hasPrefix("--") else {
                    throw CommandError("unexpected argument '\(argument)'")
                }
                var flag = argument
                var value: String?
                if let equals = argument.firstIndex(of: "=") {
                    flag = String(argument[..<equals])
                    value = String(argument[argument.index(after: equals)...])
                }
                guard knownFlags.contains(flag) else {
                    throw CommandError("unknown option \(flag)")
                }
                guard values[flag] == nil else {
                    throw CommandError("\(flag) given more than once")
                }
                if value == nil {
                    guard index < arguments.count else {
                        throw CommandError("\(flag) needs a value")
                    }
                    value = arguments[index]
                    index += 1
                }
                values[flag] = value
            }

            for flag in ["--weights", "--prefix", "--heads", "--hidden", "--output"] where values[flag] == nil {
                throw CommandError("missing required option \(flag)")
            }
            var options = Options()
            options.weightsPath = values["--weights"]!
            options.prefix = values["--prefix"]!
            options.hiddenPath = values["--hidden"]!
            options.outputPath = values["--output"]!
            options.heads = try positiveInteger(values["--heads"]!, flag: "--heads")
            options.keyValueHeads = try values["--kv-heads"].map { try positiveInteger($0, flag: "--kv-heads") }
            options.keyPaddingMaskPath = values["--key-padding-mask"]
            options.probsPath = values["--probs"]
            options.contextPath = values["--context"]
            if let alignment = values["--causal"] {
                guard let causal = CausalAlignment(rawValue: alignment) else {
                    throw CommandError("--causal: expected top-left or bottom-right, got '\(alignment)'")
                }
                options.causal = causal
            }

            let outputs = [options.outputPath, options.probsPath, options.contextPath].compactMap { $0 }
            guard Set(outputs).count == outputs.count else {
                throw CommandError("--output, --probs and --context must name different files")
            }
            return options
        }

        private static let knownFlags: Set<String> = [
            "--weights", "--prefix", "--heads", "--kv-heads", "--hidden", "--key-padding-mask",
            "--causal", "--output", "--probs", "--context",
        ]

        private static func positiveInteger(_ text: String, flag: String) throws -> Int {
            guard let value = Int(text), value >= 1 else {
                throw CommandError("\(flag): expected a positive integer, got '\(text)'")
            }
            return value
        }
    }

    // MARK: - .npy files

    // TODO: Move this to the shared NPY reader and writer in AttentionIO,
    // which will cover every dtype, byte order and format version. This
    // minimal version reads only little-endian float32 and bool C-order
    // arrays, and writes float32 in format 1.0.
    private enum NPYFile {
        static func readFloat32(_ path: String, flag: String) throws -> Tensor {
            let (shape, data) = try read(path, flag: flag, descriptor: "<f4", itemSize: 4)
            let count = shape.reduce(1, *)
            var scalars = [Float](repeating: 0, count: count)
            data.withUnsafeBytes { raw in
                for i in 0..<count {
                    scalars[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            }
            return try Tensor(shape: shape, scalars: scalars)
        }

        static func readBool(_ path: String, flag: String) throws -> BoolTensor {
            let (shape, data) = try read(path, flag: flag, descriptor: "|b1", itemSize: 1)
            var scalars: [Bool] = []
            scalars.reserveCapacity(data.count)
            for byte in data {
                guard byte <= 1 else {
                    throw CommandError("\(flag) \(path): expected bool bytes 0 or 1, got \(byte)")
                }
                scalars.append(byte == 1)
            }
            return try BoolTensor(shape: shape, scalars: scalars)
        }

        /// Reads the header and returns the shape and the data bytes, after
        /// checking the dtype, order and data size.
        private static func read(_ path: String, flag: String, descriptor: String, itemSize: Int) throws -> ([Int], Data) {
            func failure(_ reason: String) -> CommandError {
                CommandError("\(flag) \(path): \(reason)")
            }
            let bytes: Data
            do {
                bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw failure("failed to read the file (\(error.localizedDescription))")
            }
            let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
            guard bytes.count >= 10, Array(bytes.prefix(6)) == magic else {
                throw failure("not an .npy file (missing the \\x93NUMPY magic)")
            }
            let major = bytes[bytes.startIndex + 6]
            let lengthFieldSize = major == 1 ? 2 : 4
            guard (1...3).contains(major), bytes.count >= 8 + lengthFieldSize else {
                throw failure("unsupported .npy format version \(major)")
            }
            var headerLength = 0
            for i in 0..<lengthFieldSize {
                headerLength |= Int(bytes[bytes.startIndex + 8 + i]) << (8 * i)
            }
            let headerStart = 8 + lengthFieldSize
            guard headerLength <= bytes.count - headerStart else {
                throw failure("header length \(headerLength) runs past the end of the file")
            }
            let headerData = bytes.subdata(in: (bytes.startIndex + headerStart)..<(bytes.startIndex + headerStart + headerLength))
            guard let header = String(data: headerData, encoding: major == 3 ? .utf8 : .isoLatin1) else {
                throw failure("unreadable header")
            }

            guard let descr = headerValue(header, key: "descr") else { throw failure("header has no 'descr'") }
            guard descr == "'\(descriptor)'" else {
                throw failure("expected dtype \(descriptor), got \(descr)")
            }
            guard headerValue(header, key: "fortran_order") == "False" else {
                throw failure("Fortran-order arrays are not supported; save the array in C order")
            }
            guard let shapeText = headerValue(header, key: "shape"), shapeText.hasPrefix("("), shapeText.hasSuffix(")") else {
                throw failure("header has no valid 'shape'")
            }
            var shape: [Int] = []
            for part in shapeText.dropFirst().dropLast().split(separator: ",") {
                let trimmed = part.trimmingCharacters(in: .whitespaces)
                guard let size = Int(trimmed), size >= 0 else { throw failure("invalid shape \(shapeText)") }
                shape.append(size)
            }
            var byteCount = itemSize
            for size in shape {
                let (product, overflow) = byteCount.multipliedReportingOverflow(by: size)
                guard !overflow else { throw failure("shape \(shapeText) is too large") }
                byteCount = product
            }
            let dataStart = headerStart + headerLength
            guard bytes.count - dataStart == byteCount else {
                throw failure("expected \(byteCount) data bytes for shape \(shapeText), got \(bytes.count - dataStart)")
            }
            return (shape, bytes.subdata(in: (bytes.startIndex + dataStart)..<bytes.endIndex))
        }

        /// Returns the text of `key`'s value in a Python dict literal: a quoted
        /// string, `True`/`False`, or a parenthesized tuple.
        private static func headerValue(_ header: String, key: String) -> String? {
            guard let keyRange = header.range(of: "'\(key)'") else { return nil }
            var rest = header[keyRange.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { return nil }
            rest = rest.dropFirst().drop { $0 == " " }
            let end: String.Index?
            switch rest.first {
            case "'": end = rest.dropFirst().firstIndex(of: "'").map { rest.index(after: $0) }
            case "(": end = rest.firstIndex(of: ")").map { rest.index(after: $0) }
            default: end = rest.firstIndex { $0 == "," || $0 == "}" }
            }
            guard let end else { return nil }
            return String(rest[..<end]).trimmingCharacters(in: .whitespaces)
        }

        /// Writes `tensor` as a little-endian float32 C-order `.npy` file of
        /// format 1.0, through a temporary file renamed into place.
        static func writeFloat32(_ tensor: Tensor, to path: String, flag: String) throws {
            let shapeText = tensor.shape.count == 1
                ? "(\(tensor.shape[0]),)"
                : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
            var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
            // Pad with spaces so the data starts on a 64-byte boundary.
            let unpadded = 10 + header.utf8.count + 1
            header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"

            var bytes = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
            let headerLength = UInt16(header.utf8.count)
            bytes.append(contentsOf: [UInt8(headerLength & 0xFF), UInt8(headerLength >> 8)])
            bytes.append(contentsOf: Array(header.utf8))
            var scalars = tensor.scalars
            for i in scalars.indices {
                scalars[i] = Float(bitPattern: scalars[i].bitPattern.littleEndian)
            }
            scalars.withUnsafeBytes { bytes.append(contentsOf: $0) }

            let destination = URL(fileURLWithPath: path)
            let temporary = destination.deletingLastPathComponent()
                .appendingPathComponent(".\(destination.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
            do {
                try bytes.write(to: temporary)
                guard rename(temporary.path, destination.path) == 0 else {
                    let reason = String(cString: strerror(errno))
                    try? FileManager.default.removeItem(at: temporary)
                    throw CommandError("\(flag) \(path): failed to rename the temporary file into place (\(reason))")
                }
            } catch let error as CommandError {
                throw error
            } catch {
                try? FileManager.default.removeItem(at: temporary)
                throw CommandError("\(flag) \(path): failed to write the file (\(error.localizedDescription))")
            }
        }
    }
}
