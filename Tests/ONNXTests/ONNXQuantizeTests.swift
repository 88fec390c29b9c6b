import Foundation
import Model
import Networks
@testable import ONNX
import Testing

/// An imported float model through post-training quantization: the input scale folded into
/// the first layer, a padded convolution and 3×3 pooling that drops the edge (as mnist-conv
/// has), the report, and what is refused. Models written in the test, random weights.
@Suite("ONNX import quantized")
struct ONNXQuantizeTests {
    /// 1×1×11×11 → Conv 3×3 pad 1 (4) → Relu → MaxPool 3 (11 → 3, two rows and columns
    /// dropped) → Conv 3×3 pad 1 (6) → Relu → Flatten (54) → Gemm (10).
    static func model() throws -> ImportedNetwork {
        var b = ProtoBuilder()
        var rng: UInt64 = 11
        b.inputs = [ProtoBuilder.valueInfo("x", [1, 1, 11, 11])]
        b.outputs = [ProtoBuilder.valueInfo("y", [1, 10])]
        b.weight("w1", [4, 1, 3, 3], rng: &rng)
        b.weight("b1", [4], rng: &rng)
        b.weight("w2", [6, 4, 3, 3], rng: &rng)
        b.weight("b2", [6], rng: &rng)
        b.weight("w3", [10, 54], rng: &rng)
        b.weight("b3", [10], rng: &rng)
        b.node("Conv", ["x", "w1", "b1"], ["c1"], name: "conv1", ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])])
        b.node("Relu", ["c1"], ["r1"])
        b.node("MaxPool", ["r1"], ["p1"], name: "pool3", ["kernel_shape": .ints([3, 3]), "strides": .ints([3, 3])])
        b.node("Conv", ["p1", "w2", "b2"], ["c2"], name: "conv2", ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])])
        b.node("Relu", ["c2"], ["r2"])
        b.node("Flatten", ["r2"], ["f"])
        b.node("Gemm", ["f", "w3", "b3"], ["y"], ["transB": .i(1)])
        return try Importer.network(try b.model(), name: "padded")
    }

    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var g = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: g.next() >> 56) }
    }

    @Test("the input scale folds into the first layer: pixels p/255 with the folded weights give the model's output on S·p",
          arguments: [Float(1), Float(1) / 255, Float(0.5)])
    func inputScale(_ scale: Float) throws {
        let net = try Self.model()
        let folded = net.pixelParameters(inputScale: scale)
        for seed in 1...4 as ClosedRange<UInt64> {
            let p = Self.bytes(121, seed: seed)
            let model = try FloatInference.logits(net.spec, parameters: net.parameters, input: p.map { Float($0) * scale })
            let ours = try FloatInference.logits(net.spec, parameters: folded, input: p.map { Float($0) / 255 })
            #expect(MNISTConvTests.close(ours, model), "scale \(scale), image \(seed): \(ours) against \(model)")
        }
        #expect(folded.layers[1] == net.parameters.layers[1] && folded.layers[2] == net.parameters.layers[2])
    }

    @Test("fixed16 after training: padding and the edge-dropping 3×3 pool carried into the stages; the integer logits are the float ones within 1%")
    func fixed16() throws {
        let net = try Self.model()
        let calibration = LabeledImages(shape: net.spec.input, bytes: Self.bytes(121 * 200, seed: 5), labels: Array(repeating: 0, count: 200))
        let q = try net.quantized(.fixed(bits: 16), inputScale: 1, calibration: calibration)
        #expect(q.stages.map(\.layer.padding) == [1, 1, 0])
        #expect(q.stages.map { $0.pool?.size } == [3, nil, nil])
        #expect(q.stages[0].resultShape == TensorShape(channels: 4, height: 3, width: 3))
        let last = q.stages.last!
        for seed in 10...19 as ClosedRange<UInt64> {
            let p = Self.bytes(121, seed: seed)
            let float = try FloatInference.logits(net.spec, parameters: net.parameters, input: p.map(Float.init))
            let integer = TrainingSideEvaluator.logits(q, bytes: p[...]).map { Float($0) * pow(2, Float(-last.outputFrac)) }
            let scale = float.map(abs).max()!
            let worst = zip(integer, float).map { abs($0 - $1) }.max()!
            #expect(worst <= 0.01 * scale, "image \(seed): integer \(integer), float \(float)")
        }
    }

    @Test("the report names each node's mapping, formats, scales, padding, the dropped edge and the roundings")
    func report() throws {
        let net = try Self.model()
        let calibration = LabeledImages(shape: net.spec.input, bytes: Self.bytes(121 * 50, seed: 6), labels: Array(repeating: 0, count: 50))
        let q = try net.quantized(.fixed(bits: 8), inputScale: 1 / 255, calibration: calibration)
        let text = net.report(q, inputScale: 1 / 255, rounding: .nearest, calibration: "50 images").joined(separator: "\n")
        for words in ["bytes 0-255 times", "conv1 (Conv): conv 4 filters 3×3, stride 1, padding 1", "pool3 (MaxPool): max pooling 3×3",
                      "padding 1 (zero codes)", "max pool 3x3, the 2 last rows and 2 last columns dropped", "per tensor",
                      "rounds to nearest, ties to even", "half to even", "fixed8"] {
            #expect(text.contains(words), "'\(words)' missing from:\n\(text)")
        }
    }

    @Test("refused: a BNN, an average over a 3×3 window, a calibration set of another shape")
    func refusals() throws {
        let net = try Self.model()
        let calibration = LabeledImages(shape: net.spec.input, bytes: Self.bytes(121 * 10, seed: 7), labels: Array(repeating: 0, count: 10))
        #expect(throws: ONNXError.self) { try net.quantized(.binary, inputScale: 1, calibration: calibration) }
        let other = LabeledImages(shape: TensorShape(channels: 1, height: 28, width: 28), bytes: Self.bytes(784, seed: 7), labels: [0])
        #expect(throws: ONNXError.self) { try net.quantized(.fixed(bits: 8), inputScale: 1, calibration: other) }
        var average = net.spec
        average.layers[2] = .avgPool(size: 3)
        #expect(try Quantizer.postTrainingProblem(spec: average, scheme: .fixed(bits: 8))?.contains("averages 3×3") == true)
        #expect(try Quantizer.postTrainingProblem(spec: net.spec, scheme: .binary)?.contains("no zero to pad with") == true)
        #expect(try Quantizer.postTrainingProblem(spec: net.spec, scheme: .fixed(bits: 8)) == nil)
        // Fine-tuning (training) still refuses padding.
        #expect(throws: NetworkError.self) { try StageLayout.stages(of: net.spec) }
    }
}
