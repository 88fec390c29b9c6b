import Cores
import Foundation
import Model

/// Energy of a GEMM on the output-stationary systolic array, from events counted analytically
/// (docs/SYSTOLIC.md) times a cost table at 45 nm (docs/ENERGY.md, which derives every formula
/// here).
public enum EnergyModel {
    // The cost table (CostTable: Horowitz ISSCC 2014, Chen et al. ISCA 2016) is shared with
    // the convolution dataflows.
    public static func multiply(_ wa: Int, _ wb: Int) -> Double { CostTable.multiply(wa, wb) }
    public static func add(_ w: Int) -> Double { CostTable.add(w) }
    public static let sramPerBit = CostTable.sramPerBit
    public static let dramPerBit = CostTable.dramPerBit
    public static let registerRatio = CostTable.registerRatio
    public static let peToPERatio = CostTable.peToPERatio

    /// Per-event energies (pJ) for one configuration.
    public struct Costs: Hashable, Sendable, Codable {
        /// One wa×wb multiply.
        public var multiply: Double
        /// One accumulator-width add (the MAC's add).
        public var accumulate: Double
        /// One MAC of the array: multiply + accumulate; the unit of the normalized ratios.
        public var mac: Double
        /// Register (RF) write, per bit: registerRatio · mac / operand bits.
        public var registerPerBit: Double
        /// PE-to-PE transfer, per bit: peToPERatio · mac / operand bits.
        public var hopPerBit: Double
        /// One ROUND operation (rounding add, saturation compare, LFSR step as applicable).
        public var round: Double
        /// Buffer (SRAM) access and DRAM access, per bit.
        public var bufferPerBit: Double
        public var dramPerBit: Double
    }

    public static func costs(_ c: SystolicConfig) -> Costs {
        let mult = multiply(c.a.bits, c.b.bits)
        let acc = add(c.accBits)
        let mac = mult + acc
        let operandBits = Double(c.a.bits + c.b.bits) / 2
        let reg = registerRatio * mac / operandBits
        // ROUND: saturation is a compare of the shifted value (an adder of its width); nearest
        // and stochastic add a rounding increment or the random bits over the accumulator
        // width; stochastic also steps a lfsrWidth-bit LFSR (a register write).
        let kept = c.accBits - c.dropBits
        var round = add(max(kept, 1))
        switch c.rounding {
        case .truncate: break
        case .nearest: round += add(c.accBits)
        case .stochastic: round += add(c.accBits) + reg * Double(c.lfsrWidth)
        }
        return Costs(multiply: mult, accumulate: acc, mac: mac, registerPerBit: reg, hopPerBit: peToPERatio * mac / operandBits,
                     round: round, bufferPerBit: sramPerBit, dramPerBit: dramPerBit)
    }

    // MARK: Events

    /// Events of one M×K by K×N GEMM, counted from the tiling order and the array's structure.
    /// Word counts; their widths are in the comments and in `energy(of:costs:)`.
    public struct Events: Hashable, Sendable, Codable {
        public var tiles: Int
        /// tiles·R·C·K: every PE multiplies and accumulates on every beat, padding included.
        public var macs: Int
        /// Accumulator register updates (accBits), one per MAC, plus the R·C result captures
        /// per tile.
        public var accumulatorWrites: Int
        /// Operand words (A: wa bits, B: wb bits) written into the input registers and skew
        /// lines: per beat R + R(R-1)/2 of A and C + C(C-1)/2 of B.
        public var skewWritesA: Int
        public var skewWritesB: Int
        /// Operand words passed from PE to PE (a_q, b_q): per beat R·C of each (every PE
        /// registers its operands for its east and south neighbours).
        public var hopsA: Int
        public var hopsB: Int
        /// Results (accBits) read out: each of a tile's R·C results moves once, from its PE's
        /// `res_q` through the column's read-out multiplexer into the column's output register.
        public var readouts: Int
        /// ROUND operations: R·C per tile (padding included; R draws per tile per LFSR).
        public var rounds: Int
        /// Rounded words (wo bits) through the deskew registers: per tile R·C(C-1)/2.
        public var deskewWrites: Int
        /// Input buffer reads, words: every beat reads R A-words and C B-words (padding
        /// included).
        public var bufferReadsA: Int
        public var bufferReadsB: Int
        /// Input buffer writes (filled from DRAM) equal the DRAM reads.
        /// Output FIFO: every rounded row written once and read once (R·C words per tile, each).
        public var fifoWords: Int
        /// DRAM words: A read once (its R-row panel stays in the buffer while the tile row
        /// runs), B read once per tile row (ceil(M/R) times), C written once.
        public var dramReadsA: Int
        public var dramReadsB: Int
        public var dramWritesC: Int
    }

    public static func events(_ c: SystolicConfig, m: Int, n: Int, k: Int) -> Events {
        let (R, C) = (c.rows, c.cols)
        let tileRows = (m + R - 1) / R, tileCols = (n + C - 1) / C
        let tiles = tileRows * tileCols
        let beats = tiles * k
        let macs = tiles * R * C * k
        return Events(
            tiles: tiles, macs: macs,
            accumulatorWrites: macs + tiles * R * C,
            skewWritesA: beats * (R + R * (R - 1) / 2),
            skewWritesB: beats * (C + C * (C - 1) / 2),
            hopsA: beats * R * C, hopsB: beats * R * C,
            readouts: tiles * R * C,
            rounds: tiles * R * C,
            deskewWrites: tiles * R * C * (C - 1) / 2,
            bufferReadsA: beats * R, bufferReadsB: beats * C,
            fifoWords: tiles * R * C,
            dramReadsA: m * k, dramReadsB: tileRows * k * n, dramWritesC: m * n)
    }

    /// Energy by component, pJ. Keys: multiply, accumulate, accumulator register, skew
    /// registers, PE-to-PE, drain, round, buffer, DRAM.
    public static func breakdown(of e: Events, costs x: Costs, config c: SystolicConfig) -> [String: Double] {
        let wa = Double(c.a.bits), wb = Double(c.b.bits), wacc = Double(c.accBits), wo = Double(c.output.bits)
        let dramA = Double(e.dramReadsA) * wa, dramB = Double(e.dramReadsB) * wb
        return [
            "multiply": Double(e.macs) * x.multiply,
            "accumulate": Double(e.macs) * x.accumulate,
            "accumulator register": Double(e.accumulatorWrites) * wacc * x.registerPerBit,
            "skew registers": (Double(e.skewWritesA) * wa + Double(e.skewWritesB) * wb + Double(e.deskewWrites) * wo) * x.registerPerBit,
            "PE-to-PE": (Double(e.hopsA) * wa + Double(e.hopsB) * wb) * x.hopPerBit,
            "drain": Double(e.readouts) * wacc * x.hopPerBit,
            "round": Double(e.rounds) * x.round,
            // Reads feeding the array, fills from DRAM, and the output FIFO's write and read.
            "buffer": (Double(e.bufferReadsA) * wa + Double(e.bufferReadsB) * wb + dramA + dramB
                       + 2 * Double(e.fifoWords) * wo) * x.bufferPerBit,
            "DRAM": (dramA + dramB + Double(e.dramWritesC) * wo) * x.dramPerBit,
        ]
    }

    /// The estimate for one M×K by K×N GEMM. `picojoulesPerMAC` is per useful MAC (M·N·K), so
    /// the padding of ragged tiles shows as a higher cost.
    public static func systolic(_ c: SystolicConfig, m: Int, n: Int, k: Int) -> EnergyEstimate {
        precondition(m > 0 && n > 0 && k > 0, "GEMM dimensions must be positive")
        let parts = breakdown(of: events(c, m: m, n: n, k: k), costs: costs(c), config: c)
        // Sum in a fixed order so the total is deterministic.
        let total = parts.keys.sorted().reduce(0.0) { $0 + parts[$1]! }
        return EnergyEstimate(picojoulesPerMAC: total / Double(m * n * k), totalPicojoules: total, breakdown: parts)
    }
}
