import ArgumentParser
import Cores

/// Number formats and output rounding: the flags every array front end shares, so a design is
/// described the same way for GEMMs, layers and RTL generation.
public struct ArithmeticOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How A and B are coded and multiplied: \(NumberFormat.help).", valueName: "format"))
    public var format: NumberFormat = .fixed
    @Flag(help: "With --format binary or bwn: each output is one bit, (sum >= T) xor flip, with T and flip per output column (batch norm and sign folded) sent on t_data with each tile.")
    public var thresholdOutput = false
    @Flag(help: "Dynamic fixed point: the ROUND shift is a run-time port (0 up to the dropped bits, held per layer), so each layer picks its output fractional length.")
    public var dynamicShift = false
    @Option(help: "Bits of A (activations), 2...16 (default 8; not with --format binary, whose A is ±1).") public var inputBits: Int?
    @Option(help: "Fractional bits of A, any integer, negative too (default 6: values in [-2, 2); 0 with --format binary).") public var inputFrac: Int?
    @Flag(help: "A is unsigned (default signed).") public var inputUnsigned = false
    @Option(help: "Bits of B (weights), 2...16 (default: --input-bits).") public var weightBits: Int?
    @Option(help: "Fractional bits of B (default: --input-frac; 0 for binary, bwn, ternary and pow2 weights).") public var weightFrac: Int?
    @Flag(help: "B is unsigned (default signed).") public var weightUnsigned = false
    @Option(help: "Accumulator bits, 2...64 (default: input-bits + weight-bits + ceil(log2 of the longest reduction)).") public var accBits: Int?
    @Option(help: "Bits of outputs, 2...32 (default 8; not with --threshold-output, whose outputs are one bit).") public var outputBits: Int?
    @Option(help: "Fractional bits of outputs; input-frac + weight-frac - output-frac bits are dropped by rounding (default 2, at most input-frac + weight-frac).") public var outputFrac: Int?
    @Flag(help: "Outputs are unsigned: negative results saturate to 0 (default signed).") public var outputUnsigned = false
    @Option(help: "truncate | nearest | stochastic.") public var rounding: RoundingMode = .stochastic
    @Option(help: "Bits of each rounding unit's LFSR, 3...32, at least the dropped bits.") public var lfsrWidth = 16
    @Option(help: "Base LFSR seed, 1...2^lfsr-width-1; output column j uses 1 + (seed - 1 + 7919 j) mod (2^lfsr-width - 1).") public var lfsrSeed: UInt64 = 1
    @Option(help: "How far each rounding unit's LFSR advances per output: one step, or a leap of as many steps as bits are dropped, so that every output draws fresh random bits.") public var lfsrStep: LFSRDraw = .leap

    public init() {}

    /// A flag the format or `--threshold-output` fixes is refused when given, naming both flags:
    /// silently letting the format's widths win would build something else than was asked for.
    public func validate() throws {
        func refuse(_ flag: String, _ value: CustomStringConvertible, _ other: String, _ why: String) throws {
            throw ParameterError(flag, value, allowed: "only without \(other) (\(why))")
        }
        if format == .binary {
            if let inputBits { try refuse("input-bits", inputBits, "--format binary", "A is ±1, one bit") }
            if inputUnsigned { try refuse("input-unsigned", true, "--format binary", "A is ±1") }
        }
        if format.codesWeightValues {
            let why = "its weight codes fix B: signed, \(format.weightValue(b).bits) bits"
            if let weightBits { try refuse("weight-bits", weightBits, "--format \(format)", why) }
            if weightUnsigned { try refuse("weight-unsigned", true, "--format \(format)", why) }
        }
        if thresholdOutput {
            let why = "each output is one threshold bit; no ROUND unit is built"
            if let outputBits { try refuse("output-bits", outputBits, "--threshold-output", why) }
            if let outputFrac { try refuse("output-frac", outputFrac, "--threshold-output", why) }
            if outputUnsigned { try refuse("output-unsigned", true, "--threshold-output", why) }
        }
    }

    /// The values the PEs accumulate (the array fits their widths to the format). Coded weights
    /// stand for small integers (±1, powers of two), so their scale defaults to 2^0.
    public var a: FixedPoint { FixedPoint(bits: inputBits ?? 8, frac: inputFrac ?? (format == .binary ? 0 : 6), signed: !inputUnsigned) }
    public var b: FixedPoint {
        FixedPoint(bits: weightBits ?? a.bits, frac: weightFrac ?? (format.codesWeightValues ? 0 : a.frac), signed: !weightUnsigned)
    }
    public var output: FixedPoint {
        FixedPoint(bits: outputBits ?? 8, frac: outputFrac ?? min(2, a.frac + b.frac), signed: !outputUnsigned)
    }
}

extension RoundingMode: ExpressibleByArgument {}
extension LFSRDraw: ExpressibleByArgument {}
extension PoolMode: ExpressibleByArgument {}

extension NumberFormat: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    /// What a refusal lists: the families, `pow2` and `codebook` alone meaning pow2e3 and codebook4.
    public static var allValueStrings: [String] { NumberFormat.families.flatMap { [$0.shorthand?.components(separatedBy: " ").first, $0.spelling].compactMap { $0 } } }
}
