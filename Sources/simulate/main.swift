import ArgumentParser
import Benchmarks
import CLIOptions
import Cores
import Cosim
import Foundation
import Golden
import Runtime
import Verification

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Co-simulate generated designs in Verilator against the Swift golden model.",
        subcommands: [GEMMCommand.self, CoresCommand.self, BenchCommand.self, ConvCommand.self, NetworkCommand.self, AcceleratorCommand.self, FormalCommand.self],
        defaultSubcommand: GEMMCommand.self)
}

func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

struct GEMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Random GEMMs and a corner-case GEMM on the systolic array, every element checked against the golden model.")

    @OptionGroup var design: SystolicOptions
    @Option(help: "Rows of A and C.") var m = 20
    @Option(help: "Columns of B and C.") var n = 13
    @Option(help: "Reduction length (columns of A, rows of B).") var k = 40
    @Option(help: "Seed of the random matrices.") var seed: UInt64 = 1
    @Option(help: "Random GEMMs to run (plus one corner-case GEMM).") var count = 3
    @Option(help: "Probability that C is accepted in a cycle (1 = always; below 1 exercises backpressure).") var readyProbability = 1.0
    @Flag(help: "Print one JSON object instead of the table.") var json = false

    struct Summary: Encodable {
        let design: ArrayConfig
        let m, n, k: Int
        let cycles: Int
        let expectedCycles: Int
        let macs: Int
        let utilization: Double
        let mismatches: Int
        let firstMismatch: String?
        let waveform: String?
        /// Over every run (random and corner-case); each run's own figures are under `runs`.
        let error: [String: ErrorSummary]
        let simulatedMACsPerSecond: Double
        let wallSeconds: Double
        let runs: [GEMMReport]
    }

    func validate() throws {
        for (name, v) in [("m", m), ("n", n), ("k", k)] where v < 1 || v > 1 << 16 {
            throw ValidationError("invalid value \(v) for --\(name): allowed 1...65536")
        }
        if count < 0 { throw ValidationError("invalid value \(count) for --count: allowed 0 or more") }
        if !(readyProbability > 0 && readyProbability <= 1) {
            throw ValidationError("invalid value \(readyProbability) for --ready-probability: allowed (0, 1]")
        }
    }

    func run() throws {
        let start = Date()
        let c = design.config
        try c.validate()
        let harness = try GEMMCheck(c)
        let ready: ReadyPattern = readyProbability >= 1 ? .always : .random(probability: readyProbability, seed: seed)
        var g = SplitMix64(seed: seed)
        var reports: [GEMMReport] = []
        for i in 0..<count {
            let (a, b) = harness.random(m: m, k: k, n: n, using: &g)
            var label = "random \(i + 1)"
            if c.dynamicShift {
                // Each GEMM a layer of its own output format: the LFSRs carry on between them.
                let shift = Int.random(in: 0...c.dropBits, using: &g)
                try harness.setShift(shift)
                label += " shift \(shift)"
            }
            reports.append(try harness.run(label: label, a: a, b: b, ready: ready))
        }
        let (ca, cb) = harness.cornerCase(m: m, k: k, n: n, seed: seed &+ 1)
        reports.append(try harness.run(label: "corners", a: ca, b: cb, ready: ready))

        let cycles = reports.reduce(0) { $0 + $1.cycles }
        let macs = reports.reduce(0) { $0 + $1.macs }
        let mismatches = reports.reduce(0) { $0 + $1.mismatches }
        let failed = reports.first { !$0.passed }
        let simSeconds = reports.reduce(0.0) { $0 + Double($1.tiles * c.rows * c.cols * $1.k) / $1.simulatedMACsPerSecond }
        let summary = Summary(
            design: c, m: m, n: n, k: k, cycles: cycles, expectedCycles: reports.reduce(0) { $0 + $1.expectedCycles },
            macs: macs, utilization: Double(macs) / Double(cycles * c.rows * c.cols), mismatches: mismatches,
            firstMismatch: failed?.firstMismatch, waveform: failed?.waveform,
            error: [c.rounding.rawValue: ErrorSummary(merging: reports.map(\.error))],
            simulatedMACsPerSecond: Double(reports.reduce(0) { $0 + $1.tiles * c.rows * c.cols * $1.k }) / max(simSeconds, 1e-9),
            wallSeconds: Date().timeIntervalSince(start), runs: reports)
        if json {
            print(try encodeJSON(summary))
        } else {
            let step = c.rounding == .stochastic && c.lfsrStep == .one ? " (one LFSR step per output)" : ""
            print("systolic \(c.rows)x\(c.cols), \(c.format == .fixed ? "" : "format \(c.format), ")A \(c.a), B \(c.b), acc \(c.accumulator), C \(c.output), \(c.rounding) rounding\(step)"
                  + (c.pipelineLatency > 0 ? ", pipelined: PE \(c.pePipeline), ROUND \(c.roundPipeline) stages" : ""))
            print(table(["gemm", "m x k x n", "tiles", "cycles", "formula", "util", "mismatches", "RMSE", "bias", "SQNR dB", "MMAC/s"],
                        reports.map { r in
                            [r.label, "\(r.m)x\(r.k)x\(r.n)", String(r.tiles), String(r.cycles), String(r.expectedCycles),
                             String(format: "%.1f%%", r.utilization * 100), String(r.mismatches),
                             String(format: "%.4f", r.error.rmse), String(format: "%+.4f", r.error.meanError),
                             r.error.sqnrDB.map { String(format: "%.1f", $0) } ?? "inf",
                             String(format: "%.1f", r.simulatedMACsPerSecond / 1e6)]
                        }))
            print(String(format: "%d GEMMs, %d MACs, %d mismatches, %.1f s", reports.count, macs, mismatches, summary.wallSeconds))
            if let f = failed { print("\nFIRST MISMATCH (\(f.label)): \(f.firstMismatch ?? "?")\nwaveform: \(f.waveform ?? "not written")") }
        }
        if mismatches > 0 { throw ExitCode(1) }
    }
}

/// Prints reports as a table, or as JSON.
func present(_ reports: [CheckReport], json asJSON: Bool) throws {
    if asJSON {
        print(try encodeJSON(reports))
        return
    }
    print(table(["design", "cycles", "compared", "mismatches", "time", "result"], reports.map { r in
        [r.design, String(r.cycles), String(r.comparisons), String(r.mismatches), String(format: "%.2f s", r.seconds), r.passed ? "PASS" : "FAIL"]
    }))
    for r in reports where !r.passed { print("\n" + r.description) }
}

struct CoresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cores",
        abstract: "The default MAC, LFSR and rounding units (every rounding mode) and pooling cores (max, average) against the golden model.")

    @Option(help: "Random cycles per design, beyond the corner cases.") var cycles = 10_000
    @Option(help: "Seed of the random stimulus.") var seed: UInt64 = 1
    @Flag(help: "Print one JSON array of reports.") var json = false

    func run() throws {
        var reports: [CheckReport] = []
        reports.append(try MACCheck.run(MACConfig(), randomCycles: cycles, seed: seed))
        reports.append(try MACCheck.run(MACConfig(a: FixedPoint(bits: 8, signed: true), b: FixedPoint(bits: 8, signed: false)), randomCycles: cycles, seed: seed))
        reports.append(try LFSRCheck.run(LFSRConfig(), cycles: cycles, seed: seed))
        for mode in RoundingMode.allCases {
            reports.append(try RounderCheck.run(RounderConfig(rounding: mode), randomCycles: cycles, seed: seed))
        }
        reports.append(try PoolingCheck.run(PoolingConfig(), randomCycles: cycles, seed: seed))
        reports.append(try PoolingCheck.run(PoolingConfig(pool: .average), randomCycles: cycles, seed: seed))
        try present(reports, json: json)
        if reports.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }
}

struct FormalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "formal",
        abstract: "Formal proofs with yosys-smtbmc and z3 (make formal): the FIFO, the ROUND unit, the systolic array's C stream.")

    func run() throws {
        let proofs = [
            try Formal.fifo(FIFOConfig(width: 4, depth: 4), depth: 16),
            try Formal.fifo(FIFOConfig(width: 5, depth: 8), depth: 14),
            try Formal.rounder(RounderConfig(rounding: .stochastic), depth: 4, induction: true),
            try Formal.rounder(RounderConfig(rounding: .nearest), depth: 4, induction: true),
            try Formal.rounder(RounderConfig(rounding: .truncate), depth: 4, induction: true),
            try Formal.rounder(RounderConfig(input: FixedPoint(bits: 28, frac: 12), output: FixedPoint(bits: 8, frac: 2, signed: false),
                                             rounding: .stochastic), depth: 4, induction: true),
            try Formal.pe(ArrayConfig(rows: 1, cols: 1, a: FixedPoint(bits: 4, frac: 2), b: FixedPoint(bits: 4, frac: 2), maxK: 16), depth: 12),
            try Formal.systolicOutputStable(ArrayConfig(rows: 3, cols: 3, a: FixedPoint(bits: 4, frac: 2), b: FixedPoint(bits: 4, frac: 2),
                                                        output: FixedPoint(bits: 4, frac: 0), rounding: .nearest), depth: 20),
        ]
        for p in proofs { print(p) }  // each printed after all ran: a failure's log follows
        if let failed = proofs.first(where: { !$0.passed }) {
            print(failed.log)
            throw ExitCode(1)
        }
    }
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Print performance figures (use a release build).")

    @Flag(help: "Only the generated systolic array against the hand-written reference array (Testbench/reference).")
    var reference = false
    @Flag(help: "Only LeNet-5 on all 10,000 test images on a 16x16 output-stationary array, every layer co-simulated.")
    var network = false
    @Flag(help: "Only the import of the ONNX model zoo's MNIST CNN (qonnx's copy in .venv).")
    var onnxImport = false

    func run() throws {
        if onnxImport {
            for figure in try Benchmarks.onnxImport() { print(figure) }
            return
        }
        if reference {
            for figure in try Benchmarks.reference() { print(figure) }
            return
        }
        if network {
            for figure in try Benchmarks.network() { print(figure) }
            return
        }
        for figure in try Benchmarks.all() + Benchmarks.onnxImport() { print(figure) }
    }
}

/// A refused parameter or flag: one line on stderr, status 2 (as generate-rtl). Help, and the
/// status a subcommand chose (1 for a mismatch), pass through.
let front = CommandLineFront(Simulate.self, tool: "simulate")
var command = front.parse()
front.run { try command.run() }
