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

/// The row-stationary array (docs/dataflows/RS.md) co-simulated against the golden model:
/// every output bit-exact, hardware counters equal to the mapper's analytic counts, measured
/// cycles equal to the mapper's formula.
@Suite("Row-stationary array", .tags(.verilator, .synthesis))
struct RowStationaryTests {
    /// Stochastic rounding with zero gating on a square array, the same with gating off, a wide
    /// array with truncation and ReLU, and a tall one with nearest rounding and small RFs (so
    /// wide layers fold over the psum RF).
    static let stochastic = RowStationaryConfig(ArrayConfig(rows: 3, cols: 3, seed: 0x2B, zeroGating: true))
    static let ungated = RowStationaryConfig(ArrayConfig(rows: 3, cols: 3, seed: 0x2B, zeroGating: false))
    static let truncating = RowStationaryConfig(ArrayConfig(rows: 2, cols: 4, rounding: .truncate, zeroGating: true, relu: true))
    static let nearest = RowStationaryConfig(ArrayConfig(rows: 4, cols: 2, output: FixedPoint(bits: 10, frac: 4), rounding: .nearest, zeroGating: true), weightRegisters: 5, inputRegisters: 5, psumRegisters: 4)

    /// Random tensors over the formats' whole ranges; `zeros` is the share of zero activations.
    static func tensors(_ s: ConvShape, _ c: RowStationaryConfig, seed: UInt64, zeros: Double = 0) -> ([Int], [Int]) {
        var g = SplitMix64(seed: seed)
        let fa = c.a.golden, fw = c.b.golden
        let input = (0..<s.inputCount).map { _ in
            Double(g.next() % 1000) / 1000 < zeros ? 0 : Int(Int128.random(in: fa.minInt...fa.maxInt, using: &g))
        }
        let weights = (0..<s.weightCount).map { _ in Int(Int128.random(in: fw.minInt...fw.maxInt, using: &g)) }
        return (input, weights)
    }

    /// The invariants of every run: bit-exact outputs, counters and cycles as analysed.
    static func expectClean(_ run: ConvRun, _ config: RowStationaryConfig, _ label: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(run.mismatches == 0, "\(label): \(run.firstMismatch ?? "") \(run.waveform ?? "")", sourceLocation: sourceLocation)
        #expect(run.hardwareCounts == run.analyticCounts, "\(label)", sourceLocation: sourceLocation)
        #expect(run.cycles == RowStationaryMapper(config: config).cycles(run.shape), "\(label)", sourceLocation: sourceLocation)
    }

    static let layers: [(String, RowStationaryConfig, ConvShape)] = [
        ("3x3 filters, stride 1, E > cols, C and M odd", stochastic,
         ConvShape(channels: 3, filters: 5, height: 7, width: 7, filterHeight: 3, filterWidth: 3)),
        ("stride 2, padding 1", stochastic,
         ConvShape(channels: 2, filters: 2, height: 9, width: 8, filterHeight: 3, filterWidth: 3, stride: 2, padding: 1)),
        ("5x5 filters fold over the rows, padding 2", stochastic,
         ConvShape(channels: 2, filters: 3, height: 6, width: 6, filterHeight: 5, filterWidth: 5, padding: 2)),
        ("1x1 filters, batch 2", stochastic,
         ConvShape(batch: 2, channels: 4, filters: 3, height: 5, width: 4, filterHeight: 1, filterWidth: 1)),
        ("1x1 filters, stride 2 skips inputs", truncating,
         ConvShape(channels: 2, filters: 3, height: 7, width: 7, filterHeight: 1, filterWidth: 1, stride: 2)),
        ("batch 2, stride 2, 5x5 filters fold", truncating,
         ConvShape(batch: 2, channels: 2, filters: 2, height: 9, width: 9, filterHeight: 5, filterWidth: 5, stride: 2, padding: 1)),
        ("3x3 filters, E > cols, F > psum RF", nearest,
         ConvShape(channels: 3, filters: 3, height: 8, width: 11, filterHeight: 3, filterWidth: 3, padding: 1)),
        ("2x2 filters, two channel sets stacked, stride 2", nearest,
         ConvShape(channels: 3, filters: 2, height: 8, width: 9, filterHeight: 2, filterWidth: 2, stride: 2)),
        ("5x5 filters, stride 3, F folds", nearest,
         ConvShape(batch: 2, channels: 2, filters: 2, height: 9, width: 17, filterHeight: 5, filterWidth: 5, stride: 3, padding: 1)),
    ]

    @Test("random layers are bit-exact, counted and timed as analysed", arguments: layers.indices)
    func randomLayer(_ k: Int) throws {
        let (label, config, shape) = Self.layers[k]
        let (input, weights) = Self.tensors(shape, config, seed: UInt64(100 + k))
        let run = try RowStationaryEngine(config: config).run(shape, input: input, weights: weights)
        Self.expectClean(run, config, label)
        #expect(run.hardwareCounts.macs == shape.macs - run.hardwareCounts.gatedMACs)
    }

    /// Random shapes (filters 1…6 × 1…5, strides 1…4, any legal padding, 30% zeros) on every
    /// co-simulated configuration: both schedules, stacked and folded PE sets, partial blocks.
    @Test("random shapes are bit-exact, counted and timed as analysed",
          arguments: [Self.stochastic, Self.ungated, Self.truncating, Self.nearest])
    func randomShapes(_ config: RowStationaryConfig) throws {
        let engine = try RowStationaryEngine(config: config)
        let mapper = RowStationaryMapper(config: config)
        var g = SplitMix64(seed: UInt64(config.rows * 10 + config.cols))
        var tried = 0
        // A bounded number of draws from a fixed seed: the same shapes every run, never a spin.
        for _ in 0..<400 where tried < 10 {
            func pick(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &g) }
            let (R, S) = (pick(1...6), pick(1...5))
            let shape = ConvShape(batch: pick(1...2), channels: pick(1...4), filters: pick(1...3), height: pick(1...9),
                                  width: pick(1...12), filterHeight: R, filterWidth: S, stride: pick(1...4),
                                  padding: pick(0...(max(R, S) - 1)))
            guard (try? mapper.validate(shape)) != nil, shape.outputCount <= 300 else { continue }
            tried += 1
            let (input, weights) = Self.tensors(shape, config, seed: g.next(), zeros: 0.3)
            Self.expectClean(try engine.run(shape, input: input, weights: weights), config, "\(shape)")
        }
        #expect(tried == 10, "only \(tried) of 400 random shapes were valid")
    }

    /// Most-negative × most-negative and most-negative × most-positive sums saturate the output
    /// at both ends; ReLU clips the negative end to zero.
    @Test("extremes saturate at both ends; ReLU clips negatives", arguments: [Self.stochastic, Self.truncating, Self.nearest])
    func saturation(_ config: RowStationaryConfig) throws {
        let shape = ConvShape(channels: 2, filters: 3, height: 5, width: 5, filterHeight: 3, filterWidth: 3)
        let fa = config.a.golden, fw = config.b.golden, fo = config.output.golden
        let input = [Int](repeating: Int(fa.minInt), count: shape.inputCount)
        var weights = [Int](repeating: 0, count: shape.weightCount)
        let perFilter = shape.weightCount / shape.filters
        for i in 0..<perFilter {
            weights[i] = Int(fw.minInt)                  // filter 0: (-max)·(-max) sums saturate high
            weights[perFilter + i] = Int(fw.maxInt)      // filter 1: saturate low
            weights[2 * perFilter + i] = i == 0 ? 1 : 0  // filter 2: one small product
        }
        let run = try RowStationaryEngine(config: config).run(shape, input: input, weights: weights)
        Self.expectClean(run, config, "saturation \(config.rounding)")
        let plane = shape.outHeight * shape.outWidth
        #expect(run.got[0..<plane].allSatisfy { $0 == Int(fo.maxInt) })
        #expect(run.got[plane..<2 * plane].allSatisfy { $0 == (config.relu ? 0 : Int(fo.minInt)) })
    }

    /// The same sparse layer with gating on and off: the same outputs; the gated count is the
    /// MACs whose activation is zero (padding included), counted here straight from the loop nest.
    @Test("zero gating skips exactly the zero activations' MACs and changes no output")
    func gating() throws {
        let shape = ConvShape(channels: 3, filters: 2, height: 7, width: 6, filterHeight: 3, filterWidth: 3, stride: 1, padding: 1)
        let (input, weights) = Self.tensors(shape, Self.stochastic, seed: 7, zeros: 0.7)
        #expect(input.filter { $0 == 0 }.count * 2 >= input.count)
        var zeroMACs = 0
        for _ in 0..<shape.batch * shape.filters {
            for e in 0..<shape.outHeight {
                for f in 0..<shape.outWidth {
                    for c in 0..<shape.channels {
                        for r in 0..<shape.filterHeight {
                            for q in 0..<shape.filterWidth where shape.input(input, n: 0, c: c, y: e + r - 1, x: f + q - 1) == 0 {
                                zeroMACs += 1
                            }
                        }
                    }
                }
            }
        }
        let on = try RowStationaryEngine(config: Self.stochastic).run(shape, input: input, weights: weights)
        let off = try RowStationaryEngine(config: Self.ungated).run(shape, input: input, weights: weights)
        Self.expectClean(on, Self.stochastic, "gating on")
        Self.expectClean(off, Self.ungated, "gating off")
        #expect(on.got == off.got)
        #expect(on.hardwareCounts.gatedMACs == zeroMACs)
        #expect(on.hardwareCounts.macs == shape.macs - zeroMACs)
        #expect(off.hardwareCounts.gatedMACs == 0)
        #expect(off.hardwareCounts.macs == shape.macs)
        // A skipped MAC skips its filter read too.
        #expect(off.hardwareCounts.registerFileReads - on.hardwareCounts.registerFileReads == zeroMACs)
        // Without a tensor the mapper takes the layer as dense: only padding is zero.
        let mapper = RowStationaryMapper(config: Self.stochastic)
        #expect(mapper.counts(shape, input: nil) == mapper.counts(shape, input: [Int](repeating: 1, count: shape.inputCount)))
    }

    /// AlexNet's CONV layers on a 16×16 array, analytically (no per-MAC loops without input).
    @Test("AlexNet CONV1-5 map onto a 16x16 array")
    func alexNet() throws {
        let mapper = RowStationaryMapper(config: RowStationaryConfig(ArrayConfig(rows: 16, cols: 16, zeroGating: true)))
        let layers = [
            ConvShape(channels: 3, filters: 96, height: 227, width: 227, filterHeight: 11, filterWidth: 11, stride: 4),
            ConvShape(channels: 96, filters: 256, height: 27, width: 27, filterHeight: 5, filterWidth: 5, padding: 2),
            ConvShape(channels: 256, filters: 384, height: 13, width: 13, filterHeight: 3, filterWidth: 3, padding: 1),
            ConvShape(channels: 384, filters: 384, height: 13, width: 13, filterHeight: 3, filterWidth: 3, padding: 1),
            ConvShape(channels: 384, filters: 256, height: 13, width: 13, filterHeight: 3, filterWidth: 3, padding: 1),
        ]
        for s in layers {
            try mapper.validate(s)
            let counts = mapper.counts(s, input: nil)
            #expect(counts.macs + counts.gatedMACs == s.macs)
            // The drain chain spans the PE sets of one fold: ⌊16 / R⌋ channels of R rows, or 16 rows.
            let chain = s.filterHeight <= 16 ? min(s.channels, 16 / s.filterHeight) * s.filterHeight : 16
            #expect(counts.peToPE == s.outputCount * (chain - 1))
            #expect(counts.bufferWrites == s.outputCount && counts.dramWrites == s.outputCount)
            #expect(mapper.cycles(s) * 256 > counts.macs)  // no more than one MAC per PE per cycle
            // Stacked channel sets and loads beside the MACs keep even 3×3 layers busy.
            #expect(Double(s.macs) / Double(mapper.cycles(s) * 256) > 0.3, "\(s)")
        }
        #expect(mapper.counts(layers[0], input: nil).gatedMACs == 0)  // CONV1 has no padding
        #expect(mapper.counts(layers[1], input: nil).gatedMACs > 0)   // padding zeros are gated
    }

    @Test("lint -Wall clean and yosys synth", arguments: [
        RowStationaryConfig(ArrayConfig(rows: 1, cols: 1, zeroGating: true), weightRegisters: 1, inputRegisters: 1, psumRegisters: 1),
        RowStationaryConfig(ArrayConfig(rows: 2, cols: 2, zeroGating: true), weightRegisters: 3, inputRegisters: 3, psumRegisters: 4),
        RowStationaryConfig(ArrayConfig(rows: 2, cols: 3, rounding: .truncate, zeroGating: false, relu: true), weightRegisters: 2, inputRegisters: 5, psumRegisters: 2),
        RowStationaryConfig(ArrayConfig(rows: 3, cols: 2, a: FixedPoint(bits: 6, frac: 4, signed: false), b: FixedPoint(bits: 4, frac: 3), rounding: .nearest, zeroGating: true), weightRegisters: 4, inputRegisters: 4, psumRegisters: 3),
    ])
    func lintAndSynth(_ config: RowStationaryConfig) throws {
        let top = try RowStationary.module(config)
        let sources = Dictionary(uniqueKeysWithValues: try VerilogEmitter.emit(top).map { ($0.fileName, $0.text) })
        try Lint.verilator(sources: sources, top: top.name)
        #expect(try Synthesis.yosys(sources: sources, top: top.name).totalCells > 0)
    }

    @Test("a wrong parameter is refused, naming its flag")
    func parameterErrors() throws {
        func refused(_ flag: String, _ change: (inout RowStationaryConfig) -> Void) {
            var c = RowStationaryConfig(ArrayConfig(rows: 4, cols: 4, zeroGating: true))
            change(&c)
            #expect(throws: ParameterError.self) { _ = try RowStationary.module(c) }
            do { _ = try RowStationary.module(c) } catch let e as ParameterError { #expect(e.parameter == flag) } catch {}
        }
        refused("rows") { $0.rows = 0 }
        refused("cols") { $0.cols = 65 }
        refused("input-bits") { $0.a = FixedPoint(bits: 40) }
        refused("weight-bits") { $0.b = FixedPoint(bits: 1) }
        refused("output-bits") { $0.output = FixedPoint(bits: 1) }
        refused("output-frac") { $0.output = FixedPoint(bits: 8, frac: 20) }
        refused("lfsr-width") { $0.lfsrWidth = 4 }
        refused("lfsr-seed") { $0.seed = 0 }
        refused("max-reduction") { $0.maxK = 0 }
        refused("weight-registers") { $0.weightRegisters = 0 }
        refused("input-registers") { $0.inputRegisters = 65 }
        refused("psum-registers") { $0.psumRegisters = 0 }

        let mapper = RowStationaryMapper(config: RowStationaryConfig(ArrayConfig(rows: 4, cols: 4, zeroGating: true), weightRegisters: 5, inputRegisters: 7))
        let base = ConvShape(channels: 1, filters: 1, height: 9, width: 9, filterHeight: 3, filterWidth: 3)
        func layerRefused(_ flag: String, _ change: (inout ConvShape) -> Void) {
            var s = base
            change(&s)
            do {
                try mapper.validate(s)
                Issue.record("\(flag): accepted \(s)")
            } catch let e as ParameterError {
                #expect(e.parameter == flag, "\(e)")
            } catch { Issue.record("\(error)") }
        }
        layerRefused("filter-width") { $0.filterWidth = 6 }
        layerRefused("stride") { $0.stride = 5 }
        layerRefused("padding") { $0.padding = 3 }
        layerRefused("max-reduction") { $0.channels = 1000 }
        try mapper.validate(base)
    }
}
