import Conv
import Cores
import Dataflows
import Cosim
import Model
import Runtime
import Testing
import Verification
import TestTags

/// A convolution layer abandoned part-way and reset for one cycle leaves every dataflow's
/// array as good as new: the next layer is exact and its counters start from zero.
@Suite("PE arrays: reset in the middle of a layer", .tags(.verilator))
struct PEArrayResetTests {
    static let shape = ConvShape(channels: 2, filters: 3, height: 5, width: 5, filterHeight: 3, filterWidth: 3, padding: 1)

    /// Three random power-up states give the same, golden-equal layer in every dataflow.
    @Test(arguments: [Dataflow.ws, .os, .rs])
    func powerUp(_ dataflow: Dataflow) throws {
        let config = Dataflows.design(dataflow, ArrayConfig(rows: 3, cols: 3, maxK: 512, seed: 0x2B, zeroGating: true))!
        let (input, weights) = ConvStimulus.random(Self.shape, activation: config.array.a, weight: config.array.b,
                                                   sparsity: 0.2, seed: 22)
        var outputs: Set<[Int]> = []
        for seed: UInt32 in [5, 6, 7] {
            let run = try config.engine(initialState: .random(seed: seed)).run(Self.shape, input: input, weights: weights)
            #expect(run.mismatches == 0, "seed \(seed): \(run.firstMismatch ?? "")")
            #expect(run.hardwareCounts == run.analyticCounts)
            outputs.insert(run.got)
        }
        #expect(outputs.count == 1)
    }

    @Test(arguments: [Dataflow.ws, .os, .rs])
    func midLayer(_ dataflow: Dataflow) throws {
        let config = Dataflows.design(dataflow, ArrayConfig(rows: 3, cols: 3, maxK: 512, seed: 0x2B, zeroGating: true))!
        let engine = try config.engine(initialState: .random(seed: 3))
        let (input, weights) = ConvStimulus.random(Self.shape, activation: config.array.a, weight: config.array.b,
                                                   sparsity: 0.2, seed: 21)
        let first = try engine.run(Self.shape, input: input, weights: weights)
        #expect(first.mismatches == 0, "\(first.firstMismatch ?? "")")
        for cycles in [3, 17, 40] {
            try engine.interrupt(Self.shape, input: input, weights: weights, after: cycles)
            let run = try engine.run(Self.shape, input: input, weights: weights)
            #expect(run.mismatches == 0, "reset after \(cycles) cycles: \(run.firstMismatch ?? "") waveform \(run.waveform ?? "none")")
            #expect(run.got == first.got)
            #expect(run.hardwareCounts == run.analyticCounts)
        }
    }
}
