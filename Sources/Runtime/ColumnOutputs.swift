import Cores
import Golden

extension ColumnOutputModel {
    /// The golden output columns of an array built from `c`: its accumulator, output format,
    /// rounding, LFSR and ReLU.
    public init(_ c: ArrayConfig) {
        self.init(columns: c.cols, accumulator: c.accumulator.golden, output: c.output.golden,
                  mode: c.rounding, lfsrWidth: c.lfsrWidth, seed: c.seed,
                  draw: c.lfsrStep, relu: c.relu)
    }
}
