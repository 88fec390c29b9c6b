import ArgumentParser
import Cores

/// The PE-array design flags of `simulate conv` and `generate-rtl pe-array`.
public struct ConvDesignOptions: ParsableArguments {
    @Option(help: "ws | os | rs.") public var dataflow: Dataflow = .os
    @Option(help: "PE array rows: 1...64 for ws and rs, 1...128 for os.") public var rows = 4
    @Option(help: "PE array columns: 1...64 for ws and rs, 1...128 for os.") public var cols = 4
    @Option(help: "Longest reduction (C·R·S) the default accumulator holds without overflow, 1...16777216.") public var maxReduction = 4096
    @OptionGroup public var arithmetic: ArithmeticOptions
    @Flag(help: "ReLU at the output: negative rounded outputs become 0.") public var relu = false
    @Flag(help: "Turn zero gating off (default on: a zero activation skips the multiply and holds the PE).") public var noZeroGating = false
    @Option(help: "Register-file entries per PE for weights: 2...256 (WS), 1...64 (RS).") public var weightRegisters = 16
    @Option(help: "Register-file entries per PE for input activations (RS), 1...64.") public var inputRegisters = 16
    @Option(help: "Register-file entries per PE for partial sums: 1...256 (RS), or the psum buffer depth per column: 2...4096 (WS).") public var psumRegisters = 16

    public init() {}

    public var config: PEArrayConfig {
        let x = arithmetic
        return PEArrayConfig(dataflow: dataflow, rows: rows, cols: cols, activation: x.a, weight: x.b,
                             maxReduction: maxReduction, accBits: x.accBits, output: x.output,
                             rounding: x.rounding, relu: relu, lfsrWidth: x.lfsrWidth, seed: x.lfsrSeed, zeroGating: !noZeroGating,
                             weightRegisters: weightRegisters, inputRegisters: inputRegisters, psumRegisters: psumRegisters)
    }
}

extension Dataflow: ExpressibleByArgument {}
