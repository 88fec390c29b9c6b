import CMalloc
import Foundation
import Golden
import Model

/// Training a network (the MLP preset 784-256-256-10, or LeNet-5: convolutions as im2col GEMMs,
/// ReLU, max pooling) with plain minibatch SGD where every matrix product, of the forward pass,
/// of the backward pass (errors and weight gradients) and of the weight update, is computed in
/// a generated systolic array's arithmetic (`ArrayArithmetic`, bit-identical to `Golden.SystolicModel`); or, for the
/// comparison, the same algorithm in Double (`.float`). docs/TRAINING.md gives the formats.
///
/// The experiment is Gupta et al., "Deep learning with limited numerical precision", ICML 2015:
/// 16-bit fixed point `<WL, FL>` with round-to-nearest or stochastic rounding.
public enum TrainingArithmetic: String, Codable, Sendable, CaseIterable {
    case float, fixed
}

/// Where the 1/B of the minibatch mean is applied.
public enum BatchMean: String, Codable, Sendable, CaseIterable {
    /// In the output error: δ = (softmax − onehot)/B, so errors and gradients are means (small).
    case error
    /// In the learning rate: δ = softmax − onehot, gradients are sums over the batch (their
    /// format has ceil(log2 B) fewer fractional bits), the update multiplies by η/B.
    case rate
}

/// What the backward pass takes as the derivative of saturation where a forward result sits at
/// a rail of its format.
public enum SaturationDerivative: String, Codable, Sendable, CaseIterable {
    /// Zero (the true derivative of a clip): no error flows back through a saturated value.
    case zero
    /// One (straight through): the error flows back as if nothing had saturated.
    case one
}

/// The four arrays a training step uses, one per kind of product (each has its own formats).
public enum GEMMRole: Int, Codable, Sendable, CaseIterable, CustomStringConvertible {
    /// Z = [X | 1]·W: activations × weights → activations (pre-ReLU).
    case forward
    /// E = δ·Wᵀ: errors × weights → errors.
    case backward
    /// G = [X | 1]ᵀ·δ: activations × errors → gradients.
    case gradient
    /// W' = [W | G]·[I; −c·I]: weights (and gradients) × coefficients → weights.
    case update
    public var description: String { ["forward", "backward", "gradient", "update"][rawValue] }
}

public struct ArrayTrainingOptions: Codable, Hashable, Sendable {
    /// The network: a preset (`model`) or any spec `TrainingLayer.layers` accepts.
    public var network: NetworkSpec = .mlp
    /// The network preset by name: "mlp" or "lenet5" (another name leaves no layers, which
    /// `problem()` refuses naming --model).
    public var model: String {
        get { network.name }
        set { network = NetworkSpec.preset(newValue) ?? NetworkSpec(name: newValue, input: network.input, layers: []) }
    }
    public var arithmetic: TrainingArithmetic = .fixed
    public var wordLength = 16
    /// FL of weights, activations and errors.
    public var fracLength = 8
    public var rounding: RoundingMode = .stochastic
    public var learningRate: Double = 0.1
    public var batchSize = 100
    public var epochs = 8
    /// Initial weights (He uniform, as the float presets) and the image order.
    public var seed: UInt64 = 1
    /// Base seed of the arrays' LFSRs: array `role` takes `lfsrSeed + role` (docs/TRAINING.md).
    public var lfsrSeed: UInt64 = 1
    public var rows = 16
    public var cols = 16
    /// At least each array's D (the gradient array drops more bits with `.rate`).
    public var lfsrWidth = 16
    /// How far each ROUND unit's LFSR moves per draw: `.leap` (D steps, so every draw's D bits
    /// are new: the decorrelated bits of docs/ARITHMETIC.md) or `.one` (one step, successive
    /// draws share D − 1 bits: the unit as it was first built).
    public var lfsrDraw: LFSRDraw = .leap
    public var batchMean: BatchMean = .error
    public var saturationDerivative: SaturationDerivative = .zero
    public var trainLimit: Int?
    public var testLimit: Int?

    public init() {}

    public static func fracRange(_ wl: Int) -> ClosedRange<Int> { 0...(wl - 2) }
    public static let wordLengthRange = 4...16

    var activation: FixedFormat { FixedFormat(wordLength: wordLength, fracLength: fracLength, signed: true) }
    var weight: FixedFormat { activation }
    var error: FixedFormat { activation }
    /// With the mean in the rate the gradients are sums of B terms: ceil(log2 B) fewer fractional bits.
    var gradient: FixedFormat {
        FixedFormat(wordLength: wordLength, fracLength: fracLength - (batchMean == .rate ? Self.ceilLog2(batchSize) : 0), signed: true)
    }
    /// The update's second operand: 1 and −c, `<WL, WL − 2>` (1.0 is the largest power of two it holds).
    var coefficient: FixedFormat { FixedFormat(wordLength: wordLength, fracLength: wordLength - 2, signed: true) }

    static func ceilLog2(_ n: Int) -> Int { n <= 1 ? 0 : Int.bitWidth - (n - 1).leadingZeroBitCount }

    /// The real factor c of the update `w − c·g` as the array sees it (g's integers read at the
    /// weights' FL), before quantization to `coefficient`.
    var updateFactor: Double {
        learningRate / (batchMean == .rate ? Double(batchSize) : 1) * pow(2, Double(fracLength - gradient.fracLength))
    }

    /// c as an integer of `coefficient`, rounded to nearest.
    public var updateCode: Int128 { coefficient.quantize(updateFactor, mode: .nearest) }

    /// The learning rate the fixed-point update applies (η after quantizing c).
    public var effectiveLearningRate: Double {
        guard arithmetic == .fixed else { return learningRate }
        return Double(updateCode) / pow(2, Double(coefficient.fracLength)) / pow(2, Double(fracLength - gradient.fracLength))
            * (batchMean == .rate ? Double(batchSize) : 1)
    }

    /// The formats of one role's array: operands A and B, output.
    public func formats(_ role: GEMMRole) -> (a: FixedFormat, b: FixedFormat, output: FixedFormat) {
        switch role {
        case .forward: (activation, weight, activation)
        case .backward: (error, weight, error)
        case .gradient: (activation, error, gradient)
        case .update: (weight, coefficient, weight)
        }
    }

    /// The network's weight layers (empty when the network cannot be trained this way).
    public var layers: [TrainingLayer] { (try? TrainingLayer.layers(of: network).get()) ?? [] }

    /// The longest reduction array `role` meets in the network: a forward GEMM reduces over
    /// fanIn + 1, a backward one over M (dense) or kh·kw·M (convolution), a gradient one over
    /// the batch's output positions, an update over 2M. The array's maxK is this or the
    /// default 4096, whichever is larger (a convolution's gradient needs B·P: 57,600 for LeNet-5).
    public func longestReduction(_ role: GEMMRole) -> Int {
        let layers = self.layers
        switch role {
        case .forward: return layers.map(\.rows).max() ?? 1
        case .backward:
            return layers.dropFirst().map { $0.positions == 1 ? $0.outputs : $0.kernelHeight * $0.kernelWidth * $0.outputs }.max() ?? 1
        case .gradient: return batchSize * (layers.map(\.positions).max() ?? 1)
        case .update: return 2 * (layers.map(\.outputs).max() ?? 1)
        }
    }

    /// Array `role` of the run, from reset.
    public func array(_ role: GEMMRole) -> ArrayArithmetic {
        let f = formats(role)
        let d = f.a.fracLength + f.b.fracLength - f.output.fracLength
        return ArrayArithmetic(rows: rows, cols: cols, a: f.a, b: f.b, output: f.output, mode: rounding,
                               lfsrWidth: max(lfsrWidth, d), seed: lfsrSeed + UInt64(role.rawValue), draw: lfsrDraw,
                               maxK: max(ArrayArithmetic.defaultMaxK, longestReduction(role)))
    }

    /// Why these options cannot run: (flag, value, allowed), the CLI's refusal.
    public func problem() -> (flag: String, value: String, allowed: String)? {
        if case .failure(let why) = TrainingLayer.layers(of: network) {
            return ("model", network.name, "\(NetworkSpec.presets.map(\.name).joined(separator: ", ")) (\(why))")
        }
        if !Self.wordLengthRange.contains(wordLength) { return ("word-length", "\(wordLength)", "4...16") }
        if !Self.fracRange(wordLength).contains(fracLength) {
            return ("frac", "\(fracLength)", "0...\(wordLength - 2) (1.0, the bias input, must be representable in <\(wordLength), FL>)")
        }
        if !(1...ArrayArithmetic.defaultMaxK).contains(batchSize) { return ("batch-size", "\(batchSize)", "1...\(ArrayArithmetic.defaultMaxK)") }
        if longestReduction(.gradient) > ArrayArithmetic.largestMaxK {
            return ("batch-size", "\(batchSize)", "at most \(ArrayArithmetic.largestMaxK / (layers.map(\.positions).max() ?? 1)) for \(network.name) (a gradient sums over every output position of the batch)")
        }
        if !(1...1000).contains(epochs) { return ("epochs", "\(epochs)", "1...1000") }
        if !(learningRate > 0 && learningRate <= 10) { return ("learning-rate", "\(learningRate)", "0 < LR <= 10") }
        if !(1...256).contains(rows) { return ("rows", "\(rows)", "1...256") }
        if !(1...256).contains(cols) { return ("cols", "\(cols)", "1...256") }
        if !(3...32).contains(lfsrWidth) { return ("lfsr-width", "\(lfsrWidth)", "3...32") }
        if arithmetic == .fixed {
            let widest = GEMMRole.allCases.map { array(for: $0) }.max() ?? 0
            if widest > 32 { return ("frac", "\(fracLength)", "an FL whose dropped bits fit a 32-bit LFSR") }
            let top = (UInt64(1) << lfsrWidth) - 1
            if !(1...(top - UInt64(GEMMRole.allCases.count - 1))).contains(lfsrSeed) {
                return ("lfsr-seed", "\(lfsrSeed)", "1...\(top - 3) (the four arrays take seed, seed+1, seed+2, seed+3)")
            }
            let code = updateCode
            if code < 1 || code >= coefficient.maxInt {
                let lo = pow(2, -Double(coefficient.fracLength)) / updateFactor * learningRate
                let hi = Double(coefficient.maxInt) / pow(2, Double(coefficient.fracLength)) / updateFactor * learningRate
                return ("learning-rate", "\(learningRate)", String(format: "%.3g...%.3g with --word-length %d --frac %d --batch-mean %@ (η must be a nonzero <%d, %d> coefficient)",
                                                                    lo, hi, wordLength, fracLength, batchMean.rawValue, wordLength, coefficient.fracLength))
            }
        }
        return nil
    }

    private func array(for role: GEMMRole) -> Int {
        let f = formats(role)
        return f.a.fracLength + f.b.fracLength - f.output.fracLength
    }
}

/// One epoch's figures.
public struct ArrayEpochReport: Codable, Sendable {
    public var epoch: Int
    /// Mean cross-entropy over the epoch's training images (as the forward pass computed them).
    public var loss: Double
    /// Test error after the epoch, forward pass in the array's arithmetic (ties: lowest class).
    public var testError: Double
    public var testLoss: Double
    public var imagesPerSecond: Double
    public var seconds: Double
    /// Per tensor: results that saturated, and results produced.
    public var saturated: [String: Int]
    public var produced: [String: Int]
    /// Weight and bias updates in the epoch, and how many changed the stored value.
    public var updates: Int
    public var changed: Int
    /// Sampled GEMMs replayed in Verilator (filled in by the caller that runs them).
    public var cosimulated: Int = 0
    public var mismatches: Int = 0

    public static let tensors = ["activations", "logits", "errors", "gradients", "weights"]

    public var line: String {
        let sat = Self.tensors.map { "\($0) \(saturated[$0] ?? 0)/\(produced[$0] ?? 0)" }.joined(separator: ", ")
        return String(format: "epoch %d: loss %.4f, test error %.2f%% (test loss %.4f), %.0f images/s (%.1f s), weights changed %.2f%% of %d updates; saturated %@; co-simulated GEMMs %d (mismatches %d)",
                      epoch, loss, 100 * testError, testLoss, imagesPerSecond, seconds, 100 * Double(changed) / Double(max(1, updates)),
                      updates, sat, cosimulated, mismatches)
    }
}

/// A GEMM of the run, kept to be replayed on the generated array: the array (its formats,
/// rounding and seed; it was reset just before this GEMM), the operands and the result the
/// training used.
public struct SampledGEMM: Sendable {
    public var label: String
    public var role: GEMMRole
    public var array: ArrayArithmetic
    public var a: Matrix<Int128>
    public var b: Matrix<Int128>
    public var c: Matrix<Int128>
}

/// Everything a run needs to go on after its last finished epoch.
public struct ArrayTrainingCheckpoint: Codable, Sendable {
    public var options: ArrayTrainingOptions
    public var epochsDone: Int
    /// Per layer, (inputs + 1) × outputs row-major, the last row the biases: integers of the
    /// weight format, or reals for `.float`.
    public var weights: [[Double]]
    public var orderState: UInt64
    public var errorState: UInt64
    /// Per role, each column's LFSR state.
    public var lfsrStates: [[UInt64]]
    public var history: [ArrayEpochReport]

    /// Writes atomically (a temporary file renamed over the old one).
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        let data = try encoder.encode(self)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public static func read(_ path: String) throws -> ArrayTrainingCheckpoint {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            return try JSONDecoder().decode(ArrayTrainingCheckpoint.self, from: data)
        } catch {
            throw NetworkError("\(path) is not a training checkpoint: \(error)")
        }
    }
}

public final class ArrayTrainer {
    public let options: ArrayTrainingOptions
    /// The network's weight layers, input first.
    public let layers: [TrainingLayer]
    public internal(set) var weights: [[Double]]
    public private(set) var arrays: [ArrayArithmetic]
    public private(set) var epochsDone = 0
    public private(set) var history: [ArrayEpochReport] = []
    var orderRNG: SplitMix64
    /// Random fractions of the softmax error's rounding (off the array: docs/TRAINING.md).
    var errorRNG: SplitMix64
    let fixed: Bool
    /// Value of 1.0 in the activation format (the bias input), or 1.
    let one: Double
    /// The input pixel for each byte value, as the first layer takes it.
    let pixelTable: [Double]
    /// The activation format's rails.
    let railLow: Double, railHigh: Double
    /// Fixed point with the true derivative of saturation.
    let masksRails: Bool

    public init(options: ArrayTrainingOptions) throws {
        if let p = options.problem() { throw NetworkError("invalid value \(p.value) for --\(p.flag): allowed \(p.allowed)") }
        Self.keepFreedMemory
        self.options = options
        layers = options.layers
        fixed = options.arithmetic == .fixed
        masksRails = fixed && options.saturationDerivative == .zero
        arrays = GEMMRole.allCases.map { options.array($0) }
        let act = options.activation
        railLow = Double(act.minInt)
        railHigh = Double(act.maxInt)
        one = fixed ? Double(act.quantize(1, mode: .nearest)) : 1
        pixelTable = (0..<256).map { v in
            options.arithmetic == .fixed ? Double(act.quantize(Double(v) / 255, mode: .nearest)) : Double(v) / 255
        }
        // He uniform over each layer's fan-in, drawn output-major like FloatParameters.random,
        // then quantized to the weight format; biases 0.
        var rng = SplitMix64(seed: options.seed)
        weights = []
        for layer in layers {
            let fanIn = layer.fanIn, fanOut = layer.outputs
            let bound = (6.0 / Double(fanIn)).squareRoot()
            var w = [Double](repeating: 0, count: layer.rows * fanOut)
            for o in 0..<fanOut {
                for i in 0..<fanIn {
                    let u = Double(rng.next() >> 40) * 0x1p-24
                    let v = (2 * u - 1) * bound
                    w[i * fanOut + o] = fixed ? Double(options.weight.quantize(v, mode: .nearest)) : v
                }
            }
            weights.append(w)
        }
        orderRNG = SplitMix64(seed: options.seed ^ 0x0D0E_0F00)
        errorRNG = SplitMix64(seed: options.seed ^ 0xE440_0E44)
    }

    public convenience init(checkpoint c: ArrayTrainingCheckpoint) throws {
        try self.init(options: c.options)
        guard c.weights.count == weights.count, zip(c.weights, weights).allSatisfy({ $0.count == $1.count }),
              c.lfsrStates.count == arrays.count, zip(c.lfsrStates, arrays).allSatisfy({ $0.count == $1.cols }) else {
            throw NetworkError("the checkpoint's tensors do not match its options")
        }
        weights = c.weights
        epochsDone = c.epochsDone
        history = c.history
        orderRNG.state = c.orderState
        errorRNG.state = c.errorState
        for r in arrays.indices { arrays[r].restore(states: c.lfsrStates[r]) }
    }

    public var checkpoint: ArrayTrainingCheckpoint {
        ArrayTrainingCheckpoint(options: options, epochsDone: epochsDone, weights: weights, orderState: orderRNG.state,
                                errorState: errorRNG.state, lfsrStates: arrays.map(\.states), history: history)
    }

    /// The caller's figures for the epoch just reported (co-simulation counts).
    public func amendLastReport(_ change: (inout ArrayEpochReport) -> Void) {
        if !history.isEmpty { change(&history[history.count - 1]) }
    }

    /// Every batch allocates and frees the same large buffers (LeNet-5's patches are 12 MB);
    /// glibc maps such blocks fresh from the kernel and unmaps them on free, so each batch
    /// paid for zeroed pages again (a fifth of the time). Keeping them in the heap made an
    /// epoch 1.5 times faster. Process-wide, once.
    static let keepFreedMemory: Void = {
        mallopt(M_MMAP_THRESHOLD, 1 << 30)
        mallopt(M_TRIM_THRESHOLD, Int32.max)
    }()

    // MARK: - Arithmetic

    struct Counters {
        var saturated: [String: Int] = [:]
        var produced: [String: Int] = [:]
        mutating func add(_ tensor: String, saturated s: Int, produced p: Int) {
            saturated[tensor, default: 0] += s
            produced[tensor, default: 0] += p
        }
    }

    /// Hands a GEMM of the first batch to the co-simulation: (role, layer, A, B, C, m, k, n).
    typealias Recorder = (GEMMRole, Int, [Double], [Double], [Double], Int, Int, Int) -> Void

    /// A GEMM on array `role`, or in Double for `.float`. With `record`, the array is reset
    /// first and the GEMM handed over, to be replayed from reset on the generated array.
    func gemm(_ role: GEMMRole, _ a: [Double], _ b: [Double], m: Int, k: Int, n: Int, tensor: String,
              counters: inout Counters, arrays: inout [ArrayArithmetic], record: Recorder? = nil, layer: Int = 0) -> [Double] {
        guard fixed else { return ExactGEMM.multiply(a, b, m: m, k: k, n: n) }
        if record != nil { arrays[role.rawValue].reset() }
        let (c, s) = arrays[role.rawValue].gemm(a, b, m: m, k: k, n: n)
        counters.add(tensor, saturated: s, produced: m * n)
        record?(role, layer, a, b, c, m, k, n)
        return c
    }

    /// The weight gradient `[X | 1]ᵀ·δ` on the gradient array, from the patches as the
    /// forward pass kept them (k×m), without transposing them except to hand the GEMM over.
    func gradient(_ patches: [Double], _ e: [Double], m: Int, k: Int, n: Int, counters: inout Counters,
                  arrays: inout [ArrayArithmetic], record: Recorder?, layer: Int) -> [Double] {
        guard fixed else { return ExactGEMM.multiply(transposed: patches, e, m: m, k: k, n: n) }
        let role = GEMMRole.gradient.rawValue
        if record != nil { arrays[role].reset() }
        let (c, s) = arrays[role].gemm(transposed: patches, e, m: m, k: k, n: n)
        counters.add("gradients", saturated: s, produced: m * n)
        record?(.gradient, layer, ExactGEMM.transpose(patches, rows: k, cols: m), e, c, m, k, n)
        return c
    }

    /// What the forward pass keeps for the backward one, per layer: the forward GEMM's left
    /// operand (patches and the ones column), its result Z (pre-ReLU), and where each pooled
    /// value came from.
    struct Forward {
        var patches: [[Double]] = []
        var z: [[Double]] = []
        var poolFrom: [[Int32]] = []
        var logits: [Double] { z.last! }
    }

    /// The forward pass of a batch (`x0`: batch × pixels, HWC). With `record`, layer 1's GEMM
    /// is handed over.
    func forward(_ x0: [Double], batch: Int, counters: inout Counters, arrays: inout [ArrayArithmetic],
                 record: Recorder? = nil) -> Forward {
        var f = Forward()
        var x = x0
        for (l, layer) in layers.enumerated() {
            let a = layer.patches(x, batch: batch, one: one)
            let z = gemm(.forward, a, weights[l], m: batch * layer.positions, k: layer.rows, n: layer.outputs,
                         tensor: l == layers.count - 1 ? "logits" : "activations", counters: &counters, arrays: &arrays,
                         record: l == 0 ? record : nil, layer: l)
            f.patches.append(a)
            f.z.append(z)
            x = layer.relu ? z.map { max($0, 0) } : z
            if layer.pool > 1 {
                let (pooled, from) = layer.maxPool(x, batch: batch)
                x = pooled
                f.poolFrom.append(from)
            } else {
                f.poolFrom.append([])
            }
        }
        return f
    }

    /// Softmax cross-entropy of logits (integers of the activation format, or reals).
    func softmax(_ z: [Double], batch: Int, labels: [Int]) -> (probabilities: [Double], loss: Double) {
        let classes = layers.last!.outputs
        let scale = fixed ? pow(2, -Double(options.fracLength)) : 1
        var p = [Double](repeating: 0, count: z.count), loss = 0.0
        for b in 0..<batch {
            var top = -Double.infinity
            for j in 0..<classes { top = max(top, z[b * classes + j] * scale) }
            var sum = 0.0
            for j in 0..<classes {
                let e = exp(z[b * classes + j] * scale - top)
                p[b * classes + j] = e
                sum += e
            }
            for j in 0..<classes { p[b * classes + j] /= sum }
            loss -= log(max(p[b * classes + labels[b]], 1e-300))
        }
        return (p, loss)
    }

    /// Is `z` (a forward result) at a rail of its format, so that its error is zero (the
    /// derivative of saturation, unless `saturationDerivative` is `.one`)?
    @inline(__always) func atRail(_ z: Double) -> Bool { masksRails && (z >= railHigh || z <= railLow) }

    /// One SGD step on a batch; returns the summed loss. In an epoch's first batch (`first`) the
    /// forward GEMM of layer 1, the gradient of layer 2, the backward GEMM from layer 2 into
    /// layer 1 and the update of the last layer each run just after a reset of their array, and
    /// are handed to `sample` if given; the resets happen either way, so co-simulating does not
    /// change the run.
    func step(_ x0: [Double], labels: [Int], batch: Int, counters: inout Counters, updates: inout Int, changed: inout Int,
              first: Bool = false, sample: ((SampledGEMM) -> Void)? = nil) -> Double {
        let L = layers.count
        var arrays = self.arrays
        defer { self.arrays = arrays }
        let record: Recorder? = !first ? nil : sample.map { emit in
            { role, layer, a, b, c, m, k, n in
                func matrix(_ v: [Double], _ r: Int, _ cc: Int) -> Matrix<Int128> { Matrix(rows: r, cols: cc, elements: v.map { Int128($0) }) }
                emit(SampledGEMM(label: "\(role)-layer\(layer + 1)", role: role, array: self.options.array(role),
                                 a: matrix(a, m, k), b: matrix(b, k, n), c: matrix(c, m, n)))
            }
        } ?? { _, _, _, _, _, _, _, _ in }
        let f = forward(x0, batch: batch, counters: &counters, arrays: &arrays, record: record)
        let classes = layers.last!.outputs
        let (p, loss) = softmax(f.logits, batch: batch, labels: labels)
        // δ = (p − onehot)/B or (p − onehot), zero at a saturated logit, rounded to the error format.
        let mean = options.batchMean == .error ? 1 / Double(batch) : 1
        var delta = [Double](repeating: 0, count: batch * classes)
        let ef = options.error
        var sat = 0
        for i in 0..<delta.count {
            let v = (p[i] - (labels[i / classes] == i % classes ? 1 : 0)) * mean
            if atRail(f.logits[i]) { continue }
            if fixed {
                let u = options.rounding == .stochastic ? Double(errorRNG.next() >> 11) * 0x1p-53 : 0
                let scaled = v * pow(2, Double(ef.fracLength))
                if scaled < Double(ef.minInt) || scaled > Double(ef.maxInt) + 1 { sat += 1 }
                delta[i] = Double(ef.quantize(v, mode: options.rounding, randomFraction: u))
            } else {
                delta[i] = v
            }
        }
        if fixed { counters.add("errors", saturated: sat, produced: delta.count) }

        var grads = [[Double]](repeating: [], count: L)
        var e = delta
        for l in stride(from: L - 1, through: 0, by: -1) {
            let layer = layers[l], rowsP = batch * layer.positions
            grads[l] = gradient(f.patches[l], e, m: layer.rows, k: rowsP, n: layer.outputs, counters: &counters, arrays: &arrays,
                                record: l == min(1, L - 1) ? record : nil, layer: l)
            guard l > 0 else { break }
            // The error of layer l's input, which is layer l − 1's (pooled, ReLU'd) output.
            let op = layer.backwardOperands(e, weights: weights[l], batch: batch)
            let dx = gemm(.backward, op.a, op.b, m: op.m, k: op.k, n: op.n, tensor: "errors", counters: &counters,
                          arrays: &arrays, record: l == 1 ? record : nil, layer: l)
            let below = layers[l - 1], z = f.z[l - 1]
            var dz: [Double]
            if below.pool > 1 {
                dz = [Double](repeating: 0, count: z.count)
                for (i, from) in f.poolFrom[l - 1].enumerated() { dz[Int(from)] = dx[i] }
            } else {
                dz = dx
            }
            for i in 0..<dz.count where (below.relu && z[i] <= 0) || atRail(z[i]) { dz[i] = 0 }  // ReLU' and saturation'
            e = dz
        }
        for l in 0..<L {
            let new = update(weights[l], grads[l], rows: layers[l].rows, n: layers[l].outputs, counters: &counters, arrays: &arrays,
                             record: l == L - 1 ? record : nil, layer: l)
            updates += new.count
            for i in new.indices where new[i] != weights[l][i] { changed += 1 }
            weights[l] = new
        }
        return loss
    }

    /// W' = W − c·G. Fixed: the array's GEMM `[W | G]·[I; −c·I]` (K = 2n, so each result is
    /// w·1 + g·(−c) accumulated exactly, then one ROUND to the weight format), computed
    /// element by element without the zero products.
    func update(_ w: [Double], _ g: [Double], rows: Int, n: Int, counters: inout Counters, arrays: inout [ArrayArithmetic],
                record: Recorder?, layer: Int) -> [Double] {
        guard fixed else {
            let c = options.learningRate / (options.batchMean == .rate ? Double(options.batchSize) : 1)
            return zip(w, g).map { $0 - c * $1 }
        }
        let oneB = Double(options.coefficient.quantize(1, mode: .nearest)), c = Double(options.updateCode)
        var acc = [Double](repeating: 0, count: w.count)
        for i in acc.indices { acc[i] = w[i] * oneB - g[i] * c }
        if record != nil { arrays[GEMMRole.update.rawValue].reset() }
        let s = arrays[GEMMRole.update.rawValue].round(&acc, m: rows, n: n)
        counters.add("weights", saturated: s, produced: acc.count)
        if let record {
            var a = [Double](repeating: 0, count: rows * 2 * n), b = [Double](repeating: 0, count: 2 * n * n)
            for r in 0..<rows { for j in 0..<n { a[r * 2 * n + j] = w[r * n + j]; a[r * 2 * n + n + j] = g[r * n + j] } }
            for j in 0..<n { b[j * n + j] = oneB; b[(n + j) * n + j] = -c }
            record(.update, layer, a, b, acc, rows, 2 * n, n)
        }
        return acc
    }

    /// The batch's pixels as the first layer's inputs.
    func pixels(_ data: LabeledImages, indices: ArraySlice<Int>) -> [Double] {
        let n = data.shape.count
        var x = [Double](repeating: 0, count: indices.count * n)
        data.bytes.withUnsafeBufferPointer { src in
            for (b, j) in indices.enumerated() { for i in 0..<n { x[b * n + i] = pixelTable[Int(src[j * n + i])] } }
        }
        return x
    }

    /// Test error and mean loss, forward passes in the array's arithmetic on a copy of the
    /// forward array from reset (the training's arrays are not advanced).
    public func evaluate(_ data: LabeledImages) -> (error: Double, loss: Double) {
        var arrays = self.arrays
        arrays[GEMMRole.forward.rawValue].reset()
        var counters = Counters()
        let classes = layers.last!.outputs
        var wrong = 0, loss = 0.0, start = 0
        let indices = Array(0..<data.count)
        while start < data.count {
            let b = min(100, data.count - start)
            let x = pixels(data, indices: indices[start..<(start + b)])
            let z = forward(x, batch: b, counters: &counters, arrays: &arrays).logits
            let labels = Array(data.labels[start..<(start + b)])
            loss += softmax(z, batch: b, labels: labels).loss
            for i in 0..<b {
                var best = 0
                for j in 1..<classes where z[i * classes + j] > z[i * classes + best] { best = j }
                if best != labels[i] { wrong += 1 }
            }
            start += b
        }
        return (Double(wrong) / Double(max(1, data.count)), loss / Double(max(1, data.count)))
    }

    /// Trains one epoch (the next one) and evaluates on `test`. With `sample`, the first batch's
    /// sampled GEMMs (forward layer 1, gradient of layer 2, backward into layer 1, update of the
    /// last layer) each run on their array just after a reset and are handed over.
    @discardableResult
    public func trainEpoch(data: LabeledImages, test: LabeledImages, sample: ((SampledGEMM) -> Void)? = nil) -> ArrayEpochReport {
        let clock = ContinuousClock.now
        let count = min(options.trainLimit ?? data.count, data.count)
        var order = Array(0..<count)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(orderRNG.next() % UInt64(i + 1))) }
        var counters = Counters()
        var loss = 0.0, updates = 0, changed = 0, start = 0
        while start < count {
            let b = min(options.batchSize, count - start)
            let slice = order[start..<(start + b)]
            let x = pixels(data, indices: slice)
            let labels = slice.map { data.labels[$0] }
            loss += step(x, labels: labels, batch: b, counters: &counters, updates: &updates, changed: &changed,
                         first: start == 0, sample: sample)
            start += b
        }
        let trained = ContinuousClock.now - clock
        let seconds = Double(trained.components.seconds) + Double(trained.components.attoseconds) * 1e-18
        let testSet = options.testLimit.map { test.prefix($0) } ?? test
        let (testError, testLoss) = evaluate(testSet)
        epochsDone += 1
        let report = ArrayEpochReport(epoch: epochsDone, loss: loss / Double(max(1, count)), testError: testError, testLoss: testLoss,
                                      imagesPerSecond: Double(count) / max(seconds, 1e-9), seconds: seconds,
                                      saturated: counters.saturated, produced: counters.produced, updates: updates, changed: changed)
        history.append(report)
        return report
    }
}
