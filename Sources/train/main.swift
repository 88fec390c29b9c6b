import ArgumentParser
import CLIOptions
import Foundation
import Golden
import Model
import Networks
import ONNX

/// `train`: float training of a network preset on Fashion-MNIST (the weights `make models`
/// ships in Models/), and with --quantize the test accuracy of its quantized integer networks.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network preset on Fashion-MNIST, or report its quantized accuracies.",
        discussion: """
            Without --quantize: trains from the seed and writes DIR/<model>.weights (the same seed gives the same bytes).
            With --quantize: quantizes the weights in --weights (default Models/<model>.weights) with each scheme, \
            fine-tuning where the scheme needs it (cached under ACCELGEN_MODEL_CACHE), and prints the test accuracy of \
            the integer network (training-side evaluator, round half up).
            With --arithmetic fixed|float: plain SGD of the network where every matrix product (forward, backward, \
            weight gradients, weight update) runs in the generated systolic array's arithmetic (<WL, FL>, exact \
            products, the ROUND unit of --rounding, saturation), or in Double for float; each epoch a forward, a \
            backward, a gradient and an update GEMM are replayed in Verilator and must match bit for bit. \
            The run checkpoints to --out after every epoch and resumes from there (docs/TRAINING.md).
            With --figure: every configuration of the training figure's plan (Gupta et al. 2015, Figure 2: float and \
            <16, FL> with round-to-nearest and stochastic rounding) as such a run in --out/<name>/, --jobs at a time, \
            then --out/figure.csv, figure.json and the plots figure-<model>.svg (docs/TRAINING.md).
            With --export-onnx FILE: writes the float weights of --weights (default Models/<model>.weights) as an ONNX \
            model (opset 13, input pixels p/255 in [0, 1], output the logits), for Netron, onnxruntime and \
            `simulate network --onnx FILE --input-scale 1/255` (docs/ONNX.md); nothing is trained.
            """)

    @Option(help: "Network preset: lenet5 or mlp.") var model: String?
    @Option(help: "Training epochs, 1...100.") var epochs: Int?
    @Option(help: "Seed of the initial weights and the image order, 0...2^64-1 (default 1).") var seed: UInt64?
    @Option(help: "Folder for <model>.weights.") var out: String?
    @Option(help: "Images per minibatch, 1...4096 (default 64, or 100 with --arithmetic).") var batchSize: Int?
    @Option(help: "Adam's step size in the first epoch (cosine schedule after; default: the preset's), or with --arithmetic the SGD learning rate (default 0.1), 0.00001...1.") var learningRate: Float?
    @Option(help: "Train on the first N training images only, 1...60000.") var trainLimit: Int?
    @Option(help: "Folder with the Fashion-MNIST IDX files.") var dataset = FashionMNIST.defaultDirectory
    @Option(help: "Quantization schemes (comma-separated): \(QuantizationScheme.names.joined(separator: ", ")).") var quantize: String?
    @Option(help: "Float weights to quantize (default Models/<model>.weights).") var weights: String?
    @Option(help: "SGD in the array's arithmetic: fixed or float (the same SGD in Double).") var arithmetic: String?
    // Optional rather than defaulted, so that --figure can tell them given and refuse them.
    @Option(help: "Word length WL of every tensor with --arithmetic fixed, 4...16 (default 16).") var wordLength: Int?
    @Option(help: "Fractional length FL of weights, activations and errors, 0...WL-2 (default 8).") var frac: Int?
    @Option(help: "ROUND unit mode with --arithmetic fixed: truncate, nearest or stochastic (default stochastic).") var rounding: String?
    @Option(help: "Where 1/B of the minibatch mean goes with --arithmetic: error or rate (default error).") var batchMean: String?
    @Option(help: "Derivative of saturation in the backward pass with --arithmetic fixed: zero or one (straight through; default zero).") var saturationDerivative: String?
    @Option(help: "Array rows with --arithmetic fixed, 1...256 (default 16).") var rows: Int?
    @Option(help: "Array columns with --arithmetic fixed, 1...256 (default 16).") var cols: Int?
    @Option(help: "Base LFSR seed of the four arrays (they take seed...seed+3), 1...65532 (default 1).") var lfsrSeed: UInt64?
    @Option(help: "Evaluate on the first N test images only, 1...10000.") var testLimit: Int?
    @Flag(inversion: .prefixedNo, help: "Replay sampled GEMMs in Verilator each epoch (--arithmetic fixed, --figure).") var cosim = true
    @Flag(help: "Run the training figure's plan into --out (Gupta et al. 2015, Figure 2), resuming each configuration.") var figure = false
    @Option(help: "Configurations trained at once with --figure, 1...64 (default 2).") var jobs: Int?
    @Option(help: "The figure's models with --figure (comma-separated; default all): \(TrainingFigure.gupta2015.models.joined(separator: ", ")).") var models: String?

    @Option(help: "Write the float network of --weights (default Models/<model>.weights) as an ONNX model to FILE and stop.")
    var exportOnnx: String?

    func validate() throws {
        if let exportOnnx {
            for (flag, given) in [("figure", figure ? "true" : nil), ("quantize", quantize), ("out", out), ("arithmetic", arithmetic), ("epochs", epochs.map { "\($0)" })] {
                if let given { throw ValidationError("invalid value \(given) for --\(flag): allowed only without --export-onnx") }
            }
            guard let model, NetworkSpec.preset(model) != nil else {
                throw ValidationError("invalid value \(model ?? "nothing") for --model: allowed \(NetworkSpec.presets.map(\.name).joined(separator: ", ")) with --export-onnx")
            }
            var isDirectory: ObjCBool = false
            let folder = URL(fileURLWithPath: exportOnnx).deletingLastPathComponent().path
            guard !exportOnnx.isEmpty, FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("invalid value '\(exportOnnx)' for --export-onnx: allowed a file in an existing folder")
            }
            return
        }
        if figure { return try validateFigure() }
        for (flag, given) in [("jobs", jobs.map { "\($0)" }), ("models", models)] {
            if let given { throw ValidationError("invalid value \(given) for --\(flag): allowed only with --figure") }
        }
        guard let model else { throw ValidationError("missing --model: give network preset: lenet5 or mlp") }
        guard NetworkSpec.preset(model) != nil else {
            throw ValidationError("invalid value \(model) for --model: allowed \(NetworkSpec.presets.map(\.name).joined(separator: ", "))")
        }
        if let epochs, !(1...100).contains(epochs) { throw ValidationError("invalid value \(epochs) for --epochs: allowed 1...100") }
        if let learningRate, !(1e-5...1).contains(learningRate) {
            throw ValidationError("invalid value \(learningRate) for --learning-rate: allowed 0.00001...1")
        }
        if let batchSize, !(1...4096).contains(batchSize) { throw ValidationError("invalid value \(batchSize) for --batch-size: allowed 1...4096") }
        if arithmetic != nil { return try validateArithmetic() }
        if let trainLimit, !(1...60000).contains(trainLimit) {
            throw ValidationError("invalid value \(trainLimit) for --train-limit: allowed 1...60000")
        }
        if let quantize {
            for name in quantize.split(separator: ",", omittingEmptySubsequences: false) where QuantizationScheme(String(name)) == nil {
                throw ValidationError("invalid value \(quantize) for --quantize: allowed a comma-separated list of \(QuantizationScheme.names.joined(separator: ", "))")
            }
            if out != nil { throw ValidationError("invalid value \(out!) for --out: allowed only without --quantize (quantizing writes no weights)") }
        } else {
            guard out != nil else { throw ValidationError("missing --out: give the folder for <model>.weights (or --quantize)") }
            if weights != nil { throw ValidationError("invalid value \(weights!) for --weights: allowed only with --quantize") }
        }
    }

    func run() throws {
        if figure { return try runFigure() }
        let model = model!
        let spec = NetworkSpec.preset(model)!
        if let exportOnnx {
            let path = weights ?? ModelStore.shippedWeightsPath(spec.name)
            let file = try WeightsFile.read(path)
            let data = try Exporter.model(spec, parameters: file.parameters,
                                          description: "AccelGen \(spec.name), float weights of \(URL(fileURLWithPath: path).lastPathComponent) (test accuracy \(file.header.testAccuracy)); input: pixels p/255 in [0, 1]")
            try data.write(to: URL(fileURLWithPath: exportOnnx), options: .atomic)
            say("train: wrote \(exportOnnx) (\(spec.name), \(data.count) bytes, opset 13, input pixels p/255)")
            return
        }
        if let quantize { return try report(spec, schemes: quantize.split(separator: ",").map { QuantizationScheme(String($0))! }) }
        if arithmetic != nil { return try trainInArrayArithmetic() }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: out!, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("invalid value \(out!) for --out: allowed an existing folder")
        }
        var options = TrainingOptions.preset(model)
        if let epochs { options.epochs = epochs }
        options.seed = seed ?? 1
        if let batchSize { options.batchSize = batchSize }
        if let learningRate { options.learningRate = learningRate }
        options.trainLimit = trainLimit
        let train = try FashionMNIST.load(.train, directory: dataset)
        let test = try FashionMNIST.load(.test, directory: dataset)
        say("train: \(model) on \(options.trainLimit ?? train.count) Fashion-MNIST images, \(options.epochs) epochs, batch \(options.batchSize), Adam \(options.learningRate) (cosine), seed \(options.seed)")
        let parameters = try Training.train(spec, data: train, test: test, options: options) { report in
            say(report.description)
        }
        let accuracy = try Training.accuracy(spec, parameters: parameters, images: test)
        let path = "\(out!)/\(model).weights"
        try WeightsFile(spec: spec, training: options, testAccuracy: accuracy, parameters: parameters).write(to: path)
        say(String(format: "train: final test accuracy %.2f%% (%d images); wrote %@", 100 * accuracy, test.count, path))
    }

    func report(_ spec: NetworkSpec, schemes: [QuantizationScheme]) throws {
        let path = weights ?? ModelStore.shippedWeightsPath(spec.name)
        let file = try WeightsFile.read(path)
        let test = try FashionMNIST.load(.test, directory: dataset)
        let float = try Training.accuracy(spec, parameters: file.parameters, images: test)
        say(String(format: "%@ float: %.2f%% (%@)", spec.name, 100 * float, path))
        for scheme in schemes {
            let clock = ContinuousClock.now
            let network = try ModelStore.quantized(spec, scheme: scheme, weights: file, datasetDirectory: dataset) { line in
                say("  " + line)
            }
            let accuracy = TrainingSideEvaluator.accuracy(network, images: test)
            say(String(format: "%@ %@: %.2f%% (%+.2f points; %@)", spec.name, scheme.name, 100 * accuracy, 100 * (accuracy - float),
                         "\(ContinuousClock.now - clock)"))
        }
    }
}

/// One line on standard output, unbuffered, so progress shows as it happens in a log file too.
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

let front = CommandLineFront(TrainCommand.self, tool: "train")
var command = front.parse()
front.run {
    // A missing data set or a bad weights file is not a refused flag: one line, status 1.
    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("train: error: \(message)\n".utf8))
        exit(1)
    }
    do {
        try command.run()
    } catch let e as DatasetError {
        fail(e.description)
    } catch let e as NetworkError {
        fail(e.description)
    }
}
