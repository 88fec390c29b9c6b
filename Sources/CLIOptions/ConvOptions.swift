import ArgumentParser
import Cores

/// The PE-array design flags of `simulate conv`. Format and rounding flags are named as in
/// `SystolicOptions`, so an array is described the same way for GEMMs and for layers.
public struct ConvDesignOptions: ParsableArguments {
    @Option(help: "ws | os | rs.") public var dataflow: Dataflow = .os
    @Option(help: "PE array rows.") public var rows = 4
    @Option(help: "PE array columns.") public var cols = 4
    @Option(help: "Bits of activations, 2...16.") public var inputBits = 8
    @Option(help: "Fractional bits of activations (default 6: values in [-2, 2)).") public var inputFrac = 6
    @Flag(help: "Activations are unsigned (default signed).") public var inputUnsigned = false
    @Option(help: "Bits of weights, 2...16 (default: --input-bits).") public var weightBits: Int?
    @Option(help: "Fractional bits of weights (default: --input-frac).") public var weightFrac: Int?
    @Flag(help: "Weights are unsigned (default signed).") public var weightUnsigned = false
    @Option(help: "Longest reduction (C·R·S) the default accumulator holds without overflow.") public var maxReduction = 4096
    @Option(help: "Accumulator bits (default: input-bits + weight-bits + ceil(log2 max-reduction)).") public var accBits: Int?
    @Option(help: "Bits of outputs, 2...32.") public var outputBits = 8
    @Option(help: "Fractional bits of outputs; input-frac + weight-frac - output-frac bits are dropped by rounding.") public var outputFrac = 2
    @Flag(help: "Outputs are unsigned: negative results saturate to 0 (default signed).") public var outputUnsigned = false
    @Option(help: "truncate | nearest | stochastic.") public var rounding: OutputRounding = .stochastic
    @Option(help: "Bits of each rounding unit's LFSR, 3...32, at least the dropped bits.") public var lfsrWidth = 16
    @Option(help: "Base LFSR seed.") public var lfsrSeed: UInt64 = 1
    @Flag(help: "ReLU at the output: negative rounded outputs become 0.") public var relu = false
    @Flag(help: "Turn zero gating off (default on: a zero activation skips the multiply and holds the PE).") public var noZeroGating = false
    @Option(help: "Register-file entries per PE for weights (WS, RS).") public var weightRegisters = 16
    @Option(help: "Register-file entries per PE for input activations (RS).") public var inputRegisters = 16
    @Option(help: "Register-file entries per PE for partial sums (RS).") public var psumRegisters = 16

    public init() {}

    public var config: PEArrayConfig {
        let activation = FixedPoint(bits: inputBits, frac: inputFrac, signed: !inputUnsigned)
        let weight = FixedPoint(bits: weightBits ?? inputBits, frac: weightFrac ?? inputFrac, signed: !weightUnsigned)
        return PEArrayConfig(dataflow: dataflow, rows: rows, cols: cols, activation: activation, weight: weight,
                             maxReduction: maxReduction, accBits: accBits,
                             output: FixedPoint(bits: outputBits, frac: outputFrac, signed: !outputUnsigned),
                             rounding: rounding, relu: relu, lfsrWidth: lfsrWidth, seed: lfsrSeed, zeroGating: !noZeroGating,
                             weightRegisters: weightRegisters, inputRegisters: inputRegisters, psumRegisters: psumRegisters)
    }
}

extension Dataflow: ExpressibleByArgument {}
