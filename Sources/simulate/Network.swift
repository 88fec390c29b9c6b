import ArgumentParser
import CLIOptions
import Conv
import Cores
import Dataflows
import Foundation
import Golden
import Model
import Networks
import ONNX
import Runtime
import Verification

struct NetworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network",
        abstract: "A whole network on Fashion-MNIST test images: every layer of every image runs on the generated array and pooling core in Verilator, every output checked against the golden network.")

    @Option(help: "lenet5 | mlp (the default lenet5; not with --onnx).") var model: String?
    @Option(help: "An ONNX model (input 1x28x28) instead of --model: a float one is quantized after training to --format, a QDQ one (int8, power-of-two scales) taken as it is; measured by its top-1 agreement with the model (docs/ONNX.md).")
    var onnx: String?
    @Option(help: "With --onnx: the model's input is S times the image's bytes; default 1 (bytes 0-255, as the ONNX model zoo's MNIST expects; 1/255 for inputs in [0, 1]).")
    var inputScale: String?
    @Option(help: "With --onnx: calibration images, IDX (unsigned bytes) or .npy (uint8), N x 28 x 28 or N x 1 x 28 x 28; default the first 2000 Fashion-MNIST training images.")
    var calibration: String?
    @Option(help: "With --onnx: the images to run, IDX (unsigned bytes) or .npy (uint8), N x 28 x 28 or N x 1 x 28 x 28, instead of the Fashion-MNIST test images; they have no labels, so the report gives agreement with the model, not accuracy.")
    var input: String?
    @Flag(help: "With --onnx: print how each node was mapped and each stage quantized, then stop (nothing is co-simulated).")
    var onnxReport = false
    @Option(help: ArgumentHelp(QuantizationScheme.allowedNames + " (default fixed8; not with a QDQ model, whose codes are its own).", valueName: "format"))
    var format: String?
    @Option(help: "truncate | nearest | stochastic.") var rounding: RoundingMode = .stochastic
    @Option(help: ArgumentHelp(Dataflows.names + " (" + Dataflows.formatsByDataflow(\.networkFormats) + ").", valueName: "dataflow"))
    var dataflow = "os"
    @Option(help: "Array rows, 1...128.") var rows = 16
    @Option(help: "Array columns, 1...128.") var cols = 16
    @Option(help: "Test images co-simulated, 1...10000.") var images = 100
    @Option(help: "Images per pass through the layers, 1...256 (a layer of a batch is one GEMM).") var batch = 16
    @Option(help: "Test images the golden network classifies, 0...10000.") var goldenImages = 10000
    @Option(help: "Base LFSR seed of the rounding units, 1...65535.") var lfsrSeed: UInt64 = 1
    @Flag(help: "Print one JSON object instead of the report.") var json = false

    struct Report: Encodable {
        let model: String
        let format: String
        let rounding: RoundingMode
        let dataflow: String
        let run: NetworkRun
        let hardwareAccuracy: Double
        let goldenAccuracyOnSameImages: Double
        let goldenAccuracy: Double
        let goldenImages: Int
        /// The float network's test accuracy, measured on all 10,000 test images when it was trained.
        let floatAccuracy: Double
        let cyclesPerImage: Double
        let energyPerImageNJ: Double
    }

    func validate() throws {
        guard NetworkSpec.preset(model ?? "lenet5") != nil else {
            throw ParameterError("model", model!, allowed: NetworkSpec.presets.map(\.name).joined(separator: ", "))
        }
        // Every refusal comes before any work: quantizing may fine-tune and write the model cache.
        let formatName = format ?? "fixed8"
        guard let scheme = QuantizationScheme(formatName) else {
            throw ParameterError("format", formatName, allowed: QuantizationScheme.allowedNames)
        }
        if let onnx {
            if let model { throw ParameterError("model", model, allowed: "no --model with --onnx (the network is the ONNX model's)") }
            if scheme == .binary {
                throw ParameterError("format", formatName, allowed: "every format but binary with --onnx (a BNN is trained with batch norm; an imported model is quantized after training)")
            }
            if let input {
                do {
                    _ = try CalibrationImages.read(input, shape: FashionMNIST.shape)
                } catch {
                    throw ParameterError("input", input, allowed: "IDX (unsigned bytes) or .npy (uint8) images of \(FashionMNIST.shape) (\(error))")
                }
            }
            switch try Self.importONNX(onnx, inputScale: try Self.scale(inputScale)) {
            case .qdq(let result, _):
                if let format { throw ParameterError("format", format, allowed: "no --format with a QDQ model (its int8 codes and scales are the model's)") }
                if dataflow != "os", result.network.stages.contains(where: { $0.requantization != nil }) {
                    throw ParameterError("dataflow", dataflow, allowed: "os with a QDQ model of per-channel or non-power-of-two scales (only the output-stationary systolic array has requantizers)")
                }
                if let calibration { throw ParameterError("calibration", calibration, allowed: "no --calibration with a QDQ model (its scales are the model's)") }
            case .float(let imported):
                if let problem = try Quantizer.postTrainingProblem(spec: imported.spec, scheme: scheme) {
                    throw ParameterError("onnx", onnx, allowed: "a model the integer network runs (\(problem))")
                }
                if let calibration {
                    do {
                        _ = try CalibrationImages.read(calibration, shape: imported.spec.input)
                    } catch {
                        throw ParameterError("calibration", calibration, allowed: "IDX (unsigned bytes) or .npy (uint8) images of \(imported.spec.input) (\(error))")
                    }
                }
            }
        } else {
            for (flag, given) in [("input-scale", inputScale), ("calibration", calibration), ("input", input), ("onnx-report", onnxReport ? "true" : nil)] {
                if let given { throw ParameterError(flag, given, allowed: "only with --onnx FILE") }
            }
        }
        let flow = Dataflow(rawValue: dataflow)
        guard Dataflows.entry(flow) != nil else { throw ParameterError("dataflow", dataflow, allowed: Dataflows.names) }
        guard (1...128).contains(rows) else { throw ParameterError("rows", rows, allowed: "1...128") }
        guard (1...128).contains(cols) else { throw ParameterError("cols", cols, allowed: "1...128") }
        try Dataflows.checkNetwork(format: scheme.format, spelled: formatName, on: flow) { QuantizationScheme.allowedNames(families: $0) }
        // What the dataflow's own generator builds (its sides).
        try Dataflows.design(flow, ArrayConfig(rows: rows, cols: cols, format: scheme.format))!.validate()
        guard (1...10_000).contains(images) else { throw ParameterError("images", images, allowed: "1...10000") }
        guard (1...256).contains(batch) else { throw ParameterError("batch", batch, allowed: "1...256") }
        guard (0...10_000).contains(goldenImages) else { throw ParameterError("golden-images", goldenImages, allowed: "0...10000") }
        guard (1...65_535).contains(lfsrSeed) else { throw ParameterError("lfsr-seed", lfsrSeed, allowed: "1...65535") }
    }

    enum Imported {
        case float(ImportedNetwork)
        case qdq(QDQImporter.Result, ONNXModel)
    }

    /// The model of `--onnx`, imported (read, pre-flight check, import: the QDQ one when the
    /// model quantizes its activations, else the float one); a model the import refuses, or
    /// one not of 1×28×28 inputs (the test images are Fashion-MNIST's), is a refused --onnx.
    static func importONNX(_ path: String, inputScale: Float) throws -> Imported {
        let imported: ImportedNetwork
        do {
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let model = try ONNXModel(contentsOf: path)
            if QDQImporter.isQDQ(model) {
                let result = try QDQImporter.network(model, name: name, inputScale: inputScale)
                let l = result.network.stages[0].layer
                guard TensorShape(channels: l.channels, height: l.height, width: l.width) == FashionMNIST.shape else {
                    throw ONNXError("input \(l.channels)×\(l.height)×\(l.width), not 1×28×28 (the test images are Fashion-MNIST's)")
                }
                return .qdq(result, model)
            }
            imported = try Importer.network(model, name: name)
        } catch {
            // One line: the pre-flight check's list of unsupported items joined with "; ".
            let reason = "\(error)".split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
            throw ParameterError("onnx", path, allowed: "a float ONNX model the import takes; this one: \(reason)")
        }
        guard imported.spec.input == FashionMNIST.shape else {
            throw ParameterError("onnx", path, allowed: "a model of input 1x1x28x28 (the test images are Fashion-MNIST's); this one takes \(imported.spec.input)")
        }
        return .float(imported)
    }

    /// `--input-scale`: a positive finite number, as a decimal or a fraction `a/b` (1/255).
    static func scale(_ text: String?) throws -> Float {
        guard let text else { return 1 }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Double($0) }
        let value: Double? = parts.count == 1 ? parts[0] : parts.count == 2 && parts[1] != 0 ? parts[0].flatMap { a in parts[1].map { a / $0 } } : nil
        guard let value, value.isFinite, value > 0, Float(value).isNormal else {
            throw ParameterError("input-scale", text, allowed: "a positive number, decimal or a/b (1 for bytes 0-255, 1/255 for [0, 1])")
        }
        return Float(value)
    }

    /// The arrays of the chosen dataflow: nil for the output-stationary systolic array, which
    /// NetworkCheck drives itself; another dataflow's engines from the registry.
    func engineFactory() -> NetworkCheck.EngineFactory? {
        let flow = Dataflow(rawValue: dataflow)
        guard flow != .os else { return nil }
        return { config in try Dataflows.design(flow, config)!.engine(initialState: .default) }
    }

    func run() throws {
        if let onnx { return try runONNX(onnx) }
        let spec = NetworkSpec.preset(model ?? "lenet5")!
        let scheme = QuantizationScheme(format ?? "fixed8")!
        let log: (String) -> Void = { if !json { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
        let weights = try WeightsFile.read(ModelStore.shippedWeightsPath(spec.name))
        let network = try ModelStore.quantized(spec, scheme: scheme, weights: weights, log: log)
        let test = try FashionMNIST.load(.test)
        let hardware = NetworkHardware(rows: rows, cols: cols, rounding: rounding, seed: lfsrSeed, batch: batch)
        let size = test.shape.count
        let pixels = (0..<test.count).map { Array(test.bytes[$0 * size..<($0 + 1) * size]) }

        let engines = engineFactory()
        let check = try NetworkCheck(network, hardware: hardware, engines: engines)
        let run = try check.run(images: Array(pixels.prefix(images)), labels: Array(test.labels.prefix(images))) { done in
            if done % (batch * 16) == 0 { log("\(done) images co-simulated") }
        }
        if run.mismatches > 0 {
            print("MISMATCH: \(run.firstMismatch ?? "")")
            if let w = run.waveform { print("waveform: \(w)") }
            throw ExitCode(1)
        }
        // The golden network on its own: all the requested test images, and on the images the
        // hardware ran it must give the hardware's classes (for stochastic rounding on ws and
        // rs the golden network rounds in the systolic array's order, so only the accuracy
        // there is comparable).
        let goldenCount = max(goldenImages, images)
        let golden = try hardware.goldenClasses(network, images: Array(pixels.prefix(goldenCount)))
        let same = Array(golden.prefix(images))
        if let mismatch = check.classMismatch(golden: same, run: run) {
            print("MISMATCH: \(mismatch)")
            throw ExitCode(1)
        }
        func accuracy(_ classes: [Int]) -> Double {
            Double(zip(classes, test.labels).filter { $0 == $1 }.count) / Double(max(classes.count, 1))
        }
        let report = Report(model: spec.name, format: scheme.name, rounding: rounding, dataflow: dataflow, run: run,
                            hardwareAccuracy: run.accuracy, goldenAccuracyOnSameImages: accuracy(same),
                            goldenAccuracy: accuracy(Array(golden.prefix(goldenImages))), goldenImages: goldenImages,
                            floatAccuracy: weights.header.testAccuracy, cyclesPerImage: run.cyclesPerImage,
                            energyPerImageNJ: run.energyPerImagePJ / 1000)
        if json {
            print(try encodeJSON(report))
            return
        }
        print(Self.describe(report, rows: rows, cols: cols))
    }

    /// What `--onnx` reports: the run, and top-1 agreement with the float model where a preset's
    /// report has accuracy (an imported model's classes need not be Fashion-MNIST's).
    struct ONNXReport: Encodable {
        let onnx: String
        /// Where the images came from: `--input`'s file, or "Fashion-MNIST test".
        let images: String
        let format: String
        let rounding: RoundingMode
        let dataflow: String
        let inputScale: Float
        let inputValues: String
        let calibration: String
        let mapping: [String]
        let run: NetworkRun
        /// Top-1 agreement with the float model: the hardware's on the co-simulated images, the
        /// golden network's on the same and on `goldenImages`.
        let hardwareAgreement: Double
        let goldenAgreementOnSameImages: Double
        let goldenAgreement: Double
        let goldenImages: Int
        /// Top-1 accuracy on the test labels: the golden network's and the ONNX model's (the
        /// interpreter's) on `goldenImages`; nil for `--input`'s images, which have no labels.
        let goldenAccuracy: Double?
        let modelAccuracy: Double?
        let cyclesPerImage: Double
        let energyPerImageNJ: Double
    }

    func runONNX(_ path: String) throws {
        let log: (String) -> Void = { if !json { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
        let scale = try Self.scale(inputScale)
        let network: QuantizedNetwork, mapping: [String], calibrationText: String, reference: ([UInt8]) throws -> [Int]
        switch try Self.importONNX(path, inputScale: scale) {
        case .float(let imported):
            let calibrationImages = try calibration.map { try CalibrationImages.read($0, shape: imported.spec.input) }
                ?? FashionMNIST.load(.train).prefix(Quantizer.calibrationImages)
            calibrationText = calibration.map { "\(calibrationImages.count) images of \($0)" }
                ?? "the first \(calibrationImages.count) Fashion-MNIST training images"
            network = try imported.quantized(QuantizationScheme(format ?? "fixed8")!, inputScale: scale, calibration: calibrationImages)
            mapping = imported.report(network, inputScale: scale, rounding: rounding, calibration: calibrationText)
            reference = { try imported.floatClasses(bytes: $0, inputScale: scale) }
        case .qdq(let result, let model):
            network = result.network
            calibrationText = "none (a QDQ model: its scales are the model's)"
            let requantized = network.stages.contains { $0.requantization != nil }
            mapping = ["input '\(model.inputs[0].name)' 1×28×28: bytes 0-255 times \(scale) (--input-scale), quantized by the model's first QuantizeLinear",
                       "", "nodes (\(result.mapping.count), QDQ import: int8, " + (requantized ? "per-channel requantization):" : "power-of-two scales per tensor):")]
                + result.mapping.map { "  \($0)" }
                + ["", "stages (from the model's scales):"] + ImportedNetwork.stageLines(network, rounding: rounding)
                + ["", requantized
                    ? "rounding against the model: the requantizers round half to even, as ONNX's QuantizeLinear (--rounding does not apply); each factor S_a·S_w/S_o is a \(QDQImporter.multiplierBits)-bit multiplier and a shift (relative error under 2^-\(QDQImporter.multiplierBits))"
                    : "rounding against the model: ONNX rounds half to even; --rounding nearest does too (\(rounding) here), see the layers' lines above for the biases"]
            reference = { try QDQImporter.referenceClasses(model, bytes: $0, inputScale: scale) }
        }
        if onnxReport {
            print(json ? try encodeJSON(mapping) : mapping.joined(separator: "\n"))
            return
        }
        // The Fashion-MNIST test images and their labels, or --input's images without labels.
        let test = try input.map { try CalibrationImages.read($0, shape: FashionMNIST.shape) } ?? FashionMNIST.load(.test)
        let labels: [Int]? = input == nil ? test.labels : nil
        let what = input.map { "images of \($0)" } ?? "test images"
        let size = test.shape.count
        let goldenCount = min(max(goldenImages, images), test.count)
        let (images, goldenImages) = (min(images, test.count), min(goldenImages, test.count))
        let pixels = (0..<goldenCount).map { Array(test.bytes[$0 * size..<($0 + 1) * size]) }
        log("the ONNX model on \(goldenCount) \(what)")
        let float = try reference(Array(test.bytes.prefix(goldenCount * size)))
        let hardware = NetworkHardware(rows: rows, cols: cols, rounding: rounding, seed: lfsrSeed, batch: batch)
        let engines = engineFactory()
        // The float model's classes stand in for labels: the run's accuracy is the agreement.
        let check = try NetworkCheck(network, hardware: hardware, engines: engines)
        let run = try check.run(images: Array(pixels.prefix(images)), labels: Array(float.prefix(images))) { done in
            if done % (batch * 16) == 0 { log("\(done) images co-simulated") }
        }
        if run.mismatches > 0 {
            print("MISMATCH: \(run.firstMismatch ?? "")")
            if let w = run.waveform { print("waveform: \(w)") }
            throw ExitCode(1)
        }
        log("golden network on \(goldenCount) \(what)")
        let golden = try hardware.goldenClasses(network, images: pixels)
        let same = Array(golden.prefix(images))
        if let mismatch = check.classMismatch(golden: same, run: run) {
            print("MISMATCH: \(mismatch)")
            throw ExitCode(1)
        }
        func agreement(_ classes: [Int]) -> Double {
            Double(zip(classes, float).filter { $0 == $1 }.count) / Double(max(classes.count, 1))
        }
        func accuracy(_ classes: [Int]) -> Double? {
            labels.map { labels in Double(zip(classes, labels).filter { $0 == $1 }.count) / Double(max(classes.count, 1)) }
        }
        let report = ONNXReport(onnx: path, images: input ?? "Fashion-MNIST test", format: network.label, rounding: rounding, dataflow: dataflow, inputScale: scale,
                                inputValues: mapping[0], calibration: calibrationText, mapping: mapping, run: run,
                                hardwareAgreement: run.accuracy, goldenAgreementOnSameImages: agreement(same),
                                goldenAgreement: agreement(Array(golden.prefix(goldenImages))), goldenImages: goldenImages,
                                goldenAccuracy: accuracy(Array(golden.prefix(goldenImages))), modelAccuracy: accuracy(Array(float.prefix(goldenImages))),
                                cyclesPerImage: run.cyclesPerImage, energyPerImageNJ: run.energyPerImagePJ / 1000)
        if json {
            print(try encodeJSON(report))
            return
        }
        func pct(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }
        print([
            "\(network.model) (\(path)) \(report.format), \(network.label.hasPrefix("qdq-int8") ? "the model's own quantization" : "post-training quantization"), \(rounding) rounding, on a \(rows)x\(cols) \(dataflow) array (batches of \(batch) images)",
            report.inputValues,
            "calibration: \(calibrationText)",
            "co-simulated: \(run.images) \(what), \(run.comparedOutputs) layer outputs checked, 0 mismatches (\(String(format: "%.1f", run.wallSeconds)) s)",
            "top-1 agreement with the ONNX model: hardware \(pct(report.hardwareAgreement)) on \(run.images) images (golden on the same: \(pct(report.goldenAgreementOnSameImages)))"
                + (goldenImages > 0 ? "; golden \(pct(report.goldenAgreement)) on \(goldenImages) images" : ""),
            report.goldenAccuracy.map { golden in
                "top-1 accuracy on the test labels (\(goldenImages) images): golden network \(pct(golden)), the ONNX model \(pct(report.modelAccuracy!))"
            } ?? "top-1 accuracy: none (\(what) have no labels)",
            "per image: \(String(format: "%.0f", report.cyclesPerImage)) cycles, \(String(format: "%.2f", report.energyPerImageNJ)) nJ",
            "",
            Self.stageTable(run, rows: rows, cols: cols),
        ].joined(separator: "\n"))
    }

    static func describe(_ r: Report, rows: Int, cols: Int) -> String {
        func pct(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }
        let run = r.run
        var lines = [
            "\(r.model) \(r.format), \(r.rounding) rounding, on a \(rows)x\(cols) \(r.dataflow) array (batches of \(run.hardware.batch) images)",
            "co-simulated: \(run.images) test images, \(run.comparedOutputs) layer outputs checked, 0 mismatches (\(String(format: "%.1f", run.wallSeconds)) s)",
            "top-1 accuracy: hardware \(pct(r.hardwareAccuracy)) on \(run.images) images (golden on the same: \(pct(r.goldenAccuracyOnSameImages)))"
                + (r.goldenImages > 0 ? "; golden \(pct(r.goldenAccuracy)) on \(r.goldenImages) images" : "") + "; float \(pct(r.floatAccuracy)) on 10000",
            "per image: \(String(format: "%.0f", r.cyclesPerImage)) cycles, \(String(format: "%.2f", r.energyPerImageNJ)) nJ",
            "",
        ]
        lines.append(stageTable(run, rows: rows, cols: cols))
        return lines.joined(separator: "\n")
    }

    static func stageTable(_ run: NetworkRun, rows: Int, cols: Int) -> String {
        let n = Double(max(run.images, 1))
        let pes = Double(rows * cols)
        return table(["stage", "MACs/image", "cycles/image", "utilization", "gated", "PE-to-PE", "buffer reads", "buffer writes", "DRAM words", "nJ/image"],
                           run.stages.map { s in
            [s.name, String(s.macs / max(run.images, 1)), String(format: "%.0f", Double(s.cycles) / n),
             String(format: "%.1f%%", 100 * s.utilization / pes), String(format: "%.0f", Double(s.counts.gatedMACs) / n),
             String(format: "%.0f", Double(s.counts.peToPE) / n), String(format: "%.0f", Double(s.counts.bufferReads) / n),
             String(format: "%.0f", Double(s.counts.bufferWrites) / n),
             String(format: "%.0f", Double(s.counts.dramReads + s.counts.dramWrites) / n), String(format: "%.2f", s.energyPJ / n / 1000)]
        })
    }
}
