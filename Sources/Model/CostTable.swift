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
