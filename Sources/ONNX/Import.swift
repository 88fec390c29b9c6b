import Model
import Networks

/// A float ONNX model as the project's network description: the layers (`NetworkSpec`) and
/// their float weights (`FloatParameters`, one entry per conv or dense layer, MCRS), which the
/// float forward pass (`FloatInference`) and post-training quantization (`quantized`, Quantize.swift) take.
public struct ImportedNetwork: Sendable {
    public var spec: NetworkSpec
    public var parameters: FloatParameters
    public var inputName: String
    public var outputName: String
    /// The model ends in a Softmax, left to the host: `spec` computes the values before it.
    public var softmaxOnHost: Bool
    /// How each node was taken, one line per node in graph order.
    public var mapping: [String]
}

/// The import of a float model to a network description.
///
/// The graph must be a chain from its one data input (1×C×H×W, batch 1, float) to its output.
/// Nodes whose inputs are all constants (initializers, Constant, static Shape and what is
/// computed from them: Shape/Gather/Concat/Unsqueeze chains, the Reshape of an initializer, a
/// DequantizeLinear of constant weights) are folded away. The rest map to layers:
/// Conv → conv (square kernel, equal strides, the same padding on every side, after auto_pad);
/// Add of a per-channel constant, BatchNormalization → folded into the layer before;
/// Gemm (transA 0) and MatMul with a constant right operand → dense; Relu, or Clip with min 0
/// and no max → relu; MaxPool/AveragePool with stride equal to the window and no padding, and
/// GlobalAveragePool of a square map → pooling; Flatten (axis 1) or a Reshape to 1×N → flatten;
/// Identity, Dropout, Cast to the same type → nothing; a final Softmax → on the host.
/// Flatten order: ONNX flattens NCHW as C, H, W, as the project's flatten does (CHW), so dense
/// weights after a flatten keep their order.
public enum Importer {
    public static func network(_ model: ONNXModel, name: String) throws -> ImportedNetwork {
        let interpreter = try Interpreter(model)
        let dataInputs = model.inputs
        guard dataInputs.count == 1, let input = dataInputs.first, let inShape = input.staticShape else {
            throw ONNXError("import needs one data input of static shape, the model has \(dataInputs.map(\.name))")
        }
        guard input.element == .float else { throw ONNXError("input '\(input.name)' is \(input.element.map { "\($0)" } ?? "?"), import needs float") }
        let tensorShape: TensorShape
        switch inShape.count {
        case 4 where inShape[0] == 1: tensorShape = TensorShape(channels: inShape[1], height: inShape[2], width: inShape[3])
        case 2 where inShape[0] == 1: tensorShape = TensorShape(channels: inShape[1])
        default: throw ONNXError("input '\(input.name)' has shape \(inShape): import needs batch 1, N×C×H×W or N×C")
        }
        guard model.outputs.count == 1 else { throw ONNXError("import needs one graph output, the model has \(model.outputs.count)") }

        // Every value's static shape and the constants' values, from one run on a zero input.
        let values = try interpreter.values([input.name: Tensor(shape: inShape, floats: [Float](repeating: 0, count: inShape.reduce(1, *)))])
        var constant = Set(model.initializers.keys)
        for node in model.nodes where node.opType == "Shape" || node.inputs.filter({ !$0.isEmpty }).allSatisfy(constant.contains) {
            constant.formUnion(node.outputs.filter { !$0.isEmpty })
        }

        var b = Builder(values: values)
        var current = input.name
        var softmax = false
        for node in model.nodes {
            if node.outputs.allSatisfy({ $0.isEmpty || constant.contains($0) }) {
                b.mapping.append("\(node.label) (\(node.opType)): folded (constant)")
                continue
            }
            let at = "node '\(node.label)' (\(node.opType))"
            guard !softmax else { throw ONNXError("\(at) follows the Softmax: import needs the Softmax last") }
            let streamed = node.inputs.filter { !$0.isEmpty && !constant.contains($0) }
            guard streamed == [current] else {
                throw ONNXError("\(at) reads \(streamed): import needs a chain, each node reading the one before (\(current))")
            }
            let consts = node.inputs.map { $0.isEmpty || !constant.contains($0) ? nil : values[$0] }
            let out = node.outputs[0]
            do {
                let before = b.layers.count
                let mapped = try b.map(node, input: values[current]!, output: values[out]!, constants: consts, model: model)
                // Each new layer must compute the shape the model computes there.
                if b.layers.count > before, let y = values[out] {
                    let s = NetworkSpec(name: name, input: tensorShape, layers: b.layers).shapes.last!
                    let dims = y.rank == 4 ? Array(y.shape[1...]) : [y.count, 1, 1]
                    guard [s.channels, s.height, s.width] == dims else {
                        throw ONNXError("the layer gives \(s), the model \(y.shape)")
                    }
                }
                if mapped == "softmax" { softmax = true }
                b.mapping.append("\(node.label) (\(node.opType)): \(mapped)")
            } catch let e as ONNXError {
                throw ONNXError("\(at): \(e.description)")
            }
            current = out
        }
        guard current == model.outputs[0].name else {
            throw ONNXError("the chain ends at '\(current)', not at the graph output '\(model.outputs[0].name)'")
        }
        let spec = NetworkSpec(name: name, input: tensorShape, layers: b.layers)
        let parameters = FloatParameters(layers: b.parameters)
        // The description must give every layer the shape the model computes.
        do {
            _ = try StageLayout.stages(of: spec, inference: true)
        } catch {
            throw ONNXError("the imported network is not one the float forward pass takes: \(error)")
        }
        return ImportedNetwork(spec: spec, parameters: parameters, inputName: input.name, outputName: model.outputs[0].name,
                               softmaxOnHost: softmax, mapping: b.mapping)
    }

    /// Layers and parameters as they are built, and the state of the layer last added.
    struct Builder {
        let values: [String: Tensor]
        var layers: [Layer] = []
        var parameters: [LayerParameters] = []
        var mapping: [String] = []

        /// The last layer is a conv or dense layer with nothing after it (a bias or batch norm
        /// can fold into it); its number of outputs.
        var foldTarget: Int? {
            switch layers.last {
            case .conv(let m, _, _, _)?: m
            case .dense(let n)?: n
            default: nil
            }
        }

        mutating func map(_ node: Node, input x: Tensor, output y: Tensor, constants c: [Tensor?], model: ONNXModel) throws -> String {
            let a = node.attributes
            switch node.opType {
            case "Conv":
                guard let w = c[1] else { throw ONNXError("the weight must be a constant") }
                let k = w.shape[2], u = a["strides"]?.ints ?? [1, 1]
                guard w.shape[3] == k, u[0] == u[1] else { throw ONNXError("kernel \(w.shape[2...]) strides \(u): import needs a square kernel and equal strides") }
                let g = try Operators.geometry(x, kernel: [k, k], a)
                guard Set([g.top, g.left, g.bottom, g.right]).count == 1 else {
                    throw ONNXError("padding top \(g.top) left \(g.left) bottom \(g.bottom) right \(g.right): import needs the same padding on every side")
                }
                layers.append(.conv(filters: w.shape[0], size: k, stride: u[0], padding: g.top))
                parameters.append(LayerParameters(weights: w.floats, bias: c.count > 2 ? (c[2]?.floats ?? zeros(w.shape[0])) : zeros(w.shape[0])))
                return "conv \(w.shape[0]) filters \(k)×\(k), stride \(u[0]), padding \(g.top)"
            case "Gemm":
                guard let bm = c[1], a["transA"]?.int ?? 0 == 0, x.shape[0] == 1 else { throw ONNXError("import needs transA 0, batch 1 and a constant B") }
                let tb = a["transB"]?.int == 1, alpha = a["alpha"]?.float ?? 1, beta = a["beta"]?.float ?? 1
                let (k, n) = tb ? (bm.shape[1], bm.shape[0]) : (bm.shape[0], bm.shape[1])
                let weights = (0..<n * k).map { i in alpha * (tb ? bm.floats[i] : bm.floats[(i % k) * n + i / k]) }
                var bias = zeros(n)
                if c.count > 2, let cc = c[2] {
                    let idx = Operators.broadcastIndices(from: cc.shape, to: [1, n])
                    bias = idx.map { beta * cc.floats[$0] }
                }
                layers.append(.dense(outputs: n))
                parameters.append(LayerParameters(weights: weights, bias: bias))
                return "dense \(k)→\(n)\(tb ? "" : " (B transposed)")\(alpha != 1 ? ", alpha \(alpha) folded" : "")"
            case "MatMul":
                guard let bm = c[1], bm.rank == 2, x.rank == 2, x.shape[0] == 1 else { throw ONNXError("import needs a 1×K input times a constant K×N matrix") }
                let (k, n) = (bm.shape[0], bm.shape[1])
                layers.append(.dense(outputs: n))
                parameters.append(LayerParameters(weights: (0..<n * k).map { bm.floats[($0 % k) * n + $0 / k] }, bias: zeros(n)))
                return "dense \(k)→\(n) (B transposed)"
            case "Add":
                guard let m = foldTarget, let t = c.compactMap({ $0 }).first else { throw ONNXError("import takes an Add only as the bias of a conv or dense layer (a constant added right after it)") }
                guard y.shape == x.shape else { throw ONNXError("the constant \(t.shape) broadcasts the output \(x.shape) to \(y.shape)") }
                // The constant broadcast over the output must be one value per channel.
                let idx = Operators.broadcastIndices(from: t.shape, to: x.shape)
                let perChannel = x.count / m
                var bias = [Float?](repeating: nil, count: m)
                for (i, j) in idx.enumerated() {
                    let ch = i / perChannel % m
                    if let v = bias[ch], v != t.floats[j] { throw ONNXError("the constant \(t.shape) is not one value per output channel") }
                    bias[ch] = t.floats[j]
                }
                for ch in 0..<m { parameters[parameters.count - 1].bias[ch] += bias[ch]! }
                return "bias of layer \(layers.count - 1)"
            case "BatchNormalization":
                guard let m = foldTarget, let scale = c[1], let shift = c[2], let mean = c[3], let variance = c[4] else {
                    throw ONNXError("import takes a BatchNormalization only right after a conv or dense layer, with constant parameters")
                }
                let eps = Double(a["epsilon"]?.float ?? 1e-5)
                var p = parameters[parameters.count - 1]
                let k = p.weights.count / m
                for ch in 0..<m {
                    let f = Double(scale.floats[ch]) / (Double(variance.floats[ch]) + eps).squareRoot()
                    for i in 0..<k { p.weights[ch * k + i] = Float(Double(p.weights[ch * k + i]) * f) }
                    p.bias[ch] = Float((Double(p.bias[ch]) - Double(mean.floats[ch])) * f + Double(shift.floats[ch]))
                }
                parameters[parameters.count - 1] = p
                return "folded into layer \(layers.count - 1)"
            case "Relu":
                layers.append(.relu)
                return "relu"
            case "Clip":
                let lo = c.count > 1 ? c[1]?.floats.first : a["min"]?.float
                let hi = c.count > 2 ? c[2]?.floats.first : a["max"]?.float
                guard lo == 0, hi == nil || hi == Float.greatestFiniteMagnitude || hi == Float.infinity else {
                    throw ONNXError("Clip(\(lo.map { "\($0)" } ?? "-inf"), \(hi.map { "\($0)" } ?? "inf")): import takes Clip only as ReLU (min 0, no max)")
                }
                layers.append(.relu)
                return "relu"
            case "MaxPool", "AveragePool":
                let k = a["kernel_shape"]?.ints ?? []
                let g = try Operators.geometry(x, kernel: k, a, ceil: a["ceil_mode"]?.int == 1)
                guard k.count == 2, k[0] == k[1], g.sh == k[0], g.sw == k[0], [g.top, g.left, g.bottom, g.right] == [0, 0, 0, 0] else {
                    throw ONNXError("window \(k), strides \(g.sh)×\(g.sw), pads \([g.top, g.left, g.bottom, g.right]): import needs a square window, stride equal to it and no padding")
                }
                guard g.oh == g.h / k[0], g.ow == g.w / k[0] else { throw ONNXError("ceil_mode gives a partial window: not supported") }
                layers.append(node.opType == "MaxPool" ? .maxPool(size: k[0]) : .avgPool(size: k[0]))
                return "\(node.opType == "MaxPool" ? "max" : "average") pooling \(k[0])×\(k[0])"
            case "GlobalAveragePool":
                guard x.rank == 4, x.shape[2] == x.shape[3] else { throw ONNXError("input \(x.shape): import needs a square map") }
                layers.append(.avgPool(size: x.shape[2]))
                return "average pooling \(x.shape[2])×\(x.shape[2])"
            case "Flatten", "Reshape":
                guard y.shape == [1, x.count] else { throw ONNXError("output \(y.shape): import takes only a flatten to 1×\(x.count)") }
                layers.append(.flatten)
                return "flatten (C, H, W order)"
            case "Identity", "Dropout", "Cast":
                return "nothing (identity)"
            case "Softmax":
                let axis = a["axis"]?.int ?? (model.opset < 13 ? 1 : -1)
                guard x.rank == 2, axis == 1 || axis == -1 else { throw ONNXError("import takes a Softmax only over the last axis of a 1×N output") }
                return "softmax"
            case "QuantizeLinear", "DequantizeLinear":
                throw ONNXError("quantized activations (QDQ) are not imported yet; a float model imports (a DequantizeLinear of constant weights folds away)")
            default:
                throw ONNXError("not importable")
            }
        }

        func zeros(_ n: Int) -> [Float] { [Float](repeating: 0, count: n) }
    }
}
