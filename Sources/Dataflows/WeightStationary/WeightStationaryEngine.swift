import Conv
import Cores
import Cosim
import Foundation
import Model
import Runtime

/// The host-side driver of docs/dataflows/WS.md: builds the generated weight-stationary array
/// in Verilator, feeds a layer fold by fold (filter fold, position block, reduction fold),
/// collects each column's outputs in the order the column rounded them, and reads the event
/// counters (Verification's `ConvCheck` compares them with the golden model).
public struct WeightStationaryEngine: ResettingConvEngine {
    public let config: WeightStationaryConfig
    let design: CosimDesign
    let mapper: WeightStationaryMapper
    public var array: ArrayConfig { config.array }
    public var analytic: any DataflowMapper { mapper }
    let sim: any CycleSimulator
    let io: WeightStationary.Interface

    public init(config: WeightStationaryConfig, initialState: InitialState = .default, backend: SimulatorBackend = .verilator) throws {
        self.config = config
        io = WeightStationary.Interface(config)
        let top = try WeightStationary.module(config)
        design = try cosimDesign(top)
        mapper = WeightStationaryMapper(config: config)
        sim = try backend.start(top, initialState: initialState)
        if let port = io.codebook, let table = config.array.defaultCodebook {
            var words: [UInt64] = []
            SystolicHarness.pack(table, width: config.b.bits, into: &words)
            try sim.poke(port.name, words: words)
        }
        // A dynamic shift is held by the host; the golden side assumes D unless told otherwise.
        if let port = io.shift { try sim.poke(port.name, Int128(config.array.dropBits)) }
    }


    /// Resets the array for one cycle and feeds the layer; with `abandonAfter`, stops feeding
    /// after that many cycles and returns nil, leaving the layer in flight.
    public func execute(_ shape: ConvShape, input: [Int], weights: [Int], abandonAfter: Int?) throws -> ConvDelivery? {
        try mapper.validate(shape)
        precondition(input.count == shape.inputCount && weights.count == shape.weightCount, "tensor sizes do not match the shape")
        let (rows, cols) = (config.rows, config.cols)
        let plan = mapper.plan(shape)
        let (k, p) = (plan.reduction, plan.positions)
        let (outH, outW) = (shape.outHeight, shape.outWidth)
        let window = shape.filterHeight * shape.filterWidth

        // im2col row of output position `position`, reduction term `term` (c, r, s flattened).
        func activation(_ position: Int, _ term: Int) -> Int {
            let n = position / (outH * outW), e = position / outW % outH, f = position % outW
            let c = term / window, r = term / shape.filterWidth % shape.filterHeight, q = term % shape.filterWidth
            return shape.input(input, n: n, c: c, y: e * shape.stride + r - shape.padding, x: f * shape.stride + q - shape.padding)
        }

        // The schedule: fold f's beats start at `begin`; its weight rows load at begin + i,
        // just ahead of the wavefront (docs/dataflows/WS.md, "Protocol").
        struct Beat { var xValid: UInt64 = 0, x = [Int128](), swap = 0, first = 0, last = 0, wLoad = 0, wRow = 0, wValid: UInt64 = 0, w = [Int128]() }
        func lowBits(_ n: Int) -> UInt64 { n >= 64 ? ~0 : (1 << UInt64(n)) - 1 }
        var beats: [Beat] = []
        func at(_ cycle: Int) -> Int {
            while beats.count <= cycle { beats.append(Beat()) }
            return cycle
        }
        var begin = 0, lastBeat = 0
        for fold in mapper.folds(shape) {
            let filter0 = fold.filterFold * cols, term0 = fold.reductionFold * rows
            for i in 0..<rows {
                let c = at(begin + i)
                beats[c].wLoad = 1
                beats[c].wRow = i
                beats[c].w = (0..<cols).map { j in i < fold.rows && j < fold.cols ? Int128(weights[(filter0 + j) * k + term0 + i]) : 0 }
                beats[c].wValid = i < fold.rows ? lowBits(fold.cols) : 0
            }
            for t in 0..<fold.positions {
                let c = at(begin + t)
                beats[c].xValid = lowBits(fold.rows)
                beats[c].x = (0..<rows).map { i in i < fold.rows ? Int128(activation(fold.firstPosition + t, term0 + i)) : 0 }
                beats[c].swap = t == 0 ? 1 : 0
                beats[c].first = fold.isFirstReduction ? 1 : 0
                beats[c].last = fold.isLastReduction ? 1 : 0
                lastBeat = c
            }
            begin += WeightStationary.foldPeriod(positions: fold.positions, rows: rows, cols: cols)
        }
        let drain = WeightStationary.outputLatency(rows: rows, column: cols - 1) + 4
        _ = at(lastBeat + drain)
        let zeros = [Int128](repeating: 0, count: max(rows, cols))
        let stimulus: [[UInt64]] = beats.map { b in
            var row: [UInt64] = [b.xValid]
            SystolicHarness.pack(b.x.isEmpty ? Array(zeros.prefix(rows)) : b.x, width: config.aCode.width, into: &row)
            row += [UInt64(b.swap), UInt64(b.first), UInt64(b.last), UInt64(b.wLoad), UInt64(b.wRow), b.wValid]
            SystolicHarness.pack(b.w.isEmpty ? Array(zeros.prefix(cols)) : b.w, width: config.bCode.width, into: &row)
            return row
        }

        guard let samples = try resetAndFeed(sim, inputs: io.inputs, outputs: [io.yValid, io.yData], rows: stimulus, abandonAfter: abandonAfter) else { return nil }
        var hardware = try DataMovement(from: sim)

        // Column j delivers its outputs in feeding order: filter folds in turn, positions in order.
        let wo = config.output.bits
        var got = [Int](repeating: 0, count: shape.outputCount)
        var delivered = [Bool](repeating: false, count: shape.outputCount)
        var deliveryCycle = [Int](repeating: -1, count: shape.outputCount)
        var produced = [Int](repeating: 0, count: cols)
        var extra: String?
        var lastDelivery = -1
        func outputIndex(filter m: Int, position: Int) -> Int {
            shape.outputIndex(n: position / (outH * outW), m: m, e: position / outW % outH, f: position % outW)
        }
        for (cycle, sample) in samples.enumerated() {
            let valid = sample[0]
            guard valid != 0 else { continue }
            let data = sample[1...]
            for j in 0..<cols where (valid >> UInt64(j)) & 1 == 1 {
                let index = produced[j]
                produced[j] += 1
                let m = index / p * cols + j
                guard m < shape.filters else {
                    if extra == nil { extra = "column \(j) delivered an unexpected output \(index) at cycle \(cycle)" }
                    continue
                }
                let o = outputIndex(filter: m, position: index % p)
                got[o] = Int(SystolicHarness.field(data, at: j * wo, width: wo, signed: config.output.signed))
                delivered[o] = true
                deliveryCycle[o] = cycle
                lastDelivery = max(lastDelivery, cycle)
            }
        }
        hardware.dramReads = shape.inputCount + shape.weightCount
        hardware.dramWrites = delivered.filter { $0 }.count

        // Column j rounds filters j, j + cols, ... in turn, every position of each in order.
        let positions = shape.batch * outH * outW
        let order: [[Int?]] = (0..<cols).map { j in
            stride(from: j, to: shape.filters, by: cols).flatMap { m in (0..<positions).map { outputIndex(filter: m, position: $0) } }
        }
        return ConvDelivery(got: got, cycleOf: zip(delivered, deliveryCycle).map { $0 ? $1 : nil }, columnOrder: order,
                            roundedBefore: Array(repeating: 0, count: cols), cycles: lastDelivery + 1,
                            simulatedCycles: samples.count, hardwareCounts: hardware, problems: extra.map { [$0] } ?? [])
    }

    public func waveform(_ shape: ConvShape) -> String? {
        try? sim.dumpWaveform(to: waveformURL("\(WeightStationary.moduleName(config))-\(shape.batch)x\(shape.channels)x\(shape.height)x\(shape.width)-m\(shape.filters)")).path
    }
}
