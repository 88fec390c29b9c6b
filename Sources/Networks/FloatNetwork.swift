import Foundation
import Model

/// Batch normalization's learned and running values, per channel.
public struct BatchNormParameters: Hashable, Sendable {
    public var gamma: [Float]
    public var beta: [Float]
    public var mean: [Float]
    public var variance: [Float]
}

/// One conv/dense layer's float weights (MCRS) and bias, and for BNN hidden layers its batch norm.
public struct LayerParameters: Hashable, Sendable {
    public var weights: [Float]
    public var bias: [Float]
    public var batchNorm: BatchNormParameters?
    public init(weights: [Float], bias: [Float], batchNorm: BatchNormParameters? = nil) {
        self.weights = weights
        self.bias = bias
        self.batchNorm = batchNorm
    }
}

/// A float network's parameters: one entry per stage (conv/dense layer) of the spec.
public struct FloatParameters: Hashable, Sendable {
    public var layers: [LayerParameters]
    public init(layers: [LayerParameters]) { self.layers = layers }

    /// The parameters that give on raw inputs x what these give on (x − mean)/std: the first
    /// layer's weights divide by std and its bias loses mean/std times the filter's weight sum.
    /// Exact for a first layer without padding (every tap sees an input).
    public func foldingInputNormalization(mean: Float, std: Float) -> FloatParameters {
        var p = self
        let first = p.layers[0]
        let k = first.weights.count / first.bias.count
        for m in 0..<first.bias.count {
            var sum: Float = 0
            for i in 0..<k { sum += first.weights[m * k + i] }
            p.layers[0].bias[m] = first.bias[m] - mean / std * sum
        }
        p.layers[0].weights = first.weights.map { $0 / std }
        return p
    }

    /// He initialization (He et al. ICCV 2015), uniform in ±sqrt(6 / fan-in), zero biases; the
    /// layers draw in order from `rng`.
    public static func random(_ spec: NetworkSpec, rng: inout SplitMix64) throws -> FloatParameters {
        let stages = try StageLayout.stages(of: spec)
        return FloatParameters(layers: stages.map { s in
            let fanIn = s.shape.channels * s.shape.filterHeight * s.shape.filterWidth
            let bound = Float((6.0 / Double(fanIn)).squareRoot())
            let w = (0..<s.shape.weightCount).map { _ in (2 * uniform(&rng) - 1) * bound }
            return LayerParameters(weights: w, bias: [Float](repeating: 0, count: s.shape.filters))
        })
    }
}

/// A Float in [0, 1) from the top 24 bits of a draw.
func uniform(_ rng: inout SplitMix64) -> Float { Float(rng.next() >> 40) * pow2f(-24) }

/// How the float forward pass is quantized (fake quantization, for quantization-aware training
/// and calibration): the input's format, and per stage what the integer network will do.
struct ForwardPlan: Hashable {
    struct Stage: Hashable {
        var weights: WeightQuantizer = .float
        /// ROUND of the array's sum (and the bias as an integer at its fractional length).
        var rounding: SumRounding?
        /// Saturation of the stage's result after ReLU (`resultBits` at the output's frac).
        var result: SumRounding?
        /// BNN hidden stage: batch norm then sign instead of bias, ReLU and result.
        var batchNormSign = false
    }
    var input: SumRounding?
    var stages: [Stage]

    static func float(_ count: Int) -> ForwardPlan { ForwardPlan(input: nil, stages: Array(repeating: Stage(), count: count)) }
}

/// The float network as a chain of operations, built from a spec, parameters and a plan.
final class Engine {
    let spec: NetworkSpec
    let layout: [StageLayout]
    var ops: [LayerOp] = []
    var weightLayers: [WeightLayer] = []
    var batchNorms: [BatchNorm?] = []
    /// For each stage, the index of the op whose output is the stage's result before pooling.
    var resultOp: [Int] = []
    private var probabilities: [Float] = []

    init(spec: NetworkSpec, parameters: FloatParameters, plan: ForwardPlan, normalization: (mean: Float, std: Float)? = nil,
         inference: Bool = false) throws {
        self.spec = spec
        layout = try StageLayout.stages(of: spec, inference: inference)
        guard parameters.layers.count == layout.count, plan.stages.count == layout.count else {
            throw NetworkError("\(spec.name): \(parameters.layers.count) parameter layers for \(layout.count) stages")
        }
        if let q = plan.input { ops.append(FakeQuantize(count: spec.input.count, bits: q.bits, frac: q.frac)) }
        if let n = normalization { ops.append(Normalize(count: spec.input.count, mean: n.mean, std: n.std)) }
        for (i, s) in layout.enumerated() {
            let p = parameters.layers[i]
            guard p.weights.count == s.shape.weightCount, p.bias.count == s.shape.filters else {
                throw NetworkError("\(spec.name): stage \(i) has \(p.weights.count) weights and \(p.bias.count) biases, expected \(s.shape.weightCount) and \(s.shape.filters)")
            }
            let stage = plan.stages[i]
            let binary: Bool = { if case .binary = stage.weights { return true } else { return false } }()
            // BNN latent weights live in [-1, 1]; a batch-normed stage has no bias (β replaces it).
            let layer = WeightLayer(shape: s.shape, isConv: s.isConv,
                                    weight: Parameter(p.weights, clip: stage.batchNormSign && binary ? 1 : nil),
                                    bias: stage.batchNormSign ? nil : Parameter(p.bias), quantizer: stage.weights)
            layer.rounding = stage.rounding
            layer.needsInputGradient = weightLayers.count > 0
            ops.append(layer)
            weightLayers.append(layer)
            let count = s.outputShape.count
            if stage.batchNormSign {
                let c = s.shape.filters, positions = s.shape.outHeight * s.shape.outWidth
                let bn = p.batchNorm ?? BatchNormParameters(gamma: .init(repeating: 1, count: c), beta: .init(repeating: 0, count: c),
                                                            mean: .init(repeating: 0, count: c), variance: .init(repeating: 1, count: c))
                let op = BatchNorm(channels: c, positions: positions, gamma: Parameter(bn.gamma), beta: Parameter(bn.beta),
                                   mean: bn.mean, variance: bn.variance)
                ops.append(op)
                batchNorms.append(op)
                ops.append(Sign(count: count))
            } else {
                batchNorms.append(nil)
                if s.relu { ops.append(ReLU(count: count)) }
                if let r = stage.result { ops.append(FakeQuantize(count: count, bits: r.bits, frac: r.frac)) }
            }
            resultOp.append(ops.count - 1)
            if let pool = s.pool {
                ops.append(Pool(channels: s.shape.filters, height: s.shape.outHeight, width: s.shape.outWidth,
                                size: pool.size, isMax: pool.kind == .max))
            }
        }
    }

    var parameters: FloatParameters {
        FloatParameters(layers: zip(weightLayers, batchNorms).map { layer, bn in
            LayerParameters(weights: layer.weight.value, bias: layer.bias?.value ?? [Float](repeating: 0, count: layer.shape.filters),
                            batchNorm: bn.map { BatchNormParameters(gamma: $0.gamma.value, beta: $0.beta.value, mean: $0.mean, variance: $0.variance) })
        })
    }

    var trainables: [Parameter] { ops.flatMap(\.parameters) }

    /// The logits of `batch` images (batch · 10 values).
    func forward(_ x: [Float], batch: Int, training: Bool, record: ((Int, [Float]) -> Void)? = nil) -> [Float] {
        var a = x
        for (i, op) in ops.enumerated() {
            a = op.forward(a, batch: batch, training: training)
            record?(i, a)
        }
        return a
    }

    /// Softmax cross-entropy of the last forward pass against `labels`; backpropagates the
    /// mean loss's gradient and returns the summed loss.
    func backward(logits: [Float], labels: ArraySlice<Int>, batch: Int) -> Double {
        let classes = ops.last!.outCount
        probabilities.ensure(batch * classes)
        var loss = 0.0
        for b in 0..<batch {
            let base = b * classes
            var top = -Float.infinity
            for j in 0..<classes { top = max(top, logits[base + j]) }
            var sum: Float = 0
            for j in 0..<classes {
                let e = expf(logits[base + j] - top)
                probabilities[base + j] = e
                sum += e
            }
            let label = labels[labels.startIndex + b]
            loss -= Double(logf(probabilities[base + label] / sum))
            for j in 0..<classes {
                probabilities[base + j] = (probabilities[base + j] / sum - (j == label ? 1 : 0)) / Float(batch)
            }
        }
        var g = probabilities
        // Nothing before the first weight layer learns (the input's fake quantization).
        let first = ops.firstIndex { $0 is WeightLayer }!
        for op in ops[first...].reversed() { g = op.backward(g, batch: batch) }
        return loss
    }
}

/// The float forward pass on its own, for networks made elsewhere (imported ONNX models): it
/// also takes what training does not (`StageLayout.stages(of:inference:)`).
public enum FloatInference {
    /// The outputs of the last layer for `batch` inputs of `spec.input.count` values each.
    public static func logits(_ spec: NetworkSpec, parameters: FloatParameters, input: [Float], batch: Int = 1) throws -> [Float] {
        guard input.count == batch * spec.input.count else {
            throw NetworkError("\(spec.name): \(input.count) input values for \(batch) inputs of \(spec.input)")
        }
        let engine = try Engine(spec: spec, parameters: parameters, plan: .float(parameters.layers.count), inference: true)
        return Array(engine.forward(input, batch: batch, training: false).prefix(batch * engine.ops.last!.outCount))
    }
}

/// The class of each image: the index of the largest logit (the lowest index on a tie).
func argmax(_ logits: [Float], batch: Int, classes: Int) -> [Int] {
    (0..<batch).map { b in
        var best = 0
        for j in 1..<classes where logits[b * classes + j] > logits[b * classes + best] { best = j }
        return best
    }
}
