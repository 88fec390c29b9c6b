import Foundation
import Model
import Networks
@testable import ONNX
import Testing
import TestTags

/// The ONNX model zoo's MNIST CNN (CNTK export, opset 8) with its test input and output, as the
/// PyPI `qonnx` wheel ships it (scripts/requirements.txt, installed into .venv by `make deps`):
/// a model nobody here wrote. Its outputs are logits of magnitude up to about 10^3.
@Suite("mnist-conv from the qonnx wheel", .tags(.python, .dataset))
struct MNISTConvTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// qonnx/data/onnx/mnist-conv in the project's .venv; a missing one fails the test.
    static func folder() throws -> String {
        let python = "\(root)/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw ONNXError("\(python) is missing: run make deps (it installs qonnx from scripts/requirements.txt)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import qonnx, os; print(os.path.dirname(qonnx.__file__))"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let dir = out.trimmingCharacters(in: .whitespacesAndNewlines) + "/data/onnx/mnist-conv"
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: "\(dir)/model.onnx") else {
            throw ONNXError("qonnx's mnist-conv is missing (\(dir)): run make deps")
        }
        return dir
    }

    static func load() throws -> (model: ONNXModel, input: Tensor, output: Tensor) {
        let dir = try folder()
        return (try ONNXModel(contentsOf: "\(dir)/model.onnx"), try Tensor(contentsOf: "\(dir)/test_data_set_0/input_0.pb"),
                try Tensor(contentsOf: "\(dir)/test_data_set_0/output_0.pb"))
    }

    /// The largest |got − want| relative to the largest |want| (the output's scale): float32
    /// sums of up to 200 products in other orders differ by rounding relative to that scale.
    static func difference(_ got: [Float], _ want: [Float]) -> Double {
        let scale = max(1, want.map { abs(Double($0)) }.max() ?? 0)
        return zip(got, want).map { abs(Double($0) - Double($1)) }.max()! / scale
    }

    /// Tolerance: 1e-5 of the output's scale.
    static func close(_ got: [Float], _ want: [Float]) -> Bool { got.count == want.count && difference(got, want) <= 1e-5 }

    @Test("the interpreter reproduces the stored output (within 1e-5 of the largest logit)")
    func storedOutput() throws {
        let (model, input, output) = try Self.load()
        #expect(model.opset == 8)
        let got = try Interpreter(model).run([model.inputs[0].name: input])
        #expect(got.count == 1)
        #expect(got[0].shape == [1, 10])
        #expect(output.shape == [1, 10])
        let worst = Self.difference(got[0].floats, output.floats)
        print("mnist-conv: interpreter against the stored output, largest difference relative to the largest logit \(worst)")
        #expect(Self.close(got[0].floats, output.floats), "got \(got[0].floats), stored \(output.floats)")
    }

    @Test("it imports as conv-relu-maxpool ×2, flatten, dense; the Reshape of an initializer and the shape constants fold away")
    func imports() throws {
        let (model, _, _) = try Self.load()
        let net = try Importer.network(model, name: "mnist-conv")
        #expect(net.spec.input == TensorShape(channels: 1, height: 28, width: 28))
        #expect(net.spec.layers == [
            .conv(filters: 8, size: 5, stride: 1, padding: 2), .relu, .maxPool(size: 2),
            .conv(filters: 16, size: 5, stride: 1, padding: 2), .relu, .maxPool(size: 3),
            .flatten, .dense(outputs: 10),
        ])
        #expect(net.spec.shapes.map(\.description) == ["8×28×28", "8×28×28", "8×14×14", "16×14×14", "16×14×14", "16×4×4", "256×1×1", "10×1×1"])
        #expect(net.parameters.layers.map(\.weights.count) == [200, 3200, 2560])
        #expect(!net.softmaxOnHost)
        #expect(net.mapping.count == model.nodes.count)
        #expect(net.mapping[0] == "Times212_reshape1 (Reshape): folded (constant)")
        #expect(net.mapping.filter { $0.hasSuffix("bias of layer 0") || $0.hasSuffix("bias of layer 3") || $0.hasSuffix("bias of layer 7") }.count == 3)
    }

    @Test("the imported network in the project's float forward pass gives the interpreter's output, on the stored input and 20 Fashion-MNIST test images (bytes 0-255)")
    func importedAgreesWithInterpreter() throws {
        let (model, input, output) = try Self.load()
        let net = try Importer.network(model, name: "mnist-conv")
        let interpreter = try Interpreter(model)
        let ours = try FloatInference.logits(net.spec, parameters: net.parameters, input: input.floats)
        #expect(Self.close(ours, output.floats), "forward pass \(ours), stored \(output.floats)")
        let test = try FashionMNIST.load(.test).prefix(20)
        var worst = 0.0
        for i in 0..<test.count {
            let pixels = test.bytes[i * 784..<(i + 1) * 784].map { Float($0) }
            let reference = try interpreter.run([net.inputName: Tensor(shape: [1, 1, 28, 28], floats: pixels)])[0].floats
            let got = try FloatInference.logits(net.spec, parameters: net.parameters, input: pixels)
            worst = max(worst, Self.difference(got, reference))
            #expect(Self.close(got, reference), "image \(i): forward pass \(got), interpreter \(reference)")
        }
        print("mnist-conv: float forward pass against the interpreter on 21 inputs, largest difference relative to the largest logit \(worst)")
    }

    @Test("onnxruntime (scripts/onnxruntime-run.py) gives the interpreter's output on 20 Fashion-MNIST test images (within 1e-5 of the largest logit)")
    func onnxruntimeAgrees() throws {
        let (model, _, _) = try Self.load()
        let interpreter = try Interpreter(model)
        let test = try FashionMNIST.load(.test).prefix(20)
        let pixels = test.bytes.prefix(20 * 784).map { Float($0) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let inputs = scratch.appendingPathComponent("inputs.f32"), outputs = scratch.appendingPathComponent("outputs.f32")
        try pixels.withUnsafeBytes { Data($0) }.write(to: inputs)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(Self.root)/.venv/bin/python")
        process.arguments = ["\(Self.root)/scripts/onnxruntime-run.py", "\(try Self.folder())/model.onnx", inputs.path, "20", outputs.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "onnxruntime-run.py failed: run make deps (onnxruntime in .venv)")
        let data = try Data(contentsOf: outputs)
        let runtime = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        try #require(runtime.count == 200)
        var worst = 0.0
        for i in 0..<20 {
            let reference = try interpreter.run([model.inputs[0].name: Tensor(shape: [1, 1, 28, 28], floats: Array(pixels[i * 784..<(i + 1) * 784]))])[0].floats
            let theirs = Array(runtime[i * 10..<(i + 1) * 10])
            worst = max(worst, Self.difference(reference, theirs))
            #expect(Self.close(reference, theirs), "image \(i): interpreter \(reference), onnxruntime \(theirs)")
        }
        print("mnist-conv: interpreter against onnxruntime on 20 inputs, largest difference relative to the largest logit \(worst)")
    }
}
