import Foundation
import Model
import Networks

/// The import of QDQ models with any scales: per tensor or per axis, not powers of two, int8
/// codes with zero points (as onnxruntime's `quantize_static(per_channel=True, QuantType.QInt8)`
/// writes them), to integer weights and the array's per-output-channel requantization
/// (Sources/Cores/Requantizer.swift). Per layer, with input scale S_a and zero point Z_a,
/// weight scales S_w[c] (zero point 0), int32 bias B_c at scale S_a·S_w[c], output scale S_o and
/// zero point Z_o, ONNX computes
///
///     q_c = saturate(roundHalfEven(S_a·S_w[c]/S_o · (Σ (q_a − Z_a)·w + B_c)) + Z_o)
///
/// which is the requantizer's `saturate(roundHalfEven((Σ q_a·w + b_c)·M_c / 2^s_c))` with
/// `b_c = B_c − Z_a·Σ_k w_ck` (the input's zero point folded into the bias, exact) and
/// `M_c · 2^-s_c` the factor to `multiplierBits` bits, then the post-processing core adding
/// Z_o as its bias and saturating to int8 (the requantizer saturates to 16 bits first, which
/// changes nothing an int8 saturation keeps). The one approximation is the multiplier's: a
/// factor's relative error is at most 2^-multiplierBits, and onnxruntime's own requantization
/// multiplies in float32 (24 significant bits).
extension QDQImporter {
    /// Bits of every requantization multiplier: float32's significand.
    public static let multiplierBits = 24

    /// Whether a QDQ model needs the requantization: some Q or DQ with a scale that is not
    /// one power of two, or a zero point that is not 0.
    static func needsRequantization(_ model: ONNXModel, _ values: [String: Tensor]) -> Bool {
        model.nodes.contains { node in
            guard node.opType == "QuantizeLinear" || node.opType == "DequantizeLinear", let s = node.input(1).flatMap({ values[$0] }) else { return false }
            let zeroPoint = node.input(2).flatMap { values[$0] }
            let pow2 = s.count == 1 && s.floats[0] > 0 && { let f = -log2(Double(s.floats[0])); return f == f.rounded() }()
            return !pow2 || (zeroPoint?.ints.contains { $0 != 0 } ?? false)
        }
    }

    static func requantized(_ model: ONNXModel, name: String, inputScale: Float, interpreter: Interpreter,
                            values: [String: Tensor], input: ValueInfo, constant: Set<String>, producer: [String: Node]) throws -> Result {
        /// A Q or DQ's scales (one, or one per channel of `axis`) and zero points.
        struct Params: Equatable { var scales: [Double]; var zeros: [Int]; var element: ElementType }
        func params(_ node: Node, at: String) throws -> Params {
            guard let s = node.input(1).flatMap({ values[$0] }), s.count >= 1, s.floats.allSatisfy({ $0 > 0 }) else {
                throw ONNXError("\(at): the scale must be a positive constant")
            }
            let z = node.input(2).flatMap { values[$0] }
            guard let z, z.element == .int8 || z.element == .int32 else {
                throw ONNXError("\(at): \(z.map { "zero point of \($0.element)" } ?? "no zero point (uint8 codes)"): only int8 codes (and int32 biases) are imported")
            }
            let zeros = z.ints.map { Int($0) }
            return Params(scales: s.floats.map { Double($0) }, zeros: zeros.count == 1 ? Array(repeating: zeros[0], count: s.count) : zeros, element: z.element)
        }
        /// An activation's params: one scale and zero point.
        func tensorParams(_ node: Node, at: String) throws -> (scale: Double, zero: Int) {
            let p = try params(node, at: at)
            guard p.scales.count == 1, p.element == .int8 else { throw ONNXError("\(at): activations need one scale and an int8 zero point (per tensor)") }
            return (p.scales[0], p.zeros[0])
        }
        /// The integer codes and params behind a constant `DequantizeLinear`.
        func dequantized(_ name: String, element: ElementType, at: String) throws -> (codes: [Int], params: Params)? {
            guard let dq = producer[name], dq.opType == "DequantizeLinear", let source = dq.input(0), let t = values[source], t.element == element else { return nil }
            return (t.ints.map { Int($0) }, try params(dq, at: at))
        }

        /// A layer waiting for its output Q: its input's params, weight scales, bias codes at the
        /// accumulator's scale per channel (zero point folded in), and whether a Relu follows.
        struct Open { var inScale: Double; var weightScales: [Double]; var bias: [Int]; var relu: Bool }
        /// Adds a constant bias (DQ of int32 at the accumulator's scales S_a·S_w[c]) to the open layer.
        func addBias(_ name: String, to layer: inout Open, at: String) throws -> String {
            guard let q = try dequantized(name, element: .int32, at: at) else { throw ONNXError("\(at): the bias must be DequantizeLinear of an int32 constant") }
            let m = layer.bias.count
            guard q.codes.count == m || q.codes.count == 1 else { throw ONNXError("\(at): \(q.codes.count) bias values for \(m) outputs") }
            guard q.params.zeros.allSatisfy({ $0 == 0 }) else { throw ONNXError("\(at): bias zero points must be 0") }
            for c in 0..<m {
                let scale = q.params.scales.count == 1 ? q.params.scales[0] : q.params.scales[c]
                let want = layer.inScale * layer.weightScales[c]
                // onnxruntime writes the bias scale as the float32 product of the two.
                guard abs(scale - want) <= 1e-6 * want else { throw ONNXError("\(at): channel \(c)'s bias scale \(scale) is not input scale × weight scale (\(want))") }
                layer.bias[c] += q.codes.count == 1 ? q.codes[0] : q.codes[c]
            }
            return "int32 bias at the accumulator's scale, per channel"
        }
        var mapping: [String] = []
        var stages: [QuantizedNetwork.Stage] = []
        var inputTable: [Int]?
        var activation: (scale: Double, zero: Int)?
        var open: Open?
        var softmax = false
        var current = input.name
        for node in model.nodes {
            if node.outputs.allSatisfy({ $0.isEmpty || constant.contains($0) }) {
                mapping.append("\(node.label) (\(node.opType)): folded (constant)")
                continue
            }
            let at = "node '\(node.label)' (\(node.opType))"
            guard !softmax else { throw ONNXError("\(at) follows the Softmax") }
            let streamed = node.inputs.filter { !$0.isEmpty && !constant.contains($0) }
            guard streamed == [current] else { throw ONNXError("\(at) reads \(streamed): QDQ import needs a chain") }
            let x = values[current]!
            let out = node.outputs[0]
            var line: String
            switch node.opType {
            case "QuantizeLinear":
                let q = try tensorParams(node, at: at)
                if inputTable == nil && stages.isEmpty {
                    // The model's own input codes for each byte, by ONNX's QuantizeLinear (the
                    // interpreter's, float32 as onnxruntime): a table the host looks up.
                    let bytes = Tensor(shape: [256], floats: (0..<256).map { Float($0) * inputScale })
                    let codes = try Operators.quantize(bytes, values[node.input(1)!]!, values[node.input(2)!]!, axis: 1, dtype: 0)
                    inputTable = codes.ints.map { Int($0) }
                    activation = q
                    line = "input codes: a table of the model's QuantizeLinear of S·byte (scale \(q.scale), zero point \(q.zero)), on the host"
                } else if let layer = open {
                    let s = stages.count - 1
                    let accumulator = layer.weightScales.map { layer.inScale * $0 }
                    var channels: [QuantizedNetwork.Requantization] = []
                    for (c, scale) in accumulator.enumerated() {
                        let factor = scale / q.scale
                        let maxShift = 2 * Self.multiplierBits + 30  // below any accumulator's requantizer range
                        guard let r = QuantizedNetwork.Requantization(bias: layer.bias[c], factor: factor, bits: Self.multiplierBits, maxShift: maxShift) else {
                            throw ONNXError("\(at): channel \(c)'s factor \(factor) needs more than \(Self.multiplierBits) multiplier bits")
                        }
                        channels.append(r)
                    }
                    stages[s].requantization = channels
                    // Relu: the output's zero point is the least code (a range from 0) or 0
                    // (the post-processing core's ReLU clamps at code 0).
                    if layer.relu {
                        guard q.zero == -128 || q.zero == 0 else { throw ONNXError("\(at): a Relu before an output zero point \(q.zero) (only -128 or 0) is not imported") }
                        stages[s].relu = q.zero == 0
                    }
                    stages[s].bias = Array(repeating: q.zero, count: channels.count)
                    activation = q
                    open = nil
                    let shifts = channels.map(\.shift)
                    line = "output of layer \(s): scale \(q.scale), zero point \(q.zero) (the post-processing core's bias); per-channel requantization, \(Self.multiplierBits)-bit multipliers, shifts \(shifts.min()!)…\(shifts.max()!)"
                } else {
                    guard let a = activation, q == a else { throw ONNXError("\(at): requantizes (scale \(activation?.scale ?? 0), zero point \(activation?.zero ?? 0)) to (\(q.scale), \(q.zero)): only the same params are imported between layers") }
                    line = "nothing (the same scale and zero point again)"
                }
            case "DequantizeLinear":
                let q = try tensorParams(node, at: at)
                guard let a = activation, q == a else { throw ONNXError("\(at): dequantizes with (\(q.scale), \(q.zero)), the codes have \(activation.map { "(\($0.scale), \($0.zero))" } ?? "none")") }
                line = "nothing (pairs with the Quantize before)"
            case "Conv", "Gemm", "MatMul":
                guard open == nil, let a = activation else { throw ONNXError("\(at): its input must be quantized (a Q → DQ pair before it)") }
                guard let wName = node.input(1), let w = try dequantized(wName, element: .int8, at: at) else {
                    throw ONNXError("\(at): the weights must be DequantizeLinear of an int8 constant")
                }
                guard w.params.zeros.allSatisfy({ $0 == 0 }) else { throw ONNXError("\(at): weight zero points must be 0 (symmetric weights)") }
                let layer: ConvShape
                var codes = w.codes
                let wShape = values[producer[wName]!.input(0)!]!.shape
                let axis = producer[wName]!.attributes["axis"]?.int ?? 1
                if node.opType == "Conv" {
                    let k = wShape[2], u = node.attributes["strides"]?.ints ?? [1, 1]
                    guard wShape[3] == k, u[0] == u[1], (node.attributes["group"]?.int ?? 1) == 1 else { throw ONNXError("\(at): needs a square kernel, equal strides, group 1") }
                    let g = try Operators.geometry(x, kernel: [k, k], node.attributes)
                    guard Set([g.top, g.left, g.bottom, g.right]).count == 1 else { throw ONNXError("\(at): needs the same padding on every side") }
                    guard g.top == 0 || a.zero == 0 else { throw ONNXError("\(at): padding with an input zero point \(a.zero): the array pads with code 0, not the zero point") }
                    guard w.params.scales.count == 1 || axis == 0 else { throw ONNXError("\(at): per-axis weight scales along axis \(axis); the output channels are axis 0") }
                    layer = ConvShape(channels: x.shape[1], filters: wShape[0], height: x.shape[2], width: x.shape[3], filterHeight: k, filterWidth: k, stride: u[0], padding: g.top)
                } else {
                    let tb = node.opType == "Gemm" && node.attributes["transB"]?.int == 1
                    guard (node.attributes["alpha"]?.float ?? 1) == 1, (node.attributes["beta"]?.float ?? 1) == 1, (node.attributes["transA"]?.int ?? 0) == 0 else {
                        throw ONNXError("\(at): needs alpha 1, beta 1, transA 0")
                    }
                    let (k, n) = tb ? (wShape[1], wShape[0]) : (wShape[0], wShape[1])
                    guard w.params.scales.count == 1 || axis == (tb ? 0 : 1) else { throw ONNXError("\(at): per-axis weight scales along axis \(axis), not the output channels' \(tb ? 0 : 1)") }
                    if !tb { codes = (0..<n * k).map { w.codes[($0 % k) * n + $0 / k] } }
                    layer = ConvShape(channels: k, filters: n, height: 1, width: 1, filterHeight: 1, filterWidth: 1)
                }
                let m = layer.filters, k = codes.count / m
                let weightScales = w.params.scales.count == 1 ? Array(repeating: w.params.scales[0], count: m) : w.params.scales
                // The input's zero point, folded into the bias: Σ (q − Z)·w = Σ q·w − Z·Σ w.
                let bias = (0..<m).map { c in -a.zero * codes[c * k..<(c + 1) * k].reduce(0, +) }
                stages.append(QuantizedNetwork.Stage(layer: layer, format: .fixed, activation: .init(bits: 8, frac: 0), weight: .init(bits: 8, frac: 0),
                                                     weights: codes, shift: 0, outputBits: 16, bias: Array(repeating: 0, count: m),
                                                     relu: false, resultBits: 8, pool: nil))
                open = Open(inScale: a.scale, weightScales: weightScales, bias: bias, relu: false)
                line = "layer \(stages.count - 1): \(node.opType == "Conv" ? "conv \(m) filters \(layer.filterHeight)×\(layer.filterHeight), stride \(layer.stride), padding \(layer.padding)" : "dense \(layer.channels)→\(m)"), int8 weights, \(w.params.scales.count == 1 ? "one scale" : "a scale per output channel"), input zero point \(a.zero) folded into the bias"
                if node.opType != "MatMul", let bName = node.input(2) {
                    line += ", " + (try addBias(bName, to: &open!, at: at))
                }
            case "Add":
                guard open != nil, let bName = node.inputs.first(where: { constant.contains($0) }) else { throw ONNXError("\(at): an Add is imported only as the bias of the layer before its output Q") }
                line = try addBias(bName, to: &open!, at: at)
            case "Relu":
                guard open != nil else { throw ONNXError("\(at): a Relu is imported only between a layer and its output Q") }
                open!.relu = true
                line = "relu of layer \(stages.count - 1) (by the output's zero point)"
            case "MaxPool":
                let k = node.attributes["kernel_shape"]?.ints ?? []
                let g = try Operators.geometry(x, kernel: k, node.attributes, ceil: node.attributes["ceil_mode"]?.int == 1)
                guard k.count == 2, k[0] == k[1], g.sh == k[0], g.sw == k[0], [g.top, g.left, g.bottom, g.right] == [0, 0, 0, 0], g.oh == g.h / k[0], g.ow == g.w / k[0],
                      open == nil, let s = stages.indices.last, stages[s].pool == nil else {
                    throw ONNXError("\(at): needs a square window, stride equal to it, no padding, right after a layer's output Q → DQ")
                }
                stages[s].pool = .init(.max, size: k[0])
                line = "max pooling \(k[0])×\(k[0]) in layer \(s) (on codes: exact, the order is the values')"
            case "Flatten", "Reshape":
                guard values[out]!.shape == [1, x.count] else { throw ONNXError("\(at): only a flatten to 1×\(x.count)") }
                line = "flatten (C, H, W order)"
            case "Identity", "Dropout":
                line = "nothing (identity)"
            case "Softmax":
                softmax = true
                line = "softmax (on the host)"
            default:
                throw ONNXError("\(at): not importable in a QDQ model with requantization")
            }
            mapping.append("\(node.label) (\(node.opType)): \(line)")
            current = out
        }
        guard current == model.outputs[0].name else { throw ONNXError("the chain ends at '\(current)', not at the graph output") }
        guard let inputTable, !stages.isEmpty else { throw ONNXError("no quantized input or no layer: not a QDQ model") }
        guard open == nil else { throw ONNXError("the last layer has no output QuantizeLinear: requantized layers need their output's scale") }
        mapping.append("logits: the last layer's int8 codes (their order is the dequantized logits'; the class is the same)")
        return Result(network: QuantizedNetwork(model: name, label: "qdq-int8-requantized", inputFrac: 0, inputTable: inputTable, stages: stages),
                      mapping: mapping, softmaxOnHost: softmax)

    }
}
