/// Energy of a workload from counted events and a documented cost table (docs/ENERGY.md,
/// docs/CONV.md): what `EnergyModel` returns for a GEMM or a layer, and what a sweep point
/// records (its keys are those of `sweep.json`).
public struct EnergyEstimate: Hashable, Sendable, Codable {
    public var picojoulesPerMAC: Double
    public var totalPicojoules: Double
    /// Energy by component (multiply, add, register, PE-to-PE, buffer, DRAM, ...), pJ.
    public var breakdown: [String: Double]

    public init(picojoulesPerMAC: Double, totalPicojoules: Double, breakdown: [String: Double]) {
        self.picojoulesPerMAC = picojoulesPerMAC
        self.totalPicojoules = totalPicojoules
        self.breakdown = breakdown
    }

    /// Components (name, pJ) summed in the order given (so the total does not depend on a
    /// dictionary's order), per MAC of `macs` (at least 1).
    public init(parts: [(String, Double)], macs: Int) {
        let total = parts.reduce(0.0) { $0 + $1.1 }
        self.init(picojoulesPerMAC: total / Double(max(macs, 1)), totalPicojoules: total,
                  breakdown: Dictionary(uniqueKeysWithValues: parts))
    }
}
