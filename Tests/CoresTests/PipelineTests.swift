import Cores
import Cosim
import Foundation
import Golden
import Runtime
import Testing
import Verification
import Verilog
import TestTags

/// The pipelining options (docs/TIMING.md): the same results as the unpipelined array, bit for
/// bit, each stage one cycle later. In process, so the fast lane runs them.
@Suite("Pipelined PEs and ROUND units in process")
struct PipelineInProcessTests {
    /// Every option on small arrays, across the PE's forms (fixed point, zero-gated ternary,
    /// binary with thresholds, codebook with a dynamic shift, counters).
    static let designs: [ArrayConfig] = [
        ArrayConfig(rows: 2, cols: 3, rounding: .stochastic, pePipeline: 1),
        ArrayConfig(rows: 3, cols: 2, rounding: .stochastic, pePipeline: 2),
        ArrayConfig(rows: 2, cols: 3, rounding: .stochastic, roundPipeline: 1),
        ArrayConfig(rows: 3, cols: 3, rounding: .nearest, counters: true, pePipeline: 2, roundPipeline: 1),
        ArrayConfig(rows: 3, cols: 2, rounding: .nearest, zeroGating: true, format: .ternary, pePipeline: 1, roundPipeline: 1),
        ArrayConfig(rows: 2, cols: 2, format: .binary, thresholds: true, pePipeline: 2),
        ArrayConfig(rows: 2, cols: 2, rounding: .stochastic, format: .codebook(indexBits: 3), dynamicShift: true, pePipeline: 1, roundPipeline: 1),
        ArrayConfig(rows: 1, cols: 1, a: FixedPoint(bits: 4, frac: 0), output: FixedPoint(bits: 4, frac: 0, signed: false),
                    rounding: .truncate, pePipeline: 2, roundPipeline: 1),
    ]

    @Test("random and corner GEMMs match the golden model; cycles are the unpipelined count plus one per stage", arguments: designs)
    func gemms(_ c: ArrayConfig) throws {
        let h = try GEMMCheck(c, initialState: .random(seed: 21), backend: .inProcess)
        var g = SplitMix64(seed: 5)
        for (m, n, k) in [(1, 1, 1), (c.rows, c.cols, 3), (2 * c.rows + 1, c.cols + 1, 5), (c.rows + 1, 2 * c.cols, 1)] {
            let (a, b) = h.random(m: m, k: k, n: n, using: &g)
            let slow = try h.run(label: "\(m)x\(k)x\(n) slow consumer", a: a, b: b, ready: .random(probability: 0.4, seed: 6))
            #expect(slow.passed, "\(slow.label): \(slow.firstMismatch ?? "")")
            let always = try h.run(label: "\(m)x\(k)x\(n)", a: a, b: b)
            #expect(always.passed, "\(always.label): \(always.firstMismatch ?? "")")
            let golden = SystolicModel.cycles(rows: c.rows, cols: c.cols, m: m, n: n, k: k, peStages: c.pePipeline, roundStages: c.roundPipeline)
            #expect(always.cycles == golden, "\(always.label): measured \(always.cycles) cycles, golden \(golden)")
            #expect(c.expectedCycles(m: m, n: n, k: k) == golden)
        }
        let (ca, cb) = h.cornerCase(m: 2 * c.rows, k: 6, n: c.cols + 2, seed: 3)
        let corner = try h.run(label: "corner", a: ca, b: cb)
        #expect(corner.passed, "corner: \(corner.firstMismatch ?? "")")
    }

    /// The same GEMM through the pipelined and the plain array: the same C, and every row of C
    /// exactly `pipelineLatency` cycles later.
    @Test("each stage delays every row of C by exactly one cycle", arguments: [(1, 0), (2, 0), (0, 1), (2, 1)])
    func latency(_ stages: (pe: Int, round: Int)) throws {
        let plain = ArrayConfig(rows: 3, cols: 2, rounding: .stochastic, seed: 5)
        var piped = plain
        (piped.pePipeline, piped.roundPipeline) = (stages.pe, stages.round)
        var g = SplitMix64(seed: 17)
        let a = SystolicHarness.random(rows: 7, cols: 4, plain.a.golden, &g)
        let b = SystolicHarness.random(rows: 4, cols: 5, plain.b.golden, &g)
        let runs = try [plain, piped].map { c in
            try SystolicHarness(c, initialState: .random(seed: 2), backend: .inProcess).deliver(a: a, b: b)
        }
        #expect(runs[0].c == runs[1].c)
        #expect(runs[0].problems.isEmpty && runs[1].problems.isEmpty)
        #expect(runs[0].result.acceptCycles == runs[1].result.acceptCycles)
        let delays = zip(runs[0].rowCycles, runs[1].rowCycles).map { p, q in q.flatMap { q in p.map { q - $0 } } }
        #expect(delays.allSatisfy { $0 == stages.pe + stages.round }, "row delays \(delays)")
    }

    /// Random power-up states, then a reset of one or two cycles at many points of a GEMM
    /// (operands in the skew lines and product registers, sums in the accumulators, rows in the
    /// ROUND stages and the FIFO); every GEMM after a reset is exact.
    @Test("one-cycle reset at any point, from random power-up states", arguments: [
        ArrayConfig(rows: 4, cols: 3, pePipeline: 1, roundPipeline: 1),
        ArrayConfig(rows: 3, cols: 4, pePipeline: 2, roundPipeline: 1),
        ArrayConfig(rows: 3, cols: 3, zeroGating: true, format: .ternary, pePipeline: 2),
    ])
    func resetAnywhere(_ c: ArrayConfig) throws {
        for seed in [1, 2, 3] as [UInt32] {
            let h = try GEMMCheck(c, record: false, initialState: .random(seed: seed), backend: .inProcess)
            var g = SplitMix64(seed: UInt64(seed))
            let (a, b) = h.random(m: 2 * c.rows, k: 9, n: c.cols + 1, using: &g)
            let first = try h.run(label: "after power-up \(seed)", a: a, b: b)
            #expect(first.passed, "power-up \(seed): \(first.firstMismatch ?? "")")
            for point in 1...(c.lastBeatToFirstRow + c.rows + 3) {
                try h.abandon(a: a, b: b, after: point)
                try h.reset(cycles: point % 5 == 0 ? 2 : 1)
                let (a2, b2) = h.random(m: c.rows + 1, k: 3, n: c.cols, using: &g)
                let r = try h.run(label: "reset at \(point)", a: a2, b: b2)
                #expect(r.passed, "seed \(seed), reset at \(point): \(r.firstMismatch ?? "")")
            }
        }
    }

    /// The two-stage ROUND unit against the golden unit with one stage more: every rounding
    /// mode, signed and unsigned, narrow and wide, a dynamic shift, random resets.
    static let rounders: [RounderConfig] = RoundingMode.allCases.map { RounderConfig(rounding: $0, pipeline: 1) } + [
        RounderConfig(input: FixedPoint(bits: 28, frac: 12), output: FixedPoint(bits: 8, frac: 2), rounding: .stochastic, pipeline: 1),
        RounderConfig(output: FixedPoint(bits: 8, signed: false), rounding: .nearest, pipeline: 1),
        RounderConfig(input: FixedPoint(bits: 20, frac: 6, signed: false), output: FixedPoint(bits: 8, frac: 0), rounding: .stochastic, pipeline: 1),
        RounderConfig(input: FixedPoint(bits: 20, frac: 6, signed: false), output: FixedPoint(bits: 8, frac: 0, signed: false), rounding: .truncate, pipeline: 1),
        RounderConfig(input: FixedPoint(bits: 10, frac: 4), output: FixedPoint(bits: 12, frac: 4), rounding: .nearest, pipeline: 1),  // nothing saturates
        RounderConfig(input: FixedPoint(bits: 10, frac: 4), output: FixedPoint(bits: 12, frac: 4, signed: false), rounding: .truncate, pipeline: 1),
        RounderConfig(input: FixedPoint(bits: 72, frac: 20), output: FixedPoint(bits: 16, frac: 4), rounding: .stochastic,
                      lfsr: LFSRConfig(width: 17, seed: 0x1ACE), pipeline: 1),
        RounderConfig(rounding: .stochastic, lfsrStep: .one, pipeline: 1),
        RounderConfig(input: FixedPoint(bits: 28, frac: 12), output: FixedPoint(bits: 8, frac: 2), rounding: .stochastic, dynamicShift: true, pipeline: 1),
    ]

    @Test("two-stage ROUND unit matches the golden unit, from random states, with random resets", arguments: rounders)
    func rounder(_ c: RounderConfig) throws {
        for state in [InitialState.random(seed: 4), .random(seed: 5)] {
            let r = try RounderCheck.run(c, randomCycles: 4000, seed: 13, initialState: state, backend: .inProcess)
            #expect(r.passed, "\(r)")
            #expect(r.comparisons > 8000)
        }
    }

    /// The golden check itself: a one-stage unit compared as if it had two stages must fail,
    /// so the check tells the latencies apart.
    @Test("the ROUND check tells one stage from two")
    func rounderCheckSeesLatency() throws {
        var c = RounderConfig(rounding: .nearest)
        let top = try Rounder.module(c)
        c.pipeline = 1
        #expect(try Rounder.module(c).name != top.name)
        let r = try RounderCheck.run(c, randomCycles: 200, backend: .inProcess, module: top)
        #expect(!r.passed)
    }
}

/// The options in Verilator: an 8×8 array with both, and the ROUND unit.
@Suite("Pipelined array in Verilator", .tags(.verilator))
struct PipelineVerilatorTests {
    @Test("8x8 with PE and ROUND stages: random, corner and reset GEMMs, cycles")
    func array() throws {
        let c = ArrayConfig(pePipeline: 2, roundPipeline: 1)
        let h = try GEMMCheck(c, record: false, initialState: .random(seed: 8))
        var g = SplitMix64(seed: 9)
        for (m, n, k) in [(8, 8, 8), (17, 9, 19), (3, 20, 1)] {
            let (a, b) = h.random(m: m, k: k, n: n, using: &g)
            let r = try h.run(label: "\(m)x\(k)x\(n)", a: a, b: b)
            #expect(r.passed, "\(r.label): \(r.firstMismatch ?? "")")
            #expect(r.cycles == SystolicModel.cycles(rows: 8, cols: 8, m: m, n: n, k: k, peStages: 2, roundStages: 1))
        }
        let (ca, cb) = h.cornerCase(m: 16, k: 12, n: 8, seed: 4)
        let corner = try h.run(label: "corner", a: ca, b: cb)
        #expect(corner.passed, "corner: \(corner.firstMismatch ?? "")")
        for point in [1, 5, 12, 20, 26, 33] {
            let (a, b) = h.random(m: 16, k: 10, n: 8, using: &g)
            try h.abandon(a: a, b: b, after: point)
            try h.reset()
            let r = try h.run(label: "reset at \(point)", a: a, b: b)
            #expect(r.passed, "reset at \(point): \(r.firstMismatch ?? "")")
        }
    }

    /// Pipelined arrays across the PE's forms pass `verilator --lint-only -Wall` and synthesize.
    @Test("pipelined arrays lint clean and synthesize", .tags(.synthesis), arguments: [
        ArrayConfig(rows: 3, cols: 2, pePipeline: 1, roundPipeline: 1),
        ArrayConfig(rows: 2, cols: 3, rounding: .nearest, zeroGating: true, counters: true, format: .ternary, pePipeline: 2),
        ArrayConfig(rows: 2, cols: 2, format: .binary, thresholds: true, pePipeline: 2),
        ArrayConfig(rows: 2, cols: 2, format: .codebook(indexBits: 2), dynamicShift: true, pePipeline: 1, roundPipeline: 1),
    ])
    func lintAndSynth(_ c: ArrayConfig) throws {
        let top = try Systolic.module(c)
        let sources = Dictionary(uniqueKeysWithValues: try VerilogEmitter.emit(top).map { ($0.fileName, $0.text) })
        try Lint.verilator(sources: sources, top: top.name)  // throws on any warning
        let report = try Synthesis.yosys(sources: sources, top: top.name)
        #expect(report.totalCells > 0)
    }

    @Test("a stream of values through the two-stage ROUND unit: the one-stage golden unit's results, in order")
    func rounderStream() throws {
        let c = RounderConfig(input: FixedPoint(bits: 24, frac: 8), output: FixedPoint(bits: 16, frac: 0), rounding: .stochastic, pipeline: 1)
        var g = SplitMix64(seed: 12)
        let xs = (0..<2000).map { _ in Int128.random(in: c.input.golden.minInt...c.input.golden.maxInt, using: &g) }
        var model = RounderModel(input: c.input.golden, output: c.output.golden, mode: .stochastic, lfsrWidth: 16, seed: 1)
        let expected = xs.map { x -> Int128 in model.clock(valid: true, x: x); return model.out }
        #expect(try RounderCheck.outputs(c, for: xs) == expected)
    }

    @Test("two-stage ROUND unit in Verilator", arguments: [RounderConfig(rounding: .stochastic, pipeline: 1),
                                                          RounderConfig(rounding: .nearest, dynamicShift: true, pipeline: 1)])
    func rounder(_ c: RounderConfig) throws {
        let r = try RounderCheck.run(c, randomCycles: 5000, initialState: .random(seed: 3))
        #expect(r.passed, "\(r)")
    }
}
