import Conv
import Cores
import Model
import Testing

/// `Datapath(ArrayConfig)`: the widths the energy model sees for each number format.
@Suite("Datapath of a number format")
struct FormatDatapathTests {
    @Test("fixed point: words are the values, nothing gated (the model as before formats)")
    func fixed() {
        let d = Datapath(ArrayConfig())
        #expect(d.format == .fixed && d.aWordBits == 8 && d.bWordBits == 8 && d.aArrayBits == 8 && d.bArrayBits == 8)
        #expect(d == Datapath(aBits: 8, bBits: 8, accBits: 28, outputBits: 8, droppedBits: 10, rounding: .stochastic, lfsrBits: 16))
    }

    @Test("coded formats: codes in memory, decoded codebook weights and binary's live bit in the array, zero weights gated with zero gating")
    func coded() {
        let a = FixedPoint(bits: 8, frac: 6)
        func d(_ f: NumberFormat) -> Datapath { Datapath(ArrayConfig(a: a, b: FixedPoint(bits: 8, frac: 0), format: f)) }
        let binary = d(.binary)
        #expect(binary.format == .binary && binary.aBits == 2 && binary.aWordBits == 1 && binary.aArrayBits == 2 && binary.bArrayBits == 1)
        let bwn = d(.binaryWeights)
        #expect(bwn.aWordBits == 8 && bwn.bWordBits == 1 && bwn.bArrayBits == 1 && !bwn.gatesZeroWeights)
        let ternary = d(.ternary)
        #expect(ternary.bWordBits == 2 && !ternary.gatesZeroWeights)
        let pow2 = d(.powerOfTwo(exponentBits: 3))
        #expect(pow2.format == .powerOfTwo(exponentBits: 3) && pow2.bWordBits == 4 && pow2.bBits == 8)
        let codebook = d(.codebook(indexBits: 4))
        #expect(codebook.bWordBits == 4 && codebook.bArrayBits == 8)
        // With zero gating the PEs skip zero weights of the formats that code one.
        #expect(Datapath(ArrayConfig(zeroGating: true, format: .ternary)).gatesZeroWeights)
        #expect(Datapath(ArrayConfig(zeroGating: true, format: .powerOfTwo(exponentBits: 2))).gatesZeroWeights)
        #expect(!Datapath(ArrayConfig(zeroGating: true, format: .binaryWeights)).gatesZeroWeights)
        #expect(!Datapath(ArrayConfig(zeroGating: true)).gatesZeroWeights)
    }
}
