import Conv
import Cores
import Dataflows
import Cosim
import Golden
import HDL
import Model
import Runtime
import Testing
import Verification
import Verilog
import TestTags

/// Output stationary co-simulated: each design runs several layers (one Verilator build per
/// design); every output is compared with ConvModel + RounderModel, the array's counters with
/// the mapper's, and the measured cycles with the mapper's formula.
@Suite(.serialized, .tags(.verilator, .synthesis)) struct OutputStationaryTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let config: ArrayConfig
        /// Layer and the fraction of zero activations in its random input.
        let layers: [(ConvShape, Double)]
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "2x2 stochastic, gating on", config: ArrayConfig(rows: 2, cols: 2, rounding: .stochastic, seed: 77, zeroGating: true),
             layers: [(Presets.small[0].shape, 0.3),                        // R=S=3, stride 1, padding 1, M = 3
                      (Presets.small[1].shape, 0.0),                        // stride 2, batch 2
                      (ConvShape(channels: 9, filters: 5, height: 4, width: 5, filterHeight: 1, filterWidth: 1, stride: 2), 0.5)]),
        Case(label: "3x3 nearest, gating off, ReLU", config: ArrayConfig(rows: 3, cols: 3, rounding: .nearest, zeroGating: false, relu: true),
             layers: [(Presets.small[2].shape, 0.5),                        // R=S=5, padding 2, M = 4
                      (Presets.small[0].shape, 0.0)]),
        Case(label: "4x3 truncate, gating on, ReLU, s6.1 output",
             config: ArrayConfig(rows: 4, cols: 3, output: FixedPoint(bits: 6, frac: 1), rounding: .truncate, zeroGating: true, relu: true),
             layers: [(Presets.small[4].shape, 0.6),                        // C = 6, M = 5, R=S=5
                      (Presets.small[3].shape, 0.2)]),                      // 11×11, stride 4
    ]

    static func check(_ run: ConvRun, _ mapper: OutputStationaryMapper, _ what: String) {
        #expect(run.mismatches == 0, "\(what): \(run.firstMismatch ?? "")")
        #expect(run.got == run.expected, "\(what)")
        #expect(run.hardwareCounts == run.analyticCounts, "\(what)")
        #expect(run.cycles == mapper.cycles(run.shape), "\(what)")
    }

    @Test(arguments: cases)
    func layersMatchGoldenCountsAndCycles(_ c: Case) throws {
        let engine = try OutputStationaryEngine(config: c.config)
        for (index, (shape, sparsity)) in c.layers.enumerated() {
            let (input, weights) = ConvStimulus.random(shape, activation: c.config.a, weight: c.config.b,
                                                       sparsity: sparsity, seed: UInt64(index + 1))
            let run = try engine.run(shape, input: input, weights: weights)
            Self.check(run, engine.mapper, "\(c.label), layer \(index)")
            #expect(run.hardwareCounts.gatedMACs > 0 || !c.config.zeroGating)
            #expect(run.hardwareCounts.gatedMACs == 0 || c.config.zeroGating)
            if c.config.relu { #expect(run.got.allSatisfy { $0 >= 0 } && run.got.contains(0)) }
            // Extremes saturate at both ends (at 0 with ReLU), on the same array.
            let (xi, xw) = ConvStimulus.extremes(shape, activation: c.config.a, weight: c.config.b, seed: 9)
            let extreme = try engine.run(shape, input: xi, weights: xw)
            Self.check(extreme, engine.mapper, "\(c.label), layer \(index), extremes")
            #expect(extreme.expected.contains(Int(c.config.output.golden.maxInt)))
            #expect(extreme.expected.contains(c.config.relu ? 0 : Int(c.config.output.golden.minInt)))
        }
    }

    /// The same sparse layer with gating on and off: identical outputs, and the gated MACs are
    /// exactly the performed MACs that gating removes.
    @Test func gatingChangesCountsNotResults() throws {
        let shape = Presets.small[0].shape
        let (input, weights) = ConvStimulus.random(shape, activation: FixedPoint(bits: 8, frac: 6), weight: FixedPoint(bits: 8, frac: 6),
                                                   sparsity: 0.5, seed: 5)
        var runs: [ConvRun] = []
        for gating in [true, false] {
            let config = ArrayConfig(rows: 2, cols: 2, rounding: .stochastic, seed: 77, zeroGating: gating)
            let engine = try OutputStationaryEngine(config: config)
            let run = try engine.run(shape, input: input, weights: weights)
            Self.check(run, engine.mapper, "gating \(gating)")
            runs.append(run)
        }
        #expect(runs[0].got == runs[1].got)
        #expect(runs[0].hardwareCounts.gatedMACs > 0 && runs[1].hardwareCounts.gatedMACs == 0)
        #expect(runs[0].hardwareCounts.macs + runs[0].hardwareCounts.gatedMACs == runs[1].hardwareCounts.macs)
        #expect(runs[0].hardwareCounts.bufferReads == runs[1].hardwareCounts.bufferReads)
        let config = ArrayConfig(rows: 2, cols: 2, rounding: .stochastic, seed: 77)
        let energy = runs.map { EnergyModel(Datapath(config)).estimate($0.hardwareCounts, layerMACs: shape.macs) }
        #expect(energy[0].totalPicojoules < energy[1].totalPicojoules)
    }

    /// The engine's expected outputs (ConvModel + per-column RounderModels) equal the systolic
    /// array's GEMM model run on the im2col matrices: two independent golden paths agree.
    @Test func expectedEqualsSystolicModelOnIm2col() throws {
        let shape = Presets.small[1].shape
        let config = ArrayConfig(rows: 2, cols: 2, rounding: .stochastic, seed: 77, zeroGating: true)
        let (input, weights) = ConvStimulus.random(shape, activation: config.a, weight: config.b, sparsity: 0.2, seed: 3)
        let run = try OutputStationaryEngine(config: config).run(shape, input: input, weights: weights)
        var model = SystolicModel(rows: 2, cols: 2, a: config.a.golden, b: config.b.golden, output: config.output.golden,
                                  mode: .stochastic, lfsrWidth: config.lfsrWidth, seed: config.seed)
        let c = model.gemm(a: ConvModel.im2col(shape, input: input), b: ConvModel.filterMatrix(shape, weights: weights)).c
        let plane = shape.outHeight * shape.outWidth
        for row in 0..<c.rows {
            for m in 0..<shape.filters {
                #expect(Int128(run.expected[shape.outputIndex(n: row / plane, m: m, e: row % plane / shape.outWidth, f: row % shape.outWidth)]) == c[row, m])
            }
        }
        #expect(run.mismatches == 0)
    }

    /// The opt-in systolic extras emit clean Verilog: gating, counters and ReLU together, counters
    /// without gating on a 1×1 array, and ReLU on an unsigned output (where it is a no-op).
    @Test(arguments: [
        ArrayConfig(rows: 2, cols: 3, zeroGating: true, relu: true),
        ArrayConfig(rows: 1, cols: 1, rounding: .nearest, zeroGating: false, relu: true),
        ArrayConfig(rows: 2, cols: 2, a: FixedPoint(bits: 16, frac: 8), output: FixedPoint(bits: 16, frac: 8, signed: false), rounding: .truncate, zeroGating: true, relu: true),
    ])
    func extrasLintAndSynthesize(_ config: ArrayConfig) throws {
        let c = OutputStationaryMapper(config: config).config
        #expect(c.counters && c.zeroGating == config.zeroGating && c.relu == config.relu)
        let top = try Systolic.module(c)
        let sources = Dictionary(uniqueKeysWithValues: try VerilogEmitter.emit(top).map { ($0.fileName, $0.text) })
        try Lint.verilator(sources: sources, top: top.name)
        #expect(try Synthesis.yosys(sources: sources, top: top.name).totalCells > 0)
    }
}
