import Foundation
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

/// What each number format does instead of a multiply, priced from the cost table's derivation
/// (docs/ENERGY.md, "Number formats"), recomputed here by hand from Horowitz's figures: a gate
/// (XNOR, AND, 2:1 multiplexer) is 12/28 of a full-adder bit of the 8-bit adder (0.03 pJ / 8).
@Suite("Energy model: number formats")
struct FormatEnergyTests {
    static let gate = 0.03 / 8 * 12 / 28
    /// Horowitz's adder between 8 and 16 bits: 0.03 pJ · (w/8)^(log(5/3)/log 2); 16 to 32 bits:
    /// 0.05 pJ · w/16.
    static func add(_ w: Double) -> Double { w <= 16 ? 0.03 * pow(w / 8, log(0.05 / 0.03) / log(2)) : 0.05 * w / 16 }

    static func datapath(_ format: NumberFormat, a: Int, b: Int, acc: Int, words: (Int, Int)? = nil, gated: Bool = false) -> Datapath {
        Datapath(aBits: a, bBits: b, accBits: acc, outputBits: 8, droppedBits: 6, rounding: .truncate, lfsrBits: 16,
                 format: format, aWordBits: words?.0, bWordBits: words?.1, gatesZeroWeights: gated)
    }

    // 8-bit activations; accumulators as the generators size them for K <= 4096 (12 bits more
    // than a product): fixed 8+8+12, ±1 weights 9+12, pow2e3 8+7+12, binary log2(4097)+1.
    static let fixed8 = datapath(.fixed, a: 8, b: 8, acc: 28)
    static let binary = datapath(.binary, a: 2, b: 2, acc: 14, words: (1, 1))
    static let bwn = datapath(.binaryWeights, a: 8, b: 2, acc: 21, words: (8, 1))
    static let ternary = datapath(.ternary, a: 8, b: 2, acc: 21, words: (8, 2))
    static let pow2 = datapath(.powerOfTwo(exponentBits: 3), a: 8, b: 8, acc: 27, words: (8, 4))
    static let codebook = datapath(.codebook(indexBits: 4), a: 8, b: 8, acc: 28, words: (8, 4))

    @Test("each format's MAC as derived: XNOR, conditional negate, zero select and gate, barrel shifter, table read")
    func derivation() {
        let expected: [(Datapath, Double)] = [
            (Self.fixed8, 0.2 + 0.05 * 28 / 16),
            // XNOR, then the ±1 added into the 14-bit accumulator.
            (Self.binary, Self.gate + Self.add(14)),
            // Negate: an 8-bit adder; accumulate 21 bits.
            (Self.bwn, 0.03 + 0.05 * 21 / 16),
            // And 8 ANDs forcing a zero weight's product to zero.
            (Self.ternary, 0.03 + 8 * Self.gate + 0.05 * 21 / 16),
            // Shifts 0...6: 3 rows of 14 multiplexers, 14 ANDs for e = 0, a 14-bit negate, a 27-bit add.
            (Self.pow2, 3 * 14 * Self.gate + 14 * Self.gate + Self.add(14) + 0.05 * 27 / 16),
            (Self.codebook, 0.2 + 0.05 * 28 / 16),
            // A PE that skips zero weights detects them on every MAC it performs.
            (Self.datapath(.ternary, a: 8, b: 2, acc: 21, gated: true), 0.03 + 9 * Self.gate + 0.05 * 21 / 16),
            (Self.datapath(.powerOfTwo(exponentBits: 3), a: 8, b: 8, acc: 27, gated: true), 59 * Self.gate + Self.add(14) + 0.05 * 27 / 16),
            // Formats without a zero code gate nothing.
            (Self.datapath(.binaryWeights, a: 8, b: 2, acc: 21, gated: true), 0.03 + 0.05 * 21 / 16),
        ]
        for (d, mac) in expected {
            let m = EnergyModel(d)
            #expect(abs(m.mac - mac) < 1e-12, "\(d.format): \(m.mac) != \(mac)")
            #expect(abs(m.multiply + m.accumulate - m.mac) < 1e-15)
        }
        // A codebook's 16:1 read of an 8-bit entry: 15 multiplexers per bit, per weight loaded.
        #expect(abs(EnergyModel(Self.codebook).decode - 15 * 8 * Self.gate) < 1e-12)
        #expect(EnergyModel(Self.fixed8).decode == 0 && EnergyModel(Self.pow2).decode == 0)
    }

    /// The ordering the derivation implies per performed MAC at 8-bit activations: an XNOR and
    /// a 14-bit add (0.047 pJ) < negate and add (0.096) < those and a zero select (0.108) <
    /// shift, zero select, negate and add (0.220) < an 8×8 multiply and add (0.2875) = the
    /// codebook's PE. Ternary's zeros save only where a PE skips them (counted as gated MACs).
    @Test("per performed MAC: binary < bwn < ternary < pow2e3 < fixed8 = codebook4 (its table read apart)")
    func ordering() {
        let mac = [Self.binary, Self.bwn, Self.ternary, Self.pow2, Self.fixed8].map { EnergyModel($0).mac }
        for (x, y) in zip(mac, mac.dropFirst()) { #expect(x < y, "\(mac)") }
        #expect(EnergyModel(Self.codebook).mac == EnergyModel(Self.fixed8).mac)
        // With half its weights zero and skipped, ternary's arithmetic per useful MAC is below
        // bwn's: half the MACs at the gated price.
        var gated = Self.ternary
        gated.gatesZeroWeights = true
        #expect(0.5 * EnergyModel(gated).mac < EnergyModel(Self.bwn).mac)
        let layer = EnergyModel(gated).estimate(DataMovement(macs: 50, gatedMACs: 50), layerMACs: 100)
        #expect(abs(layer.breakdown["mac"]! - 50 * EnergyModel(gated).mac) < 1e-12)
    }

    @Test("fixed point with its word widths spelled out is the model it was (bit for bit)")
    func fixedUnchanged() {
        for d in EnergyModelTests.widths {
            var explicit = Datapath(aBits: d.aBits, bBits: d.bBits, accBits: d.accBits, outputBits: d.outputBits, droppedBits: d.droppedBits,
                                    rounding: d.rounding, lfsrBits: d.lfsrBits, format: .fixed, aWordBits: d.aBits, bWordBits: d.bBits,
                                    aArrayBits: d.aBits, bArrayBits: d.bBits, gatesZeroWeights: false)
            #expect(explicit == d)
            explicit.gatesZeroWeights = true  // no zero weight code in fixed point: no effect
            let (m, e) = (EnergyModel(d), EnergyModel(explicit))
            #expect(m.mac == e.mac && m.registerPerBit == e.registerPerBit && m.movementMAC == m.mac)
        }
    }
    /// A register bit costs what the fixed-point array of the same activation width pays,
    /// whatever the PE does with it; coded words are narrower, so they move for less.
    @Test("data movement: per bit as in fixed point of the activation width; B moves as its code")
    func movement() {
        let bwn = EnergyModel(Self.bwn)
        #expect(abs(bwn.registerPerBit - (0.2 + 0.05 * 21 / 16) / 8) < 1e-12)
        #expect(abs(bwn.registers(.words(1)) - bwn.movementMAC) < 1e-12)
        let events = GEMMEvents(rows: 2, cols: 2, m: 2, n: 2, k: 2)
        let e = bwn.estimate(events, usefulMACs: 8)
        // DRAM: A 4 words × 8 bits, B 4 words × 1 bit, C 4 words × 8 bits, at 20 pJ/bit.
        #expect(abs(e.breakdown["DRAM"]! - (32 + 4 + 32) * 20.0) < 1e-9)
        #expect(abs(e.breakdown["PE-to-PE"]! - (8 * 8 + 8 * 1) * bwn.hopPerBit) < 1e-12)
        #expect(e.breakdown["decode"] == nil && e.breakdown.count == 9)
        // A codebook's table is read for each B word entering the array (per beat, per column).
        let cb = EnergyModel(Self.codebook)
        #expect(abs(cb.estimate(events, usefulMACs: 8).breakdown["decode"]! - 4 * cb.decode) < 1e-12)
        let layer = cb.estimate(DataMovement(macs: 10), layerMACs: 10, weightLoads: 3)
        #expect(abs(layer.breakdown["decode"]! - 3 * cb.decode) < 1e-12)
        #expect(EnergyModel(Self.fixed8).estimate(DataMovement(macs: 10), layerMACs: 10, weightLoads: 3).breakdown.count == 5)
    }
}
