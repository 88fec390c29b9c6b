import Foundation
import Model
import Networks

/// The import of a QDQ model (QuantizeLinear/DequantizeLinear pairs, as onnxruntime writes them)
/// straight to the integer network, when every scale is a power of two per tensor with zero
/// point 0 and int8 codes: a scale 2^-F is the fractional length F, the int8 weight codes are the
/// array's weight codes, and a stage's shift is `input frac + weight frac - output frac`.
///
/// The chain: `Q → DQ` on the input, then per layer Conv / Gemm / MatMul (+ Add) whose weights
/// are `DQ(int8 constant)` and bias `DQ(int32 constant)` at the accumulator's scale (or float),
/// optionally Relu, then `Q → DQ` (the layer's output scale), optionally MaxPool / AveragePool
/// (before or after that pair), Flatten / Reshape to 1×N, and a last layer whose float output is
/// the logits (or a final `Q → DQ`).
///
/// Exactness against ONNX. ONNX adds the bias before rounding half to even; the project's stage
/// rounds the sum (the ROUND unit; `--rounding nearest` is half to even) and adds the bias at the
/// output's scale after. The two agree exactly when each bias is an even multiple of 2^shift (an
/// even integer moves no tie); otherwise the bias is rounded to the output scale (half to even)
/// and a layer's outputs may differ by one LSB. `mapping` says which applies to each layer. A
/// last layer without an output Q keeps the exact sum when it fits the 16-bit output.
public enum QDQImporter {
    public struct Result: Sendable {
        public var network: QuantizedNetwork
        public var mapping: [String]
        public var softmaxOnHost: Bool
    }

    /// Whether `model` quantizes its activations (a QuantizeLinear of a value that is not a
    /// constant): a QDQ model, for this import rather than the float one.
    public static func isQDQ(_ model: ONNXModel) -> Bool {
        var constant = Set(model.initializers.keys)
        for node in model.nodes where node.opType == "Shape" || node.inputs.filter({ !$0.isEmpty }).allSatisfy(constant.contains) {
            constant.formUnion(node.outputs.filter { !$0.isEmpty })
        }
        return model.nodes.contains { $0.opType == "QuantizeLinear" && !constant.contains($0.inputs.first ?? "") }
    }

    /// The model's own class for each byte image (input `inputScale · byte`), from the
    /// interpreter (ONNX's QuantizeLinear semantics): the index of the largest output, the lowest
    /// on a tie. Chunks of images run on all cores.
    public static func referenceClasses(_ model: ONNXModel, bytes: [UInt8], inputScale: Float) throws -> [Int] {
        guard let input = model.inputs.first, let shape = input.staticShape else { throw ONNXError("the model has no static input") }
        let size = shape.reduce(1, *), count = bytes.count / size
        return try concurrentChunks(count, chunk: 100) { range in
            let interpreter = try Interpreter(model)
            return try range.map { i -> Int in
                let x = bytes[i * size..<(i + 1) * size].map { Float($0) * inputScale }
                return argmax(try interpreter.run([input.name: Tensor(shape: shape, floats: x)])[0].floats)
            }
        }
    }

    /// `inputScale`: the model's input is `inputScale · byte`; its input Q must turn that into
    /// codes the project's input rule (round(p/255 · 2^f)) gives, so `255 · inputScale · 2^A`
    /// must be a power of two 2^f.
    public static func network(_ model: ONNXModel, name: String, inputScale: Float) throws -> Result {
        let interpreter = try Interpreter(model)
        guard model.inputs.count == 1, let input = model.inputs.first, let inShape = input.staticShape, inShape.count == 4, inShape[0] == 1 else {
            throw ONNXError("QDQ import needs one data input of static shape 1×C×H×W")
        }
        guard model.outputs.count == 1 else { throw ONNXError("QDQ import needs one graph output") }
        let values = try interpreter.values([input.name: Tensor(shape: inShape, floats: [Float](repeating: 0, count: inShape.reduce(1, *)))])
        var constant = Set(model.initializers.keys)
        for node in model.nodes where node.opType == "Shape" || node.inputs.filter({ !$0.isEmpty }).allSatisfy(constant.contains) {
            constant.formUnion(node.outputs.filter { !$0.isEmpty })
        }
        var producer: [String: Node] = [:]
        for node in model.nodes { for o in node.outputs where !o.isEmpty { producer[o] = node } }
        // Other scales or zero points: integer weights and per-channel requantization.
        if needsRequantization(model, values) {
            return try requantized(model, name: name, inputScale: inputScale, interpreter: interpreter, values: values, input: input,
                                   constant: constant, producer: producer)
        }

        /// A per-tensor power-of-two scale with zero point 0 of int8: its fractional length.
        func frac(_ node: Node, at: String) throws -> Int {
            guard let s = node.input(1).flatMap({ values[$0] }), s.count == 1 else { throw ONNXError("\(at): the scale must be one constant (per tensor); per-axis scales need the requantization stage (not yet)") }
            let scale = Double(s.floats[0])
            let f = -log2(scale)
            guard scale > 0, f == f.rounded() else { throw ONNXError("\(at): scale \(scale) is not a power of two (other scales need the requantization stage, not yet)") }
            if let zp = node.input(2).flatMap({ values[$0] }) {
                guard zp.element == .int8 || zp.element == .int32, zp.ints.allSatisfy({ $0 == 0 }) else {
                    throw ONNXError("\(at): zero point \(zp.ints.prefix(1)) of \(zp.element): only int8 with zero point 0 is imported")
                }
            } else if node.opType == "QuantizeLinear" {
                throw ONNXError("\(at): no zero point means uint8 codes; only int8 (zero point 0 of int8) is imported")
            }
            return Int(f)
        }
        /// The int8 codes and fractional length behind a constant `DequantizeLinear`.
        func dequantized(_ name: String, element: ElementType, at: String) throws -> (codes: [Int], frac: Int)? {
            guard let dq = producer[name], dq.opType == "DequantizeLinear", let source = dq.input(0), let t = values[source], t.element == element else { return nil }
            return (t.ints.map { Int($0) }, try frac(dq, at: at))
        }

        var mapping: [String] = []
        var stages: [QuantizedNetwork.Stage] = []
        var inputFrac: Int?
        var activationFrac: Int?    // the frac of the quantized tensor flowing now
        var open = false            // the last stage still waits for its output Q
        var outputQuantized: [Bool] = []
        var accumulatorBias: [[Int]] = []   // each stage's bias at its accumulator frac (nil entries: float)
        var exactBias: [Bool] = []
        var softmax = false
        var current = input.name
        /// Adds a constant bias (DQ of int32 at the accumulator's scale, or float) to stage s.
        func addBias(_ name: String, stage s: Int, at: String) throws -> String {
            let acc = stages[s].activation.frac + stages[s].weight.frac
            let m = stages[s].layer.filters
            let codes: [Int]
            var how: String
            if let q = try dequantized(name, element: .int32, at: at) {
                guard q.frac == acc else { throw ONNXError("\(at): bias frac \(q.frac), the accumulator's is \(acc) (input frac + weight frac)") }
                codes = q.codes
                how = "int32 bias at frac \(acc)"
            } else if let t = values[name], t.element == .float {
                codes = t.floats.map { Int((Double($0) * pow(2, Double(acc))).rounded(.toNearestOrEven)) }
                how = "float bias rounded to frac \(acc)"
                if zip(codes, t.floats).contains(where: { Double($0) != Double($1) * pow(2, Double(acc)) }) { exactBias[s] = false }
            } else {
                throw ONNXError("\(at): the bias must be a constant")
            }
            guard codes.count == m || codes.count == 1 else { throw ONNXError("\(at): \(codes.count) bias values for \(m) outputs") }
            for c in 0..<m { accumulatorBias[s][c] += codes.count == 1 ? codes[0] : codes[c] }
            return how
        }
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
                let f = try frac(node, at: at)
                if inputFrac == nil && stages.isEmpty {
                    // 255·S·2^A = 2^f: the project's input codes round(p/255 · 2^f) are ONNX's.
                    let g = log2(255 * Double(inputScale)) + Double(f)
                    guard abs(g - g.rounded()) < 1e-6 else {
                        throw ONNXError("\(at): input scale \(inputScale) and the input's quantization scale 2^\(-f) give codes byte · \(255 * Double(inputScale) * pow(2, Double(f)))/255, not a power of two over 255 (try --input-scale 1/255)")
                    }
                    inputFrac = Int(g.rounded())
                    activationFrac = f
                    line = "input codes, frac \(f) (round(p/255 · 2^\(inputFrac!)), as the project's input rule: ONNX's ties never occur there)"
                } else if open {
                    let s = stages.count - 1
                    let acc = stages[s].activation.frac + stages[s].weight.frac
                    guard acc >= f else { throw ONNXError("\(at): output frac \(f) is finer than the accumulator's \(acc): the ROUND unit only drops bits") }
                    stages[s].shift = acc - f
                    outputQuantized[s] = true
                    open = false
                    activationFrac = f
                    line = "output of layer \(s): frac \(f), shift \(acc - f), int8"
                } else {
                    guard f == activationFrac else { throw ONNXError("\(at): requantizes frac \(activationFrac.map(String.init) ?? "?") to \(f): only the same scale is imported between layers") }
                    line = "nothing (the same scale again)"
                }
            case "DequantizeLinear":
                let f = try frac(node, at: at)
                guard f == activationFrac else { throw ONNXError("\(at): dequantizes with frac \(f), the codes have \(activationFrac.map(String.init) ?? "none")") }
                line = "nothing (pairs with the Quantize before)"
            case "Conv", "Gemm", "MatMul":
                guard !open, let a = activationFrac else { throw ONNXError("\(at): its input must be quantized (a Q → DQ pair before it)") }
                guard let wName = node.input(1), let w = try dequantized(wName, element: .int8, at: at) else {
                    throw ONNXError("\(at): the weights must be DequantizeLinear of an int8 constant")
                }
                let layer: ConvShape
                var codes = w.codes
                let wShape = values[producer[wName]!.input(0)!]!.shape
                if node.opType == "Conv" {
                    let k = wShape[2], u = node.attributes["strides"]?.ints ?? [1, 1]
                    guard wShape[3] == k, u[0] == u[1], (node.attributes["group"]?.int ?? 1) == 1 else { throw ONNXError("\(at): needs a square kernel, equal strides, group 1") }
                    let g = try Operators.geometry(x, kernel: [k, k], node.attributes)
                    guard Set([g.top, g.left, g.bottom, g.right]).count == 1 else { throw ONNXError("\(at): needs the same padding on every side") }
                    layer = ConvShape(channels: x.shape[1], filters: wShape[0], height: x.shape[2], width: x.shape[3], filterHeight: k, filterWidth: k, stride: u[0], padding: g.top)
                } else {
                    let tb = node.opType == "Gemm" && node.attributes["transB"]?.int == 1
                    guard (node.attributes["alpha"]?.float ?? 1) == 1, (node.attributes["beta"]?.float ?? 1) == 1, (node.attributes["transA"]?.int ?? 0) == 0 else {
                        throw ONNXError("\(at): needs alpha 1, beta 1, transA 0")
                    }
                    let (k, n) = tb ? (wShape[1], wShape[0]) : (wShape[0], wShape[1])
                    if !tb { codes = (0..<n * k).map { w.codes[($0 % k) * n + $0 / k] } }
                    layer = ConvShape(channels: k, filters: n, height: 1, width: 1, filterHeight: 1, filterWidth: 1)
                }
                stages.append(QuantizedNetwork.Stage(layer: layer, format: .fixed, activation: .init(bits: 8, frac: a), weight: .init(bits: 8, frac: w.frac),
                                                     weights: codes, shift: 0, outputBits: 16, bias: Array(repeating: 0, count: layer.filters),
                                                     relu: false, resultBits: 8, pool: nil))
                accumulatorBias.append(Array(repeating: 0, count: layer.filters))
                exactBias.append(true)
                outputQuantized.append(false)
                open = true
                line = "layer \(stages.count - 1): \(node.opType == "Conv" ? "conv \(layer.filters) filters \(layer.filterHeight)×\(layer.filterHeight), stride \(layer.stride), padding \(layer.padding)" : "dense \(layer.channels)→\(layer.filters)"), int8 weights frac \(w.frac), input frac \(a)"
                if node.opType != "MatMul", let bName = node.input(2) {
                    line += ", " + (try addBias(bName, stage: stages.count - 1, at: at))
                }
            case "Add":
                guard open, let bName = node.inputs.first(where: { constant.contains($0) }) else { throw ONNXError("\(at): an Add is imported only as the bias of the layer before its output Q") }
                line = try addBias(bName, stage: stages.count - 1, at: at)
            case "Relu":
                guard open else { throw ONNXError("\(at): a Relu is imported only between a layer and its output Q") }
                stages[stages.count - 1].relu = true
                line = "relu of layer \(stages.count - 1)"
            case "MaxPool", "AveragePool":
                let k = node.attributes["kernel_shape"]?.ints ?? []
                let g = try Operators.geometry(x, kernel: k, node.attributes, ceil: node.attributes["ceil_mode"]?.int == 1)
                guard k.count == 2, k[0] == k[1], g.sh == k[0], g.sw == k[0], [g.top, g.left, g.bottom, g.right] == [0, 0, 0, 0], g.oh == g.h / k[0], g.ow == g.w / k[0],
                      let s = stages.indices.last, stages[s].pool == nil else {
                    throw ONNXError("\(at): needs a square window, stride equal to it, no padding, right after a layer")
                }
                stages[s].pool = .init(node.opType == "MaxPool" ? .max : .average, size: k[0])
                line = "\(node.opType == "MaxPool" ? "max" : "average (rounds half up here, half to even in ONNX's Q)") pooling \(k[0])×\(k[0]) in layer \(s)"
            case "Flatten", "Reshape":
                guard values[out]!.shape == [1, x.count] else { throw ONNXError("\(at): only a flatten to 1×\(x.count)") }
                line = "flatten (C, H, W order)"
            case "Identity", "Dropout":
                line = "nothing (identity)"
            case "Softmax":
                softmax = true
                line = "softmax (on the host)"
            default:
                throw ONNXError("\(at): not importable in a QDQ model")
            }
            mapping.append("\(node.label) (\(node.opType)): \(line)")
            current = out
        }
        guard current == model.outputs[0].name else { throw ONNXError("the chain ends at '\(current)', not at the graph output") }
        guard let inputFrac, !stages.isEmpty else { throw ONNXError("no quantized input or no layer: not a QDQ model") }
        for s in stages.indices.dropLast() where !outputQuantized[s] {
            throw ONNXError("layer \(s) has no output QuantizeLinear: the next layer's input must be quantized")
        }
        // The last layer: with its output Q, int8 as ONNX saturates; without, the exact sum
        // when the largest possible one fits 16 bits (else the fewest bits dropped that make it fit).
        let last = stages.count - 1
        if !outputQuantized[last] {
            let l = stages[last].layer
            let k = l.channels * l.filterHeight * l.filterWidth
            // The largest |sum| any int8 input can give: Σ|w|·128 + |b| per filter.
            var largest = 0
            for m in 0..<l.filters {
                let weights = stages[last].weights[m * k..<(m + 1) * k].reduce(0) { (sum: Int, w: Int) -> Int in sum + abs(w) }
                largest = max(largest, weights * 128 + abs(accumulatorBias[last][m]))
            }
            var shift = 0
            while largest >> shift > 32767 { shift += 1 }
            stages[last].shift = shift
            stages[last].resultBits = 16
            if shift > 0 { exactBias[last] = false }
        }
        for s in stages.indices {
            let shift = stages[s].shift
            stages[s].bias = accumulatorBias[s].map { b in
                // Half to even at the output's scale; exact when b is an even multiple of 2^shift.
                if shift > 0 && b % (2 << shift) != 0 { exactBias[s] = false }
                let q = Double(b) / Double(1 << shift)
                return max(-32768, min(32767, Int(q.rounded(.toNearestOrEven))))
            }
            mapping.append("layer \(s): shift \(shift), " + (exactBias[s] ? "biases even multiples of 2^shift: exact against ONNX (ROUND --rounding nearest is half to even)"
                                                            : "rounded where ONNX does not round the same way (a bias not an even multiple of 2^\(shift), or float logits that do not fit 16 bits): outputs within one LSB of ONNX's"))
        }
        return Result(network: QuantizedNetwork(model: name, label: "qdq-int8", inputFrac: inputFrac, stages: stages), mapping: mapping, softmaxOnHost: softmax)

    }
}
