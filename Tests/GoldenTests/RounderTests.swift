import Testing
import Golden
import Runtime

struct RounderTests {
    static let s16_4 = FixedFormat(wordLength: 16, fracLength: 4, signed: true)
    static let s8_0 = FixedFormat(wordLength: 8, fracLength: 0, signed: true)
    static let s8_2 = FixedFormat(wordLength: 8, fracLength: 2, signed: true)

    @Test("dropBits is FLin - FLout")
    func dropBits() {
        let r = RounderModel(input: FixedFormat(wordLength: 20, fracLength: 8, signed: true), output: Self.s8_2,
                             mode: .truncate, lfsrWidth: 8, seed: 1)
        #expect(r.dropBits == 6)
    }

    @Test("combinational round: s<16,4> to s<8,0>, hand-worked, with saturation")
    func combinational() {
        let cases: [(x: Int128, mode: RoundingMode, r: Int128, want: Int128)] = [
            (40, .truncate, 0, 2), (40, .nearest, 0, 2), (40, .stochastic, 7, 2), (40, .stochastic, 8, 3),
            (-40, .truncate, 0, -3), (-40, .nearest, 0, -2), (-40, .stochastic, 8, -2), (-40, .stochastic, 7, -3),
            (3000, .truncate, 0, 127), (3000, .nearest, 0, 127),          // 187.5
            (-3000, .truncate, 0, -128), (-3000, .stochastic, 15, -128),
            (2040, .truncate, 0, 127), (2040, .nearest, 0, 127),          // 127.5: rounds to 128, clamps
            (2040, .stochastic, 15, 127),
            (-2056, .truncate, 0, -128), (-2056, .nearest, 0, -128),      // -128.5: floor -129 clamps; tie -128
        ]
        for c in cases {
            #expect(RounderModel.round(c.x, input: Self.s16_4, output: Self.s8_0, mode: c.mode, random: c.r) == c.want,
                    "x=\(c.x) \(c.mode) r=\(c.r)")
        }
    }

    @Test("latency 1: a valid input's result and out_valid appear after its edge; out holds, out_valid drops")
    func latency() {
        // Non-stochastic modes ignore lfsrWidth and seed, even invalid ones.
        var r = RounderModel(input: Self.s16_4, output: Self.s8_0, mode: .nearest, lfsrWidth: 0, seed: 0)
        #expect(!r.outValid && r.out == 0)
        r.clock(valid: true, x: 40)          // 2.5
        #expect(r.outValid && r.out == 2)
        r.clock(valid: false, x: 56)
        #expect(!r.outValid && r.out == 2)   // register holds, out_valid was a one-cycle pulse
        r.clock(valid: true, x: 56)          // 3.5
        #expect(r.outValid && r.out == 4)
        r.clock(valid: true, x: -24)         // -1.5, back to back
        #expect(r.outValid && r.out == -2)
        r.clock(valid: true, x: 40, reset: true)
        #expect(!r.outValid && r.out == 0)   // reset wins over valid
        r.clock(valid: false, x: 0)
        #expect(!r.outValid && r.out == 0)
    }

    @Test("stochastic, one step: the LFSR steps only on valid inputs (width 4, seed 1, D = 2, hand-worked)")
    func lfsrStepsOnlyOnValid() {
        // Valid inputs see states 1, 2, 4, 9, 3, 6, 13, 10, so r = state mod 4 = 1, 2, 0, 1, 3, 2, 1, 2.
        // x = 2 (0.5 LSB) rounds up iff 2 + r >= 4, i.e. r >= 2.
        // (Stepping on every cycle of this pattern would give 0, 0, 1, ... instead.)
        var r = RounderModel(input: Self.s8_2, output: Self.s8_0, mode: .stochastic, lfsrWidth: 4, seed: 1, draw: .one)
        let validPattern = [true, false, false, true, true, false, true, true, false, false, false, true, true, true]
        var outputs: [Int128] = []
        for valid in validPattern {
            r.clock(valid: valid, x: 2)
            #expect(r.outValid == valid)
            if valid { outputs.append(r.out) }
        }
        #expect(outputs == [0, 1, 0, 0, 1, 1, 0, 1])
    }

    @Test("stochastic, leap: the LFSR leaps D = 2 steps per valid input, only on valid inputs (width 4, seed 1, hand-worked)")
    func lfsrLeapsOnlyOnValid() {
        // The width-4 sequence is 1, 2, 4, 9, 3, 6, 13, 10, 5, 11, 7, 15, 14, 12, 8; valid inputs
        // see every other state: 1, 4, 3, 13, 5, 7, 14, 8, so r = state mod 4 = 1, 0, 3, 1, 1, 3, 2, 0
        // (no two draws share a bit). x = 2 (0.5 LSB) rounds up iff r >= 2.
        var r = RounderModel(input: Self.s8_2, output: Self.s8_0, mode: .stochastic, lfsrWidth: 4, seed: 1)
        #expect(r.lfsrSteps == 2)
        let validPattern = [true, false, false, true, true, false, true, true, false, false, false, true, true, true]
        var outputs: [Int128] = []
        for valid in validPattern {
            r.clock(valid: valid, x: 2)
            #expect(r.outValid == valid)
            if valid { outputs.append(r.out) }
        }
        #expect(outputs == [0, 0, 1, 0, 0, 1, 1, 0])
        #expect(r.lfsrState == 2)  // after 8 leaps: state 16 of the sequence, 2
    }

    @Test("stochastic, leap: the default ROUND unit's draws (width 16, seed 1, D = 10, hand-worked in LFSRTests)")
    func leapWidth16() {
        let input = FixedFormat(wordLength: 28, fracLength: 12, signed: true)
        var leap = RounderModel(input: input, output: Self.s8_2, mode: .stochastic, lfsrWidth: 16, seed: 1)
        var one = RounderModel(input: input, output: Self.s8_2, mode: .stochastic, lfsrWidth: 16, seed: 1, draw: .one)
        #expect(leap.lfsrSteps == 10 && one.lfsrSteps == 1)
        var states: [UInt64] = []
        for _ in 0..<2 {
            leap.clock(valid: true, x: 0)
            one.clock(valid: true, x: 0)
            states.append(leap.lfsrState!)
        }
        #expect(states == [0x444, 0x11A1])  // draws r = 1, 0x044, 0x1A1
        #expect(one.lfsrState == 4)
        // x = 0x44 (68/1024 LSB) rounds up only when r >= 1024 - 68 = 956, so with r = 1 and 68 it
        // stays down; x = 1023 rounds up for every r >= 1 (here 417).
        var probe = RounderModel(input: input, output: Self.s8_2, mode: .stochastic, lfsrWidth: 16, seed: 1)
        var outs: [Int128] = []
        for x: Int128 in [0x44, 0x44, 1023] {
            probe.clock(valid: true, x: x)
            outs.append(probe.out)
        }
        #expect(outs == [0, 0, 1])
    }

    @Test("stochastic, D = 0 and D = 1: a leap is one step (width 4, seed 1)")
    func leapOfAtLeastOne() {
        let s8_1 = FixedFormat(wordLength: 8, fracLength: 1, signed: true)
        var d0 = RounderModel(input: Self.s8_0, output: Self.s8_0, mode: .stochastic, lfsrWidth: 4, seed: 1)
        var d1 = RounderModel(input: s8_1, output: Self.s8_0, mode: .stochastic, lfsrWidth: 4, seed: 1)
        #expect(d0.lfsrSteps == 1 && d1.lfsrSteps == 1)
        d0.clock(valid: true, x: 5)
        d1.clock(valid: true, x: 5)
        #expect(d0.out == 5 && d0.lfsrState == 2)
        #expect(d1.out == 3 && d1.lfsrState == 2)  // 2.5 + r/2 with r = 1: rounds up
    }

    @Test("stochastic, one step: reset reloads the seed")
    func resetReloadsSeed() {
        var r = RounderModel(input: Self.s8_2, output: Self.s8_0, mode: .stochastic, lfsrWidth: 4, seed: 1, draw: .one)
        r.clock(valid: true, x: 2)   // state 1
        r.clock(valid: true, x: 2)   // state 2
        r.clock(valid: true, x: 2, reset: true)
        var outputs: [Int128] = []
        for _ in 0..<3 {
            r.clock(valid: true, x: 2)
            outputs.append(r.out)
        }
        // From the seed: r = 1, 2, 0 -> 0, 1, 0. Without the reload (states 4, 9, 3) it would be 0, 0, 1.
        #expect(outputs == [0, 1, 0])
    }

    @Test("stochastic, leap: reset reloads the seed")
    func leapResetReloadsSeed() {
        var r = RounderModel(input: Self.s8_2, output: Self.s8_0, mode: .stochastic, lfsrWidth: 4, seed: 1)
        r.clock(valid: true, x: 2)   // state 1
        r.clock(valid: true, x: 2)   // state 4
        r.clock(valid: true, x: 2, reset: true)
        var outputs: [Int128] = []
        for _ in 0..<3 {
            r.clock(valid: true, x: 2)
            outputs.append(r.out)
        }
        // From the seed: states 1, 4, 3, r = 1, 0, 3 -> 0, 0, 1. Without the reload (states 3, 13, 5:
        // r = 3, 1, 1) it would be 1, 0, 0.
        #expect(outputs == [0, 0, 1])
    }

    /// Mean error in output LSBs of rounding `samples` uniform random s<24,8> inputs to s<17,0>
    /// (D = 8; the output is wide enough that nothing saturates), against the exact x / 2^8.
    static func meanError(mode: RoundingMode, lfsrWidth: Int, seed: UInt64, samples: Int, draw: LFSRDraw = .leap) -> Double {
        let input = FixedFormat(wordLength: 24, fracLength: 8, signed: true)
        let output = FixedFormat(wordLength: 17, fracLength: 0, signed: true)
        var rounder = RounderModel(input: input, output: output, mode: mode, lfsrWidth: lfsrWidth, seed: seed, draw: draw)
        var rng = SplitMix64(seed: 0x1234_5678)
        var sum = 0.0
        for _ in 0..<samples {
            let x = Int128(Int64.random(in: -(1 << 23)..<(1 << 23), using: &rng))
            rounder.clock(valid: true, x: x)
            sum += Double(rounder.out) - Double(x) / 256
        }
        return sum / Double(samples)
    }

    @Test("stochastic rounding mean error within ±0.01 LSB (D = 8, 131072 samples), leap and one step",
          arguments: [(8, UInt64(0xA5)), (16, UInt64(0xACE1)), (32, UInt64(0xDEAD_BEEF))], [LFSRDraw.leap, .one])
    func stochasticUnbiased(lfsr: (width: Int, seed: UInt64), draw: LFSRDraw) {
        let mean = Self.meanError(mode: .stochastic, lfsrWidth: lfsr.width, seed: lfsr.seed, samples: 131_072, draw: draw)
        #expect(abs(mean) <= 0.01, "mean error \(mean) LSB")
    }

    @Test("truncation mean error within ±0.01 LSB of -0.5 + 2^-9 (D = 8, 131072 samples)")
    func truncationBiased() {
        let mean = Self.meanError(mode: .truncate, lfsrWidth: 16, seed: 1, samples: 131_072)
        #expect(abs(mean - (-0.5 + 1.0 / 512)) <= 0.01, "mean error \(mean) LSB")
    }

    @Test("nearest-even mean error within ±0.01 LSB (D = 8, 131072 samples)")
    func nearestUnbiased() {
        let mean = Self.meanError(mode: .nearest, lfsrWidth: 16, seed: 1, samples: 131_072)
        #expect(abs(mean) <= 0.01, "mean error \(mean) LSB")
    }
}
