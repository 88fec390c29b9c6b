import Cores
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

/// The pooling core (steps 3 and 4 of the stage contract in `QuantizedNetwork`): the golden
/// model by hand, the core against it in Verilator from random power-up states, lint, Icarus,
/// yosys, and the runner's harness on whole tensors.
@Suite("Pooling core", .tags(.verilator, .icarus, .synthesis))
struct PoolingTests {
    // MARK: Golden model by hand

    /// 1  2 | 3  4
    /// 5  6 | 7  8
    /// -1 -2 | 0  9
    /// -3 -4 | 10 -7
    static let plane = [1, 2, 3, 4, 5, 6, 7, 8, -1, -2, 0, 9, -3, -4, 10, -7]

    @Test("golden: 4×4 plane, max and average (rounding half up, negative sums too)")
    func goldenPlane() {
        #expect(PoolingModel.pool(Self.plane, height: 4, width: 4, pool: .init(.max, size: 2)) == [6, 8, -1, 10])
        // (14 + 2) >> 2 = 4, (22 + 2) >> 2 = 6, (-10 + 2) >> 2 = -2 (-2.5 rounds up), (12 + 2) >> 2 = 3
        #expect(PoolingModel.pool(Self.plane, height: 4, width: 4, pool: .init(.average, size: 2)) == [4, 6, -2, 3])
        #expect(PoolingModel.pool(Self.plane, height: 4, width: 4, pool: .init(.max, size: 4)) == [10])
        // 39 + 8 = 47, >> 4 = 2
        #expect(PoolingModel.pool(Self.plane, height: 4, width: 4, pool: .init(.average, size: 4)) == [2])
        #expect(PoolingModel.pool(Self.plane, height: 4, width: 4, pool: nil) == Self.plane)
        // Ties: +0.5 -> 1, -0.5 -> 0, 1.5 -> 2, -1.5 -> -1.
        let ties = [1, 0, -1, 0, 3, 0, -3, 0, 0, 1, 0, -1, 0, 3, 0, -3]
        #expect(PoolingModel.pool(ties, height: 2, width: 8, pool: .init(.average, size: 2)) == [1, 0, 2, -1])
        // Leftovers are dropped: 5×5 -> 2×2 (the last row and column are never read).
        let five = (0..<25).map { $0 }
        #expect(PoolingModel.pool(five, height: 5, width: 5, pool: .init(.max, size: 2)) == [6, 8, 16, 18])
        #expect(PoolingModel.pool([1, 2, 3], height: 1, width: 3, pool: .init(.max, size: 2)) == [])
        // A 3×3 window on 7×8 (mnist-conv's second pooling drops the edge the same way): 2×2
        // windows; the last row and the last two columns (which hold 13 and 14) are never read.
        let seven = [-14, -6, 2, 10, -11, -3, 5, 13, -8, 0, 8, -13, -5, 3, 11, -10, -2, 6, 14, -7, 1, 9, -12, -4,
                     4, 12, -9, -1, 7, -14, -6, 2, 10, -11, -3, 5, 13, -8, 0, 8, -13, -5, 3, 11, -10, -2, 6, 14,
                     -7, 1, 9, -12, -4, 4, 12, -9]
        #expect(PoolingModel.pool(seven, height: 7, width: 8, pool: .init(.max, size: 3)) == [14, 10, 12, 13])
    }

    @Test("golden: bias saturates to the input bits, ReLU, then the result bits")
    func goldenPostprocess() {
        #expect(PoolingModel.postprocess(100, bias: 100, relu: false, inputBits: 8, resultBits: 8) == 127)
        #expect(PoolingModel.postprocess(-100, bias: -100, relu: false, inputBits: 8, resultBits: 8) == -128)
        #expect(PoolingModel.postprocess(-100, bias: -100, relu: true, inputBits: 8, resultBits: 8) == 0)
        #expect(PoolingModel.postprocess(5, bias: -3, relu: true, inputBits: 8, resultBits: 8) == 2)
        #expect(PoolingModel.postprocess(20, bias: 0, relu: false, inputBits: 8, resultBits: 4) == 7)
        #expect(PoolingModel.postprocess(-20, bias: 0, relu: false, inputBits: 8, resultBits: 4) == -8)
        // The first saturation is to the input bits: 120 + 20 -> 127, not 140, then to 6 bits.
        #expect(PoolingModel.postprocess(120, bias: 20, relu: false, inputBits: 8, resultBits: 6) == 31)
        // ... which matters when the bias brings it back: sat8(127 + 10) = 127, - nothing.
        #expect(PoolingModel.postprocess(-128, bias: 300, relu: false, inputBits: 8, resultBits: 8) == 127)
        #expect(PoolingModel.postprocess(-128, bias: 130, relu: false, inputBits: 8, resultBits: 8) == 2)
        // One result bit is the sign of the biased value (ReLU ignored): 0 counts as +1.
        #expect(PoolingModel.postprocess(5, bias: -5, relu: true, inputBits: 8, resultBits: 1) == 1)
        #expect(PoolingModel.postprocess(5, bias: -6, relu: true, inputBits: 8, resultBits: 1) == 0)
        #expect(PoolingModel.postprocess(-128, bias: 300, relu: false, inputBits: 8, resultBits: 1) == 1)
    }

    @Test("golden: a 2-channel tensor with per-channel bias, ReLU and max pooling; binary OR")
    func goldenTensor() {
        let values = Self.plane + Self.plane.map { -$0 }
        let shape = TensorShape(channels: 2, height: 4, width: 4)
        // Channel 0 + 10: max 16, 18, 9, 20. Channel 1 - 1, ReLU: -x - 1 -> windows' max 0, 0, 3, 6.
        #expect(PoolingModel.apply(values, shape: shape, bias: [10, -1], relu: true, inputBits: 8, resultBits: 8,
                                   pool: .init(.max, size: 2)) == [16, 18, 9, 20, 0, 0, 3, 6])
        #expect(PoolingModel.apply(values, shape: shape, bias: [0, 0], relu: false, inputBits: 8, resultBits: 3,
                                   pool: nil) == Self.plane.map { min(max($0, -4), 3) } + Self.plane.map { min(max(-$0, -4), 3) })
        let bits = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]
        #expect(PoolingModel.applyBinary(bits, shape: TensorShape(channels: 1, height: 4, width: 4), pool: .init(.max, size: 2)) == [0, 1, 1, 1])
    }

    // MARK: The core

    static let configs: [PoolingConfig] = [
        PoolingConfig(),                                                                          // the default: s8, 2×2 max, 32×32
        PoolingConfig(pool: .average),
        PoolingConfig(inputBits: 12, resultBits: 8, pool: .average, size: 4, maxWidth: 16, maxHeight: 12),
        PoolingConfig(inputBits: 6, resultBits: 4, pool: .max, size: 4, maxWidth: 8, maxHeight: 4),
        PoolingConfig(inputBits: 16, resultBits: 8, pool: .none),
        PoolingConfig(binary: true, pool: .max, maxWidth: 16, maxHeight: 9),
        PoolingConfig(binary: true, pool: .none),
        PoolingConfig(inputBits: 16, resultBits: 1, pool: .max, maxWidth: 32, maxHeight: 24),    // sign (a BNN's first layer)
        PoolingConfig(inputBits: 2, resultBits: 2, pool: .average, maxWidth: 4, maxHeight: 2),     // smallest
        PoolingConfig(inputBits: 6, resultBits: 10, pool: .average, maxWidth: 8, maxHeight: 8),    // results wider than inputs
        PoolingConfig(inputBits: 16, resultBits: 8, pool: .max, size: 3, maxWidth: 16, maxHeight: 14), // mnist-conv's 3×3, counters
        PoolingConfig(binary: true, pool: .max, size: 3, maxWidth: 8, maxHeight: 7),
        PoolingConfig(inputBits: 6, resultBits: 4, pool: .max, size: 5, maxWidth: 16, maxHeight: 11),
        PoolingConfig(inputBits: 10, resultBits: 8, pool: .average, size: 8, maxWidth: 16, maxHeight: 17), // 8×8 average
    ]

    @Test("matches PoolingModel cycle by cycle from a random power-up state", arguments: configs)
    func cosim(_ c: PoolingConfig) throws {
        let r = try PoolingCheck.run(c, randomCycles: 6_000, seed: 3)
        #expect(r.cycles > 6_000)
        #expect(r.passed, "\(r)")
    }

    @Test("the default core from three more random states and zero",
          arguments: [InitialState.random(seed: 11), .random(seed: 12), .random(seed: 13), .zero])
    func initialStates(_ state: InitialState) throws {
        let r = try PoolingCheck.run(PoolingConfig(), randomCycles: 3_000, seed: 5, initialState: state)
        #expect(r.passed, "\(state): \(r)")
    }

    @Test("a wrong reference is caught: average against max, 7 result bits against 8")
    func mismatchIsReported() throws {
        let r = try PoolingCheck.run(PoolingConfig(), randomCycles: 1_000, seed: 5, model: PoolingConfig(pool: .average))
        #expect(!r.passed)
        #expect(r.firstMismatch?.contains("cycle") == true)
        #expect(r.waveform != nil)
        let narrow = try PoolingCheck.run(PoolingConfig(), randomCycles: 1_000, seed: 5, model: PoolingConfig(resultBits: 7))
        #expect(!narrow.passed)
    }

    @Test("lint -Wall clean, Icarus without X after resets, yosys synth, deterministic", arguments: configs)
    func tools(_ c: PoolingConfig) throws {
        let top = try Pooling.module(c)
        let files = try VerilogEmitter.emit(top)
        #expect(files == (try VerilogEmitter.emit(try Pooling.module(c))))
        let sources = Dictionary(uniqueKeysWithValues: files.map { ($0.fileName, $0.text) })
        try Lint.verilator(sources: sources, top: top.name)
        #expect(try Synthesis.yosys(sources: sources, top: top.name).totalCells > 0)
        let report = try IcarusCheck.run(top, cycles: 400, resets: [150, 151, 290])
        #expect(report.undefinedCycles == 0, "\(report.first ?? "")")
    }

    @Test("refused parameters name their flag")
    func refusals() {
        let cases: [(PoolingConfig, String)] = [
            (PoolingConfig(inputBits: 1), "input-bits"), (PoolingConfig(resultBits: 33), "result-bits"),
            (PoolingConfig(size: 9), "size"), (PoolingConfig(pool: .average, size: 3), "size"), (PoolingConfig(size: 1), "size"), (PoolingConfig(maxWidth: 24), "max-width"), (PoolingConfig(size: 4, maxWidth: 4), "max-width"),
            (PoolingConfig(maxHeight: 1), "max-height"), (PoolingConfig(binary: true, pool: .average), "pool"),
            (PoolingConfig(resultBits: 1, pool: .average), "pool"), (PoolingConfig(resultBits: 0), "result-bits"),
        ]
        for (c, flag) in cases {
            do {
                try c.validate()
                Issue.record("\(c) was accepted")
            } catch let e as ParameterError {
                #expect(e.parameter == flag)
            } catch {
                Issue.record("\(error)")
            }
        }
        // Without pooling the window parameters do not matter.
        #expect((try? PoolingConfig(binary: true, pool: .none, size: 3, maxWidth: 5).validate()) != nil)
    }

    // MARK: The harness

    @Test("harness on whole tensors equals PoolingModel.apply (LeNet's two stages, average, no pooling, binary)")
    func harness() throws {
        var g = SplitMix64(seed: 21)
        func tensor(_ s: TensorShape, _ range: ClosedRange<Int>) -> [Int] { (0..<s.count).map { _ in Int.random(in: range, using: &g) } }
        let cases: [(PoolingConfig, TensorShape)] = [
            (PoolingConfig(), TensorShape(channels: 6, height: 24, width: 24)),
            (PoolingConfig(), TensorShape(channels: 16, height: 8, width: 8)),
            (PoolingConfig(pool: .average), TensorShape(channels: 3, height: 7, width: 9)),
            (PoolingConfig(inputBits: 12, resultBits: 8, pool: .average, size: 4, maxWidth: 16, maxHeight: 12), TensorShape(channels: 2, height: 12, width: 15)),
            (PoolingConfig(pool: .none), TensorShape(channels: 120)),
            (PoolingConfig(binary: true), TensorShape(channels: 4, height: 6, width: 5)),
            (PoolingConfig(inputBits: 16, resultBits: 1), TensorShape(channels: 6, height: 24, width: 24)),
        ]
        for (c, shape) in cases {
            let h = try PoolingHarness(c, initialState: .random(seed: 2))
            let pool: QuantizedNetwork.Pool? = c.pool == .none ? nil : .init(c.pool == .max ? .max : .average, size: c.size)
            for round in 0..<3 {
                if c.binary {
                    let bits = tensor(shape, 0...1)
                    let got = try h.run(bits, shape: shape, bias: [], relu: false)
                    #expect(got.results == PoolingModel.applyBinary(bits, shape: shape, pool: pool), "\(c.moduleName) round \(round)")
                    #expect(got.cycles == shape.count + 1)
                    continue
                }
                let top = 1 << (c.inputBits - 1)
                let values = tensor(shape, -top...(top - 1))
                // Biases far beyond the port's range (clamped by the harness) as well as small ones.
                let bias = (0..<shape.channels).map { ch in ch % 3 == 0 ? Int.random(in: -5000...5000, using: &g) : Int.random(in: -20...20, using: &g) }
                let relu = round % 2 == 1
                let got = try h.run(values, shape: shape, bias: bias, relu: relu)
                let want = PoolingModel.apply(values, shape: shape, bias: bias, relu: relu, inputBits: c.inputBits, resultBits: c.resultBits, pool: pool)
                #expect(got.results == want, "\(c.moduleName) \(shape) round \(round)")
                #expect(got.cycles == shape.count + 1)
            }
        }
    }

    @Test("harness: a stage's core from QuantizedNetwork.Stage; per-call time on LeNet's first stage")
    func harnessSpeed() throws {
        let layer = ConvShape(channels: 1, filters: 6, height: 28, width: 28, filterHeight: 5, filterWidth: 5)
        let stage = QuantizedNetwork.Stage(layer: layer, format: .fixed, activation: .init(bits: 8, frac: 4), weight: .init(bits: 8, frac: 6),
                                           weights: [], shift: 6, outputBits: 8, bias: Array(repeating: 3, count: 6), relu: true,
                                           resultBits: 8, pool: .init(.max, size: 2))
        let c = PoolingConfig(stage: stage)
        #expect(c == PoolingConfig())
        let h = try PoolingHarness(c)
        let shape = TensorShape(channels: 6, height: 24, width: 24)
        var g = SplitMix64(seed: 4)
        let values = (0..<shape.count).map { _ in Int.random(in: -128...127, using: &g) }
        _ = try h.run(values, shape: shape, bias: stage.bias, relu: true)
        let start = Date()
        let calls = 50
        for _ in 0..<calls {
            let r = try h.run(values, shape: shape, bias: stage.bias, relu: true)
            #expect(r.results.count == 6 * 12 * 12)
        }
        let ms = Date().timeIntervalSince(start) * 1000 / Double(calls)
        print("pooling harness: \(String(format: "%.2f", ms)) ms per 6×24×24 tensor")
        #expect(ms < 100)
    }
}
