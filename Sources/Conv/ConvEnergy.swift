import Cores
import Model

/// Energy of one layer on one PE array from its event counts (docs/CONV.md §Energy).
///
/// One MAC of the array costs `CostTable.multiply(activation bits, weight bits) +
/// CostTable.add(accBits)` pJ at 45 nm (Horowitz ISSCC 2014); every data-movement event costs
/// its normalized ratio times that (Chen et al. ISCA 2016, Eyeriss): register file 1×, PE to
/// PE 2×, global buffer 6×, DRAM 200×. Reads and writes cost the same; gated MACs cost nothing.
public struct ConvEnergy: Hashable, Sendable, Codable {
    /// pJ of one MAC: the unit of the ratios.
    public let macPJ: Double
    /// pJ per component.
    public let mac: Double
    public let registerFile: Double
    public let peToPE: Double
    public let buffer: Double
    public let dram: Double
    public let totalPJ: Double
    /// Total over the layer's MACs (`ConvShape.macs`, gated or not): what one MAC of the
    /// workload costs, so gating shows as a lower figure.
    public let pJPerMAC: Double

    public init(_ counts: DataMovement, config: PEArrayConfig, layerMACs: Int) {
        let unit = Self.macPJ(config)
        macPJ = unit
        mac = Double(counts.macs) * unit
        registerFile = Double(counts.registerFileReads + counts.registerFileWrites) * CostTable.registerRatio * unit
        peToPE = Double(counts.peToPE) * CostTable.peToPERatio * unit
        buffer = Double(counts.bufferReads + counts.bufferWrites) * CostTable.bufferRatio * unit
        dram = Double(counts.dramReads + counts.dramWrites) * CostTable.dramRatio * unit
        totalPJ = mac + registerFile + peToPE + buffer + dram
        pJPerMAC = totalPJ / Double(max(layerMACs, 1))
    }

    /// One MAC at the array's widths: a multiply of the operand widths and an accumulator add.
    public static func macPJ(_ config: PEArrayConfig) -> Double {
        CostTable.multiply(config.activation.bits, config.weight.bits) + CostTable.add(config.accBits)
    }

    /// Component name to pJ, for tables and JSON.
    public var breakdown: [String: Double] {
        ["mac": mac, "registerFile": registerFile, "peToPE": peToPE, "buffer": buffer, "dram": dram]
    }
}
