import Foundation
import ONNX

extension Benchmarks {
    /// Importing the ONNX model zoo's MNIST CNN (the copy in the qonnx wheel, which `make deps`
    /// installs into .venv): reading the file, the pre-flight check, the constant folding run
    /// and the mapping to a NetworkSpec. The target for a LeNet-class model is under 1 s.
    public static func onnxImport(venv: String = ".venv") throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(venv)/bin/python")
        process.arguments = ["-c", "import qonnx, os; print(os.path.dirname(qonnx.__file__))"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let dir = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        let path = "\(dir)/data/onnx/mnist-conv/model.onnx"
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: path) else {
            throw ONNXError("qonnx's mnist-conv is missing under \(venv): run make deps")
        }
        let runs = 20
        var seconds: [Double] = []
        var layers = 0
        for _ in 0..<runs {
            let (net, s) = try time { try Importer.network(try ONNXModel(contentsOf: path), name: "mnist-conv") }
            seconds.append(s)
            layers = net.spec.layers.count
        }
        seconds.sort()
        return [String(format: "onnx import of mnist-conv (%d layers, read + pre-flight + constant folding + mapping): median %.1f ms, min %.1f ms over %d runs (target < 1 s)",
                       layers, seconds[runs / 2] * 1000, seconds[0] * 1000, runs)]
    }
}
