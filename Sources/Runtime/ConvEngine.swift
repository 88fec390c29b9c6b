import Conv
import Cores
import Cosim
import Foundation
import HDL
import Model

/// What one layer's run on the hardware delivered: the driver's record, before any comparison
/// (Verification's `ConvCheck` compares it with the golden model).
public struct ConvDelivery: Sendable {
    /// Outputs in NMEF order (zero where none was delivered), and the cycle each arrived in.
    public var got: [Int]
    public var cycleOf: [Int?]
    /// Each column's ROUND-unit inputs in the order the unit took them: the NMEF index of the
    /// output, or nil for a padding lane (rounded, so its LFSR stepped, but never delivered).
    public var columnOrder: [[Int?]]
    /// Per column, the values its ROUND unit had rounded since the array's last reset before this
    /// layer: where its LFSR stands.
    public var roundedBefore: [Int]
    /// Cycles from the first input accepted to the last output delivered, and cycles simulated.
    public var cycles: Int
    public var simulatedCycles: Int
    public var hardwareCounts: DataMovement
    /// Protocol problems seen while collecting (an unexpected beat, missing rows).
    public var problems: [String]

    public init(got: [Int], cycleOf: [Int?], columnOrder: [[Int?]], roundedBefore: [Int], cycles: Int,
                simulatedCycles: Int, hardwareCounts: DataMovement, problems: [String]) {
        self.got = got
        self.cycleOf = cycleOf
        self.columnOrder = columnOrder
        self.roundedBefore = roundedBefore
        self.cycles = cycles
        self.simulatedCycles = simulatedCycles
        self.hardwareCounts = hardwareCounts
        self.problems = problems
    }
}

/// Runs layers on one generated PE array in Verilator.
public protocol ConvEngine {
    /// The array's shared parameters (formats, rounding, LFSR seeds, ReLU).
    var array: ArrayConfig { get }
    /// The dataflow's analytic counts, which the hardware counters must equal.
    var analytic: any DataflowMapper { get }
    /// Runs one layer. `input` is NCHW in the activation format's integers, `weights` MCRS in
    /// the weight format's.
    func deliver(_ shape: ConvShape, input: [Int], weights: [Int]) throws -> ConvDelivery
    /// Starts the layer, abandons it after `cycles` cycles with work in flight and resets the
    /// array for one cycle (before or at the next run): that run must be unaffected.
    func interrupt(_ shape: ConvShape, input: [Int], weights: [Int], after cycles: Int) throws
    /// Writes the simulation's waveform so far and returns its path.
    func waveform(_ shape: ConvShape) -> String?
}

/// An engine that resets its array for one cycle at the start of every layer, so abandoning a
/// layer is just feeding part of it, and every layer's ROUND units start from their seeds.
public protocol ResettingConvEngine: ConvEngine {
    /// Resets the array for one cycle and feeds the layer; with `abandonAfter`, stops feeding
    /// after that many cycles and returns nil, leaving the layer in flight.
    func execute(_ shape: ConvShape, input: [Int], weights: [Int], abandonAfter: Int?) throws -> ConvDelivery?
}

extension ResettingConvEngine {
    /// One cycle of reset, then `rows` of stimulus on `inputs` in one bulk run, sampling
    /// `outputs`; with `abandonAfter`, only that many rows and nil (the layer left in flight).
    public func resetAndFeed(_ sim: any CycleSimulator, inputs: [HDL.Port], outputs: [HDL.Port], rows: [[UInt64]], abandonAfter: Int?) throws -> [[UInt64]]? {
        try sim.poke(HDL.Port.reset.name, 1)
        try sim.step(1)
        try sim.poke(HDL.Port.reset.name, 0)
        if let cycles = abandonAfter {
            _ = try sim.run(inputs: inputs.map(\.name), values: Array(rows.prefix(cycles)), outputs: [])
            return nil
        }
        return try sim.run(inputs: inputs.map(\.name), values: rows, outputs: outputs.map(\.name))
    }

    public func deliver(_ shape: ConvShape, input: [Int], weights: [Int]) throws -> ConvDelivery {
        try execute(shape, input: input, weights: weights, abandonAfter: nil)!
    }

    public func interrupt(_ shape: ConvShape, input: [Int], weights: [Int], after cycles: Int) throws {
        _ = try execute(shape, input: input, weights: weights, abandonAfter: cycles)
    }
}
