/// The widths of an array's datapath, all the energy model needs to know about a design.
/// Plain numbers, so that Model knows no generator: each caller builds one from its config
/// (`Datapath(ArrayConfig)` in Conv).
public struct Datapath: Hashable, Sendable, Codable {
    /// Operand widths: A (activations, the left matrix) and B (weights, the right matrix), of
    /// the fixed-point *values* the PEs accumulate.
    public var aBits: Int
    public var bBits: Int
    /// Accumulator width.
    public var accBits: Int
    /// Width of a rounded output word.
    public var outputBits: Int
    /// Fraction bits the ROUND unit drops (accumulator fraction − output fraction).
    public var droppedBits: Int
    public var rounding: RoundingMode
    /// Width of the stochastic rounding's LFSR.
    public var lfsrBits: Int
    /// The number format (`.fixed` unless given).
    public var format: NumberFormat
    /// Bits of an A and a B word as they are stored and fetched (buffer, DRAM): their codes.
    public var aWordBits: Int
    public var bWordBits: Int
    /// Bits of an A and a B word in the array's registers (skew lines, PE to PE): the codes, a
    /// codebook's weights decoded, a binary activation with its live bit.
    public var aArrayBits: Int
    public var bArrayBits: Int
    /// Whether the PEs skip zero weights (zero gating on, and a format that codes a zero weight:
    /// ternary, powers of two); they then pay for detecting them on every MAC they perform.
    public var gatesZeroWeights: Bool

    /// Word widths default to the value widths, as in fixed point.
    public init(aBits: Int, bBits: Int, accBits: Int, outputBits: Int, droppedBits: Int, rounding: RoundingMode, lfsrBits: Int,
                format: NumberFormat = .fixed, aWordBits: Int? = nil, bWordBits: Int? = nil, aArrayBits: Int? = nil, bArrayBits: Int? = nil,
                gatesZeroWeights: Bool = false) {
        self.aBits = aBits
        self.bBits = bBits
        self.accBits = accBits
        self.outputBits = outputBits
        self.droppedBits = droppedBits
        self.rounding = rounding
        self.lfsrBits = lfsrBits
        self.format = format
        self.aWordBits = aWordBits ?? aBits
        self.bWordBits = bWordBits ?? bBits
        self.aArrayBits = aArrayBits ?? aWordBits ?? aBits
        self.bArrayBits = bArrayBits ?? bWordBits ?? bBits
        self.gatesZeroWeights = gatesZeroWeights
    }
}
