import ArgumentParser
import Cores

/// Number formats and output rounding: the flags every array front end shares, so a design is
/// described the same way for GEMMs, layers and RTL generation.
public struct ArithmeticOptions: ParsableArguments {
    @Option(help: "Bits of A (activations), 2...16.") public var inputBits = 8
    @Option(help: "Fractional bits of A, any integer, negative too (default 6: values in [-2, 2)).") public var inputFrac = 6
    @Flag(help: "A is unsigned (default signed).") public var inputUnsigned = false
    @Option(help: "Bits of B (weights), 2...16 (default: --input-bits).") public var weightBits: Int?
    @Option(help: "Fractional bits of B (default: --input-frac).") public var weightFrac: Int?
    @Flag(help: "B is unsigned (default signed).") public var weightUnsigned = false
    @Option(help: "Accumulator bits, 2...64 (default: input-bits + weight-bits + ceil(log2 of the longest reduction)).") public var accBits: Int?
    @Option(help: "Bits of outputs, 2...32.") public var outputBits = 8
    @Option(help: "Fractional bits of outputs; input-frac + weight-frac - output-frac bits are dropped by rounding.") public var outputFrac = 2
    @Flag(help: "Outputs are unsigned: negative results saturate to 0 (default signed).") public var outputUnsigned = false
    @Option(help: "truncate | nearest | stochastic.") public var rounding: OutputRounding = .stochastic
    @Option(help: "Bits of each rounding unit's LFSR, 3...32, at least the dropped bits.") public var lfsrWidth = 16
    @Option(help: "Base LFSR seed, 1...2^lfsr-width-1; output column j uses 1 + (seed - 1 + 7919 j) mod (2^lfsr-width - 1).") public var lfsrSeed: UInt64 = 1
    @Option(help: "How far each rounding unit's LFSR advances per output: one step, or a leap of as many steps as bits are dropped, so that every output draws fresh random bits.") public var lfsrStep: LFSRStep = .leap

    public init() {}

    public var a: FixedPoint { FixedPoint(bits: inputBits, frac: inputFrac, signed: !inputUnsigned) }
    public var b: FixedPoint { FixedPoint(bits: weightBits ?? inputBits, frac: weightFrac ?? inputFrac, signed: !weightUnsigned) }
    public var output: FixedPoint { FixedPoint(bits: outputBits, frac: outputFrac, signed: !outputUnsigned) }
}

extension OutputRounding: ExpressibleByArgument {}
extension LFSRStep: ExpressibleByArgument {}
