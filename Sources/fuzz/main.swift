import ArgumentParser
import CLIOptions
import Foundation
import Fuzz

/// `fuzz`: random circuits through the in-process simulator, Verilator and Icarus Verilog.
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Check random circuits in the in-process simulator against Verilator and Icarus Verilog.",
        discussion: "Exits with status 1 on any mismatch or elaboration failure, after printing the smallest failing circuit found.")

    @Option(help: "Circuits to check, 1 or more.") var circuits = 1000
    @Option(help: "Circuits per Verilator build and Icarus compile, 1...5000.") var batch = 1000
    @Option(help: "Clock cycles of random stimulus per batch, 1...10000.") var cycles = 24
    @Option(help: "Seed of the circuits and stimulus, 0...2^64-1.") var seed: UInt64 = 1
    @Option(help: "Largest circuit in nodes, 3...500 (instances hold smaller ones).") var nodes = 16
    @Option(help: "Tools to compare with: verilator, icarus or both (comma-separated).") var tools = "verilator,icarus"
    @Option(help: "Lint (verilator --lint-only -Wall) one batch in this many; 0: none.") var lintEvery = 10
    @Flag(help: "Build without the flags that work around three Verilator 5.006 miscompiles (see the README).") var allVerilatorOptimizations = false
    @Flag(help: "Print the first failing circuit as found, without shrinking it.") var noShrink = false

    func validate() throws {
        guard circuits >= 1 else { throw ValidationError("invalid value \(circuits) for --circuits: allowed 1 or more") }
        guard (1...5000).contains(batch) else { throw ValidationError("invalid value \(batch) for --batch: allowed 1...5000") }
        guard (1...10_000).contains(cycles) else { throw ValidationError("invalid value \(cycles) for --cycles: allowed 1...10000") }
        guard (3...500).contains(nodes) else { throw ValidationError("invalid value \(nodes) for --nodes: allowed 3...500") }
        for t in tools.split(separator: ",") where Tool(rawValue: String(t)) == nil {
            throw ValidationError("invalid value \(tools) for --tools: allowed verilator, icarus")
        }
    }

    func run() throws {
        var campaign = Campaign()
        // Unbuffered, so that progress shows as it happens in a log file too.
        campaign.log = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
        campaign.seed = seed
        campaign.circuits = circuits
        campaign.batchSize = batch
        campaign.cycles = cycles
        campaign.generator.maxNodes = nodes
        campaign.tools = tools.split(separator: ",").compactMap { Tool(rawValue: String($0)) }
        campaign.lint = lintEvery > 0
        campaign.lintEvery = max(1, lintEvery)
        if allVerilatorOptimizations { campaign.verilatorFlags = [] }
        campaign.shrink = !noShrink
        let summary = try campaign.run()
        for report in summary.reports { print("\n" + report) }
        let times = summary.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value)) s" }
        print("fuzz: \(summary.circuits) circuits checked against \(campaign.tools.map(\.rawValue).joined(separator: " and ")), "
            + "\(summary.mismatchingCircuits) mismatching, \(summary.elaborationFailures) not elaborating (\(times.joined(separator: ", ")))")
        if summary.mismatchingCircuits > 0 || summary.elaborationFailures > 0 { throw ExitCode(1) }
    }
}

let front = CommandLineFront(FuzzCommand.self, tool: "fuzz")
var command = front.parse()
front.run { try command.run() }
