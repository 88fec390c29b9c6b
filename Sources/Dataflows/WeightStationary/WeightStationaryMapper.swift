import Conv
import Cores
import Model

/// Maps a layer onto the weight-stationary array (docs/dataflows/WS.md). The layer is the
/// im2col GEMM: P = N·E·F output positions × K = C·R·S reduction terms × M filters. It folds
/// into filter folds of `cols` filters, position blocks of `psumRegisters` positions (what a
/// column's psum buffer holds) and reduction folds of `rows` terms, in that loop order
/// (filter fold outermost, reduction fold innermost); each fold streams its block's positions.
public struct WeightStationaryMapper: DataflowMapper {
    public let config: WeightStationaryConfig
    public init(config: WeightStationaryConfig) { self.config = config }

    /// The fold counts of one layer.
    public struct Plan: Hashable, Sendable {
        public let positions: Int
        public let reduction: Int
        public let filters: Int
        public let filterFolds: Int
        public let blocks: Int
        public let reductionFolds: Int
        public let blockLength: Int
        public var lastBlockLength: Int { positions - (blocks - 1) * blockLength }
    }

    /// One fold in the order the driver feeds it.
    public struct Fold: Hashable, Sendable {
        public let filterFold: Int
        public let block: Int
        public let reductionFold: Int
        /// First output position of the block (im2col row) and how many it streams.
        public let firstPosition: Int
        public let positions: Int
        /// PE rows and columns holding a weight.
        public let rows: Int
        public let cols: Int
        public let isFirstReduction: Bool
        public let isLastReduction: Bool
    }

    public func plan(_ s: ConvShape) -> Plan {
        let p = s.batch * s.outHeight * s.outWidth
        let k = s.channels * s.filterHeight * s.filterWidth
        let b = config.psumRegisters
        return Plan(positions: p, reduction: k, filters: s.filters, filterFolds: ceilDiv(s.filters, config.cols),
                    blocks: ceilDiv(p, b), reductionFolds: ceilDiv(k, config.rows), blockLength: b)
    }

    /// Every fold, in feeding order (filter fold, position block, reduction fold).
    public func folds(_ s: ConvShape) -> [Fold] {
        let plan = plan(s)
        var out: [Fold] = []
        for fm in 0..<plan.filterFolds {
            for b in 0..<plan.blocks {
                for fk in 0..<plan.reductionFolds {
                    out.append(Fold(filterFold: fm, block: b, reductionFold: fk, firstPosition: b * plan.blockLength,
                                    positions: b == plan.blocks - 1 ? plan.lastBlockLength : plan.blockLength,
                                    rows: min(config.rows, plan.reduction - fk * config.rows),
                                    cols: min(config.cols, plan.filters - fm * config.cols),
                                    isFirstReduction: fk == 0, isLastReduction: fk == plan.reductionFolds - 1))
                }
            }
        }
        return out
    }

    public func validate(_ s: ConvShape) throws {
        try WeightStationary.validate(config)
        try s.validate()
        try config.array.validate(layer: s)
        let k = s.channels * s.filterHeight * s.filterWidth
        if k > config.maxK {
            throw ParameterError("channels", s.channels,
                                 allowed: "channels × filter-height × filter-width <= max-reduction \(config.maxK) (the accumulator's size)")
        }
    }

    /// Closed forms over the fold plan (docs/dataflows/WS.md): no loop over MACs. With `input`,
    /// each zero input element is weighed by the number of windows that read it.
    public func counts(_ s: ConvShape, input: [Int]?, weights: [Int]?) -> DataMovement {
        let plan = plan(s)
        let (p, k, m) = (plan.positions, plan.reduction, plan.filters)
        let (rows, cols) = (config.rows, config.cols)
        let zeros = config.zeroGating ? s.im2colZeros(input: input) : 0
        var d = DataMovement()
        d.gatedMACs = zeros * m
        if let zeroWeights = config.array.gatedWeightsPerTerm(s, weights: weights) {
            // A zero weight skips the MACs of its term whose activation is not zero already.
            let zx = s.im2colZerosPerTerm(input: input)
            d.gatedMACs += zip(zeroWeights, zx).reduce(0) { $0 + $1.0 * (p - $1.1) }
        }
        d.macs = p * k * m - d.gatedMACs
        d.registerFileReads = d.macs
        d.registerFileWrites = plan.blocks * k * m
        d.peToPE = plan.filterFolds * p * k * (cols - 1) + plan.reductionFolds * p * m * (rows - 1)
        let psumTraffic = p * m * (plan.reductionFolds - 1)
        d.bufferReads = plan.filterFolds * p * k + plan.blocks * k * m + psumTraffic
        d.bufferWrites = psumTraffic + p * m
        d.dramReads = s.inputCount + s.weightCount
        d.dramWrites = s.outputCount
        return d
    }

    /// First beat to last output, inclusive: every fold but the last takes its fold period, the
    /// last streams its positions, and its last position leaves the last active column
    /// `outputLatency` cycles later.
    public func cycles(_ s: ConvShape) -> Int {
        let plan = plan(s)
        func period(_ length: Int) -> Int { WeightStationary.foldPeriod(positions: length, rows: config.rows, cols: config.cols) }
        let perBlockGroup = (plan.blocks - 1) * period(plan.blockLength) + period(plan.lastBlockLength)
        let lastBeat = plan.filterFolds * plan.reductionFolds * perBlockGroup - period(plan.lastBlockLength) + plan.lastBlockLength - 1
        let lastColumn = plan.filters - (plan.filterFolds - 1) * config.cols - 1
        return lastBeat + WeightStationary.outputLatency(rows: config.rows, column: lastColumn) + 1
    }
}

private func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
