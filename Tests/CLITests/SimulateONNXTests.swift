import Foundation
import Testing
import TestTags

/// `simulate network --onnx` on the ONNX model zoo's MNIST CNN (from the qonnx wheel in .venv):
/// a short co-simulated run, the mapping report, and the refusals that need a model the
/// import takes.
@Suite("simulate network --onnx", .tags(.verilator, .python, .dataset))
struct SimulateONNXTests {
    typealias CLI = GenerateRTLTests

    /// qonnx/data/onnx/mnist-conv/model.onnx in the project's .venv; a missing one fails the test.
    static func model() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "\(root)/.venv/bin/python")
        p.arguments = ["-c", "import qonnx, os; print(os.path.dirname(qonnx.__file__))"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let dir = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        p.waitUntilExit()
        let path = "\(dir)/data/onnx/mnist-conv/model.onnx"
        try #require(p.terminationStatus == 0 && FileManager.default.fileExists(atPath: path), "qonnx's mnist-conv is missing: run make deps")
        return path
    }

    @Test("fixed8 on 4 images: every layer bit-exact, agreement with the float model reported, bytes 0-255 stated")
    func run() throws {
        let r = try CLI.run(["network", "--onnx", try Self.model(), "--format", "fixed8", "--images", "4", "--batch", "2",
                             "--golden-images", "50", "--json"], tool: "simulate")
        #expect(r.status == 0, "\(r.stderr)")
        let top = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let run = top["run"] as! [String: Any]
        #expect(run["mismatches"] as? Int == 0)
        #expect(run["images"] as? Int == 4)
        #expect((run["comparedOutputs"] as? Int ?? 0) > 4 * 8 * 28 * 28)
        #expect(top["inputScale"] as? Double == 1)
        #expect((top["inputValues"] as? String)?.contains("bytes 0-255 as they are") == true)
        #expect((top["goldenAgreement"] as? Double ?? 0) >= 0.9)
        #expect(top["hardwareAgreement"] as? Double == top["goldenAgreementOnSameImages"] as? Double)
        #expect((top["mapping"] as? [String])?.contains { $0.contains("Pooling160 (MaxPool): max pooling 3×3") } == true)
    }

    @Test("--onnx-report: the mapping and the quantization, nothing co-simulated")
    func report() throws {
        let r = try CLI.run(["network", "--onnx", try Self.model(), "--onnx-report", "--input-scale", "1/255", "--rounding", "nearest"], tool: "simulate")
        #expect(r.status == 0, "\(r.stderr)")
        for words in ["bytes 0-255 times 0.003921", "Convolution28 (Conv): conv 8 filters 5×5, stride 1, padding 2", "Times212_reshape1 (Reshape): folded (constant)",
                      "max pool 3x3, the 2 last rows and 2 last columns dropped", "weights s8", "per tensor", "ties to even", "half to even"] {
            #expect(r.stdout.contains(words), "'\(words)' missing from:\n\(r.stdout)")
        }
        #expect(!r.stdout.contains("co-simulated"))
    }

    @Test("refused in one line before any work: a calibration file of the wrong kind or shape")
    func calibrationRefused() throws {
        let dir = CLI.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let idx = dir.appendingPathComponent("c-idx3-ubyte")
        try Data([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4]).write(to: idx)  // 1×2×2
        try RefusalTests.refusedOnce(try CLI.run(["network", "--onnx", try Self.model(), "--calibration", idx.path], tool: "simulate"),
                                     ["--calibration", idx.path, "expected [n, 1, 28, 28]"])
        try RefusalTests.refusedOnce(try CLI.run(["network", "--onnx", try Self.model(), "--calibration", dir.appendingPathComponent("none.npy").path], tool: "simulate"),
                                     ["--calibration", "no such file"])
    }

    /// A QDQ model written by the onnx package in .venv: x (p/255) → Q/DQ frac 7 → Conv 5×5 pad 2
    /// (4 filters, int8 weights frac 6, int32 biases even multiples of 2^10 at frac 13) → Relu →
    /// Q/DQ frac 3 → MaxPool 3 (28 → 9, an edge dropped) → Q/DQ frac 3 → Flatten → Gemm (10,
    /// weights -1, 0, 1 at frac 7, int32 biases at frac 10) → float logits. Every rounding there is
    /// one the hardware's nearest rounding makes the same way, so the model's classes are its.
    static let qdqScript = """
    import sys, numpy as np, onnx
    from onnx import helper, numpy_helper, TensorProto
    rng = np.random.default_rng(3)
    def t(name, a): return numpy_helper.from_array(a, name)
    f = lambda e: np.array(2.0 ** -e, np.float32)
    inits = [t("s7", f(7)), t("s6", f(6)), t("s3", f(3)), t("s13", f(13)), t("s10", f(10)),
             t("z8", np.array(0, np.int8)), t("z32", np.array(0, np.int32)),
             t("w1", rng.integers(-20, 21, (4, 1, 5, 5)).astype(np.int8)),
             t("b1", (2048 * rng.integers(-3, 4, 4)).astype(np.int32)),
             t("w2", rng.choice(np.array([-1, 0, 0, 1], np.int8), (10, 324))),
             t("b2", rng.integers(-2000, 2001, 10).astype(np.int32))]
    n = helper.make_node
    nodes = [n("QuantizeLinear", ["x", "s7", "z8"], ["xq"]), n("DequantizeLinear", ["xq", "s7", "z8"], ["xd"]),
             n("DequantizeLinear", ["w1", "s6", "z8"], ["w1d"]), n("DequantizeLinear", ["b1", "s13", "z32"], ["b1d"]),
             n("Conv", ["xd", "w1d", "b1d"], ["c1"], kernel_shape=[5, 5], pads=[2, 2, 2, 2]), n("Relu", ["c1"], ["r1"]),
             n("QuantizeLinear", ["r1", "s3", "z8"], ["q1"]), n("DequantizeLinear", ["q1", "s3", "z8"], ["d1"]),
             n("MaxPool", ["d1"], ["p1"], kernel_shape=[3, 3], strides=[3, 3]),
             n("QuantizeLinear", ["p1", "s3", "z8"], ["q2"]), n("DequantizeLinear", ["q2", "s3", "z8"], ["d2"]),
             n("Flatten", ["d2"], ["fl"]),
             n("DequantizeLinear", ["w2", "s7", "z8"], ["w2d"]), n("DequantizeLinear", ["b2", "s10", "z32"], ["b2d"]),
             n("Gemm", ["fl", "w2d", "b2d"], ["logits"], transB=1)]
    g = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 28, 28])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, sys.argv[1])
    """

    @Test("a QDQ model (int8, power-of-two scales) runs as it is: bit-exact on the hardware, and its own classes on every image")
    func qdq() throws {
        let dir = CLI.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let model = dir.appendingPathComponent("qdq.onnx").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "\(root)/.venv/bin/python")
        p.arguments = ["-c", Self.qdqScript, model]
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "the onnx package in .venv could not write the model: run make deps")
        let r = try CLI.run(["network", "--onnx", model, "--input-scale", "1/255", "--rounding", "nearest", "--images", "4", "--batch", "2",
                             "--golden-images", "200", "--json"], tool: "simulate")
        #expect(r.status == 0, "\(r.stderr)")
        let top = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(top["format"] as? String == "qdq-int8")
        #expect((top["run"] as! [String: Any])["mismatches"] as? Int == 0)
        #expect(top["hardwareAgreement"] as? Double == 1)
        #expect(top["goldenAgreement"] as? Double == 1)
        #expect((top["mapping"] as? [String])?.contains { $0.contains("layer 0: shift 10, biases even multiples of 2^shift: exact") } == true)
        try RefusalTests.refusedOnce(try CLI.run(["network", "--onnx", model, "--input-scale", "1/255", "--format", "fixed8"], tool: "simulate"),
                                     ["--format", "fixed8", "no --format with a QDQ model"])
        try RefusalTests.refusedOnce(try CLI.run(["network", "--onnx", model], tool: "simulate"),
                                     ["--onnx", model, "try --input-scale 1/255"])
    }

    /// onnxruntime's per-channel int8 QDQ LeNet-5 (Tests/ONNXTests/Fixtures, made by
    /// scripts/make-qdq-fixture.py): its layers run on requantizing arrays.
    @Test("a per-channel QDQ model (onnxruntime's quantize_static) runs exactly against the golden network; other dataflows refused")
    func perChannel() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let model = "\(root)/Tests/ONNXTests/Fixtures/lenet5-qdq-per-channel.onnx"
        let r = try CLI.run(["network", "--onnx", model, "--input-scale", "1/255", "--images", "4", "--batch", "2", "--rows", "8", "--cols", "8",
                             "--golden-images", "50", "--json"], tool: "simulate")
        #expect(r.status == 0, "\(r.stderr)")
        let top = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let run = top["run"] as! [String: Any]
        #expect(top["format"] as? String == "qdq-int8-requantized")
        #expect(run["mismatches"] as? Int == 0)
        #expect(run["images"] as? Int == 4)
        #expect(((run["arrays"] as? [[String: Any]])?.first?["requantize"] as? Int) == 24)
        #expect(top["hardwareAgreement"] as? Double == top["goldenAgreementOnSameImages"] as? Double)
        #expect((top["goldenAgreement"] as? Double ?? 0) >= 0.96)
        try RefusalTests.refusedOnce(try CLI.run(["network", "--onnx", model, "--input-scale", "1/255", "--dataflow", "ws"], tool: "simulate"),
                                     ["--dataflow", "ws", "only the output-stationary systolic array has requantizers"])
    }

    @Test("--input FILE: the user's own images (IDX), bit-exact, agreement with the model and no accuracy; a bad file refused")
    func ownImages() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let model = "\(root)/Tests/ONNXTests/Fixtures/lenet5-qdq-per-channel.onnx"
        // Six images of pseudo-random bytes (a user's images need no labels), as an IDX file.
        var idx = Data([0, 0, 8, 3, 0, 0, 0, 6, 0, 0, 0, 28, 0, 0, 0, 28])
        var x: UInt32 = 12345
        for _ in 0..<(6 * 784) {
            x = x &* 1_103_515_245 &+ 12345
            idx.append(UInt8(truncatingIfNeeded: x >> 16))
        }
        let dir = CLI.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("six.idx")
        try idx.write(to: file)
        let r = try CLI.run(["network", "--onnx", model, "--input-scale", "1/255", "--input", file.path, "--images", "4", "--batch", "2",
                             "--rows", "8", "--cols", "8", "--json"], tool: "simulate")
        #expect(r.status == 0, "\(r.stderr)")
        let top = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let run = top["run"] as! [String: Any]
        #expect(run["mismatches"] as? Int == 0 && run["images"] as? Int == 4)
        #expect(top["images"] as? String == file.path)
        // No labels: no accuracy; every one of the six images classified for the agreement.
        #expect(top["goldenAccuracy"] == nil || top["goldenAccuracy"] is NSNull, "\(top)")
        #expect(top["goldenImages"] as? Int == 6)
        try idx.prefix(100).write(to: file)
        try RefusalTests.refusedOnce(try CLI.run(["network", "--onnx", model, "--input", file.path], tool: "simulate"),
                                     ["--input", file.path, "IDX (unsigned bytes) or .npy (uint8) images of 1×28×28"])
        try RefusalTests.refusedOnce(try CLI.run(["network", "--input", file.path], tool: "simulate"), ["--input", "only with --onnx FILE"])
    }
}
