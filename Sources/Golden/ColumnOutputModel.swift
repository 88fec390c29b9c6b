/// The output path every array ends in, one per output column: the exact sum wrapped to the
/// accumulator (as the hardware adds), rounded by the column's ROUND unit with its own LFSR, then
/// ReLU when configured. Each array delivers a column's results in its own order; the caller
/// passes them in that order, and the LFSR advances once (a step or a leap) per result, as in
/// hardware.
public struct ColumnOutputModel: Sendable {
    public let accumulator: FixedFormat
    public let relu: Bool
    private var units: [RounderModel]
    private let initial: [RounderModel]

    /// Column j's LFSR starts at `SystolicModel.columnSeed(j:seed:lfsrWidth:)`; modes other than
    /// stochastic ignore the width and the seed.
    public init(columns: Int, accumulator: FixedFormat, output: FixedFormat, mode: RoundingMode,
                lfsrWidth: Int, seed: UInt64, draw: LFSRDraw = .leap, relu: Bool) {
        self.accumulator = accumulator
        self.relu = relu
        initial = (0..<columns).map { j in
            RounderModel(input: accumulator, output: output, mode: mode, lfsrWidth: lfsrWidth,
                         seed: mode == .stochastic ? SystolicModel.columnSeed(j: j, seed: seed, lfsrWidth: lfsrWidth) : 1, draw: draw)
        }
        units = initial
    }

    /// Dynamic fixed point: every unit drops `shift` bits from now on (nil: D).
    public mutating func setShift(_ shift: Int?) {
        for j in units.indices { units[j].shift = shift }
    }

    /// Every LFSR back at its column seed, as after a reset of the array.
    public mutating func reset() { units = initial }

    /// Column j's unit as after rounding `count` values (its LFSR advances `count` times).
    public mutating func skip(column j: Int, count: Int) {
        for _ in 0..<count { units[j].clock(valid: true, x: 0) }
    }

    /// What column j delivers for the exact sum `sum` (any integer: it is wrapped first).
    public mutating func next(column j: Int, sum: Int128) -> Int {
        units[j].clock(valid: true, x: wrapToWidth(sum, bits: accumulator.wordLength, signed: accumulator.isSigned))
        return Int(relu ? max(0, units[j].out) : units[j].out)
    }
}
