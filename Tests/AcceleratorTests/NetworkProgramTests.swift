import Accelerator
import Cores
import Foundation
import Golden
import Model
import Runtime
import Testing
import TestTags

/// A random dense network of 8-bit codes (weights, biases and shifts drawn so that the ROUND
/// unit's and OUTPUT's saturations and ReLU all happen), for the array of `config`.
func randomDenseNetwork(_ sizes: [Int], config c: AcceleratorConfig, seed: UInt64) -> QuantizedNetwork {
    var g = SplitMix64(seed: seed)
    let last = sizes.count - 2
    let stages = (0...last).map { s -> QuantizedNetwork.Stage in
        let (k, n) = (sizes[s], sizes[s + 1])
        let layer = ConvShape(channels: k, filters: n, height: 1, width: 1, filterHeight: 1, filterWidth: 1)
        return QuantizedNetwork.Stage(
            layer: layer, format: .fixed, activation: .init(bits: 8, frac: 4), weight: .init(bits: 8, frac: 6),
            weights: (0..<(k * n)).map { _ in Int.random(in: -128...127, using: &g) },
            shift: Int.random(in: 1...c.array.dropBits, using: &g), outputBits: 16,
            bias: (0..<n).map { _ in Bool.random(using: &g) ? Int.random(in: -32768...32767, using: &g) : Int.random(in: -300...300, using: &g) },
            relu: s < last, resultBits: s < last ? 8 : 16, pool: nil)
    }
    return QuantizedNetwork(model: "random", label: "fixed8", inputFrac: 4, stages: stages)
}

/// The accelerator a dense network of 8-bit codes runs on: 16-bit outputs dropping up to `d` bits.
func networkAccelerator(rows: Int, cols: Int, maxK: Int, d: Int = 9, scratchpadKiB: Int = 1, outputKiB: Int = 1) -> AcceleratorConfig {
    AcceleratorConfig(array: ArrayConfig(rows: rows, cols: cols, a: FixedPoint(bits: 8, frac: 0), b: FixedPoint(bits: 8, frac: 0), maxK: maxK,
                                         output: FixedPoint(bits: 16, frac: -d), rounding: .stochastic, seed: 7),
                      scratchpadKiB: scratchpadKiB, outputKiB: outputKiB)
}

/// Runs `images` random images through the compiled network and checks every layer's DRAM
/// region against the golden network; returns the runs.
func runNetwork(_ network: QuantizedNetwork, _ c: AcceleratorConfig, images: Int, backend: SimulatorBackend = .inProcess,
                timing: AXIDRAM.Timing = AXIDRAM.Timing(latency: 9, bytesPerCycle: 8, backpressure: 0.2, seed: 3)) throws -> [NetworkOnAccelerator.ImageRun] {
    let program = try NetworkProgram(network: network, config: c)
    let host = try AcceleratorHost(c, timing: timing, initialState: .random(seed: 21), backend: backend)
    let runner = NetworkOnAccelerator(program, host: host)
    var golden = NetworkProgram.golden(network, config: c)
    var g = SplitMix64(seed: 99)
    var runs: [NetworkOnAccelerator.ImageRun] = []
    for i in 0..<images {
        let codes = (0..<network.stages[0].layer.channels).map { _ in Int.random(in: -128...127, using: &g) }
        let run = try runner.run(codes: codes)
        let mismatch = NetworkOnAccelerator.mismatch(image: i, codes: codes, run: run, golden: &golden, layers: program.layers)
        #expect(mismatch == nil, "\(mismatch ?? "")")
        runs.append(run)
    }
    return runs
}

@Suite struct AcceleratorNetworkTests {
    /// Three dense layers on a 3×4 array (R ≠ C: activations are A, one per beat; weights B),
    /// three images, each from reset of the golden model (the program reseeds): every layer's
    /// results in DRAM equal the golden network's, with saturation and ReLU exercised.
    @Test func randomNetworkBitExact() throws {
        let c = networkAccelerator(rows: 3, cols: 4, maxK: 20)
        let network = randomDenseNetwork([20, 11, 9, 6], config: c, seed: 5)
        let runs = try runNetwork(network, c, images: 3)
        let hidden = runs.flatMap { $0.results[0] + $0.results[1] }
        #expect(hidden.contains(0) && hidden.contains(127) && hidden.contains { $0 > 0 && $0 < 127 }, "ReLU and saturation to 8 bits happened")
        #expect(runs.allSatisfy { $0.counters.compute > 0 && $0.layerCycles.count == 3 && $0.layerCycles.allSatisfy { $0 > 0 } })
    }

    /// One tile column of weights per bank B fill (K = 100 of 128 rows: no double buffering),
    /// layers wider than the array (T = 5 tiles of 4 columns), and a layer without biases.
    @Test func singleSlotWeights() throws {
        let c = networkAccelerator(rows: 2, cols: 4, maxK: 100)
        var network = randomDenseNetwork([100, 18, 5], config: c, seed: 8)
        network.stages[1].bias = network.stages[1].bias.map { _ in 0 }
        let program = try NetworkProgram(network: network, config: c)
        #expect(program.program.filter { if case .load(bank: 1, _, _, _, _) = $0 { true } else { false } }.count == 5 + 2)
        #expect(program.program.contains(.output(c: 0, rows: 2, bias: nil, a: nil, relu: false)))
        _ = try runNetwork(network, c, images: 2)
    }

    /// The same network in Verilator.
    @Test(.tags(.verilator)) func verilatorBitExact() throws {
        let c = networkAccelerator(rows: 3, cols: 4, maxK: 20)
        _ = try runNetwork(randomDenseNetwork([20, 11, 9, 6], config: c, seed: 6), c, images: 2, backend: .verilator)
    }
}

@Suite struct NetworkProgramRefusalTests {
    func refusal(_ network: QuantizedNetwork, _ c: AcceleratorConfig) -> String {
        do {
            _ = try NetworkProgram(network: network, config: c)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func refusesWhatDoesNotFit() {
        let c = networkAccelerator(rows: 2, cols: 2, maxK: 300)
        let big = refusal(randomDenseNetwork([300, 4, 2], config: c, seed: 1), c)
        #expect(big == "layer 0 (dense 300->4) does not fit: it needs 300 rows in bank A and 300 in bank B (one tile column of weights, 2400 bytes), which have 256 and 256 (--scratchpad-kib 1; at least --scratchpad-kib 2)")
        // Bank C: 1 KiB of 32-bit rows is 256 rows; 300 outputs need 150 tiles + 1 and 150 bias rows.
        let roomy = networkAccelerator(rows: 2, cols: 2, maxK: 300, scratchpadKiB: 4)
        let wide = refusal(randomDenseNetwork([8, 300, 2], config: roomy, seed: 1), roomy)
        #expect(wide.hasPrefix("layer 0 (dense 8->300) does not fit: its 300 outputs need 151 rows of bank C") && wide.hasSuffix("at least --output-kib 2)"), "\(wide)")
        for text in [big, wide] { #expect(!text.contains("\n")) }
    }

    @Test func refusesWhatItDoesNotRun() {
        let c = networkAccelerator(rows: 2, cols: 2, maxK: 64)
        var conv = randomDenseNetwork([4, 4], config: c, seed: 2)
        conv.stages[0].layer = ConvShape(channels: 1, filters: 4, height: 4, width: 4, filterHeight: 2, filterWidth: 2)
        #expect(refusal(conv, c) == "layer 0 (conv 2x2x1->4) is a convolution: the accelerator runs dense layers only (im2col in LOAD and POOL are later work)")
        var pooled = randomDenseNetwork([4, 4], config: c, seed: 2)
        pooled.stages[0].pool = .init(.max, size: 2)
        #expect(refusal(pooled, c) == "layer 0 (dense 4->4) pools: POOL is later work")
        var narrow = randomDenseNetwork([4, 4, 2], config: c, seed: 2)
        narrow.stages[0].resultBits = 6
        #expect(refusal(narrow, c) == "layer 0 (dense 4->4) saturates to 6 bits; OUTPUT saturates hidden layers to the A code width 8")
        var shifted = randomDenseNetwork([4, 4], config: c, seed: 2)
        shifted.stages[0].shift = 12
        #expect(refusal(shifted, c) == "layer 0 (dense 4->4) drops 12 bits; the array drops 0...9")
        var wider = randomDenseNetwork([4, 4], config: c, seed: 2)
        wider.stages[0].weight.bits = 4
        #expect(refusal(wider, c).hasPrefix("layer 0 (dense 4->4) has 8-bit activations, 4-bit weights"))
    }
}
