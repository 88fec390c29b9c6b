import Conv
import Cores
import Dataflows
import Foundation
import Golden
import HDL
import Model
import Runtime
import Verification

/// The fixed convolution workload every `conv` point runs (docs/SWEEP.md, "The convolution
/// workload"): the same layers and, for every design with the same formats, the same tensors.
public struct ConvWorkload: Hashable, Sendable, Codable {
    public var layers: [ConvLayer]
    /// Fraction of zero activations: about half, as ReLU leaves them, so zero gating matters.
    public var sparsity: Double
    public var seed: UInt64

    public init(layers: [ConvLayer], sparsity: Double, seed: UInt64) {
        self.layers = layers
        self.sparsity = sparsity
        self.seed = seed
    }

    /// A 3×3 padding-1 layer (8×8 input, 512 outputs) and a 3×3 stride-2 padding-1 layer
    /// (9×9 input, 150 outputs), both with 16 channels: C·R·S = 144, so with half the
    /// activations zero the sums have a standard deviation of about 11, like the GEMM
    /// workload's at K = 64, and the grid's output formats (docs/SWEEP.md, "Fractional bits")
    /// fit them as well. Padding, stride and folding on every array, yet a few seconds of
    /// simulation even on a 2×2 array.
    public static let standard = ConvWorkload(layers: [
        ConvLayer(name: "conv3x3", shape: ConvShape(channels: 16, filters: 8, height: 8, width: 8,
                                                    filterHeight: 3, filterWidth: 3, padding: 1)),
        ConvLayer(name: "conv3x3-stride2", shape: ConvShape(channels: 16, filters: 6, height: 9, width: 9,
                                                            filterHeight: 3, filterWidth: 3, stride: 2, padding: 1)),
    ], sparsity: 0.5, seed: 1)

    /// N·M·E·F·C·R·S over the layers: the useful MACs, gated or not.
    public var macs: Int { layers.reduce(0) { $0 + $1.shape.macs } }

    /// Layer i's activations (NCHW) and weights (MCRS) as codes of the design's number format
    /// (fixed point: integers of its formats, as before formats), uniform over the codes.
    public func stimulus(_ i: Int, _ c: ArrayConfig) -> (input: [Int], weights: [Int]) {
        ConvStimulus.random(layers[i].shape, codes: c.operandCodes(), sparsity: sparsity, seed: seed &+ UInt64(i))
    }
}

extension SweepPoint {
    /// The PE array a convolution point builds: the grid's design fields (size, formats,
    /// accumulator, rounding, LFSR), zero gating on, no ReLU (so the error statistics compare
    /// with the exact convolution), register files at their defaults or, when a layer's filter
    /// row is wider, that width (the row-stationary PE holds a filter row and an input window).
    public func design(for workload: ConvWorkload = .standard) -> (any DataflowDesign)? {
        var array = config
        array.relu = false
        array.zeroGating = true
        let widest = workload.layers.map(\.shape.filterWidth).max() ?? 1
        var storage = PEStorage()
        storage.weightRegisters = max(storage.weightRegisters, widest)
        storage.inputRegisters = max(storage.inputRegisters, widest)
        return Dataflows.design(dataflow, array, storage: storage)
    }
}

extension Runner {
    static func runConv(_ point: SweepPoint, _ options: RunOptions, _ r: inout PointResult, _ stage: inout String) throws {
        let w = options.convWorkload
        guard let d = point.design(for: w) else {
            throw SweepUsageError(flag: "dataflow", value: point.dataflow.rawValue, allowed: Grid.allowedDataflows(.conv))
        }
        let c = d.array
        // The dataflow's own limits (array sides, register files, strides) refuse the design here.
        let mapper = d.mapper()
        for l in w.layers { try mapper.validate(l.shape) }
        let stimuli = w.layers.indices.map { w.stimulus($0, c) }
        r.energy = convEnergy(c, w, stimuli: stimuli, mapper: mapper)

        let top = try generate({ try d.module() }, &r, &stage)

        stage = "simulate"
        let t = Date()
        try simulateConv(d, w, stimuli: stimuli, into: &r)
        r.simulateSeconds = Date().timeIntervalSince(t)

        if options.synthesize {
            stage = "synthesis"
            // Every dataflow rounds each column in a ROUND unit of the systolic array's kind
            // (same accumulator, output and column-0 LFSR seed); report its cost when present.
            let unit = c.rounder(column: 0).moduleName
            r.synthesis = try SynthesisRunner.metrics(for: top, options: .init(unit: contains(top, module: unit) ? unit : nil,
                                                                                pe: peModule(of: top, c, excluding: unit)))
        }
        try placeAndRoute(top, options, &r, &stage)
    }

    static func contains(_ top: ModuleDefinition, module name: String) -> Bool {
        top.name == name || top.instances.contains { contains($0.definition, module: name) }
    }

    /// Runs the layers back to back on one engine (the LFSRs carry on), every output checked
    /// by the engine against `ConvModel` and `RounderModel`, the error measured against the
    /// exact real convolution, and the array's event counters against the mapper's.
    static func simulateConv(_ d: any DataflowDesign, _ w: ConvWorkload, stimuli: [(input: [Int], weights: [Int])],
                             into r: inout PointResult) throws {
        let c = d.array
        let engine = try d.engine(initialState: .default)
        var runs: [ConvRun] = []
        var reference: [Double] = [], actual: [Double] = []
        for (l, (input, weights)) in zip(w.layers, stimuli) {
            let run = try engine.run(l.shape, input: input, weights: weights)
            runs.append(run)
            let points = ConvCheck.errorPoints(l.shape, input: input, weights: weights, got: run.got, array: c)
            reference += points.reference
            actual += points.actual
        }
        let slots = c.rows * c.cols
        r.cycles = runs.reduce(0) { $0 + $1.cycles }
        r.macs = w.macs
        r.mismatches = runs.reduce(0) { $0 + $1.mismatches }
        r.utilization = r.cycles > 0 ? Double(r.macs) / Double(r.cycles * slots) : 0
        r.simulatedMACsPerSecond = Double(r.cycles * slots) / max(runs.reduce(0) { $0 + $1.wallSeconds }, 1e-9)
        let error = ErrorSummary(reference: reference, actual: actual)
        (r.rmse, r.maxAbsError, r.bias, r.sqnrDB) = (error.rmse, error.maxAbsError, error.meanError, error.sqnrDB)

        let hardware = runs.map(\.hardwareCounts).reduce(DataMovement(), +)
        let analytic = runs.map(\.analyticCounts).reduce(DataMovement(), +)
        r.performedMACs = hardware.macs
        r.gatedMACs = hardware.gatedMACs
        r.countsAgree = hardware == analytic

        var problems: [String] = []
        if let (layer, bad) = zip(w.layers, runs).first(where: { $0.1.mismatches > 0 }) {
            var text = "\(layer.name): \(bad.mismatches) mismatches; first: \(bad.firstMismatch ?? "?")"
            if let wave = bad.waveform { text += "; waveform \(wave)" }
            problems.append(text)
        }
        if hardware != analytic {
            problems.append("hardware and analytic counts differ: " + countDifferences(hardware, analytic))
        }
        if !problems.isEmpty {
            r.status = .fail
            r.message = clip(problems.joined(separator: "; "))
        }
    }

    /// "macs 10 (analytic 12), ..." for every field that differs.
    static func countDifferences(_ hardware: DataMovement, _ analytic: DataMovement) -> String {
        zip(Mirror(reflecting: hardware).children, Mirror(reflecting: analytic).children).compactMap { h, a in
            guard let name = h.label, let x = h.value as? Int, let y = a.value as? Int, x != y else { return nil }
            return "\(name) \(x) (analytic \(y))"
        }.joined(separator: ", ")
    }

    /// The workload's energy from the mapper's counts with the actual zeros gated, activations
    /// and (ternary, pow2) weights (the counts the simulation checks the hardware against): the
    /// sum over its layers; pJ/MAC = total / the layers' MACs, so gated MACs lower it.
    static func convEnergy(_ c: ArrayConfig, _ w: ConvWorkload, stimuli: [(input: [Int], weights: [Int])],
                           mapper: any DataflowMapper) -> EnergyEstimate {
        let model = EnergyModel(Datapath(c))
        var total = 0.0
        var breakdown: [String: Double] = [:]
        for (l, s) in zip(w.layers, stimuli) {
            // A codebook's table read is charged once per weight of the layer: a lower bound
            // (the mappers do not count weight words apart from activations in the buffer
            // reads; WS and OS load a weight more than once), docs/ENERGY.md.
            let e = model.estimate(mapper.counts(l.shape, input: s.input, weights: s.weights), layerMACs: l.shape.macs,
                                   weightLoads: l.shape.weightCount)
            total += e.totalPicojoules
            breakdown.merge(e.breakdown, uniquingKeysWith: +)
        }
        return EnergyEstimate(picojoulesPerMAC: total / Double(max(w.macs, 1)), totalPicojoules: total, breakdown: breakdown)
    }
}
