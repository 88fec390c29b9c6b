import Accelerator
import ArgumentParser
import CLIOptions
import Cores
import Dataflows
import Foundation
import HDL
import Runtime
import Timing
import Verilog

/// Options every core shares.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Folder for the .v files and manifest.json: new, empty, or written by generate-rtl before (then replaced whole).", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp("Also place and route on this device: " + Device.allowed + "; yosys synth_ecp5, then nextpnr-ecp5 out of context with three placement seeds; prints Fmax (the median), the critical path and the utilization, and writes them to timing.json in the output folder (docs/TIMING.md).", valueName: "device"))
    var pnr: String?

    /// The `--pnr` device, refused before anything is written.
    func device() throws -> Device? {
        try pnr.map { text in
            guard let d = Device.parse(text) else { throw ParameterError("pnr", "'\(text)'", allowed: Device.allowed) }
            return d
        }
    }
}

struct GenerateRTL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-rtl",
        abstract: "Emit synthesizable Verilog for an accelerator core.",
        discussion: """
        Writes one .v file per module plus manifest.json (ports, widths, parameters).
        A refused parameter prints one line naming it, exits with status 2 and writes nothing.
        """,
        subcommands: [SystolicCommand.self, PEArrayCommand.self, MACCommand.self, LFSRCommand.self, RounderCommand.self, PoolCommand.self, AcceleratorCommand.self])
}

struct AcceleratorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accelerator",
        abstract: "A whole accelerator: the systolic array, scratchpad banks, DMA on an AXI4 manager (m_axi_*), a controller running a program from DRAM, AXI4-Lite registers (s_axil_*) and irq (docs/ACCELERATOR.md). Also writes the register map as SystemRDL (accel_regs.rdl) and a C header (accel_regs.h).")

    @OptionGroup var design: AcceleratorOptions
    @Option(help: ArgumentHelp("Also write \(GEMMExample.fileName): a GEMM of random codes (M and N \(GEMMExample.sides.lowerBound)...\(GEMMExample.sides.upperBound), K 1 to the rows of banks A and B), its program and DRAM image, and C from the golden model, for a testbench of one's own (Testbench/cocotb).", valueName: "MxKxN"))
    var exampleGemm: String?
    @Option(help: "Seed of --example-gemm's random operands.") var exampleSeed: UInt64 = 1
    @OptionGroup var output: OutputOptions

    /// What the manifest's `parameters` hold: the configuration, the register map, the opcodes
    /// and the error codes STATUS.error_code reports.
    struct Parameters: Encodable {
        let accelerator: AcceleratorConfig
        let registers: RegisterMap
        let isa: [String: Int]
        let errors: [String: Int]
    }

    /// `--example-gemm`, refused in one line before anything is written.
    func example(_ c: AcceleratorConfig) throws -> GEMMExample? {
        guard let text = exampleGemm else { return nil }
        let dims = text.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        let maxK = GEMMExample.maxK(c)
        let sides = GEMMExample.sides
        let allowed = "MxKxN with M and N \(sides.lowerBound)...\(sides.upperBound) and K 1...\(maxK) (the rows of banks A and B)"
        guard dims.count == 3, let m = dims[0], let k = dims[1], let n = dims[2],
              sides.contains(m), sides.contains(n), (1...maxK).contains(k) else {
            throw ParameterError("example-gemm", text, allowed: allowed)
        }
        do {
            return try GEMMExample(m: m, k: k, n: n, seed: exampleSeed, config: c)
        } catch let e as GEMMProgram.Refusal {
            throw ParameterError("example-gemm", text, allowed: "\(allowed); \(e.description)")
        }
    }

    func run() throws {
        let c = design.config
        try c.validate()
        let map = RegisterMap.accelerator(c)
        let isa = Dictionary(uniqueKeysWithValues: ISA.Opcode.allCases.map { ("\($0)", $0.rawValue) })
        let errors = Dictionary(uniqueKeysWithValues: AcceleratorError.allCases.map { ("\($0)", $0.rawValue) })
        var extra = [("\(map.name).rdl", map.systemRDL), ("\(map.name).h", map.cHeader)]
        if let e = try example(c) { extra.append((GEMMExample.fileName, e.json)) }
        try emit(core: "accelerator", Parameters(accelerator: c, registers: map, isa: isa, errors: errors), derived: c.manifestFigures,
                 extraFiles: extra, to: output) { _ in
            try Accelerator.module(c)
        }
    }
}

struct SystolicCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "systolic",
        abstract: "R x C output-stationary systolic array with per-column ROUND units and an output FIFO (docs/SYSTOLIC.md).")

    @OptionGroup var design: SystolicOptions
    @Option(help: ArgumentHelp("Per-output-channel requantization with a multiplier of this many bits, \(RequantizerConfig.multiplierBitsRange.lowerBound)...\(RequantizerConfig.multiplierBitsRange.upperBound): each column's ROUND unit becomes saturate(roundHalfEven((sum + b) M / 2^s)), its {s, M, b} sent on rq_data with each tile (docs/ONNX.md).", valueName: "bits"))
    var requantize: Int?
    @OptionGroup var output: OutputOptions

    func run() throws {
        var c = design.config
        if let requantize {
            c = ArrayConfig(rows: c.rows, cols: c.cols, a: c.a, b: c.b, maxK: c.maxK, accBits: c.accBitsOverride, output: c.output,
                            format: c.format, thresholds: c.thresholds, dynamicShift: c.dynamicShift, pePipeline: c.pePipeline,
                            roundPipeline: c.roundPipeline, requantize: requantize)
        }
        try emit(core: "systolic", c, derived: c.manifestFigures, to: output) { try Systolic.module($0) }
    }
}

struct PEArrayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pe-array",
        abstract: "Spatial PE array for convolution layers, by dataflow: " + Dataflows.all.map { "\($0.dataflow) (\($0.title), \($0.documentation))" }.joined(separator: ", ") + ".",
        discussion: "What each dataflow builds: --format " + Dataflows.formatsByDataflow(\.formats) + ". --dynamic-shift: "
            + Dataflows.offering { $0.dynamicShift } + ". --threshold-output: " + Dataflows.offering { $0.thresholdOutput } + ". --pe-pipeline, --round-pipeline: "
            + Dataflows.offering { $0.pipelining } + ".")

    @OptionGroup var design: ConvDesignOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let d = design.design
        try d.validate()
        try emit(core: design.entry.core, d, derived: d.manifestFigures, to: output) { _ in try d.module() }
    }
}

struct MACCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mac", abstract: "Multiply-accumulate unit: acc <- (clear ? 0 : acc) + a*b when en.")

    @Option(help: "Bits of operand a, 2...32.") var inputBits = 8
    @Option(help: "Fractional bits of a, any integer.") var inputFrac = 0
    @Flag(help: "Operand a is unsigned (default signed).") var inputUnsigned = false
    @Option(help: "Bits of operand b, 2...32 (default: --input-bits).") var weightBits: Int?
    @Option(help: "Fractional bits of b (default: --input-frac).") var weightFrac: Int?
    @Flag(help: "Operand b is unsigned (default signed).") var weightUnsigned = false
    @Option(help: "Declared maximum reduction length K, 1...16777216.") var maxK = 1024
    @Option(help: "Accumulator bits, 2...100 (default: input-bits + weight-bits + ceil(log2 max-k)).") var accBits: Int?
    @OptionGroup var output: OutputOptions

    var config: MACConfig {
        let a = FixedPoint(bits: inputBits, frac: inputFrac, signed: !inputUnsigned)
        let b = FixedPoint(bits: weightBits ?? inputBits, frac: weightFrac ?? inputFrac, signed: !weightUnsigned)
        return MACConfig(a: a, b: b, maxK: maxK, accBits: accBits)
    }

    func run() throws {
        try emit(core: "mac", config, to: output) { try MAC.module($0) }
    }
}

struct LFSRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lfsr", abstract: "Maximal-length Fibonacci LFSR, period 2^width - 1.")

    @Option(help: "State bits, 3...32.") var width = 16
    @Option(help: "Nonzero initial state, 1...2^width-1.") var seed: UInt64 = 1
    @OptionGroup var output: OutputOptions

    func run() throws {
        try emit(core: "lfsr", LFSRConfig(width: width, seed: seed), to: output) { try LFSR.module($0) }
    }
}

struct RounderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rounder", abstract: "ROUND unit: drop LSBs by truncation, nearest-even or stochastic rounding, then saturate.")

    @Option(help: "Accumulator (input) bits, 2...100.") var inputBits = 24
    @Option(help: "Fractional bits of the input, any integer.") var inputFrac = 8
    @Flag(help: "Input is unsigned (default signed).") var inputUnsigned = false
    @Option(help: "Output bits, 2...32.") var outputBits = 8
    @Option(help: "Fractional bits of the output, at most --input-frac.") var outputFrac = 0
    @Flag(help: "Output is unsigned: negative values saturate to 0 (default signed).") var outputUnsigned = false
    @Option(help: "truncate | nearest | stochastic.") var rounding: RoundingMode = .stochastic
    @Option(help: "LFSR bits for stochastic rounding, 3...32 and at least the dropped bits.") var lfsrWidth = 16
    @Option(help: "LFSR seed, 1...2^lfsr-width-1.") var seed: UInt64 = 1
    @Option(help: "How far the LFSR advances per output: one step, or a leap of as many steps as bits are dropped, so that every output draws fresh random bits.") var lfsrStep: LFSRDraw = .leap
    @Option(help: "Pipeline stages, 0...1: 1 registers the rounded quotient and saturates it in the next cycle (two cycles of latency; docs/TIMING.md).")
    var roundPipeline = 0
    @OptionGroup var output: OutputOptions

    func run() throws {
        let c = RounderConfig(input: FixedPoint(bits: inputBits, frac: inputFrac, signed: !inputUnsigned),
                              output: FixedPoint(bits: outputBits, frac: outputFrac, signed: !outputUnsigned),
                              rounding: rounding, lfsr: LFSRConfig(width: lfsrWidth, seed: seed), lfsrStep: lfsrStep, pipeline: roundPipeline)
        try emit(core: "rounder", c, derived: ["latencyCycles": c.latency], to: output) { try Rounder.module($0) }
    }
}

struct PoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Post-processing core after the array: bias, saturation, ReLU, then k x k max or average pooling with stride k, on a stream of values.")

    @Option(help: "Bits of the signed input values (the array's outputs), 2...32.") var inputBits = 8
    @Option(help: "Bits of the signed results, 2...32, or 1: a sign core (1 when the biased value is >= 0, else 0; max or no pooling).") var resultBits = 8
    @Flag(help: "Binary maps: 1-bit values from threshold units, no bias or ReLU, max pooling is an OR.") var binary = false
    @Option(help: "max | average | none.") var pool: PoolMode = .max
    @Option(help: "Window side k (= stride), 2...8 (the average: 2, 4 or 8).") var size = 2
    @Option(help: "Widest plane, a power of two, 2*size...1024.") var maxWidth = 32
    @Option(help: "Tallest plane, size...4096.") var maxHeight = 32
    @OptionGroup var output: OutputOptions

    func run() throws {
        let c = PoolingConfig(inputBits: inputBits, resultBits: resultBits, binary: binary, pool: pool, size: size,
                              maxWidth: maxWidth, maxHeight: maxHeight)
        try emit(core: "pool", c, derived: ["latencyCycles": 1], to: output) { try Pooling.module($0) }
    }
}

/// Validates, elaborates, emits, then writes: errors before the write leave nothing behind.
func emit<C: Encodable>(core: String, _ config: C, derived: [String: Int] = [:], extraFiles: [(name: String, text: String)] = [],
                        to output: OutputOptions, _ build: (C) throws -> ModuleDefinition) throws {
    let device = try output.device()
    let start = Date()
    let out = output.out
    let top = try build(config)
    let files = try DesignWriter.write(core: core, top: top, parameters: config, derived: derived, extraFiles: extraFiles,
                                       to: URL(fileURLWithPath: out))
    let ms = Int(Date().timeIntervalSince(start) * 1000)
    print("wrote \(files.count) files to \(out) (top \(top.name), \(ms) ms)")
    if let device { try placeAndRoute(top, device: device, out: out) }
}

/// `--pnr`: the figures on standard output and in DIR/timing.json; a failure exits 1 with its reason.
func placeAndRoute(_ top: ModuleDefinition, device: Device, out: String) throws {
    let m: PlaceAndRouteMetrics
    do {
        m = try PlaceAndRoute.metrics(for: top, options: .init(device: device))
    } catch {
        FileHandle.standardError.write(Data("generate-rtl: place and route failed: \(error)\n".utf8))
        throw ExitCode(1)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var stored = m
    stored.cached = nil
    try (encoder.encode(stored) + Data("\n".utf8)).write(to: URL(fileURLWithPath: out).appendingPathComponent("timing.json"))
    print(PlaceAndRoute.summary(m))
    if m.notApplicable != nil { throw ExitCode(1) }
}

let front = CommandLineFront(GenerateRTL.self, tool: "generate-rtl", subcommandNoun: "core")
var command = front.parse()
front.run {
    do {
        try command.run()
    } catch let e as OutputFolderError {
        front.refuse("invalid value \(e.path) for --out: \(e.reason)")
    } catch let e as ElaborationError {
        front.refuse(e.description.replacingOccurrences(of: "\n", with: "; "))
    }
}
