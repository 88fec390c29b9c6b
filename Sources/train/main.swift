import ArgumentParser
import CLIOptions
import Foundation
import Model
import Networks

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
            """)

    @Option(help: "Network preset: lenet5 or mlp.") var model: String
    @Option(help: "Training epochs, 1...100.") var epochs: Int?
    @Option(help: "Seed of the initial weights and the image order, 0...2^64-1.") var seed: UInt64 = 1
    @Option(help: "Folder for <model>.weights.") var out: String?
    @Option(help: "Images per minibatch, 1...4096.") var batchSize = 64
    @Option(help: "Adam's step size in the first epoch (cosine schedule after), 0.00001...1 (default: the preset's).") var learningRate: Float?
    @Option(help: "Train on the first N training images only, 1...60000.") var trainLimit: Int?
    @Option(help: "Folder with the Fashion-MNIST IDX files.") var dataset = FashionMNIST.defaultDirectory
    @Option(help: "Quantization schemes (comma-separated): \(QuantizationScheme.names.joined(separator: ", ")).") var quantize: String?
    @Option(help: "Float weights to quantize (default Models/<model>.weights).") var weights: String?

    func validate() throws {
        guard NetworkSpec.preset(model) != nil else {
            throw ValidationError("invalid value \(model) for --model: allowed \(NetworkSpec.presets.map(\.name).joined(separator: ", "))")
        }
        if let epochs, !(1...100).contains(epochs) { throw ValidationError("invalid value \(epochs) for --epochs: allowed 1...100") }
        if let learningRate, !(1e-5...1).contains(learningRate) {
            throw ValidationError("invalid value \(learningRate) for --learning-rate: allowed 0.00001...1")
        }
        guard (1...4096).contains(batchSize) else { throw ValidationError("invalid value \(batchSize) for --batch-size: allowed 1...4096") }
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
        let spec = NetworkSpec.preset(model)!
        if let quantize { return try report(spec, schemes: quantize.split(separator: ",").map { QuantizationScheme(String($0))! }) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: out!, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("invalid value \(out!) for --out: allowed an existing folder")
        }
        var options = TrainingOptions.preset(model)
        if let epochs { options.epochs = epochs }
        options.seed = seed
        options.batchSize = batchSize
        if let learningRate { options.learningRate = learningRate }
        options.trainLimit = trainLimit
        let train = try FashionMNIST.load(.train, directory: dataset)
        let test = try FashionMNIST.load(.test, directory: dataset)
        say("train: \(model) on \(options.trainLimit ?? train.count) Fashion-MNIST images, \(options.epochs) epochs, batch \(options.batchSize), Adam \(options.learningRate) (cosine), seed \(seed)")
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
