import Foundation
@testable import ONNX

/// Debian's libonnx-testdata (installed by `make deps`): onnx's own single-operator test cases,
/// each a folder with model.onnx and test_data_set_*/input_*.pb, output_*.pb.
enum NodeTestData {
    static let directory = "/usr/share/libonnx-testdata/data/node"

    /// The folders of the supported operators' tests, by name: test_<operator>[_<case>].
    static let operators = ["basic_conv", "conv", "gemm", "matmul", "add", "relu", "clip", "maxpool", "averagepool",
                            "globalaveragepool", "flatten", "reshape", "batchnorm", "softmax", "quantizelinear",
                            "dequantizelinear", "constant", "identity", "dropout", "cast", "shape", "gather", "concat", "unsqueeze"]

    static func matches(_ folder: String) -> Bool {
        operators.contains { folder == "test_\($0)" || folder.hasPrefix("test_\($0)_") }
    }

    static func folders() throws -> [String] {
        guard let all = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw ONNXError("\(directory) is missing: install Debian's libonnx-testdata (make deps)")
        }
        return all.filter(matches).sorted()
    }

    enum Outcome: Equatable {
        /// Every data set reproduced; the largest absolute and relative float differences.
        case passed(cases: Int, maxAbs: Double, maxRel: Double)
        /// Refused (by loading, the pre-flight check or the interpreter), with the reason.
        case refused(String)
        /// Ran but an output differs: what and where.
        case failed(String)
    }

    /// Tolerance on float outputs: |got − expected| ≤ atol + rtol · |expected|.
    static let atol = 1e-5, rtol = 1e-5

    static func run(_ folder: String) -> Outcome {
        let path = "\(directory)/\(folder)"
        let interpreter: Interpreter
        do {
            interpreter = try Interpreter(try ONNXModel(contentsOf: "\(path)/model.onnx"))
        } catch {
            return .refused("\(error)")
        }
        let sets = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasPrefix("test_data_set_") }.sorted()
        guard !sets.isEmpty else { return .failed("no test_data_set_* folder") }
        var maxAbs = 0.0, maxRel = 0.0
        for set in sets {
            let dir = "\(path)/\(set)"
            do {
                var inputs: [String: Tensor] = [:]
                for (i, v) in interpreter.model.inputs.enumerated() {
                    inputs[v.name] = try Tensor(contentsOf: "\(dir)/input_\(i).pb")
                }
                let outputs = try interpreter.run(inputs)
                for (i, got) in outputs.enumerated() {
                    let want = try Tensor(contentsOf: "\(dir)/output_\(i).pb")
                    guard got.element == want.element, got.shape == want.shape else {
                        return .failed("\(set) output \(i): got \(got), expected \(want)")
                    }
                    if want.element.isFloat {
                        for (j, (g, w)) in zip(got.floats, want.floats).enumerated() {
                            let d = abs(Double(g) - Double(w))
                            maxAbs = max(maxAbs, d)
                            if w != 0 { maxRel = max(maxRel, d / abs(Double(w))) }
                            guard d <= atol + rtol * abs(Double(w)) else {
                                return .failed("\(set) output \(i)[\(j)]: got \(g), expected \(w)")
                            }
                        }
                    } else if got.ints != want.ints {
                        let j = got.ints.indices.first { got.ints[$0] != want.ints[$0] }!
                        return .failed("\(set) output \(i)[\(j)]: got \(got.ints[j]), expected \(want.ints[j])")
                    }
                }
            } catch {
                return .refused("\(set): \(error)")
            }
        }
        return .passed(cases: sets.count, maxAbs: maxAbs, maxRel: maxRel)
    }
}
