import ArgumentParser
import Cores

/// The systolic-array design flags, shared by `generate-rtl systolic` and `simulate gemm`.
public struct SystolicOptions: ParsableArguments {
    @Option(help: "Array rows R, 1...128.") public var rows = 8
    @Option(help: "Array columns C, 1...128.") public var cols = 8
    @Option(help: "Largest K the default accumulator holds without overflow, 1...16777216.") public var maxK = 4096
    @OptionGroup public var arithmetic: ArithmeticOptions
    @Option(help: "PE pipeline stages, 0...2: 0 multiplies and accumulates in one cycle, 1 registers the product before the accumulate, 2 also multiplies the PE's own operand registers; each stage delays results one cycle (docs/TIMING.md).")
    public var pePipeline = 0
    @Option(help: "ROUND unit pipeline stages, 0...1: 1 registers the rounded quotient and saturates it in the next cycle (one cycle more; docs/TIMING.md).")
    public var roundPipeline = 0

    public init() {}

    public var config: ArrayConfig {
        let x = arithmetic
        return ArrayConfig(rows: rows, cols: cols, a: x.a, b: x.b, maxK: maxK, accBits: x.accBits, output: x.output,
                              rounding: x.rounding, lfsrWidth: x.lfsrWidth, seed: x.lfsrSeed, lfsrStep: x.lfsrStep, format: x.format,
                           thresholds: x.thresholdOutput, dynamicShift: x.dynamicShift, pePipeline: pePipeline, roundPipeline: roundPipeline)
    }
}
