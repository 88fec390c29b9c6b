import Cores
import Model

extension Datapath {
    /// An array's widths, for the energy model (docs/ENERGY.md, docs/CONV.md §Energy): the
    /// values the PEs accumulate, and for a number format the codes that are stored and moved,
    /// and whether its PEs skip zero weights.
    public init(_ c: ArrayConfig) {
        // A binary activation travels through the array with a live bit (Systolic's PEs tell an
        // idle beat from a -1 by it); every other code as it is.
        let aArray = c.format == .binary ? c.aCode.width + 1 : c.aCode.width
        self.init(aBits: c.a.bits, bBits: c.b.bits, accBits: c.accBits, outputBits: c.output.bits,
                  droppedBits: c.dropBits, rounding: c.rounding, lfsrBits: c.lfsrWidth,
                  format: c.format, aWordBits: c.aCode.width, bWordBits: c.bCode.width,
                  aArrayBits: aArray, bArrayBits: c.peWeight.width,
                  gatesZeroWeights: c.zeroGating && c.format.codesZeroWeight)
    }
}
