import Cores
import Model

extension Datapath {
    /// An array's widths, for the energy model (docs/ENERGY.md, docs/CONV.md §Energy).
    public init(_ c: ArrayConfig) {
        self.init(aBits: c.a.bits, bBits: c.b.bits, accBits: c.accBits, outputBits: c.output.bits,
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
