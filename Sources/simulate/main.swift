import ArgumentParser
import Cores
import Foundation
import Verification

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Co-simulate generated designs in Verilator against the Swift golden model.",
        subcommands: [CoresCommand.self, BenchCommand.self],
        defaultSubcommand: CoresCommand.self)
}

/// Prints reports as a table, or as JSON.
func present(_ reports: [CheckReport], json: Bool) throws {
    if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(reports), as: UTF8.self))
        return
    }
    let rows = reports.map { r in
        [r.design, String(r.cycles), String(r.comparisons), String(r.mismatches), String(format: "%.2f s", r.seconds), r.passed ? "PASS" : "FAIL"]
    }
    let header = ["design", "cycles", "compared", "mismatches", "time", "result"]
    let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max()! }
    for (n, row) in ([header] + rows).enumerated() {
        print(row.enumerated().map { i, cell in i == 0 ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                                                     : String(repeating: " ", count: widths[i] - cell.count) + cell }
            .joined(separator: "  "))
        if n == 0 { print(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))) }
    }
    for r in reports where !r.passed { print("\n" + r.description) }
}

struct CoresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cores",
        abstract: "The default MAC, LFSR and rounding units (every rounding mode) against the golden model.")

    @Option(help: "Random cycles per design, beyond the corner cases.") var cycles = 10_000
    @Option(help: "Seed of the random stimulus.") var seed: UInt64 = 1
    @Flag(help: "Print one JSON array of reports.") var json = false

    func run() throws {
        var reports: [CheckReport] = []
        reports.append(try MACCheck.run(MACConfig(), randomCycles: cycles, seed: seed))
        reports.append(try MACCheck.run(MACConfig(a: FixedPoint(bits: 8, signed: true), b: FixedPoint(bits: 8, signed: false)), randomCycles: cycles, seed: seed))
        reports.append(try LFSRCheck.run(LFSRConfig(), cycles: cycles, seed: seed))
        for mode in OutputRounding.allCases {
            reports.append(try RounderCheck.run(RounderConfig(rounding: mode), randomCycles: cycles, seed: seed))
        }
        try present(reports, json: json)
        if reports.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Print performance figures (use a release build).")

    func run() throws {
        for figure in try Benchmarks.all() { print(figure) }
    }
}

Simulate.main()
