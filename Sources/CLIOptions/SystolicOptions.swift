import ArgumentParser
import Cores

/// The systolic-array design flags, shared by `generate-rtl systolic`, `simulate` and `sweep`.
public struct SystolicOptions: ParsableArguments {
    @Option(help: "Array rows R, 1...128.") public var rows = 8
    @Option(help: "Array columns C, 1...128.") public var cols = 8
    @Option(help: "Bits of A elements, 2...16.") public var inputBits = 8
    @Option(help: "Fractional bits of A (default 6: values in [-2, 2)).") public var inputFrac = 6
    @Flag(help: "A is unsigned (default signed).") public var inputUnsigned = false
    @Option(help: "Bits of B elements, 2...16 (default: --input-bits).") public var weightBits: Int?
    @Option(help: "Fractional bits of B (default: --input-frac).") public var weightFrac: Int?
    @Flag(help: "B is unsigned (default signed).") public var weightUnsigned = false
    @Option(help: "Largest K the default accumulator holds without overflow, 1...16777216.") public var maxK = 4096
    @Option(help: "Accumulator bits, 2...64 (default: input-bits + weight-bits + ceil(log2 max-k)).") public var accBits: Int?
    @Option(help: "Bits of C elements, 2...32.") public var outputBits = 8
    @Option(help: "Fractional bits of C; input-frac + weight-frac - output-frac bits are dropped by rounding.") public var outputFrac = 2
    @Flag(help: "C is unsigned: negative results saturate to 0 (default signed).") public var outputUnsigned = false
    @Option(help: "truncate | nearest | stochastic.") public var rounding: OutputRounding = .stochastic
    @Option(help: "Bits of each column's LFSR, 3...32, at least the dropped bits.") public var lfsrWidth = 16
    @Option(help: "Base LFSR seed; column j uses 1 + (seed - 1 + 7919 j) mod (2^lfsr-width - 1).") public var lfsrSeed: UInt64 = 1

    public init() {}

    public var config: SystolicConfig {
        let a = FixedPoint(bits: inputBits, frac: inputFrac, signed: !inputUnsigned)
        let b = FixedPoint(bits: weightBits ?? inputBits, frac: weightFrac ?? inputFrac, signed: !weightUnsigned)
        let output = FixedPoint(bits: outputBits, frac: outputFrac, signed: !outputUnsigned)
        return SystolicConfig(rows: rows, cols: cols, a: a, b: b, maxK: maxK, accBits: accBits, output: output,
                              rounding: rounding, lfsrWidth: lfsrWidth, seed: lfsrSeed)
    }
}

extension OutputRounding: ExpressibleByArgument {}
