import Conv
import Cores
import Cosim
import Foundation
import Golden
import Model
import Runtime

/// Output stationary in Verilator: the layer's im2col GEMM streamed through the generated
/// systolic array by `SystolicHarness`, its outputs and event counters collected with the
/// order in which each column rounded them (Verification's `ConvCheck` compares them with the
/// direct convolution and the mapper's counts).
public struct OutputStationaryEngine: ConvEngine {
    public let config: ArrayConfig
    public let mapper: OutputStationaryMapper
    let harness: SystolicHarness
    let rounded: RoundCount
    public var array: ArrayConfig { config }
    public var analytic: any DataflowMapper { mapper }

    public init(config: ArrayConfig, initialState: InitialState = .default, backend: SimulatorBackend = .verilator) throws {
        mapper = OutputStationaryMapper(config: config)
        self.config = mapper.config
        try mapper.validateDesign()
        harness = try SystolicHarness(mapper.config, initialState: initialState, backend: backend)
        if let table = config.defaultCodebook { try harness.load(codebook: table) }
        rounded = RoundCount(columns: config.cols)
    }

    /// The array's counters. The systolic array has no register-file counters: every MAC it
    /// performs reads and writes its accumulator once.
    func counters() throws -> DataMovement {
        var d = try DataMovement(reading: Systolic.Interface(config).counters, from: harness.sim)
        (d.registerFileReads, d.registerFileWrites) = (d.macs, d.macs)
        return d
    }

    /// Streams the layer for `cycles` cycles, then resets the array for one cycle with the layer
    /// still in flight.
    public func interrupt(_ shape: ConvShape, input: [Int], weights: [Int], after cycles: Int) throws {
        try harness.abandon(a: ConvModel.im2col(shape, input: input), b: ConvModel.filterMatrix(shape, weights: weights), after: cycles)
        try harness.reset()
        rounded.perColumn = Array(repeating: 0, count: config.cols)
    }

    public func deliver(_ shape: ConvShape, input: [Int], weights: [Int]) throws -> ConvDelivery {
        try mapper.validate(shape)
        precondition(input.count == shape.inputCount && weights.count == shape.weightCount, "tensor sizes do not match the shape")
        let codes = config.operandCodes()
        precondition(input.allSatisfy { codes.a.codes.contains(Int128($0)) } && weights.allSatisfy { codes.b.codes.contains(Int128($0)) },
                     "an operand is outside its format's codes")

        let before = try counters()
        let delivery = try harness.deliver(a: ConvModel.im2col(shape, input: input), b: ConvModel.filterMatrix(shape, weights: weights))
        var hardware = try counters()
        hardware = DataMovement(
            macs: hardware.macs - before.macs, gatedMACs: hardware.gatedMACs - before.gatedMACs,
            registerFileReads: hardware.registerFileReads - before.registerFileReads,
            registerFileWrites: hardware.registerFileWrites - before.registerFileWrites,
            peToPE: hardware.peToPE - before.peToPE, bufferReads: hardware.bufferReads - before.bufferReads,
            bufferWrites: hardware.bufferWrites - before.bufferWrites,
            // The host is the DRAM: it loads each tensor element once and stores each output once.
            dramReads: input.count + weights.count, dramWrites: shape.outputCount)

        // Row (n, e, f) of the im2col GEMM, column m: output (n, m, e, f).
        let (R, C) = (config.rows, config.cols)
        let (rows, filters, _) = OutputStationaryMapper.gemm(shape)
        let plane = shape.outHeight * shape.outWidth
        func index(row: Int, filter: Int) -> Int { (row / plane * shape.filters + filter) * plane + row % plane }
        var got = [Int](repeating: 0, count: shape.outputCount)
        var cycleOf = [Int?](repeating: nil, count: shape.outputCount)
        let tilesN = (filters + C - 1) / C
        for row in 0..<rows {
            for m in 0..<filters {
                got[index(row: row, filter: m)] = Int(delivery.c[row, m])
                cycleOf[index(row: row, filter: m)] = delivery.rowCycles[row * tilesN + m / C]
            }
        }
        // Column j's unit rounds one value per row of every tile, padding lanes included, in
        // tile order (docs/SYSTOLIC.md).
        var order = [[Int?]](repeating: [], count: C)
        for tm in 0..<(rows + R - 1) / R {
            for tn in 0..<tilesN {
                for i in 0..<R {
                    for j in 0..<C {
                        let row = tm * R + i, filter = tn * C + j
                        order[j].append(row < rows && filter < filters ? index(row: row, filter: filter) : nil)
                    }
                }
            }
        }
        let roundedBefore = rounded.perColumn
        rounded.perColumn = zip(roundedBefore, order).map { $0 + $1.count }
        return ConvDelivery(got: got, cycleOf: cycleOf, columnOrder: order, roundedBefore: roundedBefore, cycles: delivery.cycles,
                            simulatedCycles: delivery.result.cycles, hardwareCounts: hardware, problems: delivery.problems)
    }

    public func waveform(_ shape: ConvShape) -> String? {
        try? harness.sim.dumpWaveform(to: waveformURL("\(mapper.config.moduleName)-conv")).path
    }
}

/// Values each column's ROUND unit has rounded since the array's last reset: where its LFSR
/// stands (a class, so the engine's layers share it, as the hardware's LFSRs carry on).
final class RoundCount {
    var perColumn: [Int]
    init(columns: Int) { perColumn = Array(repeating: 0, count: columns) }
}
