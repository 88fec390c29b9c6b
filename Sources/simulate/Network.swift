import ArgumentParser
import CLIOptions
import Conv
import Cores
import Dataflows
import Foundation
import Golden
import Model
import Networks
import Runtime
import Verification

struct NetworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network",
        abstract: "A whole network on Fashion-MNIST test images: every layer of every image runs on the generated array and pooling core in Verilator, every output checked against the golden network.")

    @Option(help: "lenet5 | mlp.") var model = "lenet5"
    @Option(help: ArgumentHelp(QuantizationScheme.allowedNames + ".", valueName: "format"))
    var format = "fixed8"
    @Option(help: "truncate | nearest | stochastic.") var rounding: RoundingMode = .stochastic
    @Option(help: "os | ws | rs (os: every format; ws: fixed point, bwn, ternary and pow2; rs: fixed point only).")
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
        guard NetworkSpec.preset(model) != nil else {
            throw ParameterError("model", model, allowed: NetworkSpec.presets.map(\.name).joined(separator: ", "))
        }
        // Every refusal comes before any work: quantizing may fine-tune and write the model cache.
        guard let scheme = QuantizationScheme(format) else {
            throw ParameterError("format", format, allowed: QuantizationScheme.allowedNames)
        }
        let flow = Dataflow(rawValue: dataflow)
        guard Dataflows.entry(flow) != nil else { throw ParameterError("dataflow", dataflow, allowed: Dataflows.names) }
        guard (1...128).contains(rows) else { throw ParameterError("rows", rows, allowed: "1...128") }
        guard (1...128).contains(cols) else { throw ParameterError("cols", cols, allowed: "1...128") }
        if flow != .os {
            switch scheme {
            case .codebook, .binary:
                throw ParameterError("format", format, allowed: "fixed<2..16>, bwn, ternary or pow2 with --dataflow \(dataflow) (codebooks and BNN thresholds run on os)")
            default:
                // What the dataflow's own generator builds (rs: fixed point only; its sides).
                try Dataflows.design(flow, ArrayConfig(rows: rows, cols: cols, format: scheme.format))!.validate()
            }
        }
        guard (1...10_000).contains(images) else { throw ParameterError("images", images, allowed: "1...10000") }
        guard (1...256).contains(batch) else { throw ParameterError("batch", batch, allowed: "1...256") }
        guard (0...10_000).contains(goldenImages) else { throw ParameterError("golden-images", goldenImages, allowed: "0...10000") }
        guard (1...65_535).contains(lfsrSeed) else { throw ParameterError("lfsr-seed", lfsrSeed, allowed: "1...65535") }
    }

    func run() throws {
        let spec = NetworkSpec.preset(model)!
        let scheme = QuantizationScheme(format)!
        let log: (String) -> Void = { if !json { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
        let weights = try WeightsFile.read(ModelStore.shippedWeightsPath(spec.name))
        let network = try ModelStore.quantized(spec, scheme: scheme, weights: weights, log: log)
        let test = try FashionMNIST.load(.test)
        let hardware = NetworkHardware(rows: rows, cols: cols, rounding: rounding, seed: lfsrSeed, batch: batch)
        let size = test.shape.count
        let pixels = (0..<test.count).map { Array(test.bytes[$0 * size..<($0 + 1) * size]) }

        let engines: NetworkCheck.EngineFactory? = dataflow == "os" ? nil : { config in
            try Dataflows.design(Dataflow(rawValue: dataflow), config)!.engine(initialState: .default)
        }
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
        if dataflow == "os" || rounding != .stochastic, same != run.classes {
            let i = zip(same, run.classes).enumerated().first { $0.element.0 != $0.element.1 }!.offset
            print("MISMATCH: image \(i): the golden network classifies it \(same[i]), the hardware \(run.classes[i])")
            throw ExitCode(1)
        }
        func accuracy(_ classes: [Int]) -> Double {
            Double(zip(classes, test.labels).filter { $0 == $1 }.count) / Double(max(classes.count, 1))
        }
        let report = Report(model: model, format: scheme.name, rounding: rounding, dataflow: dataflow, run: run,
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
        let n = Double(max(run.images, 1))
        let pes = Double(rows * cols)
        lines.append(table(["stage", "MACs/image", "cycles/image", "utilization", "gated", "PE-to-PE", "buffer reads", "buffer writes", "DRAM words", "nJ/image"],
                           run.stages.map { s in
            [s.name, String(s.macs / max(run.images, 1)), String(format: "%.0f", Double(s.cycles) / n),
             String(format: "%.1f%%", 100 * s.utilization / pes), String(format: "%.0f", Double(s.counts.gatedMACs) / n),
             String(format: "%.0f", Double(s.counts.peToPE) / n), String(format: "%.0f", Double(s.counts.bufferReads) / n),
             String(format: "%.0f", Double(s.counts.bufferWrites) / n),
             String(format: "%.0f", Double(s.counts.dramReads + s.counts.dramWrites) / n), String(format: "%.2f", s.energyPJ / n / 1000)]
        }))
        return lines.joined(separator: "\n")
    }
}
