import Foundation

/// Energy of arithmetic and storage at 45 nm (Horowitz, "Computing's energy problem", ISSCC
/// 2014) and data movement relative to one MAC (Chen et al., "Eyeriss", ISCA 2016).
/// docs/ENERGY.md derives the formulas.
public enum CostTable {
    /// Integer multiplier energy, pJ, at (bits of a · bits of b): 8b×8b 0.2, 32b×32b 3.1.
    public static let multiplierAnchors: [(bits: Double, pJ: Double)] = [(64, 0.2), (1024, 3.1)]
    /// Integer adder energy, pJ, at its width: 8b 0.03, 16b 0.05, 32b 0.1.
    public static let adderAnchors: [(bits: Double, pJ: Double)] = [(8, 0.03), (16, 0.05), (32, 0.1)]
    /// SRAM (8 KB) read: 5 pJ per 32 bits, linear in bits.
    public static let sramPerBit = 5.0 / 32
    /// DRAM read or write: 640 pJ per 32 bits, linear in bits.
    public static let dramPerBit = 640.0 / 32
    /// Data movement relative to one MAC of the array's operand width (Chen et al. ISCA 2016).
    public static let registerRatio = 1.0
    public static let peToPERatio = 2.0
    /// Global buffer and DRAM accesses relative to one MAC (Chen et al. ISCA 2016).
    public static let bufferRatio = 6.0
    public static let dramRatio = 200.0

    // MARK: What replaces the multiplier (number formats, docs/ENERGY.md "Number formats")
    //
    // Horowitz gives no gate-level figure, so gates are derived from his 8-bit adder: 0.03 pJ
    // over 8 full-adder bits is 3.75 fJ per full-adder bit. A gate costs its share of that by
    // transistor count (switched capacitance ∝ transistors, same activity): a mirror full adder
    // has 28 transistors; a static CMOS XNOR with its input inverters, and a 2:1 multiplexer
    // (AOI22 plus select and output inverters), 12 each: 12/28 of a full-adder bit, 1.607 fJ.

    /// One full-adder bit: Horowitz's 8-bit add over its 8 bits, pJ (3.75 fJ).
    public static var fullAdderBit: Double { adderAnchors[0].pJ / adderAnchors[0].bits }
    /// One XNOR or 2:1 multiplexer bit: 12/28 of a full-adder bit, pJ (1.607 fJ).
    public static var gate: Double { fullAdderBit * 12 / 28 }

    /// Binary (XNOR-Net) product of two one-bit codes: one XNOR gate.
    public static var xnor: Double { gate }

    /// Conditional negation of a w-bit value (±1 weights): each bit XORed with the sign, the
    /// sign added as the carry-in, i.e. a w-bit adder whose second operand is the XORed value.
    public static func negate(_ w: Int) -> Double { add(w) }

    /// Logarithmic barrel shifter of a `width`-bit output by 0...maxShift positions: one row of
    /// `width` 2:1 multiplexers per bit of the shift amount (ceil(log2(maxShift + 1)) rows).
    public static func shift(width: Int, maxShift: Int) -> Double {
        var stages = 0
        while (1 << stages) <= maxShift { stages += 1 }
        return Double(width * stages) * gate
    }

    /// A product forced to zero for a zero weight (ternary's nonzero bit, pow2's e = 0): one AND
    /// per product bit, each charged as a whole `gate` (a static AND2 has 6 transistors, not 12:
    /// an upper bound).
    public static func zeroSelect(_ bits: Int) -> Double { Double(bits) * gate }

    /// In a PE that gates zero weights (zero gating on: the accumulator holds instead of adding),
    /// the zero detected and the enable formed: one gate per code bit examined (ternary: the
    /// nonzero bit; pow2: the exponent field's NOR). The gated MACs themselves cost nothing:
    /// the events count them apart (`DataMovement.gatedMACs`).
    public static func zeroGate(codeBits: Int) -> Double { Double(codeBits) * gate }

    /// A read of one `bits`-bit word from a table of `entries` (a codebook): a multiplexer tree,
    /// entries - 1 2:1 multiplexers per bit, every one charged (an upper bound; for 16 entries of
    /// 8 bits 0.193 pJ, the order of Eyeriss's register-file access, 1 MAC = 0.29 pJ at 8 bits).
    public static func tableRead(entries: Int, bits: Int) -> Double { Double((entries - 1) * bits) * gate }

    /// Multiplier energy for a wa×wb-bit product: power-law (log-log) interpolation in the
    /// product wa·wb between the anchors, extended with the end segment's exponent (≈ bits²).
    public static func multiply(_ wa: Int, _ wb: Int) -> Double {
        powerLaw(Double(wa * wb), multiplierAnchors)
    }

    /// Adder energy for a w-bit add: power-law interpolation in w between 8, 16 and 32 bits,
    /// extended with the end segments' exponents (≈ linear in bits).
    public static func add(_ w: Int) -> Double {
        powerLaw(Double(w), adderAnchors)
    }

    static func powerLaw(_ x: Double, _ anchors: [(bits: Double, pJ: Double)]) -> Double {
        precondition(anchors.count >= 2 && x > 0)
        var i = 0
        while i < anchors.count - 2 && x > anchors[i + 1].bits { i += 1 }
        let (x0, y0) = anchors[i], (x1, y1) = anchors[i + 1]
        let p = log(y1 / y0) / log(x1 / x0)
        return y0 * pow(x / x0, p)
    }
}
