import ArgumentParser
import CLIOptions
import Conv
import Cores
import Dataflows
import Foundation
import Golden
import Model
import Runtime
import Verification

/// `simulate conv`: a layer on a PE array, co-simulated against the golden model or counted by
/// the mapper alone (docs/CONV.md).
struct ConvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "A convolution layer on a PE array (\(Dataflows.names)): co-simulated against the golden model, or --analytic.",
        discussion: """
        The layer is --layer NAME (default tiny) with any shape flag overriding that field in
        every layer it names. NAME is a preset (alexnet-conv1 ... alexnet-conv5, lenet-c1,
        lenet-c3, tiny, small-stride2, small-5x5, alexnet-conv1-mini, lenet-c3-mini) or a group
        (alexnet, lenet, small) run as one table. Full-size layers need --analytic.
        """)

    @OptionGroup var design: ConvDesignOptions
    @Option(help: "Preset layer or group (see above).") var layer: String?
    @Option(help: "N: images.") var batch: Int?
    @Option(help: "C: input channels.") var channels: Int?
    @Option(help: "M: filters (output channels).") var filters: Int?
    @Option(help: "H: input rows.") var height: Int?
    @Option(help: "W: input columns.") var width: Int?
    @Option(help: "R: filter rows.") var filterHeight: Int?
    @Option(help: "S: filter columns.") var filterWidth: Int?
    @Option(help: "U: stride.") var stride: Int?
    @Option(help: "P: zero padding on every side.") var padding: Int?
    @Option(help: "Fraction of zero activations in the random input, 0...1 (with --analytic: counted exactly when above 0).") var sparsity = 0.0
    @Option(help: "Seed of the random input and weights.") var seed: UInt64 = 1
    @Flag(help: "Counts, cycles and energy from the mapper alone: no RTL simulation, any layer size.") var analytic = false
    @Flag(help: "Print JSON (one object, or an array for several layers) instead of tables.") var json = false

    struct Energy: Encodable {
        let totalPJ: Double
        let pJPerMAC: Double
        let macPJ: Double
        let breakdown: [String: Double]
        init(_ counts: DataMovement, _ c: ArrayConfig, layerMACs: Int) {
            let model = EnergyModel(Datapath(c))
            let e = model.estimate(counts, layerMACs: layerMACs)
            totalPJ = e.totalPicojoules
            pJPerMAC = e.picojoulesPerMAC
            macPJ = model.mac
            breakdown = e.breakdown
        }
    }

    struct Result: Encodable {
        let design: AnyDesign
        let layer: ConvLayer
        let mode: String
        let cycles: Int
        /// The layer's MACs (N·M·E·F·C·R·S); `performedMACs` and `gatedMACs` split the array's work.
        let macs: Int
        let performedMACs: Int
        let gatedMACs: Int
        let utilization: Double
        let mismatches: Int?
        let firstMismatch: String?
        let waveform: String?
        let error: ErrorSummary?
        let hardwareCounts: DataMovement?
        let analyticCounts: DataMovement
        let countsAgree: Bool?
        let energy: Energy
        let wallSeconds: Double
        var failed: Bool { (mismatches ?? 0) > 0 || countsAgree == false }
    }

    /// The layers named by --layer with the shape flags applied.
    func layers() throws -> [ConvLayer] {
        let overrides: [(WritableKeyPath<ConvShape, Int>, Int?)] = [
            (\.batch, batch), (\.channels, channels), (\.filters, filters), (\.height, height), (\.width, width),
            (\.filterHeight, filterHeight), (\.filterWidth, filterWidth), (\.stride, stride), (\.padding, padding),
        ]
        let modified = overrides.contains { $0.1 != nil }
        return try Presets.named(layer ?? "tiny").map { preset in
            var l = preset
            for (path, value) in overrides { if let v = value { l.shape[keyPath: path] = v } }
            if modified { l.name = layer == nil ? "custom" : l.name + "*" }
            try l.shape.validate()
            return l
        }
    }

    func run() throws {
        if !(0...1).contains(sparsity) { throw ParameterError("sparsity", sparsity, allowed: "0...1") }
        let d = design.design
        let config = d.array
        let layers = try self.layers()
        let mapper = d.mapper()
        for l in layers { try mapper.validate(l.shape) }
        let engine = analytic ? nil : try d.engine(initialState: .default)

        var results: [Result] = []
        for (index, l) in layers.enumerated() {
            let start = Date()
            let s = l.shape
            if let engine {
                let codes = config.operandCodes()
                let (input, weights) = ConvStimulus.random(s, codes: codes, sparsity: sparsity, seed: seed &+ UInt64(index))
                let run = try engine.run(s, input: input, weights: weights)
                let points = ConvCheck.errorPoints(s, input: input, weights: weights, got: run.got, array: config)
                let error = ErrorSummary(reference: points.reference, actual: points.actual)
                results.append(result(l, d, mode: "cosim", cycles: run.cycles, counts: run.hardwareCounts, analytic: run.analyticCounts,
                                      run: run, error: error, start: start))
            } else {
                let input = sparsity > 0 ? ConvStimulus.random(s, codes: config.operandCodes(),
                                                               sparsity: sparsity, seed: seed &+ UInt64(index)).input : nil
                let counts = mapper.counts(s, input: input)
                results.append(result(l, d, mode: "analytic", cycles: mapper.cycles(s), counts: counts, analytic: counts,
                                      run: nil, error: nil, start: start))
            }
        }
        if json {
            print(results.count == 1 ? try encodeJSON(results[0]) : try encodeJSON(results))
        } else {
            report(results, d)
        }
        if results.contains(where: \.failed) { throw ExitCode(1) }
    }

    func result(_ l: ConvLayer, _ d: any DataflowDesign, mode: String, cycles: Int, counts: DataMovement, analytic: DataMovement,
                run: ConvRun?, error: ErrorSummary?, start: Date) -> Result {
        let c = d.array
        return Result(design: AnyDesign(d), layer: l, mode: mode, cycles: cycles, macs: l.shape.macs, performedMACs: counts.macs, gatedMACs: counts.gatedMACs,
               utilization: Double(l.shape.macs) / Double(max(cycles, 1) * c.rows * c.cols),
               mismatches: run?.mismatches, firstMismatch: run?.firstMismatch, waveform: run?.waveform, error: error,
               hardwareCounts: run?.hardwareCounts, analyticCounts: analytic, countsAgree: run.map { $0.hardwareCounts == $0.analyticCounts },
               energy: Energy(counts, c, layerMACs: l.shape.macs), wallSeconds: Date().timeIntervalSince(start))
    }

    func report(_ results: [Result], _ d: any DataflowDesign) {
        let c = d.array
        let step = c.rounding == .stochastic && c.lfsrStep == .one ? " (one LFSR step per output)" : ""
        print("\(d.dataflow) array \(c.rows)x\(c.cols), \(c.format == .fixed ? "" : "format \(c.format), ")activations \(c.a), weights \(c.b), acc \(c.accumulator), "
              + "outputs \(c.output), \(c.rounding) rounding\(step)\(c.relu ? ", ReLU" : ""), zero gating \(c.zeroGating ? "on" : "off")")
        func shape(_ s: ConvShape) -> String {
            "\(s.batch)x\(s.channels)x\(s.height)x\(s.width) * \(s.filters)x\(s.filterHeight)x\(s.filterWidth) /\(s.stride) p\(s.padding)"
        }
        print(table(["layer", "N x C x H x W * M x R x S /U pP", "mode", "cycles", "MACs", "gated", "util", "mismatches", "counts hw = analytic", "pJ/MAC", "total uJ"],
                    results.map { r in
                        [r.layer.name, shape(r.layer.shape), r.mode, String(r.cycles), String(r.macs), String(r.gatedMACs),
                         String(format: "%.1f%%", r.utilization * 100), r.mismatches.map(String.init) ?? "-",
                         r.countsAgree.map { $0 ? "yes" : "NO" } ?? "-", String(format: "%.2f", r.energy.pJPerMAC),
                         String(format: "%.4g", r.energy.totalPJ / 1e6)]
                    }))
        print("\n" + table(["layer", "counts", "MACs", "gated", "RF reads", "RF writes", "PE-PE", "GB reads", "GB writes", "DRAM reads", "DRAM writes"],
                           results.flatMap { r in
                               ([("analytic", r.analyticCounts)] + (r.hardwareCounts.map { [("hardware", $0)] } ?? [])).map { label, d in
                                   [r.layer.name, label] + [d.macs, d.gatedMACs, d.registerFileReads, d.registerFileWrites, d.peToPE,
                                                            d.bufferReads, d.bufferWrites, d.dramReads, d.dramWrites].map { String($0) }
                               }
                           }))
        let parts = ["mac", "registerFile", "peToPE", "buffer", "dram"]
        print("\n" + table(["layer (energy, uJ)"] + parts + ["total"], results.map { r in
            [r.layer.name] + (parts.map { r.energy.breakdown[$0] ?? 0 } + [r.energy.totalPJ]).map { String(format: "%.4g", $0 / 1e6) }
        }))
        if let e = results.first(where: { $0.error != nil })?.error {
            print(String(format: "\nerror vs Double (first layer): RMSE %.4f, bias %+.4f, max %.4f", e.rmse, e.meanError, e.maxAbsError))
        }
        if let f = results.first(where: \.failed) {
            print("\nFAILED \(f.layer.name): \(f.firstMismatch ?? "hardware and analytic counts differ")\nwaveform: \(f.waveform ?? "not written")")
        }
    }
}

/// A design of any dataflow as JSON: its own encoding (the dataflow, the shared fields, its own).
struct AnyDesign: Encodable {
    let design: any DataflowDesign
    init(_ design: any DataflowDesign) { self.design = design }
    func encode(to encoder: Encoder) throws { try design.encode(to: encoder) }
}
