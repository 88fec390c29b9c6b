import Conv
import Cores
import Cosim
import Foundation
import HDL
import Model

/// One layer co-simulated on one PE array and compared with the golden model.
public struct ConvRun: Sendable, Codable {
    public var shape: ConvShape
    /// Golden outputs (rounded, saturated, ReLU when configured), NMEF order.
    public var expected: [Int]
    /// Outputs the hardware delivered, NMEF order.
    public var got: [Int]
    public var mismatches: Int
    /// The first mismatching output: its (n, m, e, f), expected and got, and the cycle.
    public var firstMismatch: String?
    /// Cycles from the first input accepted to the last output delivered.
    public var cycles: Int
    public var hardwareCounts: DataMovement
    public var analyticCounts: DataMovement
    /// VCD of a failing run.
    public var waveform: String?
    public var wallSeconds: Double

    public init(shape: ConvShape, expected: [Int], got: [Int], mismatches: Int,
                firstMismatch: String?, cycles: Int, hardwareCounts: DataMovement, analyticCounts: DataMovement,
                waveform: String?, wallSeconds: Double) {
        self.shape = shape
        self.expected = expected
        self.got = got
        self.mismatches = mismatches
        self.firstMismatch = firstMismatch
        self.cycles = cycles
        self.hardwareCounts = hardwareCounts
        self.analyticCounts = analyticCounts
        self.waveform = waveform
        self.wallSeconds = wallSeconds
    }
}

/// Runs layers on one generated PE array in Verilator.
public protocol ConvEngine {
    /// `input` is NCHW in the activation format's integers, `weights` MCRS in the weight format's.
    func run(_ shape: ConvShape, input: [Int], weights: [Int]) throws -> ConvRun
    /// Starts the layer, abandons it after `cycles` cycles with work in flight and resets the
    /// array for one cycle (before or at the next `run`): that run must be unaffected.
    func interrupt(_ shape: ConvShape, input: [Int], weights: [Int], after cycles: Int) throws
}

/// An engine that resets its array for one cycle at the start of every layer, so abandoning a
/// layer is just feeding part of it.
public protocol ResettingConvEngine: ConvEngine {
    /// Resets the array for one cycle and feeds the layer; with `abandonAfter`, stops feeding
    /// after that many cycles and returns nil, leaving the layer in flight.
    func execute(_ shape: ConvShape, input: [Int], weights: [Int], abandonAfter: Int?) throws -> ConvRun?
}

extension ResettingConvEngine {
    /// One cycle of reset, then `rows` of stimulus on `inputs` in one bulk run, sampling
    /// `outputs`; with `abandonAfter`, only that many rows and nil (the layer left in flight).
    public func resetAndFeed(_ sim: Simulation, inputs: [HDL.Port], outputs: [HDL.Port], rows: [[UInt64]], abandonAfter: Int?) throws -> [[UInt64]]? {
        try sim.poke(Port.reset.name, 1)
        try sim.step(1)
        try sim.poke(Port.reset.name, 0)
        if let cycles = abandonAfter {
            _ = try sim.run(inputs: inputs.map(\.name), values: Array(rows.prefix(cycles)), outputs: [])
            return nil
        }
        return try sim.run(inputs: inputs.map(\.name), values: rows, outputs: outputs.map(\.name))
    }

    public func run(_ shape: ConvShape, input: [Int], weights: [Int]) throws -> ConvRun {
        try execute(shape, input: input, weights: weights, abandonAfter: nil)!
    }

    public func interrupt(_ shape: ConvShape, input: [Int], weights: [Int], after cycles: Int) throws {
        _ = try execute(shape, input: input, weights: weights, abandonAfter: cycles)
    }
}
