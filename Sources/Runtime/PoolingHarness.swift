import Cosim
import Cores
import Foundation
import HDL
import Model

/// The host-side driver of the pooling core (`Pooling`, Sources/Cores/Pooling.swift) for a
/// network runner: one simulation, built once (through the Verilator build cache) and kept
/// running; each `run` streams a whole C×H×W tensor in one bulk round trip.
public final class PoolingHarness {
    public let config: PoolingConfig
    public let sim: any CycleSimulator
    let io: Pooling.Interface
    let inputs: [String]
    let outputs: [String]

    /// `record`: keep the stimulus so a waveform can be written (a runner calls `run` tens of
    /// thousands of times, so only a replay of a failure records). `backend` runs the core in
    /// Verilator (the default) or in process (fast tests).
    public init(_ config: PoolingConfig, record: Bool = false, initialState: InitialState = .default,
                backend: SimulatorBackend = .verilator) throws {
        self.config = config
        io = Pooling.Interface(config)
        let top = try Pooling.module(config)
        sim = try backend.start(top, record: record, initialState: initialState)
        inputs = [Port.reset, io.inValid, io.x].map(\.name) + (io.bias.map { [$0.name] } ?? [])
        outputs = [io.outValid.name, io.y.name]
    }

    deinit { sim.close() }

    /// Post-processes (and pools) a C×H×W tensor, CHW order: channel c's plane streams with
    /// `bias[c]`, one value per cycle, planes back to back, after a one-cycle reset. Returns
    /// the results in the order they came out (C × floor(H/k) × floor(W/k), CHW) and the
    /// cycles from the first value in to the last result out (C·H·W + 1).
    ///
    /// Biases of any size are allowed: each is clamped to the `bias` port's range, which
    /// gives the same results (see `PoolingConfig`). A binary core has neither bias nor ReLU:
    /// pass zeros (or no biases) and `relu: false`.
    public func run(_ values: [Int], shape: TensorShape, bias: [Int], relu: Bool) throws -> (results: [Int], cycles: Int) {
        let c = config
        precondition(values.count == shape.count, "a \(shape) tensor has \(shape.count) values, not \(values.count)")
        let inShape = c.inputShape
        if c.binary {
            precondition(!relu && bias.allSatisfy { $0 == 0 }, "a binary pooling core has no bias and no ReLU")
        } else {
            precondition(bias.count == shape.channels, "one bias per channel: \(shape.channels), not \(bias.count)")
        }
        if let w = io.width, let h = io.height {
            precondition((1...c.maxWidth).contains(shape.width) && (1...c.maxHeight).contains(shape.height),
                         "a \(shape) tensor does not fit the core's planes (at most \(c.maxHeight)×\(c.maxWidth))")
            try sim.poke(w.name, Int128(shape.width))
            try sim.poke(h.name, Int128(shape.height))
        }
        if let r = io.relu { try sim.poke(r.name, relu ? 1 : 0) }
        let (lo, hi) = (Int(inShape.minValue), Int(inShape.maxValue))
        let biasShape = c.biasShape
        let (biasLo, biasHi) = (Int(biasShape.minValue), Int(biasShape.maxValue))
        let xMask: UInt64 = (1 << UInt64(inShape.width)) - 1
        let biasMask: UInt64 = (1 << UInt64(biasShape.width)) - 1
        let perRow = inputs.count
        let count = values.count
        let plane = shape.height * shape.width
        var stimulus = [UInt64](repeating: 0, count: (count + 2) * perRow)
        stimulus[0] = 1  // rst on the first row; the last row only lets the last result out
        for i in 0..<count {
            let v = values[i]
            precondition(v >= lo && v <= hi, "value \(v) is outside the core's \(inShape) inputs")
            let base = (i + 1) * perRow
            stimulus[base + 1] = 1
            stimulus[base + 2] = UInt64(bitPattern: Int64(v)) & xMask
            if perRow > 3 {
                let b = min(max(bias[i / plane], biasLo), biasHi)
                stimulus[base + 3] = UInt64(bitPattern: Int64(b)) & biasMask
            }
        }
        let sampled = try sim.run(cycles: count + 2, inputs: inputs, values: stimulus, outputs: outputs)
        let resultShape = c.resultShape
        let width = UInt64(resultShape.width)
        let sign: UInt64 = resultShape.isSigned ? 1 << (width - 1) : 0
        var results: [Int] = []
        results.reserveCapacity(c.pooling ? shape.channels * (shape.height / c.size) * (shape.width / c.size) : count)
        // Row 0 samples before the reset edge; from row 2 on, a valid result of the row before.
        for row in 2..<(count + 2) where sampled[row * 2] & 1 == 1 {
            let bits = sampled[row * 2 + 1] & ((1 << width) - 1)
            results.append(bits & sign != 0 ? Int(bits) - Int(1 << width) : Int(bits))
        }
        return (results, count + 1)
    }
}

extension PoolingConfig {
    /// The core a stage needs (`QuantizedNetwork.Stage`): its output and result bits, binary
    /// for threshold outputs, its pooling; planes up to 32×32 (or the stage's size, rounded
    /// up to a power of two for the width), so stages of one network share a core where they can.
    public init(stage: QuantizedNetwork.Stage) {
        let pool: PoolMode = switch stage.pool?.kind {
        case .max: .max
        case .average: .average
        case nil: .none
        }
        let binary = stage.thresholds != nil
        let size = stage.pool?.size ?? 2
        var maxWidth = 32
        while maxWidth < stage.layer.outWidth { maxWidth *= 2 }
        self.init(inputBits: binary ? 8 : stage.outputBits, resultBits: binary ? 8 : stage.resultBits, binary: binary, pool: pool,
                  size: size, maxWidth: maxWidth, maxHeight: max(32, stage.layer.outHeight))
    }
}
