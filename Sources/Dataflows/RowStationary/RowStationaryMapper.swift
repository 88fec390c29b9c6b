import Conv
import Cores
import Model

/// Eyeriss's row-stationary mapping (docs/dataflows/RS.md). A PE set of min(R, rows) PE rows
/// convolves one channel's filter rows; when R ≤ rows, ⌊rows / R⌋ sets are stacked down the
/// array for consecutive channels, so that layers with few filter rows still fill it and the
/// vertical chain adds channels as well as filter rows; when R > rows the filter rows fold.
/// PE column j computes output row eb·cols + j. Blocks of outputs are taken in the order n,
/// m, e-block, f-block; every fold of a block is a pass whose row sums accumulate in the PEs'
/// psum RFs, and a final drain adds each column bottom to top and rounds.
public struct RowStationaryMapper: DataflowMapper {
    public let config: RowStationaryConfig
    public init(config: RowStationaryConfig) { self.config = config }

    /// A PE set in one fold: consecutive PE rows holding consecutive filter rows of one
    /// channel. Sets share the diagonal input lanes, so each set's window loads take their own
    /// cycles.
    public struct Segment: Sendable {
        public let channel: Int
        /// First filter row and first PE row of the set.
        public let filterRow: Int
        public let peRow: Int
        public let rows: Int
    }

    /// The fold plan of one layer.
    public struct Plan: Sendable {
        public let shape: ConvShape
        public let rows: Int
        public let cols: Int
        /// Outputs per row held in a psum RF at once: the f-block length.
        public let blockWidth: Int
        /// Input-RF entries per PE.
        public let inputEntries: Int
        /// New elements per output after the first window.
        public var step: Int { min(shape.stride, shape.filterWidth) }
        /// Whether the input RF holds a window plus the next output's new elements, so those
        /// load while the window's MACs run; otherwise loads and MACs take turns.
        public var overlapped: Bool { inputEntries >= shape.filterWidth + step }
        /// Input-RF entry of tap q of output column f: consecutive windows overlap by S − step
        /// elements, so element f·step + q of the stream of loaded elements, modulo the RF.
        public func windowEntry(output f: Int, tap q: Int) -> Int { (f * step + q) % inputEntries }
        /// Channels stacked in one fold (1 when the filter rows fold).
        public var channelsPerFold: Int { shape.filterHeight <= rows ? rows / shape.filterHeight : 1 }
        /// Folds of one channel's filter rows (1 when they fit).
        public var rowFolds: Int { (shape.filterHeight + rows - 1) / rows }
        public var folds: Int {
            shape.filterHeight <= rows ? (shape.channels + channelsPerFold - 1) / channelsPerFold : shape.channels * rowFolds
        }
        public var rowBlocks: Int { (shape.outHeight + cols - 1) / cols }
        public var columnBlocks: Int { (shape.outWidth + blockWidth - 1) / blockWidth }
        public func segments(fold g: Int) -> [Segment] {
            let R = shape.filterHeight
            if R <= rows {
                return (g * channelsPerFold..<min(shape.channels, (g + 1) * channelsPerFold)).map { c in
                    Segment(channel: c, filterRow: 0, peRow: (c - g * channelsPerFold) * R, rows: R)
                }
            }
            let h = g % rowFolds
            return [Segment(channel: g / rowFolds, filterRow: h * rows, peRow: 0, rows: min(rows, R - h * rows))]
        }
        /// PE rows busy in fold g (the first ones), PE columns busy in output-row block eb.
        public func rowsIn(fold g: Int) -> Int { segments(fold: g).reduce(0) { $0 + $1.rows } }
        public func colsIn(block eb: Int) -> Int { min(cols, shape.outHeight - eb * cols) }
        public func outputsIn(block fb: Int) -> Int { min(blockWidth, shape.outWidth - fb * blockWidth) }
        /// PE rows summed by the drain: the first fold's, which has the most.
        public var drainRows: Int { rowsIn(fold: 0) }
        /// (channel, filter row) of PE row i in fold g.
        public func filterRow(fold g: Int, peRow i: Int) -> (channel: Int, row: Int) {
            let set = segments(fold: g).first { i >= $0.peRow && i < $0.peRow + $0.rows }!
            return (set.channel, set.filterRow + i - set.peRow)
        }
        /// Input elements shifted into each window before output k of a block: a full window
        /// first, then the stride's new elements (the whole window when the stride skips).
        public func loads(output k: Int) -> Int { k == 0 ? shape.filterWidth : step }
        public func loads(block fb: Int) -> Int { shape.filterWidth + (outputsIn(block: fb) - 1) * step }
        /// Cycles of one pass of `sets` PE sets. Overlapped: the filter taps load alongside
        /// the first windows (sets·S cycles), then each output takes the longer of its S MAC
        /// steps and the next output's loads (sets·step), the last output S. Otherwise: the
        /// taps, then per output each set's loads followed by the S MAC steps.
        public func passCycles(block fb: Int, sets: Int) -> Int {
            let S = shape.filterWidth, outputs = outputsIn(block: fb)
            if overlapped { return sets * S + (outputs - 1) * max(S, sets * step) + S }
            return S + sets * loads(block: fb) + outputs * S
        }
        /// Distinct diagonal lanes i + j·stride among r PE rows and c PE columns.
        public func lanes(rows r: Int, cols c: Int) -> Int {
            shape.stride >= r ? r * c : (c - 1) * shape.stride + r
        }
    }

    public func plan(_ shape: ConvShape) -> Plan {
        Plan(shape: shape, rows: config.rows, cols: config.cols, blockWidth: min(shape.outWidth, config.psumRegisters),
             inputEntries: config.inputRegisters)
    }

    public func validate(_ shape: ConvShape) throws {
        try RowStationary.validate(config)
        let s = shape
        try check(s.batch >= 1, "batch", s.batch, "1 or more")
        try check(s.channels >= 1, "channels", s.channels, "1 or more")
        try check(s.filters >= 1, "filters", s.filters, "1 or more")
        try check(s.filterHeight >= 1, "filter-height", s.filterHeight, "1 or more")
        let holds = min(config.weightRegisters, config.inputRegisters)
        try check(s.filterWidth >= 1 && s.filterWidth <= holds, "filter-width", s.filterWidth,
                  "1...\(holds) (a filter row must fit weight-registers \(config.weightRegisters) and input-registers \(config.inputRegisters))")
        try check((1...RowStationary.maxStride).contains(s.stride), "stride", s.stride, "1...\(RowStationary.maxStride)")
        try check(s.padding >= 0 && s.padding < max(s.filterHeight, s.filterWidth), "padding", s.padding,
                  "0...\(max(s.filterHeight, s.filterWidth) - 1)")
        try check(s.height >= 1 && s.height + 2 * s.padding >= s.filterHeight, "height", s.height,
                  "\(max(1, s.filterHeight - 2 * s.padding)) or more (the filter must fit the padded input)")
        try check(s.width >= 1 && s.width + 2 * s.padding >= s.filterWidth, "width", s.width,
                  "\(max(1, s.filterWidth - 2 * s.padding)) or more (the filter must fit the padded input)")
        let reduction = s.channels * s.filterHeight * s.filterWidth
        try check(reduction <= config.maxK, "max-reduction", config.maxK,
                  "\(reduction) or more (C·R·S of this layer)")
    }

    private func check(_ ok: Bool, _ flag: String, _ value: Int, _ allowed: String) throws {
        if !ok { throw ParameterError(flag, value, allowed: allowed) }
    }

    /// How many (output index, filter tap) pairs land on each padded coordinate -P..<n+P
    /// along one dimension (index p + P).
    static func uses(outputs: Int, taps: Int, stride: Int, padding: Int, size: Int) -> [Int] {
        var u = [Int](repeating: 0, count: size + 2 * padding)
        for o in 0..<outputs { for t in 0..<taps { u[o * stride + t] += 1 } }
        return u
    }

    /// MAC slots (multiplies with gating off) whose activation is inside the image and nonzero.
    func nonzeroSlots(_ s: ConvShape, input: [Int]?, rowUses: [Int], colUses: [Int]) -> Int {
        let p = s.padding
        guard let input else {
            let rowsSum = (0..<s.height).reduce(0) { $0 + rowUses[$1 + p] }
            let colsSum = (0..<s.width).reduce(0) { $0 + colUses[$1 + p] }
            return s.batch * s.filters * s.channels * rowsSum * colsSum
        }
        var perFilter = 0
        for n in 0..<s.batch {
            for c in 0..<s.channels {
                for y in 0..<s.height where rowUses[y + p] > 0 {
                    for x in 0..<s.width where input[s.inputIndex(n: n, c: c, y: y, x: x)] != 0 {
                        perFilter += rowUses[y + p] * colUses[x + p]
                    }
                }
            }
        }
        return s.filters * perFilter
    }

    public func counts(_ shape: ConvShape, input: [Int]?, weights: [Int]?) -> DataMovement {
        let s = shape, p = plan(shape)
        let (N, M, C, R, S, E) = (s.batch, s.filters, s.channels, s.filterHeight, s.filterWidth, s.outHeight)
        let rowUses = Self.uses(outputs: s.outHeight, taps: R, stride: s.stride, padding: s.padding, size: s.height)
        let colUses = Self.uses(outputs: s.outWidth, taps: S, stride: s.stride, padding: s.padding, size: s.width)
        let slots = s.macs
        let gated = config.zeroGating ? slots - nonzeroSlots(s, input: input, rowUses: rowUses, colUses: colUses) : 0
        let macs = slots - gated

        // Each active PE of a pass writes S filter taps and its window loads; Σ over folds and
        // row blocks of the active PEs is C·R·E per (n, m, f-block).
        let loadsPerPE = (0..<p.columnBlocks).reduce(0) { $0 + p.loads(block: $1) }
        let filterWrites = N * M * p.columnBlocks * C * R * E * S
        let inputWrites = N * M * C * R * E * loadsPerPE
        // Per output: C·R psum write-backs; all but the drain rows' first ones read the psum
        // they add to, and the drain reads one psum per drain row: C·R reads in all.
        let psumWrites = s.outputCount * C * R
        let psumReads = s.outputCount * C * R

        // Each load of a PE set reads one buffer word per lane the set uses.
        var laneReads = 0
        for g in 0..<p.folds {
            for segment in p.segments(fold: g) {
                for eb in 0..<p.rowBlocks { laneReads += p.lanes(rows: segment.rows, cols: p.colsIn(block: eb)) }
            }
        }
        let weightReads = N * M * p.rowBlocks * p.columnBlocks * C * R * S
        let usedRows = (0..<s.height).filter { rowUses[$0 + s.padding] > 0 }.count
        let usedCols = (0..<s.width).filter { colUses[$0 + s.padding] > 0 }.count

        return DataMovement(
            macs: macs, gatedMACs: gated,
            registerFileReads: slots + macs + psumReads,
            registerFileWrites: filterWrites + inputWrites + psumWrites,
            peToPE: s.outputCount * (p.drainRows - 1),
            bufferReads: weightReads + N * M * laneReads * loadsPerPE,
            bufferWrites: s.outputCount,
            dramReads: N * C * usedRows * usedCols + s.weightCount,
            dramWrites: s.outputCount)
    }

    public func cycles(_ shape: ConvShape) -> Int {
        let p = plan(shape)
        let sets = (0..<p.folds).map { p.segments(fold: $0).count }
        // Per block: its passes, two cycles for the last MAC to leave the pipeline, the drain.
        let perRowBlock = (0..<p.columnBlocks).reduce(0) { sum, fb in
            sum + sets.reduce(0) { $0 + p.passCycles(block: fb, sets: $1) } + 2 + p.outputsIn(block: fb)
        }
        // Plus one for the last rounded row to leave its ROUND register.
        return shape.batch * shape.filters * p.rowBlocks * perRowBlock + 1
    }
}
