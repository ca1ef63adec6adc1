import Foundation

/// The command line of `attention-bench`.
struct Arguments {
    var threadCount = ProcessInfo.processInfo.activeProcessorCount
    var shapes: [[Int]] = []
    var causal = false
    var jsonPath: String?
    var plotDirectory: String?
    var quick = false
    var queryBlockSize: Int?
    var keyBlockSize: Int?
    var sgemmOnly = false
    var fixturesPath: String?
    var layers = false
    var variants = false

    static let help = """
        Usage: attention-bench [options]

        Times the attention kernels against the naive reference and the
        machine's own sgemm rate. With no options it runs the default suite
        (70 to 100 seconds on a 2-core machine). Build with
        `swift build -c release`; debug numbers mean nothing.

        Options:
          --threads N            worker threads for the multi-thread runs
                                 (default: every active processor)
          --shape B,H,Lq,Lk,D    run this shape instead of the suite; repeatable
          --causal               make the --shape runs causal (top-left)
          --query-block N        query rows per tile of the tiled path
          --key-block N          keys per tile of the tiled path
          --sgemm-only           run every product of the tiled path on sgemm,
                                 also in tiles of few query rows
          --json FILE            also write every result to FILE as JSON
          --plot DIR             also time a sequence-length sweep and write
                                 scaling.svg and throughput.svg into DIR
          --quick                fewer repetitions and a smaller suite
          --fixtures DIR         the folder of the fixture cases, which holds
                                 minilm_layer2_attention_core
                                 (default: Tests/Fixtures of this checkout)
          --layers               time the multi-head attention layer against a
                                 naive layer instead of the suite
          --variants             time exact attention against the sliding-window
                                 and approximate methods instead of the suite
          --help                 print this text
        """

    /// Parses `CommandLine.arguments`, or returns an error message.
    static func parse(_ words: [String]) -> Result<Arguments, ArgumentError> {
        var arguments = Arguments()
        var index = 0
        func value(_ flag: String) throws -> String {
            index += 1
            guard index < words.count else { throw ArgumentError("missing value after \(flag)") }
            return words[index]
        }
        func positiveInteger(_ flag: String) throws -> Int {
            let text = try value(flag)
            guard let number = Int(text), number >= 1 else {
                throw ArgumentError("invalid value for \(flag): expected a positive integer, got \"\(text)\"")
            }
            return number
        }
        do {
            while index < words.count {
                let word = words[index]
                switch word {
                case "--threads": arguments.threadCount = try positiveInteger(word)
                case "--query-block": arguments.queryBlockSize = try positiveInteger(word)
                case "--key-block": arguments.keyBlockSize = try positiveInteger(word)
                case "--sgemm-only": arguments.sgemmOnly = true
                case "--causal": arguments.causal = true
                case "--quick": arguments.quick = true
                case "--layers": arguments.layers = true
                case "--variants": arguments.variants = true
                case "--json": arguments.jsonPath = try value(word)
                case "--plot": arguments.plotDirectory = try value(word)
                case "--fixtures": arguments.fixturesPath = try value(word)
                case "--shape":
                    let text = try value(word)
                    let parts = text.split(separator: ",").map { Int($0) }
                    guard parts.count == 5, parts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                        throw ArgumentError("invalid value for --shape: expected five positive integers B,H,Lq,Lk,D, got \"\(text)\"")
                    }
                    arguments.shapes.append(parts.map { $0! })
                case "--help", "-h":
                    throw ArgumentError.helpRequested
                default:
                    throw ArgumentError("unknown option \(word); run attention-bench --help")
                }
                index += 1
            }
        } catch let error as ArgumentError {
            return .failure(error)
        } catch {
            return .failure(ArgumentError("\(error)"))
        }
        return .success(arguments)
    }
}

struct ArgumentError: Error {
    let message: String
    init(_ message: String) { self.message = message }
    static let helpRequested = ArgumentError("")
}
