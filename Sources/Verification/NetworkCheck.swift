import Cores
import Cosim
import Foundation
import Golden
import Model
import Runtime

/// How a network is put on hardware: the array's size, rounding, LFSR, and how many images
/// share one pass through the layers.
public struct NetworkHardware: Hashable, Sendable, Codable {
    public var rows: Int
    public var cols: Int
    public var rounding: RoundingMode
    public var lfsrStep: LFSRDraw
    public var seed: UInt64
    /// Images per batch: a stage of a batch of n images is one GEMM with n times the rows. The
    /// arrays and the golden model reset at the start of every batch, so a batch's results
    /// depend only on its images (and a failing batch can be replayed alone).
    public var batch: Int

    public init(rows: Int = 16, cols: Int = 16, rounding: RoundingMode = .stochastic, lfsrStep: LFSRDraw = .leap,
                seed: UInt64 = 1, batch: Int = 16) {
        self.rows = rows
        self.cols = cols
        self.rounding = rounding
        self.lfsrStep = lfsrStep
        self.seed = seed
        self.batch = batch
    }

    /// The arrays a network needs, one per distinct number format and word widths (a BNN has a
    /// binary array with thresholds and a binary-weight one for its first and last layers),
    /// and which array runs each stage. Every array has a dynamic shift with D the largest
    /// shift of its stages (the output format `s<outputBits>.-D` over an accumulator of
    /// fractional length 0: the fractional lengths live in the network, the hardware only
    /// drops bits), counters, no ReLU (the post-processing core applies it after the bias),
    /// and accumulators sized for its longest reduction.
    public func arrays(for network: QuantizedNetwork) throws -> (configs: [ArrayConfig], arrayOfStage: [Int]) {
        struct Key: Hashable { var format: NumberFormat, a: Int, b: Int, out: Int, thresholds: Bool, requantize: Bool }
        var keys: [Key] = []
        var arrayOfStage: [Int] = []
        for (s, stage) in network.stages.enumerated() {
            if (stage.thresholds != nil || stage.resultBits == 1) && stage.pool?.kind == .average {
                throw CosimError.usage("stage \(s): its results are bits (thresholds or a sign), which pool by max (an OR), not average")
            }
            guard stage.shift >= 0 else { throw CosimError.usage("stage \(s): shift \(stage.shift) must be >= 0") }
            let key = Key(format: stage.format, a: stage.activation.bits, b: stage.weight.bits, out: stage.outputBits, thresholds: stage.thresholds != nil,
                          requantize: stage.requantization != nil)
            if let i = keys.firstIndex(of: key) {
                arrayOfStage.append(i)
            } else {
                arrayOfStage.append(keys.count)
                keys.append(key)
            }
        }
        let configs = try keys.indices.map { i -> ArrayConfig in
            let key = keys[i]
            let stages = network.stages.indices.filter { arrayOfStage[$0] == i }.map { network.stages[$0] }
            if key.requantize { return try requantizing(key.format, a: key.a, b: key.b, out: key.out, stages) }
            let d = max(1, stages.map(\.shift).max() ?? 1)
            let k = stages.map { $0.layer.channels * $0.layer.filterHeight * $0.layer.filterWidth }.max() ?? 1
            // A binary array's activation codes are one bit; its value format is two (±1).
            // A stochastic ROUND unit's LFSR is at least as wide as the bits it drops.
            return ArrayConfig(rows: rows, cols: cols, a: FixedPoint(bits: max(key.a, 2), frac: 0), b: FixedPoint(bits: key.b, frac: 0),
                               maxK: k, output: FixedPoint(bits: key.out, frac: -d), rounding: rounding, lfsrWidth: min(32, max(16, d)),
                               seed: seed, lfsrStep: lfsrStep,
                               counters: true, format: key.format, thresholds: key.thresholds, dynamicShift: !key.thresholds)
        }
        return (configs, arrayOfStage)
    }

    /// The array of stages with requantization: a multiplier as wide as their widest, each
    /// shift within the requantizer's range.
    func requantizing(_ format: NumberFormat, a: Int, b: Int, out: Int, _ stages: [QuantizedNetwork.Stage]) throws -> ArrayConfig {
        let channels = stages.flatMap { $0.requantization! }
        guard channels.allSatisfy({ $0.multiplier >= 1 && $0.shift >= 0 }) else {
            throw CosimError.usage("a requantization multiplier must be at least 1 and its shift at least 0")
        }
        let bits = channels.map { Int.bitWidth - $0.multiplier.leadingZeroBitCount }.max() ?? 2
        let k = stages.map { $0.layer.channels * $0.layer.filterHeight * $0.layer.filterWidth }.max() ?? 1
        let c = ArrayConfig(rows: rows, cols: cols, a: FixedPoint(bits: a, frac: 0), b: FixedPoint(bits: b, frac: 0), maxK: k,
                            output: FixedPoint(bits: out, frac: 0), counters: true, format: format, requantize: max(2, bits))
        let r = c.requantizer!
        if let far = channels.first(where: { $0.shift > r.maxShift || Int128($0.bias) > c.accumulator.golden.maxInt || Int128($0.bias) < c.accumulator.golden.minInt }) {
            throw CosimError.usage("a requantization (bias \(far.bias), shift \(far.shift)) does not fit the \(c.accBits)-bit accumulator's requantizer (shifts up to \(r.maxShift))")
        }
        return c
    }

    /// The golden network for these arrays, as after reset.
    public func golden(_ network: QuantizedNetwork) throws -> NetworkModel {
        let (configs, arrayOfStage) = try arrays(for: network)
        let codes = network.stages.enumerated().map { s, stage in
            configs[arrayOfStage[s]].operandCodes(codebook: stage.codebook.map { $0.map { Int128($0) } })
        }
        return NetworkModel(network: network, codes: codes, arrays: configs.map(GEMMCheck.model), arrayOfStage: arrayOfStage)
    }
}

extension NetworkHardware {
    /// The golden network's classes for `images`, batch by batch from reset as the hardware
    /// runs them (batches are independent, so they are spread over the cores).
    public func goldenClasses(_ network: QuantizedNetwork, images: [[UInt8]]) throws -> [Int] {
        final class Classes: @unchecked Sendable {
            let lock = NSLock()
            var values: [Int]
            init(_ n: Int) { values = Array(repeating: 0, count: n) }
            func set(_ first: Int, _ c: [Int]) { lock.lock(); values.replaceSubrange(first..<first + c.count, with: c); lock.unlock() }
        }
        let model = try golden(network)
        let batch = batch
        let classes = Classes(images.count)
        DispatchQueue.concurrentPerform(iterations: (images.count + batch - 1) / batch) { b in
            var m = model
            let range = b * batch..<min(images.count, (b + 1) * batch)
            let x = NetworkModel.inputCodes(pixels: images[range].flatMap { $0 }, network: network)
            classes.set(range.lowerBound, m.logits(input: x, images: range.count).map { NetworkModel.classify($0[...]) })
        }
        return classes.values
    }
}

/// What one stage did on the hardware over a run.
public struct StageStats: Sendable, Codable {
    public var name: String
    public var macs = 0
    public var cycles = 0
    public var counts = DataMovement()
    public var energyPJ = 0.0
    /// Performed MACs per PE-cycle of the array while the stage ran.
    public var utilization: Double { cycles == 0 ? 0 : Double(macs) / Double(cycles) }
}

/// The result of a network co-simulated image by image.
public struct NetworkRun: Sendable, Codable {
    public var model: String
    public var label: String
    public var hardware: NetworkHardware
    public var arrays: [ArrayConfig]
    public var images: Int
    /// Images the hardware classified correctly (the golden network's classes are the same:
    /// every stage's results were compared before they went on).
    public var correct: Int
    public var classes: [Int]
    /// Layer outputs compared (array outputs and post-processing results), and mismatches.
    public var comparedOutputs: Int
    public var mismatches: Int
    public var firstMismatch: String?
    public var waveform: String?
    public var stages: [StageStats]
    public var wallSeconds: Double
    public var accuracy: Double { images == 0 ? 0 : Double(correct) / Double(images) }
    public var cyclesPerImage: Double { Double(stages.map(\.cycles).reduce(0, +)) / Double(max(images, 1)) }
    public var energyPerImagePJ: Double { stages.map(\.energyPJ).reduce(0, +) / Double(max(images, 1)) }
}

/// A network on the generated hardware: each stage's layer streams through its array in
/// Verilator and its outputs through the pooling core, and every output of both is compared
/// with the golden network before it feeds the next stage.
///
/// On the output-stationary systolic array (the default) every stage is the im2col GEMM of
/// `NetworkModel`, compared with it directly. Another dataflow comes as an engine factory:
/// each stage runs as a layer on that dataflow's array, generated for the stage's shift (its
/// ROUND units drop a fixed number of bits), and is compared with the golden sums rounded in
/// the order its columns rounded them (`ConvCheck`); codebooks and thresholds stay on the
/// systolic array.
public final class NetworkCheck {
    public typealias EngineFactory = (ArrayConfig) throws -> any ConvEngine
    public let network: QuantizedNetwork
    public let hardware: NetworkHardware
    public let configs: [ArrayConfig]
    let arrayOfStage: [Int]
    let harnesses: [SystolicHarness]
    let pools: [PoolingHarness]
    let poolOfStage: [Int]
    var golden: NetworkModel
    let record: Bool
    let engineFactory: EngineFactory?
    var engines: [ArrayConfig: any ConvEngine] = [:]
    let initialState: InitialState

    /// The golden network's classes (`NetworkHardware.goldenClasses`) against the ones `run`
    /// delivered, image by image: the first that differs, described, or nil. With stochastic
    /// rounding on another dataflow's arrays (`engines`) the golden network rounds in the
    /// systolic array's order, so only the accuracies compare and this is nil.
    public func classMismatch(golden: [Int], run: NetworkRun) -> String? {
        guard engineFactory == nil || hardware.rounding != .stochastic else { return nil }
        guard let i = zip(golden, run.classes).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset else { return nil }
        return "image \(i): the golden network classifies it \(golden[i]), the hardware \(run.classes[i])"
    }

    public init(_ network: QuantizedNetwork, hardware: NetworkHardware, record: Bool = false, initialState: InitialState = .default,
                engines engineFactory: EngineFactory? = nil) throws {
        self.network = network
        self.engineFactory = engineFactory
        self.hardware = hardware
        self.record = record
        self.initialState = initialState
        (configs, arrayOfStage) = try hardware.arrays(for: network)
        if engineFactory != nil, let s = network.stages.firstIndex(where: { $0.thresholds != nil || $0.codebook != nil || $0.requantization != nil }) {
            throw CosimError.usage("stage \(s) uses thresholds, a codebook or requantization, which only the output-stationary systolic array runs in a network")
        }
        harnesses = engineFactory != nil ? [] : try configs.map { try SystolicHarness($0, record: record, initialState: initialState) }
        golden = try hardware.golden(network)
        var poolConfigs: [PoolingConfig] = []
        var poolOfStage: [Int] = []
        for stage in network.stages {
            let c = PoolingConfig(stage: stage)
            if let i = poolConfigs.firstIndex(of: c) { poolOfStage.append(i) } else { poolOfStage.append(poolConfigs.count); poolConfigs.append(c) }
        }
        pools = try poolConfigs.map { try PoolingHarness($0, initialState: initialState) }
        self.poolOfStage = poolOfStage
    }

    /// A stage's or a post-processing core's first wrong output.
    struct Mismatch: Error {
        var text: String
        var stage: Int
        var waveform: String? = nil
    }

    /// Runs `pixels` (one 28×28 byte image per entry) through the hardware in batches and
    /// checks every output; stops at the first batch with a mismatch.
    public func run(images pixels: [[UInt8]], labels: [Int], progress: ((Int) -> Void)? = nil) throws -> NetworkRun {
        let start = Date()
        var stats = network.stages.indices.map { StageStats(name: Self.stageName(network.stages[$0], $0)) }
        var run = NetworkRun(model: network.model, label: network.label, hardware: hardware, arrays: configs, images: 0,
                             correct: 0, classes: [], comparedOutputs: 0, mismatches: 0, stages: [], wallSeconds: 0)
        var first = 0
        while first < pixels.count {
            let n = min(hardware.batch, pixels.count - first)
            do {
                let logits = try batch(Array(pixels[first..<first + n]), first: first, stats: &stats, compared: &run.comparedOutputs)
                for i in 0..<n {
                    let c = NetworkModel.classify(logits[i][...])
                    run.classes.append(c)
                    if c == labels[first + i] { run.correct += 1 }
                }
            } catch let m as Mismatch {
                run.mismatches += 1
                run.firstMismatch = m.text
                // Only the systolic arrays are replayed here; an engine's or a pooling core's
                // mismatch brings the failing design's own waveform.
                run.waveform = m.waveform ?? (engineFactory != nil ? nil : try? waveform(Array(pixels[first..<first + n]), first: first, upTo: m.stage))
                break
            }
            first += n
            run.images = first
            progress?(first)
        }
        run.stages = stats
        run.wallSeconds = Date().timeIntervalSince(start)
        return run
    }

    static func stageName(_ stage: QuantizedNetwork.Stage, _ s: Int) -> String {
        let l = stage.layer
        let kind = l.height == 1 && l.width == 1 && l.filterHeight == 1 ? "dense \(l.channels)->\(l.filters)"
            : "conv \(l.filterHeight)x\(l.filterWidth)x\(l.channels)->\(l.filters)"
        return "\(s): \(kind)" + (stage.pool.map { ", \($0.kind.rawValue)pool \($0.size)" } ?? "")
    }

    /// One batch from reset: every stage's outputs and results equal the golden network's, and
    /// the hardware's logits are returned.
    func batch(_ pixels: [[UInt8]], first: Int, stats: inout [StageStats], compared: inout Int,
               stopAfter: Int? = nil) throws -> [[Int]] {
        let n = pixels.count
        for h in harnesses { try h.reset() }
        golden.reset()
        var x = NetworkModel.inputCodes(pixels: pixels.flatMap { $0 }, network: network)
        for (s, stage) in network.stages.enumerated() {
            var shape = stage.layer
            shape.batch = n
            let expected = golden.stage(s, input: x, images: n)
            let outputs: [Int], counts: DataMovement, cycles: Int, config: ArrayConfig
            if let engineFactory {
                (outputs, counts, cycles, config) = try layer(s, shape: shape, input: x, first: first, factory: engineFactory)
            } else {
                (outputs, counts, cycles, config) = try gemm(s, shape: shape, input: x, expected: expected.outputs, first: first)
            }
            // The post-processing core, fed the array's outputs: the batch's maps are n·M planes.
            let maps = TensorShape(channels: n * shape.filters, height: shape.outHeight, width: shape.outWidth)
            let binary = stage.thresholds != nil
            let bias = binary ? Array(repeating: 0, count: maps.channels) : Array((0..<n).map { _ in stage.bias }.joined())
            let post = try pools[poolOfStage[s]].run(outputs, shape: maps, bias: bias, relu: !binary && stage.relu)
            let results = post.results
            let want = engineFactory == nil ? expected.results : golden.post(s, outputs: outputs, images: n)
            for (i, (got, want)) in zip(results, want).enumerated() where got != want {
                let per = results.count / n
                // The failing design is the pooling core: its waveform, fed what it was fed.
                let wave = try? poolWaveform(s, outputs, shape: maps, bias: bias, relu: !binary && stage.relu, first: first)
                throw Mismatch(text: "stage \(s) (\(Self.stageName(stage, s))) pooling core, image \(first + i / per), result \(i % per): expected \(want), got \(got)",
                               stage: s, waveform: wave)
            }
            compared += outputs.count + results.count
            stats[s].macs += shape.macs
            stats[s].cycles += cycles
            stats[s].counts = stats[s].counts + counts
            stats[s].energyPJ += EnergyModel(Datapath(config)).estimate(counts, layerMACs: shape.macs).totalPicojoules
            x = results
            if stopAfter == s { break }
        }
        let each = x.count / n
        return (0..<n).map { Array(x[$0 * each..<($0 + 1) * each]) }
    }

    /// Stage `s` as an im2col GEMM on its systolic array, every output compared with the golden
    /// network's.
    func gemm(_ s: Int, shape: ConvShape, input x: [Int], expected: [Int], first: Int) throws
        -> (outputs: [Int], counts: DataMovement, cycles: Int, config: ArrayConfig) {
        let stage = network.stages[s]
        let n = shape.batch
        let h = harnesses[arrayOfStage[s]]
        if let table = stage.codebook { try h.load(codebook: table.map { Int128($0) }) }
        if h.config.dynamicShift { try h.load(shift: stage.shift) }
        let before = try counters(h)
        let delivery = try h.deliver(a: ConvModel.im2col(shape, input: x), b: ConvModel.filterMatrix(shape, weights: stage.weights),
                                     thresholds: stage.thresholds.map { $0.map { Threshold(Int128($0.value), flip: $0.flip) } },
                                     requantization: stage.requantization.map { $0.map { Requantization(bias: Int128($0.bias), multiplier: Int128($0.multiplier), shift: $0.shift) } })
        var counts = try counters(h) - before
        // The host is the DRAM: it loads each input and weight once and stores each output once.
        (counts.dramReads, counts.dramWrites) = (x.count + stage.weights.count, shape.outputCount)
        // Compare every array output: GEMM row (image, e, f), column m.
        let plane = shape.outHeight * shape.outWidth
        let tilesN = (shape.filters + h.config.cols - 1) / h.config.cols
        if let problem = delivery.problems.first { throw Mismatch(text: "stage \(s), images \(first)..<\(first + n): \(problem)", stage: s) }
        var outputs = [Int](repeating: 0, count: shape.outputCount)
        for row in 0..<delivery.c.rows {
            let (image, pixel) = (row / plane, row % plane)
            for m in 0..<delivery.c.cols {
                let index = (image * shape.filters + m) * plane + pixel
                outputs[index] = Int(delivery.c[row, m])
                if outputs[index] != expected[index] {
                    let cycle = delivery.rowCycles[row * tilesN + m / h.config.cols].map(String.init) ?? "never"
                    throw Mismatch(text: "stage \(s) (\(Self.stageName(stage, s))), image \(first + image), output (m, e, f) = (\(m), \(pixel / shape.outWidth), \(pixel % shape.outWidth)): expected \(expected[index]), got \(outputs[index]) (cycle \(cycle))", stage: s)
                }
            }
        }
        return (outputs, counts, delivery.cycles, h.config)
    }

    /// The array another dataflow builds for a stage that `array` runs with `shift`: its ROUND
    /// units drop a fixed number of bits (no dynamic shift).
    public static func layerArray(_ array: ArrayConfig, shift: Int) -> ArrayConfig {
        var config = array
        config.dynamicShift = false
        config.output.frac = config.accumulator.frac - shift
        return config
    }

    /// The arrays of `network`'s stages on another dataflow (`layerArray`), each once.
    public static func layerArrays(_ network: QuantizedNetwork, hardware: NetworkHardware) throws -> [ArrayConfig] {
        let (configs, arrayOfStage) = try hardware.arrays(for: network)
        var out: [ArrayConfig] = []
        for (s, stage) in network.stages.enumerated() {
            let c = layerArray(configs[arrayOfStage[s]], shift: stage.shift)
            if !out.contains(c) { out.append(c) }
        }
        return out
    }

    /// Stage `s` as a layer on another dataflow's array, generated for the stage's shift, its
    /// outputs compared with the golden sums rounded in its columns' order.
    func layer(_ s: Int, shape: ConvShape, input x: [Int], first: Int, factory: EngineFactory) throws
        -> (outputs: [Int], counts: DataMovement, cycles: Int, config: ArrayConfig) {
        let stage = network.stages[s]
        let config = Self.layerArray(configs[arrayOfStage[s]], shift: stage.shift)
        let engine = try engines[config] ?? factory(config)
        engines[config] = engine
        let r = try engine.run(shape, input: x, weights: stage.weights)
        if let text = r.firstMismatch {
            throw Mismatch(text: "stage \(s) (\(Self.stageName(stage, s))), images \(first)..<\(first + shape.batch), output \(text)",
                           stage: s, waveform: r.waveform)
        }
        return (r.got, r.hardwareCounts, r.cycles, config)
    }

    func counters(_ h: SystolicHarness) throws -> DataMovement {
        var d = try DataMovement(reading: Systolic.Interface(h.config).counters, from: h.sim)
        (d.registerFileReads, d.registerFileWrites) = (d.macs, d.macs)
        return d
    }

    /// Replays stage `s`'s post-processing on a recording pooling core and writes its waveform.
    func poolWaveform(_ s: Int, _ values: [Int], shape: TensorShape, bias: [Int], relu: Bool, first: Int) throws -> String {
        let replay = try PoolingHarness(pools[poolOfStage[s]].config, record: true, initialState: initialState)
        _ = try replay.run(values, shape: shape, bias: bias, relu: relu)
        return try replay.sim.dumpWaveform(to: waveformURL("\(network.model)-\(network.label)-images\(first)-stage\(s)-pool")).path
    }

    /// Replays a failing batch from reset on recording simulations up to the failing stage and
    /// writes the systolic array's waveform (a mismatch elsewhere brings its own).
    func waveform(_ pixels: [[UInt8]], first: Int, upTo stage: Int) throws -> String {
        let replay = record ? self : try NetworkCheck(network, hardware: hardware, record: true)
        var stats = network.stages.indices.map { _ in StageStats(name: "") }
        var compared = 0
        _ = try? replay.batch(pixels, first: first, stats: &stats, compared: &compared, stopAfter: stage)
        let h = replay.harnesses[arrayOfStage[stage]]
        return try h.sim.dumpWaveform(to: waveformURL("\(network.model)-\(network.label)-images\(first)-stage\(stage)")).path
    }
}
