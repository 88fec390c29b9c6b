import Foundation
import Golden
import Model
import Networks
@testable import ONNX
import Testing
import TestTags
import Verification

/// The per-channel int8 QDQ LeNet-5 that onnxruntime's own `quantize_static(per_channel=True,
/// QuantType.QInt8)` wrote (scripts/make-qdq-fixture.py, committed in Fixtures): scales that are
/// not powers of two, a scale per output channel for weights and biases, activations with zero
/// point -128, imported to integer weights and the array's per-channel requantization.
@Suite("QDQ per-channel requantization")
struct QDQRequantTests {
    static let fixture = "\(MNISTConvTests.root)/Tests/ONNXTests/Fixtures/lenet5-qdq-per-channel.onnx"

    static func load() throws -> (model: ONNXModel, result: QDQImporter.Result) {
        let model = try ONNXModel(contentsOf: fixture)
        return (model, try QDQImporter.network(model, name: "lenet5-qdq", inputScale: 1 / 255))
    }

    @Test("imports as five requantized stages: 24-bit multipliers, zero points folded, the model's input table")
    func imports() throws {
        let (model, result) = try Self.load()
        let net = result.network
        #expect(net.stages.map(\.layer.filters) == [6, 16, 120, 84, 10])
        #expect(net.stages.map { $0.pool?.size } == [2, 2, nil, nil, nil])
        for stage in net.stages {
            let r = try #require(stage.requantization)
            #expect(r.count == stage.layer.filters)
            #expect(r.allSatisfy { $0.multiplier >= 1 << 23 && $0.multiplier < 1 << 24 })
            #expect(!stage.relu, "the output's zero point -128 is the ReLU")
        }
        // The output zero points are the post-processing core's biases.
        #expect(net.stages.map { Set($0.bias) } == [[-128], [-128], [-128], [-128], [-6]])
        // ONNX's QuantizeLinear of p/255 at scale 1/255, zero point -128: p - 128.
        #expect(net.inputTable == (0..<256).map { $0 - 128 })
        // Layer 0's bias: the model's int32 bias minus Z_a·Σw = bias + 128·Σw.
        let b0 = try #require(model.initializers["b0_quantized"]).ints.map { Int($0) }
        let w0 = try #require(model.initializers["w0_quantized"]).ints.map { Int($0) }
        let folded = (0..<6).map { (c: Int) -> Int in
            let sum: Int = w0[c * 25..<(c + 1) * 25].reduce(0, +)
            return b0[c] + 128 * sum
        }
        #expect(net.stages[0].requantization!.map(\.bias) == folded)
        // Each multiplier is its channel's S_a·S_w/S_o to 24 bits.
        let sw = try #require(model.initializers["w0_scale"]).floats
        let (sa, so) = (Double(1 / 255 as Float), Double(try #require(model.initializers["relu1_out_scale"]).floats[0]))
        for (c, r) in net.stages[0].requantization!.enumerated() {
            let factor = sa * Double(sw[c]) / so
            #expect(abs(Double(r.multiplier) / pow(2, Double(r.shift)) - factor) <= factor * pow(2, -24))
        }
    }

    /// onnxruntime runs the QDQ model by its own integer kernels (QLinearConv, QGemm: int32
    /// sums, requantized in float32); the golden network's logits are its codes, and
    /// onnxruntime's are dequantized, so its codes are `round(v / S) + Z` of the last Q.
    @Test("the golden network's logits are within 1 output LSB of onnxruntime's on every logit of 200 test images", .tags(.python, .dataset))
    func againstOnnxruntime() throws {
        let (model, result) = try Self.load()
        let count = 200
        let test = try FashionMNIST.load(.test).prefix(count)
        let theirs = try MNISTConvTests.onnxruntime(test.bytes.map { Float($0) / 255 }, count: count, model: Self.fixture)
        let s = try #require(model.initializers["logits_scale"]).floats[0]
        let z = try #require(model.initializers["logits_zero_point"]).ints[0]
        let theirCodes = theirs.map { Int(($0 / s).rounded()) + Int(z) }
        var golden = try NetworkHardware().golden(result.network)
        let ours = golden.logits(input: NetworkModel.inputCodes(pixels: test.bytes, network: result.network), images: count).flatMap { $0 }
        try #require(ours.count == theirCodes.count)
        let differences = zip(ours, theirCodes).map { abs($0 - $1) }
        let sameClass = (0..<count).filter { i in
            NetworkModel.classify(ours[i * 10..<(i + 1) * 10]) == NetworkModel.classify(theirCodes[i * 10..<(i + 1) * 10])
        }.count
        print("lenet5 per-channel QDQ: \(differences.filter { $0 > 0 }.count) of \(differences.count) logits differ from onnxruntime's (largest \(differences.max()!) LSB), the same class on \(sameClass) of \(count) images")
        #expect(differences.max()! <= 1)
    }

    @Test("every layer of 4 images on the generated arrays (Verilator) exact against the golden network", .tags(.verilator, .dataset))
    func onHardware() throws {
        let (_, result) = try Self.load()
        let test = try FashionMNIST.load(.test).prefix(4)
        let images = (0..<4).map { Array(test.bytes[$0 * 784..<($0 + 1) * 784]) }
        let hardware = NetworkHardware(rows: 8, cols: 8, batch: 2)
        let (configs, _) = try hardware.arrays(for: result.network)
        #expect(configs.map(\.requantize) == [24])
        let check = try NetworkCheck(result.network, hardware: hardware)
        let run = try check.run(images: images, labels: test.labels)
        #expect(run.mismatches == 0, "\(run.firstMismatch ?? "")")
        #expect(run.images == 4)
        #expect(try hardware.goldenClasses(result.network, images: images) == run.classes)
    }

    @Test("refused: a weight zero point, padding with an input zero point, another dataflow")
    func refusals() throws {
        let (model, result) = try Self.load()
        var shifted = model
        shifted.initializers["w0_zero_point"] = Tensor(.int8, shape: [6], ints: [1, 0, 0, 0, 0, 0])
        let zeroPoint = #expect(throws: ONNXError.self) { try QDQImporter.network(shifted, name: "x", inputScale: 1 / 255) }
        #expect(zeroPoint?.description.contains("weight zero points must be 0") == true, "\(zeroPoint?.description ?? "")")
        var padded = model
        let conv = try #require(padded.nodes.firstIndex { $0.opType == "Conv" })
        padded.nodes[conv].attributes["pads"] = .ints([1, 1, 1, 1])
        let padding = #expect(throws: ONNXError.self) { try QDQImporter.network(padded, name: "x", inputScale: 1 / 255) }
        #expect(padding?.description.contains("padding with an input zero point -128") == true, "\(padding?.description ?? "")")
        let dataflow = #expect(throws: (any Error).self) {
            _ = try NetworkCheck(result.network, hardware: NetworkHardware(), engines: { _ in fatalError("never built") })
        }
        #expect("\(dataflow.map { "\($0)" } ?? "")".contains("requantization, which only the output-stationary systolic array runs"))
    }
}
