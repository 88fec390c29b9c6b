import Cores
import Cosim
import Golden
import HDL
import Runtime
import Testing
import Verification
import Verilog
import TestTags

/// The leaping LFSR: its XOR network against single steps of the golden model, in process and
/// in Verilator, from the zero state too.
@Suite("LFSR leap", .tags(.verilator))
struct LFSRLeapTests {
    /// The generated LFSR, in process, from `seed` (reset, then enabled): its states after
    /// each of `clocks` clocks.
    static func states(_ c: LFSRConfig, clocks: Int) throws -> [UInt64] {
        let sim = CircuitSimulator(try LFSR.module(c))
        try sim.poke("rst", 1)
        try sim.step()
        try sim.poke("rst", 0)
        try sim.poke("en", 1)
        var out: [UInt64] = []
        for _ in 0..<clocks {
            try sim.step()
            out.append(UInt64(try sim.peekUnsigned("state")))
        }
        return out
    }

    @Test("width 16, leap 10, hand-worked: from 1 to 0x444, then 0x11A1 (GoldenTests' LFSRTests)")
    func handWidth16() throws {
        #expect(try Self.states(LFSRConfig(width: 16, seed: 1, steps: 10), clocks: 2) == [0x444, 0x11A1])
        // The Verilog names the new bits, each the parity of the state under a mask: fresh_9 (the
        // first feedback, ending at bit 9) is s15^s14^s12^s3 (0xd008); fresh_5 meets it again at
        // tap bit 3, so it is s15^s14^s12^s11^s10^s8^s3 (0xdd08).
        let text = VerilogEmitter.emit(module: try LFSR.module(LFSRConfig(steps: 10)))
        #expect(text.contains("module lfsr16_leap10"))
        #expect(text.contains("16'hd008"))
        #expect(text.contains("16'hdd08"))
        #expect(text.contains("{state_q[5:0], fresh_9, fresh_8, fresh_7, fresh_6, fresh_5, fresh_4, fresh_3, fresh_2, fresh_1, fresh_0}"))
    }

    @Test("a leap of k steps equals k single steps of LFSRModel, for every width (in process, random seeds)",
          arguments: LFSRConfig.widths)
    func leapIsSingleSteps(width: Int) throws {
        var g = SplitMix64(seed: UInt64(width))
        for steps in Set([1, 2, 3, width / 2, width - 1, width]) {
            for _ in 0..<6 {
                let seed = UInt64.random(in: 1..<(UInt64(1) << width), using: &g)
                var s = seed, want: [UInt64] = []
                for _ in 0..<4 {
                    for _ in 0..<steps { s = LFSRModel.next(s, width: width) }
                    want.append(s)
                }
                let got = try Self.states(LFSRConfig(width: width, seed: seed, steps: steps), clocks: 4)
                #expect(got == want, "width \(width), \(steps) steps from \(seed)")
            }
        }
    }

    @Test("Verilator: leaping LFSRs match LFSRModel stepped k times per enabled clock, with resets",
          arguments: [LFSRConfig(width: 16, seed: 1, steps: 10), LFSRConfig(width: 3, seed: 5, steps: 3),
                      LFSRConfig(width: 32, seed: 0xACE1, steps: 17)])
    func leapInHardware(_ c: LFSRConfig) throws {
        let r = try LFSRCheck.run(c, cycles: 10_000, seed: 3)
        #expect(r.passed, "\(r)")
    }

    /// The all-zero state (reachable only by a fault; here from power-up at zero, no reset)
    /// leaves in one enabled clock: to 1 for one step, to `steps` single steps from zero for a
    /// leap (0 -> 1, then `steps - 1` more: 0x222 for width 16 and 10 steps, hand-worked in
    /// GoldenTests' LFSRTests).
    @Test("Verilator: from the zero state, one enabled clock is `steps` single steps of the model",
          arguments: [1, 10, 16])
    func zeroStateInHardware(steps: Int) throws {
        let c = LFSRConfig(width: 16, seed: 1, steps: steps)
        let sim = try Simulation(try cosimDesign(try LFSR.module(c)), initialState: .zero)
        defer { sim.close() }
        try sim.poke("rst", 0)
        try sim.poke("en", 1)
        #expect(try sim.peekUnsigned("state") == 0)
        var s: UInt64 = 0
        for _ in 0..<20 {
            try sim.step()
            for _ in 0..<steps { s = LFSRModel.next(s, width: 16) }
            #expect(try sim.peekUnsigned("state") == Int128(s), "\(steps) steps")
        }
        if steps == 10 {
            var once = LFSRModel.next(0, width: 16)
            for _ in 1..<10 { once = LFSRModel.next(once, width: 16) }
            #expect(once == 0x222)
        }
    }
}

/// Fresh random bits per output (docs/ARITHMETIC.md, Stochastic rounding): the default array's
/// ROUND unit (s28.12 -> s8.2, D = 10, 16-bit LFSR, seed 1) in Verilator, 100,000 valid outputs
/// of inputs whose dropped fraction is always 307/1024 (0.3 LSB). The rounding error is
/// -0.3 or +0.7 LSB; independent draws give no correlation between neighbours and a sum of 64
/// errors with 64 times the variance of one. One LFSR step per output shares 9 of the 10 bits
/// between neighbours, and fails both.
@Suite("Stochastic rounding draws fresh bits in hardware", .tags(.verilator))
struct FreshBitsTests {
    struct Figures: CustomStringConvertible {
        var mean: Double
        var lag1: Double
        /// Sample variance of the sums of non-overlapping blocks of 64 errors, over 64 times the
        /// variance of one error.
        var blockVarianceRatio: Double
        var description: String {
            "mean error \(mean) LSB, lag-1 autocorrelation \(lag1), variance ratio (64-sums) \(blockVarianceRatio)"
        }
    }

    static func figures(_ errors: [Double]) -> Figures {
        let n = Double(errors.count)
        let mean = errors.reduce(0, +) / n
        let centered = errors.map { $0 - mean }
        let variance = centered.reduce(0) { $0 + $1 * $1 } / n
        let lag1 = zip(centered, centered.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 } / (n * variance)
        let blocks = errors.count / 64
        let sums = (0..<blocks).map { b in errors[(b * 64)..<(b * 64 + 64)].reduce(0, +) }
        let blockMean = sums.reduce(0, +) / Double(blocks)
        let blockVariance = sums.reduce(0) { $0 + ($1 - blockMean) * ($1 - blockMean) } / Double(blocks - 1)
        return Figures(mean: mean, lag1: lag1, blockVarianceRatio: blockVariance / (64 * variance))
    }

    /// The hardware's rounding errors in output LSBs, after checking every output against
    /// `RounderModel`.
    static func hardwareErrors(_ step: LFSRDraw, outputs count: Int = 100_000) throws -> [Double] {
        let c = ArrayConfig(lfsrStep: step).rounder(column: 0)
        #expect(c.dropBits == 10 && c.lfsr.width == 16 && c.lfsr.seed == 1 && c.output == FixedPoint(bits: 8, frac: 2))
        var g = SplitMix64(seed: 42)
        // Whole part random in [-100, 100] output LSBs (never saturates), fraction 307/1024.
        let xs = (0..<count).map { _ in Int128.random(in: -100...100, using: &g) * 1024 + 307 }
        let ys = try RounderCheck.outputs(c, for: xs)
        #expect(ys.count == count)
        var model = RounderModel(input: c.input.golden, output: c.output.golden, mode: .stochastic, lfsrWidth: 16, seed: 1,
                                 draw: step)
        var mismatches = 0
        for (x, y) in zip(xs, ys) {
            model.clock(valid: true, x: x)
            if model.out != y { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(step): \(mismatches) outputs differ from RounderModel")
        return zip(xs, ys).map { x, y in Double(y) - Double(x) / 1024 }
    }

    @Test("leap: |lag-1 r| < 0.02 and var(sum of 64) within 10% of 64 var(one); one step fails both")
    func freshBits() throws {
        let leap = Self.figures(try Self.hardwareErrors(.leap))
        let one = Self.figures(try Self.hardwareErrors(.one))
        print("fresh bits, leap: \(leap)")
        print("fresh bits, one step: \(one)")
        #expect(abs(leap.mean) < 0.01, "leap: \(leap)")
        #expect(abs(leap.lag1) < 0.02, "leap: \(leap)")
        #expect(abs(leap.blockVarianceRatio - 1) <= 0.1, "leap: \(leap)")
        // The bounds can fail: the one-step form breaks both.
        #expect(abs(one.mean) < 0.01, "one step: \(one)")
        #expect(abs(one.lag1) >= 0.02, "one step: \(one)")
        #expect(abs(one.blockVarianceRatio - 1) > 0.1, "one step: \(one)")
    }
}
