import Foundation

extension ErrorStats {
    /// `sqnrDB` when finite, else nil. `sqnrDB` is +infinity when there is no error at all (and
    /// -infinity for a zero reference with some error); `JSONEncoder` refuses non-finite numbers
    /// by default, so reports should carry this instead.
    public var finiteSQNRDB: Double? { sqnrDB.isFinite ? sqnrDB : nil }
}

/// The rounding error of one mode over a GEMM, flattened so that it always encodes to JSON
/// (`sqnrDB` is nil where `ErrorStats` says infinity).
public struct GEMMRoundingError: Sendable, Codable, Equatable {
    public let mode: RoundingMode
    public let count: Int
    /// In real units, like `ErrorStats`.
    public let maxAbsError: Double
    public let rmse: Double
    public let meanError: Double
    /// The bias in output LSBs (`meanError · 2^FLout`), the unit the contract states biases in:
    /// about -0.5 for truncation, about 0 for nearest and stochastic.
    public let meanErrorLSB: Double
    /// nil when not finite (no error at all); see `ErrorStats.finiteSQNRDB`.
    public let sqnrDB: Double?

    public init(mode: RoundingMode, stats: ErrorStats, output: FixedFormat) {
        self.mode = mode
        count = stats.count
        maxAbsError = stats.maxAbsError
        rmse = stats.rmse
        meanError = stats.meanError
        meanErrorLSB = scalbn(stats.meanError, output.fracLength)
        sqnrDB = stats.finiteSQNRDB
    }
}

extension GEMMModel {
    /// Error of rounded outputs (integers of `output`) against a real-valued reference such as
    /// `realProduct`, in real units.
    public static func errorStats(c: Matrix<Int128>, output: FixedFormat, reference: Matrix<Double>) -> ErrorStats {
        precondition(c.rows == reference.rows && c.cols == reference.cols, "shapes differ")
        return ErrorStats(reference: reference.elements, actual: c.elements.map(output.realValue))
    }
}

extension SystolicModel {
    /// Runs A·B through a fresh array (state after reset, this configuration) once per mode and
    /// measures the rounded outputs against `GEMMModel.realProduct`. The error includes any
    /// saturation and accumulator wrap, since the reference has neither.
    /// `.stochastic` needs this model's `lfsrWidth` and `seed` to be valid.
    public func roundingErrors(a: Matrix<Int128>, b: Matrix<Int128>,
                               modes: [RoundingMode] = RoundingMode.allCases) -> [GEMMRoundingError] {
        let reference = GEMMModel.realProduct(a: a, formatA: formatA, b: b, formatB: formatB)
        return modes.map { mode in
            var model = SystolicModel(rows: rows, cols: cols, a: formatA, b: formatB, accBits: accBits,
                                      output: output, mode: mode, lfsrWidth: lfsrWidth, seed: seed, draw: draw)
            let c = model.gemm(a: a, b: b).c
            return GEMMRoundingError(mode: mode, stats: GEMMModel.errorStats(c: c, output: output, reference: reference),
                                     output: output)
        }
    }
}
