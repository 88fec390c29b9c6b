/// The widths of an array's datapath, all the energy model needs to know about a design.
/// Plain numbers, so that Model knows no generator: each caller builds one from its config
/// (`Datapath(ArrayConfig)` in Conv).
public struct Datapath: Hashable, Sendable, Codable {
    /// What the ROUND unit does to a result besides saturating it.
    public enum Rounding: String, Hashable, Sendable, Codable {
        case truncate, nearest, stochastic
    }

    /// Operand widths: A (activations, the left matrix) and B (weights, the right matrix).
    public var aBits: Int
    public var bBits: Int
    /// Accumulator width.
    public var accBits: Int
    /// Width of a rounded output word.
    public var outputBits: Int
    /// Fraction bits the ROUND unit drops (accumulator fraction − output fraction).
    public var droppedBits: Int
    public var rounding: Rounding
    /// Width of the stochastic rounding's LFSR.
    public var lfsrBits: Int

    public init(aBits: Int, bBits: Int, accBits: Int, outputBits: Int, droppedBits: Int, rounding: Rounding, lfsrBits: Int) {
        self.aBits = aBits
        self.bBits = bBits
        self.accBits = accBits
        self.outputBits = outputBits
        self.droppedBits = droppedBits
        self.rounding = rounding
        self.lfsrBits = lfsrBits
    }
}
