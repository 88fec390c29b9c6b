import Cosim
import Dataflows
import Conv
import Cores
import Foundation
import Golden
import HDL
import Model
import Networks
import Runtime
import Verification
import Verilog

/// Performance figures printed by `make bench`. Measured, never asserted in tests.
public enum Benchmarks {
    static func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let value = try body()
        return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    public static func all() throws -> [String] {
        var lines: [String] = []
        // Generation: the largest core configurations.
        let largest: [(String, () throws -> ModuleDefinition)] = [
            ("mac s32 x s32, 80-bit acc", { try MAC.module(MACConfig(a: FixedPoint(bits: 32), maxK: 1 << 16)) }),
            ("rounder 100-bit -> 32-bit stochastic", { try Rounder.module(RounderConfig(input: FixedPoint(bits: 100, frac: 40), output: FixedPoint(bits: 32, frac: 16), lfsr: LFSRConfig(width: 32, seed: 1))) }),
        ]
        for (label, make) in largest {
            let (files, seconds) = try time { try VerilogEmitter.emit(try make()) }
            let bytes = files.reduce(0) { $0 + $1.text.utf8.count }
            lines.append(String(format: "generate %@: %.1f ms (%d bytes of Verilog)", label, seconds * 1000, bytes))
        }

        // Verilator: a build in an empty cache, then a cache hit.
        let design = try cosimDesign(try MAC.module(MACConfig()))
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-bench-\(UUID().uuidString)")
        // Cold means cold: an empty model cache, and ccache told not to answer either.
        setenv("ACCELGEN_CACHE", scratch.path, 1)
        setenv("CCACHE_DISABLE", "1", 1)
        defer {
            unsetenv("ACCELGEN_CACHE")
            unsetenv("CCACHE_DISABLE")
            try? FileManager.default.removeItem(at: scratch)
        }
        let (cold, coldSeconds) = try time { try Verilator.build(design) }
        let (_, hitSeconds) = try time { try Verilator.build(design) }
        lines.append(String(format: "verilator build of the default MAC: %.1f s cold (%@), %.3f s cached",
                            coldSeconds, cold.cacheHit ? "hit" : "built", hitSeconds))

        // Bulk simulation throughput of the MAC, every cycle with new operands.
        let sim = try Simulation(design, record: false)
        defer { sim.close() }
        let cycles = 2_000_000
        var g = SplitMix64(seed: 1)
        var stimulus = [UInt64](repeating: 0, count: cycles * 5)
        for c in 0..<cycles {
            stimulus[c * 5 + 1] = g.next() & 0xFF
            stimulus[c * 5 + 2] = g.next() & 0xFF
            stimulus[c * 5 + 3] = 1
        }
        let io = MAC.Interface(MACConfig())
        let (_, simSeconds) = try time {
            try sim.run(cycles: cycles, inputs: ([Port.reset] + io.inputs).map(\.name), values: stimulus, outputs: [io.acc.name])
        }
        lines.append(String(format: "simulate MAC in bulk: %.1f M cycles/s (%d cycles)", Double(cycles) / simSeconds / 1e6, cycles))

        lines += try systolic()
        lines += try reference()
        lines += try convolution()
        lines += try network()

        // Golden model throughput.
        var model = MACModel(a: FixedFormat(wordLength: 8, fracLength: 0, signed: true),
                             b: FixedFormat(wordLength: 8, fracLength: 0, signed: true), accBits: 26)
        let steps = 10_000_000
        let (_, goldenSeconds) = time {
            for i in 0..<steps { model.clock(a: Int128(i & 127), b: Int128((i >> 7) & 127) - 64, enable: true, clear: i & 1023 == 0, reset: false) }
        }
        lines.append(String(format: "golden MACModel: %.1f M steps/s (acc %@)", Double(steps) / goldenSeconds / 1e6, String(describing: model.acc)))
        lines.append(String(format: "golden int8 GEMM 256x256x256 (one core): %.2f G MACs/s", GEMMModel.measureInt8Throughput() / 1e9))
        return lines
    }

    /// LeNet-5 (fixed8, stochastic rounding) on all 10,000 Fashion-MNIST test images on a 16×16
    /// output-stationary array: every output of every layer co-simulated and checked. The
    /// issue's target is at most 3 minutes; quantization and the builds are not timed.
    public static func network() throws -> [String] {
        let network = try ModelStore.quantized(.lenet5, scheme: .fixed(bits: 8))
        let test = try FashionMNIST.load(.test)
        let size = test.shape.count
        let pixels = (0..<test.count).map { Array(test.bytes[$0 * size..<($0 + 1) * size]) }
        let check = try NetworkCheck(network, hardware: NetworkHardware(rows: 16, cols: 16, rounding: .stochastic, batch: 16))
        let (run, seconds) = try time { try check.run(images: pixels, labels: test.labels) }
        return [String(format: "lenet5 fixed8 on 16x16 os, %d test images, every layer co-simulated and checked (%d outputs, %d mismatches): %.1f s (target <= 180 s), %.0f images/s, accuracy %.2f%%",
                       run.images, run.comparedOutputs, run.mismatches, seconds, Double(run.images) / seconds, 100 * run.accuracy)]
    }

    /// AlexNet CONV5 (74.8 M MACs) on a 16×16 array in each dataflow: co-simulation with every
    /// output and counter checked, golden model included; the model is built (or found in the
    /// cache) by a tiny layer first, so the figure is the run alone.
    static func convolution() throws -> [String] {
        var lines: [String] = []
        let layer = try Presets.named("alexnet-conv5")[0].shape
        let warmup = try Presets.named("tiny")[0].shape
        for entry in Dataflows.all {
            let dataflow = entry.dataflow
            let config = ArrayConfig(rows: 16, cols: 16, zeroGating: true)
            let engine = try entry.design(config, PEStorage()).engine(initialState: .default)
            let small = ConvStimulus.random(warmup, activation: config.a, weight: config.b, sparsity: 0, seed: 1)
            _ = try engine.run(warmup, input: small.input, weights: small.weights)
            let (input, weights) = ConvStimulus.random(layer, activation: config.a, weight: config.b, sparsity: 0, seed: 1)
            let (run, seconds) = try time { try engine.run(layer, input: input, weights: weights) }
            lines.append(String(format: "simulate conv alexnet-conv5 on %@ 16x16: %.1f s, %.0f M MACs/s with the golden model (%d cycles, %d mismatches)",
                                dataflow.rawValue.uppercased(), seconds, Double(layer.macs) / seconds / 1e6, run.cycles, run.mismatches))
        }
        return lines
    }

    /// Issue targets: 128×128 generation < 2 s, 32×32 Verilator build < 60 s, 16×16 and 32×32
    /// simulation >= 250 M MACs/s.
    static func systolic() throws -> [String] {
        var lines: [String] = []
        let big = ArrayConfig(rows: 128, cols: 128)
        let (files, genSeconds) = try time { try VerilogEmitter.emit(try Systolic.module(big)) }
        lines.append(String(format: "generate systolic 128x128: %.2f s (%d modules, %.1f MB)", genSeconds, files.count,
                            Double(files.reduce(0) { $0 + $1.text.utf8.count }) / 1e6))
        for size in [16, 32] {
            let c = ArrayConfig(rows: size, cols: size)
            let design = try cosimDesign(try Systolic.module(c))
            let (built, buildSeconds) = try time { try Verilator.build(design) }
            lines.append(String(format: "verilator build systolic %dx%d: %.1f s (%@)", size, size,
                                built.cacheHit ? built.buildSeconds : buildSeconds, built.cacheHit ? "cached; time of the original build" : "cold"))
            let h = try GEMMCheck(c, record: false)
            var g = SplitMix64(seed: 1)
            let m = 32 * size, k = 256
            let a = SystolicHarness.random(rows: m, cols: k, c.a.golden, &g)
            let b = SystolicHarness.random(rows: k, cols: m, c.b.golden, &g)
            let r = try h.run(label: "bench", a: a, b: b)
            lines.append(String(format: "simulate systolic %dx%d, %dx%dx%d GEMM: %.0f M MACs/s (%d cycles, %.0f%% utilization, %d mismatches)",
                                size, size, m, k, m, r.simulatedMACsPerSecond / 1e6, r.cycles, r.utilization * 100, r.mismatches))
        }
        return lines
    }
}
