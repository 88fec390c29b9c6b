import Foundation
import Golden
import Model
import Networks
@testable import ONNX
import Testing
import TestTags
import Verification

/// QDQ models with power-of-two scales per tensor and int8 codes imported straight to the integer
/// network (no calibration): the golden network against the interpreter (which follows
/// onnx.ai's QuantizeLinear, round half to even, checked on libonnx-testdata), onnxruntime and
/// the hardware. Models written here with random codes.
@Suite("QDQ import")
struct QDQImportTests {
    static func int8(_ name: String, _ dims: [Int], _ values: [Int]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map { Int64($0) }
        t.dataType = 3
        t.int32Data = values.map { Int32($0) }
        return t
    }

    static func int32(_ name: String, _ dims: [Int], _ values: [Int]) -> Onnx_TensorProto {
        var t = int8(name, dims, values)
        t.dataType = 6
        return t
    }

    /// x (1×1×8×8, pixels p/255) → Q/DQ frac 7 → Conv 3×3 pad 1 (4 filters, int8 weights frac 6,
    /// int32 bias frac 13) → Relu → Q/DQ frac 4 → MaxPool 2 → Q/DQ frac 4 → Flatten → Gemm
    /// (10 outputs, int8 weights frac 7, int32 bias frac 11) → float logits. Biases are even
    /// multiples of 2^shift (`evenBias`) or any integers; the last layer's weights are small
    /// enough that its sums fit 16 bits (no rounding).
    static func model(seed: UInt64, evenBias: Bool = true) -> ProtoBuilder {
        var g = SplitMix64(seed: seed)
        func r(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &g) }
        var b = ProtoBuilder()
        b.inputs = [ProtoBuilder.valueInfo("x", [1, 1, 8, 8])]
        b.outputs = [ProtoBuilder.valueInfo("logits", [1, 10])]
        for (name, f) in [("s7", 7), ("s6", 6), ("s4", 4), ("s13", 13), ("s11", 11)] {
            b.initializers.append(ProtoBuilder.tensor(name, [], [Float(pow(2, Double(-f)))]))
        }
        b.initializers += [Self.int8("z8", [], [0]), Self.int32("z32", [], [0])]
        b.initializers.append(Self.int8("w1", [4, 1, 3, 3], (0..<36).map { _ in r(-20...20) }))
        // Layer 0's shift is 7 + 6 - 4 = 9: even multiples of 2^9 move no tie.
        b.initializers.append(Self.int32("b1", [4], (0..<4).map { _ in evenBias ? 1024 * r(-6...6) : r(-3000...3000) }))
        b.initializers.append(Self.int8("w2", [10, 64], (0..<640).map { _ in r(-4...4) }))
        b.initializers.append(Self.int32("b2", [10], (0..<10).map { _ in r(-4000...4000) }))
        b.node("QuantizeLinear", ["x", "s7", "z8"], ["xq"], name: "q_in")
        b.node("DequantizeLinear", ["xq", "s7", "z8"], ["xd"], name: "dq_in")
        b.node("DequantizeLinear", ["w1", "s6", "z8"], ["w1d"], name: "dq_w1")
        b.node("DequantizeLinear", ["b1", "s13", "z32"], ["b1d"], name: "dq_b1")
        b.node("Conv", ["xd", "w1d", "b1d"], ["c1"], name: "conv", ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])])
        b.node("Relu", ["c1"], ["r1"])
        b.node("QuantizeLinear", ["r1", "s4", "z8"], ["q1"], name: "q1")
        b.node("DequantizeLinear", ["q1", "s4", "z8"], ["d1"], name: "dq1")
        b.node("MaxPool", ["d1"], ["p1"], name: "pool", ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        b.node("QuantizeLinear", ["p1", "s4", "z8"], ["q2"], name: "q2")
        b.node("DequantizeLinear", ["q2", "s4", "z8"], ["d2"], name: "dq2")
        b.node("Flatten", ["d2"], ["f"])
        b.node("DequantizeLinear", ["w2", "s7", "z8"], ["w2d"], name: "dq_w2")
        b.node("DequantizeLinear", ["b2", "s11", "z32"], ["b2d"], name: "dq_b2")
        b.node("Gemm", ["f", "w2d", "b2d"], ["logits"], name: "dense", ["transB": .i(1)])
        return b
    }

    static func images(_ n: Int, seed: UInt64) -> [[UInt8]] {
        var g = SplitMix64(seed: seed)
        return (0..<n).map { _ in (0..<64).map { _ in UInt8(truncatingIfNeeded: g.next() >> 56) } }
    }

    /// The golden network's logits of each image as values (integer · 2^-frac), nearest rounding.
    static func golden(_ net: QuantizedNetwork, _ images: [[UInt8]]) throws -> [[Double]] {
        var model = try NetworkHardware(rows: 4, cols: 4, rounding: .nearest, batch: 1).golden(net)
        let frac = net.stages.last!.outputFrac
        return images.map { image in
            model.reset()
            let x = NetworkModel.inputCodes(pixels: image, frac: net.inputFrac, bits: 8)
            return model.logits(input: x, images: 1)[0].map { Double($0) * pow(2, Double(-frac)) }
        }
    }

    @Test("int8 codes, power-of-two scales, even-multiple biases: the golden network gives the interpreter's logits exactly", arguments: [1, 2, 3] as [UInt64])
    func exact(_ seed: UInt64) throws {
        let model = try Self.model(seed: seed).model()
        let result = try QDQImporter.network(model, name: "qdq", inputScale: Float(1) / 255)
        let net = result.network
        #expect(net.inputFrac == 7)
        #expect(net.stages.map(\.shift) == [9, 0])
        #expect(net.stages.map(\.layer.padding) == [1, 0])
        #expect(net.stages[0].pool == .init(.max, size: 2) && net.stages[0].relu)
        #expect(result.mapping.contains { $0.contains("layer 0: shift 9, biases even multiples") })
        let interpreter = try Interpreter(model)
        let images = Self.images(8, seed: seed)
        var ties = 0
        for (i, (image, ours)) in zip(images, try Self.golden(net, images)).enumerated() {
            let x = image.map { Float($0) / 255 }
            let theirs = try interpreter.run(["x": Tensor(shape: [1, 1, 8, 8], floats: x)])[0].floats.map(Double.init)
            #expect(ours == theirs, "image \(i): ours \(ours), ONNX \(theirs)")
            // Sums that are ties at the first layer's shift: half to even decides them.
            let codes = NetworkModel.inputCodes(pixels: image, frac: 7, bits: 8)
            let stage = net.stages[0]
            var shape = stage.layer
            shape.batch = 1
            let sums = ConvModel.accumulate(shape, input: codes, weights: stage.weights)
            ties += sums.filter { $0 & 511 == 256 }.count
        }
        print("QDQ seed \(seed): \(ties) ties at the first layer's shift over 8 images")
    }

    @Test("biases that are not even multiples of 2^shift: said so in the mapping; the first layer's outputs within one LSB")
    func oddBias() throws {
        let model = try Self.model(seed: 4, evenBias: false).model()
        let result = try QDQImporter.network(model, name: "qdq", inputScale: Float(1) / 255)
        #expect(result.mapping.contains { $0.contains("layer 0: shift 9, rounded where ONNX does not round the same way") })
        let interpreter = try Interpreter(model)
        var golden = try NetworkHardware(rows: 4, cols: 4, rounding: .nearest, batch: 1).golden(result.network)
        for image in Self.images(4, seed: 4) {
            golden.reset()
            let ours = golden.stage(0, input: NetworkModel.inputCodes(pixels: image, frac: 7, bits: 8), images: 1).results
            let theirs = try interpreter.values(["x": Tensor(shape: [1, 1, 8, 8], floats: image.map { Float($0) / 255 })])["q2"]!.ints.map { Int($0) }
            #expect(zip(ours, theirs).allSatisfy { abs($0 - $1) <= 1 }, "ours \(ours), ONNX \(theirs)")
        }
    }

    /// A scale that is not a power of two or per axis takes the requantization import
    /// (QDQRequantTests), which needs every layer's output scale (this model's float logits
    /// have none) and biases at input scale × weight scale.
    @Test("refused: a scale that is not a power of two or per axis before float logits, uint8 codes, an input scale the codes cannot follow")
    func refusals() throws {
        var b = Self.model(seed: 1)
        b.initializers[b.initializers.firstIndex { $0.name == "s4" }!] = ProtoBuilder.tensor("s4", [], [0.05])
        let other = #expect(throws: ONNXError.self) { try QDQImporter.network(try b.model(), name: "q", inputScale: Float(1) / 255) }
        // (Here the next layer's bias scale no longer matches its input's scale either.)
        #expect(other?.description.contains("is not input scale × weight scale") == true, "\(other?.description ?? "")")
        b = Self.model(seed: 1)
        b.initializers[b.initializers.firstIndex { $0.name == "s6" }!] = ProtoBuilder.tensor("s6", [4], [1, 1, 1, 1].map { Float($0) / 64 })
        var axis = Onnx_AttributeProto()
        axis.name = "axis"
        axis.type = .int
        axis.i = 0
        b.initializers.append(Self.int8("z8x4", [4], [0, 0, 0, 0]))
        b.nodes[b.nodes.firstIndex { $0.name == "dq_w1" }!].attribute = [axis]
        b.nodes[b.nodes.firstIndex { $0.name == "dq_w1" }!].input = ["w1", "s6", "z8x4"]
        do {
            _ = try QDQImporter.network(try b.model(), name: "q", inputScale: Float(1) / 255)
            Issue.record("per-axis scales accepted")
        } catch let e as ONNXError {
            #expect(e.description.contains("requantized layers need their output's scale"), "\(e)")
        }
        b = Self.model(seed: 1)
        b.nodes[0].input = ["x", "s7"]
        b.nodes[1].input = ["xq", "s7"]
        #expect(throws: ONNXError.self) { try QDQImporter.network(try b.model(), name: "q", inputScale: Float(1) / 255) }
        #expect(throws: ONNXError.self) { try QDQImporter.network(try Self.model(seed: 1).model(), name: "q", inputScale: 1) }
    }

    @Test("onnxruntime's own QDQ run gives the same logits, within one output LSB", .tags(.python))
    func onnxruntime() throws {
        let b = Self.model(seed: 2)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-qdq-\(UUID().uuidString).onnx")
        try b.proto.serializedData().write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let net = try QDQImporter.network(try b.model(), name: "qdq", inputScale: Float(1) / 255).network
        let images = Self.images(16, seed: 5)
        let runtime = try MNISTConvTests.onnxruntime(images.flatMap { $0.map { Float($0) / 255 } }, count: 16, model: url.path)
        let lsb = pow(2, Double(-net.stages.last!.outputFrac))
        var worst = 0.0
        for (i, ours) in try Self.golden(net, images).enumerated() {
            let theirs = runtime[i * 10..<(i + 1) * 10].map(Double.init)
            worst = max(worst, zip(ours, theirs).map { abs($0 - $1) / lsb }.max()!)
        }
        print("QDQ: onnxruntime against the golden network on 16 images, largest difference \(worst) output LSBs")
        #expect(worst <= 1)
    }

    @Test("on the hardware: every output of 4 images bit-exact against the golden network", .tags(.verilator))
    func hardware() throws {
        let net = try QDQImporter.network(try Self.model(seed: 3).model(), name: "qdq", inputScale: Float(1) / 255).network
        let hw = NetworkHardware(rows: 4, cols: 4, rounding: .nearest, batch: 2)
        let images = Self.images(4, seed: 6)
        let run = try NetworkCheck(net, hardware: hw, initialState: .random(seed: 2)).run(images: images, labels: [0, 0, 0, 0])
        #expect(run.mismatches == 0, "\(run.firstMismatch ?? "")")
        #expect(run.images == 4 && run.comparedOutputs == 4 * (4 * 64 + 4 * 16 + 10 + 10))
        #expect(run.classes == (try hw.goldenClasses(net, images: images)))
    }
}
