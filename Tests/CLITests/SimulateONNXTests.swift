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
}
