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
    /// Each design with its flip-flops, counted by hand from the cores' contracts: a MAC's
    /// accumulator (a + b bits plus ceil(log2 maxK)), an LFSR's state, a ROUND unit's output
    /// register and valid bit plus its LFSR when stochastic.
    static let designs: [(String, Int, @Sendable () throws -> ModuleDefinition)] = [
        ("mac s8 x s8", 26, { try MAC.module(MACConfig()) }),
        ("mac u8 x u8", 26, { try MAC.module(MACConfig(a: FixedPoint(bits: 8, signed: false))) }),
        ("mac s8 x u4", 22, { try MAC.module(MACConfig(a: FixedPoint(bits: 8), b: FixedPoint(bits: 4, signed: false))) }),
        ("mac s2 x s2", 14, { try MAC.module(MACConfig(a: FixedPoint(bits: 2))) }),
        ("mac s32 x s32, 80-bit acc", 80, { try MAC.module(MACConfig(a: FixedPoint(bits: 32, frac: 16), maxK: 65536)) }),
        ("mac s16 x s16, narrow acc", 20, { try MAC.module(MACConfig(a: FixedPoint(bits: 16, frac: 8), accBits: 20)) }),
        ("lfsr 3", 3, { try LFSR.module(LFSRConfig(width: 3, seed: 5)) }),
        ("lfsr 16", 16, { try LFSR.module(LFSRConfig()) }),
        ("lfsr 32", 32, { try LFSR.module(LFSRConfig(width: 32, seed: 0xDEAD_BEEF)) }),
        ("lfsr 16, leap 10", 16, { try LFSR.module(LFSRConfig(steps: 10)) }),
        ("lfsr 3, leap 3", 3, { try LFSR.module(LFSRConfig(width: 3, seed: 5, steps: 3)) }),
        ("lfsr 32, leap 32", 32, { try LFSR.module(LFSRConfig(width: 32, seed: 0xDEAD_BEEF, steps: 32)) }),
        ("rounder truncate", 9, { try Rounder.module(RounderConfig(rounding: .truncate)) }),
        ("rounder nearest", 9, { try Rounder.module(RounderConfig(rounding: .nearest)) }),
        ("rounder stochastic", 25, { try Rounder.module(RounderConfig(rounding: .stochastic)) }),
        ("rounder stochastic, one LFSR step", 25, { try Rounder.module(RounderConfig(rounding: .stochastic, lfsrStep: .one)) }),
        ("rounder stochastic, default array's (D = 10)", 25, { try Rounder.module(ArrayConfig().rounder(column: 0)) }),
        ("rounder D=0", 9, { try Rounder.module(RounderConfig(input: FixedPoint(bits: 12, frac: 4), output: FixedPoint(bits: 8, frac: 4), rounding: .nearest)) }),
        ("rounder signed to unsigned", 9, { try Rounder.module(RounderConfig(output: FixedPoint(bits: 8, signed: false), rounding: .nearest)) }),
        // Two stages: the rounded quotient (17 bits for s24f8 -> s8f0) and its valid bit more.
        ("rounder stochastic, two stages", 43, { try Rounder.module(RounderConfig(rounding: .stochastic, pipeline: 1)) }),
        ("rounder nearest, two stages", 27, { try Rounder.module(RounderConfig(rounding: .nearest, pipeline: 1)) }),
        ("rounder 100-bit input", 57, { try Rounder.module(RounderConfig(input: FixedPoint(bits: 100, frac: 30), output: FixedPoint(bits: 32, frac: 8), rounding: .stochastic, lfsr: LFSRConfig(width: 24, seed: 3))) }),
    ]

    @Test("lint -Wall clean and yosys synth", arguments: designs.indices)
    func lintAndSynth(_ i: Int) throws {
        let (label, flops, make) = Self.designs[i]
        let top = try make()
        let files = try VerilogEmitter.emit(top)
        let sources = Dictionary(uniqueKeysWithValues: files.map { ($0.fileName, $0.text) })
        try Lint.verilator(sources: sources, top: top.name)  // throws on any warning
        let report = try Synthesis.yosys(sources: sources, top: top.name)
        // Synthesis keeps every register bit of the contract and adds none.
        #expect(Self.flipFlops(report) == flops, "\(label): \(report.cells)")
        #expect(report.totalCells > flops, "\(label): no logic beside the registers")
    }

    /// Flip-flops of a generic `synth`: its `$_DFF…`, `$_SDFF…` and `$_DFFE…` cells.
    static func flipFlops(_ report: SynthesisReport) -> Int {
        report.cells.filter { $0.key.contains("DFF") }.values.reduce(0, +)
    }

    @Test("the same configuration emits the same bytes")
    func deterministic() throws {
        for (_, _, make) in Self.designs {
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
        try Lint.verilator(sources: sources, top: top.name)  // throws on any warning
        // The elaborated design (before yosys maps anything): one multiplier per PE, no other.
        let elaborated = try Synthesis.yosys(sources: sources, top: top.name, script: "synth -run begin:coarse")
        #expect(elaborated.cells["$mul"] == c.rows * c.cols, "\(elaborated.cells)")
        // Every PE holds its running sum and the sum it captured on a tile's last beat (double
        // buffering): at least those flip-flops survive synthesis.
        let full = try Synthesis.yosys(sources: sources, top: top.name)
        #expect(LintSynthTests.flipFlops(full) >= c.rows * c.cols * 2 * c.accBits, "\(full.cells)")
    }
}
