import Conv
import Cores
import Dataflows
import Cosim
import Foundation
import Golden
import HDL
import Model
import Runtime
import Testing
import Verification
import Verilog
import TestTags

/// The weight-stationary array (docs/dataflows/WS.md) co-simulated against the golden model:
/// every output bit-exact, the hardware event counters equal to the mapper's closed forms and
/// the hardware cycles equal to the mapper's formula, on every run.
@Suite("Weight-stationary array", .tags(.verilator, .synthesis))
struct WeightStationaryTests {
    /// 3×3 by default so that neither C·R·S nor M of the layers is a multiple of the array.
    static func config(rows: Int = 3, cols: Int = 3, rounding: RoundingMode = .stochastic, relu: Bool = false,
                       zeroGating: Bool = true, psum: Int = 16) -> WeightStationaryConfig {
        WeightStationaryConfig(ArrayConfig(rows: rows, cols: cols, maxK: 512, rounding: rounding, seed: 0x2B, zeroGating: zeroGating, relu: relu), psumRegisters: psum)
    }

    /// Runs one layer and checks outputs, counts and cycles; returns the run for further checks.
    @discardableResult
    static func check(_ config: WeightStationaryConfig, _ shape: ConvShape, sparsity: Double = 0.2, seed: UInt64 = 7,
                      tensors: (input: [Int], weights: [Int])? = nil) throws -> ConvRun {
        let (input, weights) = tensors ?? ConvStimulus.random(shape, activation: config.a, weight: config.b,
                                                              sparsity: sparsity, seed: seed)
        let run = try WeightStationaryEngine(config: config).run(shape, input: input, weights: weights)
        #expect(run.mismatches == 0, "\(run.firstMismatch ?? "") waveform \(run.waveform ?? "none")")
        #expect(run.got == run.expected)
        #expect(run.hardwareCounts == run.analyticCounts)
        #expect(run.cycles == WeightStationaryMapper(config: config).cycles(shape))
        #expect(run.hardwareCounts.macs + run.hardwareCounts.gatedMACs == shape.macs)
        return run
    }

    static let layers: [ConvShape] = [
        // 3×3, padding 1, stride 1: C·R·S = 18, M = 4 against a 3×3 array.
        ConvShape(channels: 2, filters: 4, height: 5, width: 5, filterHeight: 3, filterWidth: 3, padding: 1),
        // Batch 2, stride 2, padding 1.
        ConvShape(batch: 2, channels: 3, filters: 5, height: 7, width: 7, filterHeight: 3, filterWidth: 3, stride: 2, padding: 1),
        // 5×5, padding 2.
        ConvShape(channels: 2, filters: 2, height: 6, width: 6, filterHeight: 5, filterWidth: 5, padding: 2),
        // 1×1, stride 2: one reduction fold per 3 channels.
        ConvShape(batch: 2, channels: 5, filters: 7, height: 6, width: 5, filterHeight: 1, filterWidth: 1, stride: 2),
        // AlexNet CONV1's 11×11 / 4 in miniature: C·R·S = 363.
        ConvShape(channels: 3, filters: 4, height: 15, width: 15, filterHeight: 11, filterWidth: 11, stride: 4),
    ]

    @Test("layers: stride 1 and 2, 1x1 to 11x11, padding, batch 2", arguments: layers.indices)
    func layer(_ i: Int) throws {
        try Self.check(Self.config(), Self.layers[i], seed: UInt64(i + 1))
    }

    @Test("every rounding mode, on array shapes 4x2 (short position blocks), 1x2 and 2x1", arguments: [
        (RoundingMode.stochastic, 4, 2, 5), (.truncate, 1, 2, 16), (.nearest, 2, 1, 3),
    ])
    func roundingAndShapes(_ mode: RoundingMode, _ rows: Int, _ cols: Int, _ psum: Int) throws {
        // Blocks of 5 (or 3) positions: P is not a multiple, and the last block is shorter than
        // the array, so the next fold waits for the weight load (fold period max(L, rows, cols)).
        let config = Self.config(rows: rows, cols: cols, rounding: mode, psum: psum)
        let shape = Self.layers[1]
        let run = try Self.check(config, shape, seed: 11)
        #expect(run.hardwareCounts.registerFileWrites == WeightStationaryMapper(config: config).plan(shape).blocks * shape.weightCount)
    }

    @Test("saturation at both ends (most-negative × most-negative and against the maximum)")
    func saturation() throws {
        let config = Self.config()
        let shape = Self.layers[0]
        let tensors = ConvStimulus.extremes(shape, activation: config.a, weight: config.b, seed: 5)
        let run = try Self.check(config, shape, tensors: tensors)
        let out = config.output.golden
        #expect(run.expected.contains(Int(out.maxInt)))
        #expect(run.expected.contains(Int(out.minInt)))
    }

    @Test("ReLU zeroes exactly the negative outputs of the same design without it")
    func relu() throws {
        let shape = Self.layers[1]
        let plain = try Self.check(Self.config(), shape, seed: 9)
        let rectified = try Self.check(Self.config(relu: true), shape, seed: 9)
        #expect(plain.got.contains { $0 < 0 })
        #expect(rectified.got == plain.got.map { max(0, $0) })
    }

    @Test("sparse input: gating on and off give the same outputs; gated MACs are the zero activations' MACs")
    func zeroGating() throws {
        let shape = Self.layers[1]
        let config = Self.config()
        let tensors = ConvStimulus.random(shape, activation: config.a, weight: config.b, sparsity: 0.6, seed: 13)
        #expect(tensors.input.filter { $0 == 0 }.count * 2 >= shape.inputCount)
        let gated = try Self.check(config, shape, tensors: tensors)
        var ungatedConfig = config
        ungatedConfig.zeroGating = false
        let ungated = try Self.check(ungatedConfig, shape, tensors: tensors)

        // Zero entries of the im2col matrix (padding included), each multiplied by M filters.
        let im2col = ConvModel.im2col(shape, input: tensors.input)
        let zeroTerms = im2col.elements.filter { $0 == 0 }.count
        #expect(gated.got == ungated.got)
        #expect(gated.hardwareCounts.gatedMACs == zeroTerms * shape.filters)
        #expect(gated.hardwareCounts.gatedMACs * 2 >= shape.macs)
        #expect(gated.hardwareCounts.registerFileReads == shape.macs - zeroTerms * shape.filters)
        #expect(ungated.hardwareCounts.gatedMACs == 0)
        #expect(ungated.hardwareCounts.macs == shape.macs)
        #expect(gated.cycles == ungated.cycles)
    }

    @Test("a wrong output names (n, m, e, f), expected, got, the cycle and a waveform")
    func mismatchReport() throws {
        let config = Self.config()
        let shape = ConvShape(channels: 1, filters: 2, height: 3, width: 3, filterHeight: 2, filterWidth: 2)
        var (input, weights) = ConvStimulus.random(shape, activation: config.a, weight: config.b, sparsity: 0, seed: 1)
        // 300 does not fit s8: the hardware sees 300 - 256 = 44, the golden model 300.
        input[0] = 300
        weights[0] = 64
        let run = try WeightStationaryEngine(config: config).run(shape, input: input, weights: weights)
        #expect(run.mismatches >= 1)
        let message = try #require(run.firstMismatch)
        #expect(message.contains("(n, m, e, f) = (0, 0, 0, 0)"))
        #expect(message.contains("expected \(run.expected[0]), got \(run.got[0]) (cycle "))
        let wave = try #require(run.waveform)
        #expect(FileManager.default.fileExists(atPath: wave))
    }

    @Test("lint -Wall clean and yosys synth", arguments: [
        config(rows: 2, cols: 2),
        config(rows: 2, cols: 3, rounding: .nearest, relu: true, zeroGating: false, psum: 4),
        config(rows: 1, cols: 2, rounding: .truncate),
    ])
    func lintAndSynth(_ config: WeightStationaryConfig) throws {
        let top = try WeightStationary.module(config)
        let sources = Dictionary(uniqueKeysWithValues: try VerilogEmitter.emit(top).map { ($0.fileName, $0.text) })
        try Lint.verilator(sources: sources, top: top.name)
        let report = try Synthesis.yosys(sources: sources, top: top.name)
        #expect(report.totalCells > 0)
    }

    static func refused(_ flag: String, _ change: (inout WeightStationaryConfig) -> Void) -> (String, WeightStationaryConfig) {
        var config = config()
        change(&config)
        return (flag, config)
    }

    @Test("refused parameters name their flag", arguments: [
        refused("rows") { $0.rows = 0 },
        refused("cols") { $0.cols = 65 },
        refused("input-bits") { $0.a = FixedPoint(bits: 1) },
        refused("weight-bits") { $0.b = FixedPoint(bits: 17) },
        refused("output-bits") { $0.output = FixedPoint(bits: 33) },
        refused("output-frac") { $0.output = FixedPoint(bits: 8, frac: 13) },
        refused("lfsr-width") { $0.lfsrWidth = 8 },
        refused("lfsr-seed") { $0.seed = 0 },
        refused("weight-registers") { $0.weightRegisters = 1 },
        refused("psum-registers") { $0.psumRegisters = 1 },
        refused("max-reduction") { $0.maxK = 0 },
        refused("acc-bits") { $0.accBitsOverride = 65 },
    ])
    func parameterErrors(_ flag: String, _ config: WeightStationaryConfig) {
        do {
            _ = try WeightStationary.module(config)
            Issue.record("\(flag): accepted")
        } catch let error as ParameterError {
            #expect(error.parameter == flag)
            #expect(error.description == "invalid value \(error.value) for --\(flag): allowed \(error.allowed)")
        } catch {
            Issue.record("\(flag): \(error)")
        }
    }

    @Test("a layer larger than the accumulator is refused")
    func layerErrors() {
        let mapper = WeightStationaryMapper(config: Self.config())
        #expect(throws: ParameterError.self) {
            try mapper.validate(ConvShape(channels: 64, filters: 4, height: 5, width: 5, filterHeight: 3, filterWidth: 3))
        }
        #expect(throws: ParameterError.self) {
            try mapper.validate(ConvShape(channels: 1, filters: 4, height: 5, width: 5, filterHeight: 3, filterWidth: 3, padding: 3))
        }
    }

    @Test("AlexNet CONV1 on 16x16: analytic counts in closed form, fast")
    func alexnetConv1() throws {
        let shape = try #require(Presets.alexnet.first).shape
        let config = WeightStationaryConfig(ArrayConfig(rows: 16, cols: 16, zeroGating: true), psumRegisters: 4096)
        let mapper = WeightStationaryMapper(config: config)
        try mapper.validate(shape)
        let counts = mapper.counts(shape, input: nil)
        #expect(counts.macs + counts.gatedMACs == shape.macs)
        #expect(counts.macs == 105_415_200)  // 55·55·96 outputs × 363 terms; no padding, so none gated
        #expect(counts.registerFileWrites == shape.weightCount)  // 3025 positions fit one block
        #expect(counts.peToPE == 6 * 3025 * 363 * 15 + 23 * 3025 * 96 * 15)
        // Fold periods: 6 filter folds × 23 reduction folds of 3025 positions each.
        #expect(mapper.cycles(shape) == 6 * 23 * 3025 - 1 + 16 + 15 + 3 + 1)
        let dense = ConvStimulus.random(shape, activation: config.a, weight: config.b, sparsity: 0.5, seed: 1).input
        let sparse = mapper.counts(shape, input: dense)
        #expect(sparse.gatedMACs > shape.macs / 3 && sparse.gatedMACs < shape.macs * 2 / 3)
    }

    @Test("zero terms in closed form equal a count over the im2col matrix", arguments: layers.indices)
    func zeroTermsMatchIm2col(_ i: Int) {
        let shape = Self.layers[i]
        let config = Self.config()
        let input = ConvStimulus.random(shape, activation: config.a, weight: config.b, sparsity: 0.5, seed: 21).input
        let zeros = ConvModel.im2col(shape, input: input).elements.filter { $0 == 0 }.count
        #expect(WeightStationaryMapper(config: config).counts(shape, input: input).gatedMACs == zeros * shape.filters)
    }
}
