#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The subcommands, in the order the top-level help lists them. A new
// subcommand is one type in its own file plus one line here.
let subcommands: [any Subcommand.Type] = [
    SelfCommand.self,
    SDPACommand.self,
]

exit(runTool(Array(CommandLine.arguments.dropFirst()), subcommands: subcommands))
