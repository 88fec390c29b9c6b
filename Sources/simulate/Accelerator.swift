import Accelerator
import ArgumentParser
import CLIOptions
import Cores
import Foundation
import Golden
import Model
import Networks
import Runtime
import Verification

struct AcceleratorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accelerator",
        abstract: "A network on the generated accelerator, the host only writing memory and registers: each Fashion-MNIST test image into DRAM, start, wait for the interrupt, read the logits; every layer's results compared bit for bit with the golden network.")

    @Option(help: "mlp (dense layers; lenet5 needs im2col and POOL, later work).") var model = "mlp"
    @Option(help: ArgumentHelp("fixed<2..16> (the accelerator runs fixed-point networks).", valueName: "format")) var format = "fixed8"
    @Option(help: "Test images, 1...10000.") var images = 2
    @Option(help: "DRAM latency in cycles from an address handshake to the first data beat or the write response, 0...100000.") var dramLatency = 100
    @Option(help: "DRAM bytes per cycle, 1...64.") var dramBytesPerCycle = 8
    @Option(help: "KiB of the A and B scratchpad banks together, \(AcceleratorConfig.scratchpadKiBRange.lowerBound)...\(AcceleratorConfig.scratchpadKiBRange.upperBound).") var scratchpadKib = 64
    @Option(help: "KiB of the output bank, \(AcceleratorConfig.outputKiBRange.lowerBound)...\(AcceleratorConfig.outputKiBRange.upperBound).") var outputKib = 4
    @Option(help: "Array rows, \(AcceleratorConfig.sides.lowerBound)...\(AcceleratorConfig.sides.upperBound).") var rows = 16
    @Option(help: "Array columns, \(AcceleratorConfig.sides.lowerBound)...\(AcceleratorConfig.sides.upperBound).") var cols = 16
    @Option(help: "AXI4 data bits, 64 or 128.") var dataBits = 64
    @Option(help: "truncate | nearest | stochastic.") var rounding: RoundingMode = .stochastic
    @Option(help: "Base LFSR seed of the rounding units, 1...65535.") var lfsrSeed: UInt64 = 1
    @Option(help: "verilator | in-process (the simulator the accelerator runs in; in process is about ten times slower at this size).") var backend = SimulatorBackend.verilator.rawValue
    @Flag(help: "Print one JSON object instead of the report.") var json = false

    struct Layer: Encodable {
        let name: String
        let macs: Int
        let cyclesPerImage: Double
        let weightBytes: Int
    }

    struct Report: Encodable {
        let model: String
        let format: String
        let rounding: RoundingMode
        let accelerator: String
        let backend: String
        let dramLatency: Int
        let dramBytesPerCycle: Int
        let images: Int
        let instructions: Int
        let comparedOutputs: Int
        let mismatches: Int
        let correct: Int
        let cyclesPerImage: Double
        let computeCyclesPerImage: Double
        let stallCyclesPerImage: Double
        let macsPerImage: Int
        /// MACs per cycle over the array's R·C.
        let utilization: Double
        let dmaReadBytesPerImage: Double
        let dmaWriteBytesPerImage: Double
        /// Weights, biases and input codes read once and the logits written once, packed.
        let dmaMinimumBytesPerImage: Int
        let layers: [Layer]
        let wallSeconds: Double
    }

    func validate() throws {
        guard let spec = NetworkSpec.preset(model) else {
            throw ParameterError("model", model, allowed: NetworkSpec.presets.map(\.name).joined(separator: ", "))
        }
        if spec.layers.contains(where: { if case .dense = $0 { false } else if case .relu = $0 { false } else if case .flatten = $0 { false } else { true } }) {
            throw ParameterError("model", model, allowed: "mlp (\(model) has convolutions and pooling: im2col in LOAD and POOL are later work)")
        }
        guard let scheme = QuantizationScheme(format), case .fixed = scheme else {
            throw ParameterError("format", format, allowed: "fixed2 ... fixed16 (the accelerator runs fixed-point networks)")
        }
        guard (1...10_000).contains(images) else { throw ParameterError("images", images, allowed: "1...10000") }
        guard (0...100_000).contains(dramLatency) else { throw ParameterError("dram-latency", dramLatency, allowed: "0...100000") }
        guard (1...64).contains(dramBytesPerCycle) else { throw ParameterError("dram-bytes-per-cycle", dramBytesPerCycle, allowed: "1...64") }
        guard (1...65_535).contains(lfsrSeed) else { throw ParameterError("lfsr-seed", lfsrSeed, allowed: "1...65535") }
        guard SimulatorBackend(rawValue: backend) != nil else {
            throw ParameterError("backend", backend, allowed: SimulatorBackend.allCases.map(\.rawValue).joined(separator: ", "))
        }
        // The accelerator's own ranges (sides, banks, bus), before any work.
        try AcceleratorConfig(array: ArrayConfig(rows: rows, cols: cols), scratchpadKiB: scratchpadKib, outputKiB: outputKib, dataBits: dataBits).validate()
    }

    func run() throws {
        let start = Date()
        let spec = NetworkSpec.preset(model)!
        let scheme = QuantizationScheme(format)!
        let log: (String) -> Void = { if !json { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
        let network = try ModelStore.quantized(spec, scheme: scheme, log: log)
        // The array the network needs (as `simulate network` builds it, one image per batch),
        // inside the accelerator.
        let hardware = NetworkHardware(rows: rows, cols: cols, rounding: rounding, seed: lfsrSeed, batch: 1)
        let (arrays, _) = try hardware.arrays(for: network)
        guard arrays.count == 1 else { throw ParameterError("format", format, allowed: "a network of one array format (this one needs \(arrays.count))") }
        let config = AcceleratorConfig(array: arrays[0], scratchpadKiB: scratchpadKib, outputKiB: outputKib, dataBits: dataBits)
        try config.validate()
        let program: NetworkProgram
        do {
            program = try NetworkProgram(network: network, config: config)
        } catch let refusal as NetworkProgram.Refusal {
            let flag = refusal.description.contains("--output-kib") ? ("output-kib", outputKib) : ("scratchpad-kib", scratchpadKib)
            throw ParameterError(flag.0, flag.1, allowed: "a size the network fits in (\(refusal))")
        }
        var golden = try hardware.golden(network)
        let test = try FashionMNIST.load(.test)
        let size = test.shape.count
        let timing = AXIDRAM.Timing(latency: dramLatency, bytesPerCycle: dramBytesPerCycle)
        log("\(config.moduleName): \(program.program.count) instructions, DRAM window \(program.window.upperBound - program.window.lowerBound) bytes; building the simulation")
        let host = try AcceleratorHost(config, timing: timing, backend: SimulatorBackend(rawValue: backend)!)
        let runner = NetworkOnAccelerator(program, host: host)
        let bits = network.stages[0].activation.bits
        var runs: [NetworkOnAccelerator.ImageRun] = []
        var correct = 0
        for i in 0..<images {
            let pixels = Array(test.bytes[i * size..<(i + 1) * size])
            let codes = NetworkModel.inputCodes(pixels: pixels, frac: network.inputFrac, bits: bits)
            let run = try runner.run(codes: codes)
            if let mismatch = NetworkOnAccelerator.mismatch(image: i, codes: codes, run: run, golden: &golden, layers: program.layers) {
                print("MISMATCH: \(mismatch)")
                throw ExitCode(1)
            }
            if NetworkModel.classify(run.logits[...]) == test.labels[i] { correct += 1 }
            runs.append(run)
            log("image \(i): \(run.counters.cycles) cycles")
        }
        let n = Double(images)
        func mean(_ f: (NetworkOnAccelerator.ImageRun) -> Double) -> Double { runs.map(f).reduce(0, +) / n }
        let macs = network.stages.map { $0.layer.channels * $0.layer.filters }
        let stages = network.stages
        let minimum = stages.map { ($0.layer.channels * $0.layer.filters * $0.weight.bits + 7) / 8 + ($0.bias.contains { $0 != 0 } ? $0.layer.filters * $0.outputBits / 8 : 0) }.reduce(0, +)
            + (stages[0].layer.channels * stages[0].activation.bits + 7) / 8 + stages.last!.layer.filters * stages.last!.resultBits / 8
        let cycles = mean { Double($0.counters.cycles) }
        let report = Report(
            model: model, format: format, rounding: rounding, accelerator: config.moduleName, backend: backend,
            dramLatency: dramLatency, dramBytesPerCycle: dramBytesPerCycle, images: images, instructions: program.program.count,
            comparedOutputs: images * stages.map(\.layer.filters).reduce(0, +), mismatches: 0, correct: correct,
            cyclesPerImage: cycles, computeCyclesPerImage: mean { Double($0.counters.compute) }, stallCyclesPerImage: mean { Double($0.counters.stall) },
            macsPerImage: macs.reduce(0, +), utilization: Double(macs.reduce(0, +)) / (cycles * Double(rows * cols)),
            dmaReadBytesPerImage: mean { Double($0.counters.readBytes) }, dmaWriteBytesPerImage: mean { Double($0.counters.writeBytes) },
            dmaMinimumBytesPerImage: minimum,
            layers: program.layers.indices.map { s in
                Layer(name: program.layers[s].name, macs: macs[s], cyclesPerImage: mean { Double($0.layerCycles[s]) }, weightBytes: program.layers[s].weightBytes)
            },
            wallSeconds: Date().timeIntervalSince(start))
        if json {
            print(try encodeJSON(report))
            return
        }
        let f0 = { (x: Double) in String(format: "%.0f", x) }
        print([
            "\(model) \(format), \(rounding) rounding, on \(config.moduleName) (\(backend)); DRAM \(dramLatency) cycles latency, \(dramBytesPerCycle) B/cycle",
            "\(images) test images, \(report.comparedOutputs) layer outputs checked in DRAM, 0 mismatches, \(correct) classified correctly (\(String(format: "%.1f", report.wallSeconds)) s)",
            "per image: \(f0(cycles)) cycles (compute \(f0(report.computeCyclesPerImage)), stalled on memory \(f0(report.stallCyclesPerImage))), \(macs.reduce(0, +)) MACs, utilization \(String(format: "%.2f%%", 100 * report.utilization))",
            "DMA per image: read \(f0(report.dmaReadBytesPerImage)) B, written \(f0(report.dmaWriteBytesPerImage)) B; minimum \(minimum) B (weights, biases, input and logits once, packed)",
            "",
            table(["layer", "MACs", "cycles/image", "weights in DRAM (B)"], report.layers.map { [$0.name, String($0.macs), f0($0.cyclesPerImage), String($0.weightBytes)] }),
        ].joined(separator: "\n"))
    }
}
