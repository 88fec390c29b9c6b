import Accelerator
import ArgumentParser
import Cores

/// The accelerator's flags (`generate-rtl accelerator`; later `simulate accelerator`): the
/// array's size, its arithmetic through the shared design flags, the buffers and the bus.
public struct AcceleratorOptions: ParsableArguments {
    @Option(help: "Array rows R, \(AcceleratorConfig.sides.lowerBound)...\(AcceleratorConfig.sides.upperBound).") public var rows = 8
    @Option(help: "Array columns C, \(AcceleratorConfig.sides.lowerBound)...\(AcceleratorConfig.sides.upperBound).") public var cols = 8
    @Option(help: "Largest K the default accumulator holds without overflow, 1...16777216.") public var maxK = 4096
    @OptionGroup public var arithmetic: ArithmeticOptions
    @Option(help: "KiB of the A and B scratchpad banks together (half each; rows rounded down to a power of two), \(AcceleratorConfig.scratchpadKiBRange.lowerBound)...\(AcceleratorConfig.scratchpadKiBRange.upperBound).")
    public var scratchpadKib = 16
    @Option(help: "KiB of the output bank (rows rounded down to a power of two, at least R rows), \(AcceleratorConfig.outputKiBRange.lowerBound)...\(AcceleratorConfig.outputKiBRange.upperBound).")
    public var outputKib = 4
    @Option(help: "AXI4 data bits, 64 or 128.") public var dataBits = 64
    @Option(help: "AXI4 address bits, 32 or 64.") public var addressBits = 32

    public init() {}

    public var config: AcceleratorConfig {
        let x = arithmetic
        let array = ArrayConfig(rows: rows, cols: cols, a: x.a, b: x.b, maxK: maxK, accBits: x.accBits, output: x.output,
                                rounding: x.rounding, lfsrWidth: x.lfsrWidth, seed: x.lfsrSeed, lfsrStep: x.lfsrStep, format: x.format,
                                thresholds: x.thresholdOutput, dynamicShift: true)
        return AcceleratorConfig(array: array, scratchpadKiB: scratchpadKib, outputKiB: outputKib, dataBits: dataBits, addressBits: addressBits)
    }
}
