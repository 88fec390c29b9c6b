import Foundation

/// Everything that can go wrong building or driving a simulation. Each
/// `description` is one line that says what happened and what to do.
public enum CosimError: Error, CustomStringConvertible, Sendable {
    /// A tool (verilator, make, a C++ compiler, sha256sum) is not on PATH.
    case toolMissing(String)
    /// The design is malformed before Verilator ever sees it.
    case invalidDesign(top: String, message: String)
    /// Verilator or the C++ compiler failed. `excerpt` holds the first error
    /// lines; the whole log is `directory/build.log`.
    case buildFailed(top: String, excerpt: [String], directory: URL)
    /// The port list given does not match what the Verilog declares.
    case portMismatch(top: String, message: String)
    /// No port of that name.
    case unknownPort(String, top: String, known: [String])
    /// A call that does not fit the design or the arguments (poking an output,
    /// stepping a design without clock, a bulk row of the wrong length, ...).
    case usage(String)
    /// The driver process exited or crashed; `stderr` is the end of what it printed.
    case driverDied(top: String, status: Int32?, stderr: String)
    /// A helper command failed.
    case toolFailed(command: String, status: Int32, output: String)
    /// The simulation was closed.
    case closed(top: String)

    public var description: String {
        switch self {
        case .toolMissing(let tool):
            return "`\(tool)` was not found on PATH: run `make deps` to install Verilator and the C++ toolchain"
        case .invalidDesign(let top, let message):
            return "invalid design `\(top)`: \(message)"
        case .buildFailed(let top, let excerpt, let directory):
            let first = excerpt.prefix(3).joined(separator: " | ")
            return "Verilator build of `\(top)` failed: \(first.isEmpty ? "no error text" : first) (build dir: \(directory.path), full log: \(directory.appendingPathComponent("build.log").path))"
        case .portMismatch(let top, let message):
            return "port list of `\(top)` does not match its Verilog: \(message)"
        case .unknownPort(let name, let top, let known):
            return "unknown port `\(name)` in design `\(top)` (ports: \(known.joined(separator: ", ")))"
        case .usage(let message):
            return message
        case .driverDied(let top, let status, let stderr):
            let st = status.map { $0 > 128 ? "killed by signal \($0 - 128)" : "exit status \($0)" } ?? "unknown status"
            let tail = stderr.split(separator: "\n").suffix(3).joined(separator: " | ")
            return "simulation driver of `\(top)` died (\(st))\(tail.isEmpty ? "" : ": \(tail)")"
        case .toolFailed(let command, let status, let output):
            let line = output.split(separator: "\n").prefix(3).joined(separator: " | ")
            return "`\(command)` failed (status \(status))\(line.isEmpty ? "" : ": \(line)")"
        case .closed(let top):
            return "simulation of `\(top)` is closed"
        }
    }
}
