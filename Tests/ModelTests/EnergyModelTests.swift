import Model
import Testing

// The cost table and the energy model on plain widths, without a generator config
// (docs/ENERGY.md, docs/CONV.md). The adapters from the configs are tested where they live:
// the GEMM worked example in SweepTests, the convolution example in ConvTests.

@Suite("Energy model")
struct EnergyModelTests {
    @Test("the cost table reproduces Horowitz's 45 nm figures at their widths")
    func anchors() {
        #expect(abs(CostTable.multiply(8, 8) - 0.2) < 1e-12)
        #expect(abs(CostTable.multiply(32, 32) - 3.1) < 1e-12)
        #expect(abs(CostTable.add(8) - 0.03) < 1e-12)
        #expect(abs(CostTable.add(16) - 0.05) < 1e-12)
        #expect(abs(CostTable.add(32) - 0.1) < 1e-12)
        // Between the anchors: ≈ bits² for the multiplier, ≈ bits for the adder.
        let m16 = CostTable.multiply(16, 16)
        #expect(m16 > 0.75 && m16 < 0.8)
        #expect(CostTable.multiply(4, 4) < CostTable.multiply(8, 8) / 3.5)
        #expect(abs(CostTable.add(64) - 0.2) < 1e-12)
        #expect(CostTable.multiply(8, 16) == CostTable.multiply(16, 8))
        // At 32 bits Eyeriss's DRAM ratio (200× a MAC) and Horowitz's DRAM read agree.
        #expect(abs(200 * (CostTable.multiply(32, 32) + CostTable.add(32)) - 32 * CostTable.dramPerBit) < 1e-9)
    }

    static let widths: [Datapath] = [
        Datapath(aBits: 8, bBits: 8, accBits: 28, outputBits: 8, droppedBits: 10, rounding: .stochastic, lfsrBits: 16),
        Datapath(aBits: 4, bBits: 6, accBits: 20, outputBits: 5, droppedBits: 6, rounding: .nearest, lfsrBits: 8),
        Datapath(aBits: 16, bBits: 16, accBits: 44, outputBits: 16, droppedBits: 14, rounding: .truncate, lfsrBits: 16),
    ]

    /// On chip the two units of `Amount` are one rule: an operand-width word costs its ratio
    /// times a MAC whether counted as a word or as its bits.
    @Test("registers and hops: words and bits agree on operand-width words", arguments: widths)
    func unitsAgreeOnChip(_ d: Datapath) {
        let model = EnergyModel(d)
        let bits = Double(d.aBits + d.bBits) / 2 * 1000
        #expect(abs(model.registers(.words(1000)) - model.registers(.bits(bits))) < 1e-9 * model.registers(.words(1000)))
        #expect(abs(model.peToPE(.words(1000)) - model.peToPE(.bits(bits))) < 1e-9 * model.peToPE(.words(1000)))
        #expect(abs(model.registers(.words(1)) - model.mac) < 1e-12)
        #expect(abs(model.peToPE(.words(1)) - 2 * model.mac) < 1e-12)
    }

    /// The worked example of docs/ENERGY.md from plain widths: 2×2 array, s8.6 operands,
    /// 28-bit accumulator, s8.2 outputs, stochastic rounding with a 16-bit LFSR, 2×2×2 GEMM.
    @Test("the GEMM worked example from plain widths")
    func workedExample() {
        let e = EnergyModel(Self.widths[0]).estimate(GEMMEvents(rows: 2, cols: 2, m: 2, n: 2, k: 2), usefulMACs: 8)
        #expect(abs(e.totalPicojoules - 1988.525) < 1e-9)
        #expect(abs(e.picojoulesPerMAC - 1988.525 / 8) < 1e-9)
        #expect(e.breakdown.count == 9)
    }
}
