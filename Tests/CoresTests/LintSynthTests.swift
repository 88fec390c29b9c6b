import Cores
import Cosim
import HDL
import Testing
import Verification
import Verilog
import TestTags

/// Every core, in a spread of configurations, passes `verilator --lint-only -Wall` with no
/// warnings and synthesizes with yosys.
@Suite("Cores lint and synthesize", .tags(.verilator, .synthesis))
struct LintSynthTests {
    static let designs: [(String, @Sendable () throws -> ModuleDefinition)] = [
        ("mac s8 x s8", { try MAC.module(MACConfig()) }),
        ("mac u8 x u8", { try MAC.module(MACConfig(a: FixedPoint(bits: 8, signed: false))) }),
        ("mac s8 x u4", { try MAC.module(MACConfig(a: FixedPoint(bits: 8), b: FixedPoint(bits: 4, signed: false))) }),
        ("mac s2 x s2", { try MAC.module(MACConfig(a: FixedPoint(bits: 2))) }),
        ("mac s32 x s32, 80-bit acc", { try MAC.module(MACConfig(a: FixedPoint(bits: 32, frac: 16), maxK: 65536)) }),
        ("mac s16 x s16, narrow acc", { try MAC.module(MACConfig(a: FixedPoint(bits: 16, frac: 8), accBits: 20)) }),
        ("lfsr 3", { try LFSR.module(LFSRConfig(width: 3, seed: 5)) }),
        ("lfsr 16", { try LFSR.module(LFSRConfig()) }),
        ("lfsr 32", { try LFSR.module(LFSRConfig(width: 32, seed: 0xDEAD_BEEF)) }),
        ("lfsr 16, leap 10", { try LFSR.module(LFSRConfig(steps: 10)) }),
        ("lfsr 3, leap 3", { try LFSR.module(LFSRConfig(width: 3, seed: 5, steps: 3)) }),
        ("lfsr 32, leap 32", { try LFSR.module(LFSRConfig(width: 32, seed: 0xDEAD_BEEF, steps: 32)) }),
        ("rounder truncate", { try Rounder.module(RounderConfig(rounding: .truncate)) }),
        ("rounder nearest", { try Rounder.module(RounderConfig(rounding: .nearest)) }),
        ("rounder stochastic", { try Rounder.module(RounderConfig(rounding: .stochastic)) }),
        ("rounder stochastic, one LFSR step", { try Rounder.module(RounderConfig(rounding: .stochastic, lfsrStep: .one)) }),
        ("rounder stochastic, default array's (D = 10)", { try Rounder.module(ArrayConfig().rounder(column: 0)) }),
        ("rounder D=0", { try Rounder.module(RounderConfig(input: FixedPoint(bits: 12, frac: 4), output: FixedPoint(bits: 8, frac: 4), rounding: .nearest)) }),
        ("rounder signed to unsigned", { try Rounder.module(RounderConfig(output: FixedPoint(bits: 8, signed: false), rounding: .nearest)) }),
        ("rounder 100-bit input", { try Rounder.module(RounderConfig(input: FixedPoint(bits: 100, frac: 30), output: FixedPoint(bits: 32, frac: 8), rounding: .stochastic, lfsr: LFSRConfig(width: 24, seed: 3))) }),
    ]

    @Test("lint -Wall clean and yosys synth", arguments: designs.indices)
    func lintAndSynth(_ i: Int) throws {
        let (label, make) = Self.designs[i]
        let top = try make()
        let files = try VerilogEmitter.emit(top)
        let sources = Dictionary(uniqueKeysWithValues: files.map { ($0.fileName, $0.text) })
        try Lint.verilator(sources: sources, top: top.name)
        let report = try Synthesis.yosys(sources: sources, top: top.name)
        #expect(report.totalCells > 0, "\(label): yosys produced no cells")
    }

    @Test("the same configuration emits the same bytes")
    func deterministic() throws {
        for (_, make) in Self.designs {
            let a = try VerilogEmitter.emit(try make())
            let b = try VerilogEmitter.emit(try make())
            #expect(a == b)
        }
    }

    @Test("a MAC is one multiplier and one adder feeding a register")
    func macStructure() throws {
        let report = try Synthesis.yosys(sources: Dictionary(uniqueKeysWithValues: try VerilogEmitter.emit(try MAC.module(MACConfig())).map { ($0.fileName, $0.text) }),
                                         top: MACConfig().moduleName, script: "synth -run begin:fine")
        // yosys's coarse pass folds the multiply into $macc and the adder into $alu.
        #expect(report.cells["$macc"] == 1)
        #expect(report.cells["$alu"] == 1)
        // The accumulator: synchronous reset, enabled by `en | clear` (the DSP48's CE).
        #expect(report.cells["$sdffe"] == 1)
    }
}

@Suite("Systolic array lints and synthesizes", .tags(.verilator, .synthesis))
struct SystolicLintTests {
    @Test("lint -Wall clean and yosys synth", arguments: [
        ArrayConfig(rows: 2, cols: 3, rounding: .stochastic),
        ArrayConfig(rows: 1, cols: 1, rounding: .nearest),
        ArrayConfig(rows: 4, cols: 4, a: FixedPoint(bits: 16, frac: 8), output: FixedPoint(bits: 16, frac: 8), rounding: .truncate),
    ])
    func lintAndSynth(_ c: ArrayConfig) throws {
        let top = try Systolic.module(c)
        let sources = Dictionary(uniqueKeysWithValues: try VerilogEmitter.emit(top).map { ($0.fileName, $0.text) })
        try Lint.verilator(sources: sources, top: top.name)
        #expect(try Synthesis.yosys(sources: sources, top: top.name).totalCells > 0)
    }
}
