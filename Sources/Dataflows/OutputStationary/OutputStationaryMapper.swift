import Conv
import Cores
import Model

/// Output stationary: the layer becomes its im2col GEMM, (N·E·F × C·R·S) · (C·R·S × M), on the
/// R×C systolic array of docs/SYSTOLIC.md. Array row i holds output position p = (n, e, f) and
/// array column j filter m for one whole reduction; the layer folds into ceil(N·E·F / rows) ×
/// ceil(M / cols) tiles of K = C·R·S beats each (docs/CONV.md §OS).
///
/// Events, per beat (one column of the A tile and one row of the B tile entering the array):
/// - `bufferReads` rows + cols words (im2col repeats an input once per filter position that
///   covers it, and again for every column tile: the cost of the Toeplitz form);
/// - `macs` rows·cols, of which `gatedMACs` are those whose activation is zero (padding lanes,
///   zero padding of the layer, zero inputs) when zero gating is on;
/// - `registerFileReads`/`Writes`: the accumulator (the PE's psum register) is read and written
///   by every MAC performed, and untouched by a gated one;
/// - `peToPE` rows·(cols - 1) activation and cols·(rows - 1) weight hops (results leave
///   through their column's read-out multiplexer, not from PE to PE);
/// and per tile rows·cols `bufferWrites` (rounded outputs, padding lanes included). DRAM traffic is the
/// compulsory one: every input and weight read once, every output written once.
public struct OutputStationaryMapper: DataflowMapper {
    /// The array this mapping runs on: the systolic array with its event counters.
    public let config: ArrayConfig
    public init(config: ArrayConfig) {
        var c = config
        c.counters = true
        self.config = c
    }

    /// The design parameters alone (array size, formats, rounding).
    public func validateDesign() throws {
        try config.validate(sides: Systolic.sizes, reductionFlag: "max-reduction")
    }

    public func validate(_ shape: ConvShape) throws {
        try shape.validate()
        try validateDesign()
        try config.validate(layer: shape)
        let k = Self.reduction(shape)
        if k > config.maxK {
            throw ParameterError("max-reduction", config.maxK,
                                 allowed: "at least C·R·S = \(k) for this layer (the accumulator must hold the whole reduction)")
        }
    }

    /// K = C·R·S: the length of every output's reduction.
    public static func reduction(_ s: ConvShape) -> Int { s.channels * s.filterHeight * s.filterWidth }

    /// GEMM dimensions: rows of A (output positions), columns of B (filters), K.
    public static func gemm(_ s: ConvShape) -> (m: Int, n: Int, k: Int) {
        (s.batch * s.outHeight * s.outWidth, s.filters, reduction(s))
    }

    public func tiles(_ s: ConvShape) -> (rows: Int, cols: Int) {
        let g = Self.gemm(s)
        return ((g.m + config.rows - 1) / config.rows, (g.n + config.cols - 1) / config.cols)
    }

    public func counts(_ shape: ConvShape, input: [Int]?, weights: [Int]?) -> DataMovement {
        let (R, C) = (config.rows, config.cols)
        let g = Self.gemm(shape)
        let t = tiles(shape)
        let tiles = t.rows * t.cols
        let beats = tiles * g.k
        let slots = beats * R * C
        // Zero activations of the A matrix as the array sees it (padded to whole row tiles);
        // every column tile streams it once more, and each zero meets C PEs.
        let zeros = (t.rows * R - g.m) * g.k + shape.im2colZeros(input: input)
        var gated = config.zeroGating ? zeros * t.cols * C : 0
        if let zeroWeights = config.gatedWeightsPerTerm(shape, weights: weights) {
            // A beat with za zero A lanes and zw zero B lanes gates za·C + zw·R - za·zw PEs;
            // summed over tiles, beat k's counts add up per term. Padded B columns are code 0,
            // a zero weight.
            let zw = zeroWeights.map { $0 + t.cols * C - g.n }
            let za = shape.im2colZerosPerTerm(input: input).map { $0 + t.rows * R - g.m }
            gated += t.rows * R * zw.reduce(0, +) - zip(za, zw).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let macs = slots - gated
        return DataMovement(
            macs: macs, gatedMACs: gated, registerFileReads: macs, registerFileWrites: macs,
            peToPE: beats * (R * (C - 1) + C * (R - 1)),
            bufferReads: beats * (R + C), bufferWrites: tiles * R * C,
            dramReads: shape.inputCount + shape.weightCount, dramWrites: shape.outputCount)
    }

    public func cycles(_ shape: ConvShape) -> Int {
        let g = Self.gemm(shape)
        return config.expectedCycles(m: g.m, n: g.n, k: g.k)
    }
}
