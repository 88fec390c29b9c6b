import Cores
import Model

extension Datapath {
    /// A PE array's widths, for the energy model (docs/CONV.md §Energy).
    public init(_ c: PEArrayConfig) {
        self.init(aBits: c.activation.bits, bBits: c.weight.bits, accBits: c.accBits, outputBits: c.output.bits,
                  droppedBits: c.dropBits, rounding: Rounding(c.rounding), lfsrBits: c.lfsrWidth)
    }
}

extension Datapath.Rounding {
    public init(_ r: OutputRounding) {
        switch r {
        case .truncate: self = .truncate
        case .nearest: self = .nearest
        case .stochastic: self = .stochastic
        }
    }
}
