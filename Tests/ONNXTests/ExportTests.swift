import Foundation
import Model
import Networks
@testable import ONNX
import Testing
import TestTags

/// `train --export-onnx`: the project's float LeNet-5 and MLP (the shipped weights) as ONNX
/// models, read back by the import, by the interpreter and by onnxruntime.
@Suite("ONNX export of the float presets")
struct ExportTests {
    static func exported(_ name: String) throws -> (spec: NetworkSpec, weights: WeightsFile, model: ONNXModel, url: URL) {
        let spec = NetworkSpec.preset(name)!
        let weights = try WeightsFile.read(ModelStore.shippedWeightsPath(name))
        let data = try Exporter.model(spec, parameters: weights.parameters, description: "test")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-export-\(UUID().uuidString).onnx")
        try data.write(to: url)
        return (spec, weights, try ONNXModel(contentsOf: url.path), url)
    }

    static func pixels(_ count: Int, seed: UInt64) -> [Float] {
        var g = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float(g.next() >> 56) / 255 }
    }

    @Test("the import gives back the preset's layers and the very same weights; the interpreter its logits", arguments: ["lenet5", "mlp"])
    func roundTrip(_ name: String) throws {
        let (spec, weights, model, url) = try Self.exported(name)
        defer { try? FileManager.default.removeItem(at: url) }
        let net = try Importer.network(model, name: name)
        #expect(net.spec.layers == spec.layers)
        #expect(net.spec.input == spec.input)
        #expect(net.parameters == weights.parameters)
        let interpreter = try Interpreter(model)
        for seed in 1...3 as ClosedRange<UInt64> {
            let x = Self.pixels(784, seed: seed)
            let ours = try FloatInference.logits(spec, parameters: weights.parameters, input: x)
            let theirs = try interpreter.run(["image": Tensor(shape: [1, 1, 28, 28], floats: x)])[0].floats
            #expect(MNISTConvTests.close(theirs, ours), "\(theirs) against \(ours)")
        }
    }

    // The tags stay on the @Test line: scripts/fast-lane-skips.sh reads them there.
    @Test("onnxruntime's logits are the project's float forward pass's on 20 random images (within 1e-5 of the largest)", .tags(.python), arguments: ["lenet5", "mlp"])
    func onnxruntime(_ name: String) throws {
        let (spec, weights, _, url) = try Self.exported(name)
        defer { try? FileManager.default.removeItem(at: url) }
        let x = Self.pixels(20 * 784, seed: 9)
        let runtime = try MNISTConvTests.onnxruntime(x, count: 20, model: url.path)
        let ours = try FloatInference.logits(spec, parameters: weights.parameters, input: x, batch: 20)
        var worst = 0.0
        for i in 0..<20 {
            let a = Array(runtime[i * 10..<(i + 1) * 10]), b = Array(ours[i * 10..<(i + 1) * 10])
            worst = max(worst, MNISTConvTests.difference(a, b))
            #expect(MNISTConvTests.close(a, b), "image \(i): onnxruntime \(a), ours \(b)")
        }
        print("\(name) exported: onnxruntime against the float forward pass on 20 images, largest difference relative to the largest logit \(worst)")
    }

    @Test("exported and re-imported with input scale 1/255, fixed8 is the very network simulate network --model lenet5 runs", .tags(.dataset))
    func reimportedFixedPoint() throws {
        let (spec, weights, model, url) = try Self.exported("lenet5")
        defer { try? FileManager.default.removeItem(at: url) }
        let net = try Importer.network(model, name: "lenet5")
        let calibration = try FashionMNIST.load(.train).prefix(Quantizer.calibrationImages)
        let reimported = try net.quantized(.fixed(bits: 8), inputScale: Float(1) / 255, calibration: calibration)
        let preset = try ModelStore.quantized(spec, scheme: .fixed(bits: 8), weights: weights)
        #expect(reimported == preset)
    }
}
