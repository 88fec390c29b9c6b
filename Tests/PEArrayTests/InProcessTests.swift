import Conv
import Cores
import Dataflows
import Model
import Runtime
import Testing
import Verification

/// Every dataflow's engine on the in-process simulator (no Verilator build): a small layer from
/// a random power-up state, every output and the hardware's data-movement counters against the
/// golden convolution and the mapper's analytic counts.
@Suite("PE arrays in process")
struct InProcessPEArrayTests {
    static let shape = ConvShape(channels: 2, filters: 3, height: 5, width: 5, filterHeight: 3, filterWidth: 3, padding: 1)

    @Test(arguments: [Dataflow.ws, .os, .rs])
    func layer(_ dataflow: Dataflow) throws {
        let config = Dataflows.design(dataflow, ArrayConfig(rows: 3, cols: 3, maxK: 512, seed: 0x2B, zeroGating: true))!
        let (input, weights) = ConvStimulus.random(Self.shape, activation: config.array.a, weight: config.array.b,
                                                   sparsity: 0.2, seed: 23)
        let engine = try config.engine(initialState: .random(seed: 4), backend: .inProcess)
        let run = try engine.run(Self.shape, input: input, weights: weights)
        #expect(run.mismatches == 0, "\(run.firstMismatch ?? "")")
        #expect(run.hardwareCounts == run.analyticCounts)
        // Something ran: every output of the layer arrived, not all of them zero.
        #expect(run.got.count == Self.shape.outputCount && run.got.contains { $0 != 0 } && run.cycles > 0)
    }

    /// The output-stationary engine on pipelined arrays (docs/TIMING.md): the same outputs as
    /// the plain array's, checked against the golden layer, only later.
    @Test("os with pipelined PEs and ROUND units", arguments: [(1, 0), (2, 1)])
    func pipelined(_ stages: (pe: Int, round: Int)) throws {
        let plain = ArrayConfig(rows: 3, cols: 3, maxK: 512, seed: 0x2B, zeroGating: true, relu: true)
        var piped = plain
        (piped.pePipeline, piped.roundPipeline) = stages
        let (input, weights) = ConvStimulus.random(Self.shape, activation: plain.a, weight: plain.b, sparsity: 0.2, seed: 5)
        let runs = try [plain, piped].map { c in
            try Dataflows.design(.os, c)!.engine(initialState: .random(seed: 6), backend: .inProcess).run(Self.shape, input: input, weights: weights)
        }
        #expect(runs[1].mismatches == 0, "\(runs[1].firstMismatch ?? "")")
        #expect(runs[1].hardwareCounts == runs[1].analyticCounts)
        #expect(runs[1].got == runs[0].got)
        #expect(runs[1].cycles > runs[0].cycles)
    }
}
