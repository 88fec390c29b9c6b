import Conv
import Cores
import Cosim
import Foundation
import Golden
import Model
import Runtime

/// Output stationary in Verilator: the layer's im2col GEMM streamed through the generated
/// systolic array by `SystolicHarness`, every output compared with the direct convolution
/// (`ConvModel`) rounded by `RounderModel` in the array's order of LFSR draws, and the array's
/// event counters compared with the mapper's analytic counts.
public struct OutputStationaryEngine: ConvEngine {
    public let config: ArrayConfig
    public let mapper: OutputStationaryMapper
    let harness: SystolicHarness
    let rounders: ColumnRounders

    public init(config: ArrayConfig, initialState: InitialState = .default) throws {
        self.config = config
        mapper = OutputStationaryMapper(config: config)
        try mapper.validateDesign()
        harness = try SystolicHarness(mapper.config, initialState: initialState)
        rounders = ColumnRounders(mapper.config)
    }

    /// The array's counters. The systolic array has no register-file counters: every MAC it
    /// performs reads and writes its accumulator once.
    func counters() throws -> DataMovement {
        var d = try DataMovement(reading: Systolic.Interface(config).counters, from: harness.sim)
        (d.registerFileReads, d.registerFileWrites) = (d.macs, d.macs)
        return d
    }

    /// Streams the layer for `cycles` cycles, then resets the array (and the golden rounders)
    /// for one cycle with the layer still in flight.
    public func interrupt(_ shape: ConvShape, input: [Int], weights: [Int], after cycles: Int) throws {
        try harness.abandon(a: ConvModel.im2col(shape, input: input), b: ConvModel.filterMatrix(shape, weights: weights), after: cycles)
        try harness.reset()
        rounders.reset()
    }

    public func run(_ shape: ConvShape, input: [Int], weights: [Int]) throws -> ConvRun {
        let start = Date()
        try mapper.validate(shape)
        precondition(input.count == shape.inputCount && weights.count == shape.weightCount, "tensor sizes do not match the shape")
        let fa = config.a.golden, fw = config.b.golden
        precondition(input.allSatisfy { fa.contains(Int128($0)) } && weights.allSatisfy { fw.contains(Int128($0)) },
                     "an operand is outside its format")

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

        let expected = rounders.outputs(shape, sums: ConvModel.accumulate(shape, input: input, weights: weights))
        var got = [Int](repeating: 0, count: shape.outputCount)
        var mismatches = delivery.problems.count
        var first = delivery.problems.first
        let tilesN = (shape.filters + config.cols - 1) / config.cols
        for n in 0..<shape.batch {
            for e in 0..<shape.outHeight {
                for f in 0..<shape.outWidth {
                    let row = (n * shape.outHeight + e) * shape.outWidth + f
                    for m in 0..<shape.filters {
                        let at = shape.outputIndex(n: n, m: m, e: e, f: f)
                        got[at] = Int(delivery.c[row, m])
                        guard got[at] != expected[at] else { continue }
                        mismatches += 1
                        if first == nil {
                            let cycle = delivery.rowCycles[row * tilesN + m / config.cols].map(String.init) ?? "never"
                            first = "output (n \(n), m \(m), e \(e), f \(f)) = C[\(row)][\(m)], delivered in cycle \(cycle): expected \(expected[at]), got \(got[at])"
                        }
                    }
                }
            }
        }
        var wave: String?
        if mismatches > 0 {
            wave = try? harness.sim.dumpWaveform(to: waveformURL("\(mapper.config.moduleName)-conv")).path
        }
        return ConvRun(shape: shape, expected: expected, got: got, mismatches: mismatches, firstMismatch: first,
                       cycles: delivery.cycles, hardwareCounts: hardware, analyticCounts: mapper.counts(shape, input: input),
                       waveform: wave, wallSeconds: Date().timeIntervalSince(start))
    }
}

/// The array's output columns as the golden model sees them, kept across layers as the hardware
/// keeps its LFSRs (a class, so the engine's runs share it): the systolic array's order of ROUND
/// draws for a layer's im2col GEMM.
final class ColumnRounders {
    let config: ArrayConfig
    var columns: ColumnOutputModel

    init(_ c: ArrayConfig) {
        config = c
        columns = ColumnOutputModel(c)
    }

    /// Every column's LFSR back at its seed, as after a reset of the array.
    func reset() { columns.reset() }

    /// Rounded (and, with ReLU, rectified) outputs in NMEF order from exact sums in NMEF
    /// order. Column j's unit rounds one value per row of every tile, padding included, in
    /// tile order (docs/SYSTOLIC.md); a padding lane's accumulator is zero.
    func outputs(_ s: ConvShape, sums: [Int]) -> [Int] {
        let (R, C) = (config.rows, config.cols)
        let (m, n, _) = OutputStationaryMapper.gemm(s)
        let plane = s.outHeight * s.outWidth
        var out = [Int](repeating: 0, count: s.outputCount)
        for tm in 0..<(m + R - 1) / R {
            for tn in 0..<(n + C - 1) / C {
                for i in 0..<R {
                    for j in 0..<C {
                        let row = tm * R + i, filter = tn * C + j
                        let inside = row < m && filter < n
                        // NMEF index of GEMM entry (row = (n, e, f), filter).
                        let at = inside ? (row / plane * s.filters + filter) * plane + row % plane : 0
                        let y = columns.next(column: j, sum: inside ? Int128(sums[at]) : 0)
                        if inside { out[at] = y }
                    }
                }
            }
        }
        return out
    }
}
