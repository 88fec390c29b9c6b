import Foundation

/// Result of running an external tool.
public struct ToolOutput: Sendable {
    public let status: Int32
    public let output: String
}

/// Runs `tool` with `arguments` in `directory`, capturing stdout and stderr together.
public func runTool(_ tool: String, _ arguments: [String], in directory: URL? = nil) throws -> ToolOutput {
    guard let path = findExecutable(tool) else { throw ToolError.missing(tool) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    if let directory { p.currentDirectoryURL = directory }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ToolOutput(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// `name` on the PATH, or `name` itself when it is a path (holds a slash) to an executable.
public func findExecutable(_ name: String) -> String? {
    // A path (absolute or relative) is taken as it is, not looked up on PATH.
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    for dir in paths {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

public enum ToolError: Error, CustomStringConvertible {
    case missing(String)
    case failed(tool: String, output: String)

    public var description: String {
        switch self {
        case .missing(let tool): "\(tool) is not installed: run `make deps` (installs Verilator and yosys from the distribution's packages)"
        case .failed(let tool, let output): "\(tool) failed:\n\(output)"
        }
    }
}

/// Writes Verilog sources (file name -> text) into a fresh temporary folder.
func writeSources(_ sources: [String: String]) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for (name, text) in sources {
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return dir
}

public enum Lint {
    /// `verilator --lint-only -Wall` over the sources; throws with the warnings when there are any.
    public static func verilator(sources: [String: String], top: String) throws {
        let dir = try writeSources(sources)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try runTool("verilator", ["--lint-only", "-Wall", "--top-module", top] + sources.keys.sorted(), in: dir)
        if r.status != 0 || r.output.contains("%Warning") || r.output.contains("%Error") {
            throw ToolError.failed(tool: "verilator --lint-only -Wall", output: r.output)
        }
    }
}

/// Figures from a yosys run.
public struct SynthesisReport: Sendable, Codable {
    /// Cell counts by type for the whole design, flattened.
    public var cells: [String: Int]
    public var totalCells: Int
    public var log: String
}

public enum Synthesis {
    /// Generic `synth` (or another script such as `synth_xilinx`) of the flattened design.
    public static func yosys(sources: [String: String], top: String, script: String = "synth") throws -> SynthesisReport {
        let dir = try writeSources(sources)
        defer { try? FileManager.default.removeItem(at: dir) }
        let reads = sources.keys.sorted().map { "read_verilog \($0)" }.joined(separator: "; ")
        let r = try runTool("yosys", ["-p", "\(reads); \(script) -top \(top) -flatten; stat"], in: dir)
        if r.status != 0 || r.output.contains("ERROR") {
            throw ToolError.failed(tool: "yosys \(script)", output: String(r.output.suffix(4000)))
        }
        return parseStat(r.output)
    }

    /// Reads the last `stat` block: "Number of cells: N" and the per-type lines under it.
    static func parseStat(_ log: String) -> SynthesisReport {
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.lastIndex(where: { $0.contains("Number of cells:") }) else {
            return SynthesisReport(cells: [:], totalCells: 0, log: log)
        }
        let total = Int(lines[start].split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) ?? 0
        var cells: [String: Int] = [:]
        for line in lines[(start + 1)...] {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, let n = Int(parts[1]) else {
                if line.trimmingCharacters(in: .whitespaces).isEmpty && !cells.isEmpty { break }
                continue
            }
            cells[String(parts[0]), default: 0] += n
        }
        return SynthesisReport(cells: cells, totalCells: total, log: log)
    }
}
