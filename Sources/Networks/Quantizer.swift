import Foundation
import Model

/// The quantizations the arrays run (docs/FORMATS.md), by name.
public enum QuantizationScheme: Hashable, Sendable, CustomStringConvertible {
    /// Dynamic fixed point (Ristretto, Gysel et al. 2016): `bits`-bit activations and weights,
    /// each layer with its own fractional lengths.
    case fixed(bits: Int)
    /// ±2^-F weights (BinaryConnect, Courbariaux et al. NIPS 2015), 8-bit activations.
    case bwn
    /// {-1, 0, +1}·2^-F weights (TWN, Li and Liu 2016), 8-bit activations.
    case ternary
    /// 0 or ±2^(e-1)·2^-F weights, e an E-bit exponent (LogNet, Lee et al. ICASSP 2017), 8-bit activations.
    case powerOfTwo(exponentBits: Int)
    /// 2^n shared 8-bit weights found by k-means (Deep Compression, Han et al. ICLR 2016), 8-bit activations.
    case codebook(indexBits: Int)
    /// A BNN (Courbariaux, Hubara et al. 2016): binary weights and activations in the hidden
    /// layers with batch norm folded into thresholds; 8-bit pixels into the first layer.
    case binary

    public static let all: [QuantizationScheme] = [.fixed(bits: 16), .fixed(bits: 8), .fixed(bits: 6), .fixed(bits: 4),
                                                   .bwn, .ternary, .powerOfTwo(exponentBits: 3), .codebook(indexBits: 4), .binary]
    public static var names: [String] { all.map(\.name) }

    public var name: String {
        switch self {
        case .fixed(let b): "fixed\(b)"
        case .bwn: "bwn"
        case .ternary: "ternary"
        case .powerOfTwo(let e): "pow2e\(e)"
        case .codebook(let n): "codebook\(n)"
        case .binary: "binary"
        }
    }
    public var description: String { name }


    /// `fixed<N>` (N in `fixedBits`), or any other number format's name (`NumberFormat.names`:
    /// `pow2` is pow2e3, `codebook` is codebook4), so the schemes take exactly the formats the
    /// arrays build.
    public init?(_ name: String) {
        if name.hasPrefix("fixed"), let b = Int(name.dropFirst(5)), NumberFormat.fixedBitsRange.contains(b), name == "fixed\(b)" {
            self = .fixed(bits: b)
            return
        }
        switch NumberFormat(name) {
        case .binaryWeights?: self = .bwn
        case .ternary?: self = .ternary
        case .binary?: self = .binary
        case .powerOfTwo(let e)?: self = .powerOfTwo(exponentBits: e)
        case .codebook(let n)?: self = .codebook(indexBits: n)
        case .fixed?, nil: return nil
        }
    }

    /// The allowed spellings, for help texts and refusals.
    public static var allowedNames: String { allowedNames(families: NumberFormat.names) }

    /// The spellings of the schemes of some format families (`NumberFormat.families` spellings).
    public static func allowedNames(families: [String]) -> String {
        let bits = NumberFormat.fixedBitsRange
        let others = NumberFormat.allowed(except: Set(NumberFormat.names).subtracting(families).union(["fixed"]))
        let fixed = families.contains("fixed") ? "fixed<\(bits.lowerBound)..\(bits.upperBound)> (activations and weights N bits, dynamic fixed point)" : ""
        return [fixed, others].filter { !$0.isEmpty }.joined(separator: ", ")
    }

    /// The array's number format (`QuantizedNetwork.Stage.format`) for the hidden stages.
    public var format: NumberFormat {
        switch self {
        case .fixed: .fixed
        case .bwn: .binaryWeights
        case .ternary: .ternary
        case .powerOfTwo(let e): .powerOfTwo(exponentBits: e)
        case .codebook(let n): .codebook(indexBits: n)
        case .binary: .binary
        }
    }

    /// Activation bits (the first stage's input too).
    public var activationBits: Int {
        if case .fixed(let b) = self { return b }
        return 8
    }

    /// Schemes whose post-training quantization loses too much: they are fine-tuned with
    /// quantization in the forward pass. A BNN is trained (from the float weights) with batch norm.
    public var needsFineTuning: Bool {
        if case .fixed(let b) = self { return b <= 6 }
        return true
    }

    /// The fine-tuning's settings: a short Adam run from the float weights.
    public var fineTuning: TrainingOptions {
        switch self {
        case .fixed: TrainingOptions(epochs: 2, learningRate: 5e-4, seed: 7)
        case .bwn, .ternary: TrainingOptions(epochs: 3, learningRate: 5e-4, seed: 7)
        case .powerOfTwo, .codebook: TrainingOptions(epochs: 2, learningRate: 2e-4, seed: 7)
        case .binary: TrainingOptions(epochs: 10, learningRate: 2e-3, seed: 7)
        }
    }
}

/// Float networks to `QuantizedNetwork`s: calibration (fractional lengths), fine-tuning with
/// fake quantization, and the export of codes, shifts, biases and thresholds.
public enum Quantizer {
    /// Images the fractional lengths are calibrated on: the first ones of the training set.
    public static let calibrationImages = 2000

    /// Post-training quantization (no training): weights by the scheme's rule per layer,
    /// activations' fractional lengths covering the largest magnitude each stage's result
    /// reaches on `calibration` (Ristretto). A BNN cannot be made this way (it needs batch
    /// norm), unless `parameters` came from `fineTune` with its batch norms.
    ///
    /// Padded convolutions and pooling that drops an edge (imported ONNX models) are taken
    /// here, though not by fine-tuning: zero padding is a zero code for every format but the
    /// BNN's (±1 activations have no zero), and the integer average divides by a shift, so it
    /// needs a power-of-two window.
    public static func quantize(spec: NetworkSpec, parameters: FloatParameters, scheme: QuantizationScheme,
                                calibration: LabeledImages) throws -> QuantizedNetwork {
        if let problem = try postTrainingProblem(spec: spec, scheme: scheme) { throw NetworkError(problem) }
        let plan = try calibrate(spec: spec, parameters: parameters, scheme: scheme, calibration: calibration, inference: true)
        return try export(spec: spec, parameters: parameters, scheme: scheme, plan: plan, inference: true)
    }

    /// Why `quantize` cannot make `spec` in `scheme` (nil when it can), before any calibration.
    public static func postTrainingProblem(spec: NetworkSpec, scheme: QuantizationScheme) throws -> String? {
        for (i, s) in try StageLayout.stages(of: spec, inference: true).enumerated() {
            if scheme == .binary && s.shape.padding > 0 {
                return "\(spec.name): stage \(i) pads (\(s.shape.padding)); a BNN's ±1 activations have no zero to pad with"
            }
            if let pool = s.pool, pool.kind == .average, pool.size & (pool.size - 1) != 0 || pool.size > 8 {
                return "\(spec.name): stage \(i) averages \(pool.size)×\(pool.size) windows; the pooling core averages 2×2, 4×4 and 8×8 windows only (a shift divides)"
            }
            if let pool = s.pool, pool.size > 8 {
                return "\(spec.name): stage \(i) pools \(pool.size)×\(pool.size) windows; the pooling core takes 2×2 to 8×8"
            }
        }
        return nil
    }

    /// Quantization-aware training: the plan is calibrated on the float weights, then the
    /// network trains with that quantization in its forward pass (fake quantization; gradients
    /// pass straight through, Bengio et al. 2013) and is exported with the same plan. For
    /// `binary` the network becomes a BNN: batch norm and sign in the hidden stages.
    public static func fineTune(spec: NetworkSpec, parameters: FloatParameters, scheme: QuantizationScheme,
                                calibration: LabeledImages, data: LabeledImages, test: LabeledImages? = nil,
                                options: TrainingOptions? = nil,
                                progress: (EpochReport) -> Void = { _ in }) throws -> QuantizedNetwork {
        let options = options ?? scheme.fineTuning
        let plan = try calibrate(spec: spec, parameters: parameters, scheme: scheme, calibration: calibration)
        let engine = try Engine(spec: spec, parameters: parameters, plan: plan)
        var refit: ((Int) -> Void)?
        if case .codebook = scheme {
            // Deep Compression fine-tunes the shared values; here k-means refits them to the
            // trained weights every 100 steps, starting from the current entries.
            refit = { step in
                guard step % 100 == 99 else { return }
                for layer in engine.weightLayers {
                    guard case .codebook(let f, let entries) = layer.quantizer else { continue }
                    layer.quantizer = .codebook(frac: f, entries: WeightQuantizer.kMeansEntries(
                        layer.weight.value, frac: f, bits: 8, count: entries.count, iterations: 3, initial: entries))
                }
            }
        }
        var rng = SplitMix64(seed: options.seed)
        Training.fit(engine, data: data, test: test, options: options, rng: &rng, beforeStep: refit, progress: progress)
        var trained = plan
        for (i, layer) in engine.weightLayers.enumerated() { trained.stages[i].weights = layer.quantizer }
        return try export(spec: spec, parameters: engine.parameters, scheme: scheme, plan: trained)
    }

    /// The forward plan of `scheme`: weight quantizers from the weights, and fractional lengths
    /// from the float activations (with the weights already quantized, since a power-of-two
    /// scale changes the activations' range) on the calibration images.
    static func calibrate(spec: NetworkSpec, parameters: FloatParameters, scheme: QuantizationScheme,
                          calibration: LabeledImages, inference: Bool = false) throws -> ForwardPlan {
        let layout = try StageLayout.stages(of: spec, inference: inference)
        let a = scheme.activationBits
        let last = layout.count - 1
        let input = SumRounding(bits: a, frac: a - 1)  // pixels in [0, 1]: Ristretto's rule for max 1
        if case .binary = scheme {
            // BNN: sign(W) in every stage; the last stage's ±1 sums are scaled by 2^-F ≈ 1/sqrt(K)
            // so the logits start in a range softmax trains well from.
            return ForwardPlan(input: input, stages: layout.enumerated().map { i, s in
                if i < last { return ForwardPlan.Stage(weights: .binary(frac: 0), batchNormSign: true) }
                let k = s.shape.channels * s.shape.filterHeight * s.shape.filterWidth
                let f = Int((0.5 * log2(Double(k))).rounded())
                return ForwardPlan.Stage(weights: .binary(frac: f), rounding: SumRounding(bits: 16, frac: f))
            })
        }
        var plan = ForwardPlan(input: input, stages: parameters.layers.map { p in
            ForwardPlan.Stage(weights: weightQuantizer(scheme, p.weights))
        })
        // Largest magnitude of each stage's result (after ReLU; the last stage's logits).
        let engine = try Engine(spec: spec, parameters: parameters, plan: plan, inference: inference)
        var maxAbs = [Float](repeating: 0, count: layout.count)
        // A sample of each stage's results (the first 200 images), for choosing low-bit formats.
        var samples = [[Float]](repeating: [], count: layout.count)
        let n = calibration.shape.count, batch = 100
        var start = 0
        while start < calibration.count {
            let b = min(batch, calibration.count - start)
            let x = Array(calibration.pixels[start * n..<(start + b) * n])
            _ = engine.forward(x, batch: b, training: false) { op, out in
                guard let stage = engine.resultOp.firstIndex(of: op) else { return }
                let count = b * engine.ops[op].outCount
                var m = maxAbs[stage]
                for i in 0..<count { m = max(m, abs(out[i])) }
                maxAbs[stage] = m
                if start < 200 { samples[stage].append(contentsOf: out[0..<count]) }
            }
            start += b
        }
        var inFrac = input.frac
        for i in layout.indices {
            let resultBits = i == last ? 16 : a
            let covering = ristrettoFrac(maxAbs: maxAbs[i], bits: resultBits)
            let chosen = resultBits <= lowBits ? leastSquaresFrac(samples[i], bits: resultBits, from: covering) : covering
            // shift = in + weight - out must not be negative (the ROUND unit only drops bits).
            let outFrac = min(chosen, inFrac + plan.stages[i].weights.frac)
            plan.stages[i].rounding = SumRounding(bits: 16, frac: outFrac)
            if i < last { plan.stages[i].result = SumRounding(bits: a, frac: outFrac) }
            inFrac = outFrac
        }
        return plan
    }

    /// At and below this many bits, covering the largest magnitude wastes too many of the few
    /// levels on rare outliers: the fractional length is the one (from the covering one up to
    /// 4 more) with the least squared error on the values, saturating the outliers instead.
    static let lowBits = 6

    static func leastSquaresFrac(_ values: [Float], bits: Int, from covering: Int) -> Int {
        var best = covering, bestError = Double.infinity
        for f in covering...(covering + 4) {
            var error = 0.0
            for x in values {
                let d = Double(x - fakeQuantize(x, bits: bits, frac: f))
                error += d * d
            }
            if error < bestError {
                best = f
                bestError = error
            }
        }
        return best
    }

    /// The scheme's quantizer for one layer's float weights.
    static func weightQuantizer(_ scheme: QuantizationScheme, _ w: [Float]) -> WeightQuantizer {
        let maxAbs = w.reduce(Float(0)) { max($0, abs($1)) }
        switch scheme {
        case .fixed(let b):
            let covering = ristrettoFrac(maxAbs: maxAbs, bits: b)
            return .fixed(bits: b, frac: b <= lowBits ? leastSquaresFrac(w, bits: b, from: covering) : covering)
        case .bwn, .binary:
            return .binary(frac: WeightQuantizer.binaryFrac(w))
        case .ternary:
            return .ternary(frac: WeightQuantizer.ternaryFrac(w))
        case .powerOfTwo(let e):
            return .powerOfTwo(exponentBits: e, frac: WeightQuantizer.powerOfTwoFrac(w, exponentBits: e))
        case .codebook(let n):
            let f = ristrettoFrac(maxAbs: maxAbs, bits: 8)
            return .codebook(frac: f, entries: WeightQuantizer.kMeansEntries(w, frac: f, bits: 8, count: 1 << n, iterations: 30))
        }
    }

    /// The integer network of a plan (QuantizedNetwork's doc comment gives the arithmetic).
    /// Hidden stages: ROUND to 16 bits at the output's fractional length, bias, ReLU, saturate
    /// to the activation bits, pool. The last stage keeps 16 bits and no ReLU: the classifier
    /// reads the ROUND unit's 16-bit output plus the bias as the logits.
    static func export(spec: NetworkSpec, parameters: FloatParameters, scheme: QuantizationScheme,
                       plan: ForwardPlan, inference: Bool = false) throws -> QuantizedNetwork {
        let layout = try StageLayout.stages(of: spec, inference: inference)
        let last = layout.count - 1
        let outputBits = 16
        var inFrac = plan.input!.frac
        var stages: [QuantizedNetwork.Stage] = []
        for (i, s) in layout.enumerated() {
            let p = parameters.layers[i], sp = plan.stages[i]
            let q = sp.weights
            let binaryInput = scheme == .binary && i > 0
            let activation = binaryInput ? QuantizedNetwork.Width(bits: 2, frac: 0) : .init(bits: scheme.activationBits, frac: inFrac)
            let weight: QuantizedNetwork.Width
            var format = scheme.format
            var codebook: [Int]?
            switch q {
            case .float: preconditionFailure("export needs quantized weights")
            case .fixed(let b, let f): weight = .init(bits: b, frac: f)
            case .binary(let f), .ternary(let f): weight = .init(bits: 2, frac: f)
            case .powerOfTwo(let e, let f): weight = .init(bits: 1 << e, frac: f)
            case .codebook(let f, let entries):
                weight = .init(bits: 8, frac: f)
                codebook = entries
            }
            // The BNN's first stage multiplies 8-bit pixels by ±1 weights: that is `bwn`.
            if scheme == .binary && i == 0 { format = .binaryWeights }
            let accFrac = activation.frac + weight.frac
            if sp.batchNormSign {
                guard let bn = p.batchNorm else { throw NetworkError("\(spec.name): stage \(i) of a BNN has no batch norm (train it with fineTune)") }
                let k = s.shape.channels * s.shape.filterHeight * s.shape.filterWidth
                let bound = k << (activation.bits - 1) + 1
                let thresholds = (0..<s.shape.filters).map { c in
                    threshold(gamma: Double(bn.gamma[c]), beta: Double(bn.beta[c]), mean: Double(bn.mean[c]),
                              sigma: Double(bn.variance[c] + BatchNorm.epsilon).squareRoot(), scale: Double(1 << accFrac), bound: bound)
                }
                stages.append(QuantizedNetwork.Stage(
                    layer: s.shape, format: format, activation: activation, weight: weight, weights: q.codes(p.weights),
                    codebook: codebook, shift: 0, outputBits: outputBits, thresholds: thresholds,
                    bias: [Int](repeating: 0, count: s.shape.filters), relu: false, resultBits: 1, pool: s.pool))
                inFrac = 0
                continue
            }
            let outFrac = sp.rounding!.frac
            let limit = Float(1 << (outputBits - 1))
            let bias = p.bias.map { Int(min(max(($0 * pow2f(outFrac) + 0.5).rounded(.down), -limit), limit - 1)) }
            stages.append(QuantizedNetwork.Stage(
                layer: s.shape, format: format, activation: activation, weight: weight, weights: q.codes(p.weights),
                codebook: codebook, shift: accFrac - outFrac, outputBits: outputBits, bias: bias,
                relu: s.relu && i < last, resultBits: i == last ? outputBits : scheme.activationBits, pool: s.pool))
            inFrac = outFrac
        }
        return QuantizedNetwork(model: spec.name, label: scheme.name, inputFrac: plan.input!.frac, stages: stages)
    }

    /// Batch norm then sign as one compare of the integer sum x (x = y·scale for the float
    /// pre-activation y): γ(y − μ)/σ + β ≥ 0 is y ≥ τ = μ − βσ/γ when γ > 0, so T = ceil(τ·scale);
    /// when γ < 0 it is y ≤ τ, the negation of x ≥ floor(τ·scale) + 1 (flip); when γ = 0 the
    /// sign of β decides for every x. The folding of FINN (Umuroglu et al. FPGA 2017).
    static func threshold(gamma: Double, beta: Double, mean: Double, sigma: Double, scale: Double, bound: Int) -> QuantizedNetwork.ThresholdValue {
        if gamma == 0 { return .init(value: -bound, flip: beta < 0) }
        let tau = (mean - beta * sigma / gamma) * scale
        let clamped = { (v: Double) in Int(max(Double(-bound), min(Double(bound), v))) }
        return gamma > 0 ? .init(value: clamped(tau.rounded(.up)), flip: false) : .init(value: clamped(tau.rounded(.down) + 1), flip: true)
    }
}
