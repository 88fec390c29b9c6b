import Foundation
import Model
import Networks
@testable import ONNX
import Testing

/// The import to the network description, against the interpreter on models written here with
/// random weights: each mapped form (Gemm's alpha, beta and transB; MatMul + Add; batch norm
/// folded; Clip as ReLU; padded convolution; average and global average pooling; the flatten
/// between convolution and dense layers) must give the interpreter's values in the project's
/// float forward pass.
@Suite("ONNX import to NetworkSpec")
struct ONNXImportTests {
    /// 1×2×10×10 → Conv 3×3 pad 1 → BatchNorm → Relu → MaxPool 2 → Conv 2×2 → Clip(0) →
    /// AveragePool 2 → Flatten (6×2×2: C, H, W order matters) → Gemm(transB, alpha, beta) → Relu
    /// → MatMul → Add → Softmax.
    static func convNet() -> ProtoBuilder {
        var b = ProtoBuilder()
        var rng: UInt64 = 7
        b.inputs = [ProtoBuilder.valueInfo("x", [1, 2, 10, 10])]
        b.outputs = [ProtoBuilder.valueInfo("p", [1, 3])]
        b.weight("w1", [4, 2, 3, 3], rng: &rng)
        b.weight("b1", [4], rng: &rng)
        b.weight("gamma", [4], rng: &rng)
        b.weight("beta", [4], rng: &rng)
        b.weight("mean", [4], rng: &rng)
        b.initializers.append(ProtoBuilder.tensor("var", [4], [0.5, 1.5, 0.25, 2]))
        b.weight("w2", [6, 4, 2, 2], rng: &rng)
        b.initializers.append(ProtoBuilder.tensor("zero", [], [0]))
        b.weight("w3", [5, 24], rng: &rng)
        b.weight("c3", [5], rng: &rng)
        b.weight("w4", [5, 3], rng: &rng)
        b.weight("b4", [1, 3], rng: &rng)
        b.node("Conv", ["x", "w1", "b1"], ["c1"], name: "conv1", ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])])
        b.node("BatchNormalization", ["c1", "gamma", "beta", "mean", "var"], ["n1"], name: "bn1", ["epsilon": .f(1e-3)])
        b.node("Relu", ["n1"], ["r1"])
        b.node("MaxPool", ["r1"], ["p1"], ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        b.node("Conv", ["p1", "w2"], ["c2"], name: "conv2")
        b.node("Clip", ["c2", "zero"], ["r2"])
        b.node("AveragePool", ["r2"], ["p2"], ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        b.node("Flatten", ["p2"], ["f"])
        b.node("Gemm", ["f", "w3", "c3"], ["g"], ["transB": .i(1), "alpha": .f(0.5), "beta": .f(2)])
        b.node("Relu", ["g"], ["r3"])
        b.node("MatMul", ["r3", "w4"], ["m"])
        b.node("Add", ["m", "b4"], ["logits"])
        b.node("Softmax", ["logits"], ["p"], ["axis": .i(1)])
        return b
    }

    static func input(_ n: Int, seed: UInt64) -> [Float] {
        var rng = seed
        return (0..<n).map { _ in
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(rng >> 40) / Float(1 << 24) * 4 - 2
        }
    }

    /// Forward pass of the import against the interpreter's value `name`, on 5 random inputs.
    static func agree(_ b: ProtoBuilder, shape: [Int], value name: String) throws -> ImportedNetwork {
        let model = try b.model()
        let net = try Importer.network(model, name: "test")
        let interpreter = try Interpreter(model)
        for seed in 1...5 as ClosedRange<UInt64> {
            let x = input(shape.reduce(1, *), seed: seed)
            let reference = try interpreter.values(["x": Tensor(shape: shape, floats: x)])[name]!.floats
            let got = try FloatInference.logits(net.spec, parameters: net.parameters, input: x)
            #expect(MNISTConvTests.close(got, reference), "input \(seed): forward pass \(got), interpreter \(reference)")
        }
        return net
    }

    @Test("conv, batch norm, clip, pooling, flatten, Gemm, MatMul + Add: the forward pass of the import gives the interpreter's logits; the Softmax is left to the host")
    func convNet() throws {
        let net = try Self.agree(Self.convNet(), shape: [1, 2, 10, 10], value: "logits")
        #expect(net.spec.layers == [.conv(filters: 4, size: 3, stride: 1, padding: 1), .relu, .maxPool(size: 2),
                                    .conv(filters: 6, size: 2), .relu, .avgPool(size: 2), .flatten,
                                    .dense(outputs: 5), .relu, .dense(outputs: 3)])
        #expect(net.softmaxOnHost)
        #expect(net.mapping[1] == "bn1 (BatchNormalization): folded into layer 0")
    }

    @Test("the flatten order is C, H, W: the same weights read as H, W, C give other logits")
    func flattenOrder() throws {
        let model = try Self.convNet().model()
        var net = try Importer.network(model, name: "test")
        let x = Self.input(200, seed: 3)
        let right = try FloatInference.logits(net.spec, parameters: net.parameters, input: x)
        // Permute the first dense layer's inputs from CHW (6×2×2) to HWC order.
        let dense = 2
        let w = net.parameters.layers[dense].weights
        net.parameters.layers[dense].weights = w.indices.map { i in
            let (o, k) = (i / 24, i % 24)
            let (c, hw) = (k / 4, k % 4)
            return w[o * 24 + hw * 6 + c]
        }
        let wrong = try FloatInference.logits(net.spec, parameters: net.parameters, input: x)
        let reference = try Interpreter(model).values(["x": Tensor(shape: [1, 2, 10, 10], floats: x)])["logits"]!.floats
        #expect(MNISTConvTests.close(right, reference))
        #expect(!MNISTConvTests.close(wrong, reference))
    }

    @Test("GlobalAveragePool imports as pooling over the whole map, Gemm without transB as dense; the interpreter averages (1…16 → 8.5)")
    func globalAveragePool() throws {
        var b = ProtoBuilder()
        var rng: UInt64 = 11
        b.inputs = [ProtoBuilder.valueInfo("x", [1, 3, 4, 4])]
        b.outputs = [ProtoBuilder.valueInfo("y", [1, 2])]
        b.weight("w", [5, 3, 1, 1], rng: &rng)
        b.weight("g", [5, 2], rng: &rng)
        b.node("Conv", ["x", "w"], ["c"])
        b.node("GlobalAveragePool", ["c"], ["a"])
        b.node("Flatten", ["a"], ["f"])
        b.node("Gemm", ["f", "g"], ["y"])
        let net = try Self.agree(b, shape: [1, 3, 4, 4], value: "y")
        #expect(net.spec.layers == [.conv(filters: 5, size: 1), .avgPool(size: 4), .flatten, .dense(outputs: 2)])
        let mean = try Operators.globalAveragePool(Tensor(shape: [1, 1, 4, 4], floats: (1...16).map { Float($0) }))
        #expect(mean == Tensor(shape: [1, 1, 1, 1], floats: [8.5]))
    }

    @Test("PyTorch's flatten (Shape, Gather, Unsqueeze, Concat, Reshape) folds to a flatten; Constant weights, Identity, Dropout and a Cast to float pass")
    func staticShapeChain() throws {
        var b = ProtoBuilder()
        var rng: UInt64 = 13
        b.inputs = [ProtoBuilder.valueInfo("x", [1, 2, 6, 6])]
        b.outputs = [ProtoBuilder.valueInfo("y", [1, 4])]
        b.weight("w", [3, 2, 3, 3], rng: &rng)
        b.weight("g", [4, 48], rng: &rng)
        let g = b.initializers.removeLast()
        b.initializers += [ProtoBuilder.ints("zero", [], [0]), ProtoBuilder.ints("axes", [1], [0]), ProtoBuilder.ints("rest", [1], [-1])]
        b.node("Constant", [], ["g"], name: "weights", ["value": .t(g)])
        b.node("Conv", ["x", "w"], ["c"])
        b.node("Identity", ["c"], ["i"])
        b.node("Dropout", ["i"], ["d"], ["seed": .i(1)])
        b.node("Cast", ["d"], ["f"], ["to": .i(1)])
        b.node("Shape", ["f"], ["s"], name: "shape")
        b.node("Gather", ["s", "zero"], ["n"], name: "gather", ["axis": .i(0)])
        b.node("Unsqueeze", ["n", "axes"], ["u"], name: "unsqueeze")
        b.node("Concat", ["u", "rest"], ["dims"], name: "concat", ["axis": .i(0)])
        b.node("Reshape", ["f", "dims"], ["flat"], name: "reshape")
        b.node("Gemm", ["flat", "g"], ["y"], ["transB": .i(1)])
        let net = try Self.agree(b, shape: [1, 2, 6, 6], value: "y")
        #expect(net.spec.layers == [.conv(filters: 3, size: 3), .flatten, .dense(outputs: 4)])
        #expect(net.mapping[0] == "weights (Constant): folded (constant)")
        #expect(Array(net.mapping[5...9]) == ["shape (Shape): folded (constant)", "gather (Gather): folded (constant)",
                                              "unsqueeze (Unsqueeze): folded (constant)", "concat (Concat): folded (constant)",
                                              "reshape (Reshape): flatten (C, H, W order)"])
    }

    @Test("import refuses a branch, asymmetric padding and quantized activations, naming the node")
    func refusals() throws {
        var branch = ProtoBuilder()
        branch.inputs = [ProtoBuilder.valueInfo("x", [1, 4])]
        branch.outputs = [ProtoBuilder.valueInfo("y", [1, 4])]
        branch.node("Relu", ["x"], ["r"], name: "relu")
        branch.node("Add", ["r", "x"], ["y"], name: "residual")
        #expect(ONNXRefusalTests.error { _ = try Importer.network(try branch.model(), name: "t") }
                == "node 'residual' (Add) reads [\"r\", \"x\"]: import needs a chain, each node reading the one before (r)")

        var pad = ProtoBuilder()
        var rng: UInt64 = 5
        pad.inputs = [ProtoBuilder.valueInfo("x", [1, 1, 6, 6])]
        pad.outputs = [ProtoBuilder.valueInfo("y", [1, 2, 6, 6])]
        pad.weight("w", [2, 1, 2, 2], rng: &rng)
        pad.node("Conv", ["x", "w"], ["y"], name: "same", ["auto_pad": .s("SAME_UPPER")])
        #expect(ONNXRefusalTests.error { _ = try Importer.network(try pad.model(), name: "t") }
                == "node 'same' (Conv): padding top 0 left 0 bottom 1 right 1: import needs the same padding on every side")

        var qdq = ProtoBuilder()
        qdq.inputs = [ProtoBuilder.valueInfo("x", [1, 4])]
        qdq.outputs = [ProtoBuilder.valueInfo("y", [1, 4])]
        qdq.initializers = [ProtoBuilder.tensor("s", [], [0.5])]
        qdq.node("QuantizeLinear", ["x", "s"], ["q"], name: "q")
        qdq.node("DequantizeLinear", ["q", "s"], ["y"], name: "dq")
        #expect(ONNXRefusalTests.error { _ = try Importer.network(try qdq.model(), name: "t") }
                == "node 'q' (QuantizeLinear): quantized activations (QDQ) are not imported yet; a float model imports (a DequantizeLinear of constant weights folds away)")
    }
}
