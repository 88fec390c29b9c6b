import Cores
import Golden
import Runtime
import Testing
import Verification
import TestTags

/// Each core in Verilator against the golden model: corner cases plus at least 10,000 random
/// cycles, every output compared on every cycle.
@Suite("Cores against the golden model", .tags(.verilator))
struct CoreCosimTests {
    static let macs: [MACConfig] = [
        MACConfig(),                                                              // s8 x s8, K = 1024
        MACConfig(a: FixedPoint(bits: 2)),                                        // smallest
        MACConfig(a: FixedPoint(bits: 8, signed: false), b: FixedPoint(bits: 8)), // mixed signedness
        MACConfig(a: FixedPoint(bits: 8, signed: false)),                         // unsigned
        MACConfig(a: FixedPoint(bits: 16, frac: 8), accBits: 20),                 // narrow accumulator: wraps
        MACConfig(a: FixedPoint(bits: 32, frac: 16), maxK: 1024),                 // 74-bit accumulator port
    ]

    @Test("MAC matches MACModel", arguments: macs)
    func mac(_ c: MACConfig) throws {
        let r = try MACCheck.run(c, randomCycles: 10_000, seed: 7)
        #expect(r.cycles >= 10_000)
        #expect(r.passed, "\(r)")
    }

    static let rounders: [RounderConfig] = RoundingMode.allCases.map { RounderConfig(rounding: $0) } + [
        RounderConfig(input: FixedPoint(bits: 10, frac: 1), output: FixedPoint(bits: 6, frac: 0), rounding: .nearest),  // D = 1: every odd input is a tie
        RounderConfig(input: FixedPoint(bits: 12, frac: 4), output: FixedPoint(bits: 8, frac: 4), rounding: .stochastic, lfsr: LFSRConfig(width: 3, seed: 1)),  // D = 0
        RounderConfig(output: FixedPoint(bits: 8, signed: false), rounding: .truncate),   // signed into unsigned
        RounderConfig(input: FixedPoint(bits: 20, frac: 6, signed: false), output: FixedPoint(bits: 8, frac: 0, signed: false), rounding: .nearest),
        RounderConfig(input: FixedPoint(bits: 72, frac: 20), output: FixedPoint(bits: 16, frac: 4), rounding: .stochastic, lfsr: LFSRConfig(width: 17, seed: 0x1ACE)),
        RounderConfig(rounding: .stochastic, lfsrStep: .one),                                                              // one LFSR step per output
        RounderConfig(input: FixedPoint(bits: 28, frac: 12), output: FixedPoint(bits: 8, frac: 2), rounding: .stochastic),  // the default array's: D = 10
    ]

    @Test("rounding unit matches RounderModel", arguments: rounders)
    func rounder(_ c: RounderConfig) throws {
        let r = try RounderCheck.run(c, randomCycles: 10_000, seed: 11)
        #expect(r.passed, "\(r)")
    }

    @Test("LFSR state matches LFSRModel cycle by cycle", arguments: [LFSRConfig(width: 3, seed: 1), LFSRConfig(), LFSRConfig(width: 32, seed: 0xACE1)])
    func lfsr(_ c: LFSRConfig) throws {
        let r = try LFSRCheck.run(c, cycles: 10_000, seed: 3)
        #expect(r.passed, "\(r)")
    }

    @Test("every LFSR width 3...20 has period 2^n - 1 in hardware")
    func lfsrPeriods() throws {
        let periods = try LFSRCheck.periods(widths: 3...20)
        for w in 3...20 {
            #expect(periods[w] == .some((1 << w) - 1), "width \(w): measured \(String(describing: periods[w]))")
        }
    }

    @Test("a wrong reference is caught, with the first mismatch and a waveform")
    func mismatchIsReported() throws {
        // Hardware with a 20-bit accumulator against a model with the default 26 bits: sums of
        // extreme products overflow 20 bits, so they must disagree.
        let narrow = MACConfig(accBits: 20)
        let r = try MACCheck.run(narrow, randomCycles: 2_000, seed: 5, model: MACConfig())
        #expect(!r.passed)
        #expect(r.firstMismatch?.contains("cycle") == true)
        let wave = try #require(r.waveform)
        let text = try String(contentsOfFile: wave, encoding: .utf8)
        #expect(text.contains("$enddefinitions"))
    }
}

/// Stochastic rounding is unbiased in hardware; truncation is not.
@Suite("Rounding statistics in hardware", .tags(.verilator))
struct RoundingStatisticsTests {
    /// Mean of (rounded - exact) in output LSBs over random inputs that never saturate.
    static func meanError(_ mode: RoundingMode, samples: Int) throws -> Double {
        let c = RounderConfig(input: FixedPoint(bits: 24, frac: 8), output: FixedPoint(bits: 16, frac: 0), rounding: mode)
        var g = SplitMix64(seed: 99)
        let xs = (0..<samples).map { _ in Int128.random(in: -(1 << 20)...(1 << 20), using: &g) }
        let ys = try RounderCheck.outputs(c, for: xs)
        #expect(ys.count == xs.count)
        let total = zip(xs, ys).reduce(0.0) { $0 + (Double($1.1) - Double($1.0) / 256) }
        return total / Double(xs.count)
    }

    @Test("stochastic: |mean error| < 0.01 LSB over 200,000 samples")
    func stochasticIsUnbiased() throws {
        let mean = try Self.meanError(.stochastic, samples: 200_000)
        #expect(abs(mean) < 0.01, "mean error \(mean) LSB")
    }

    @Test("truncate: mean error within 0.01 of -0.5 + 2^-9 LSB")
    func truncationIsBiased() throws {
        let mean = try Self.meanError(.truncate, samples: 200_000)
        #expect(abs(mean - (-0.5 + 1.0 / 512)) < 0.01, "mean error \(mean) LSB")
    }

    @Test("nearest-even: |mean error| < 0.01 LSB")
    func nearestIsUnbiased() throws {
        let mean = try Self.meanError(.nearest, samples: 200_000)
        #expect(abs(mean) < 0.01, "mean error \(mean) LSB")
    }
}
