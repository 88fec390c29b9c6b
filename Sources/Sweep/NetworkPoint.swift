import Conv
import Cores
import Cosim
import Dataflows
import Foundation
import HDL
import Model
import Networks
import Runtime
import Timing
import Verification
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Network workloads (`--workload lenet5`, `--workload mlp`; docs/SWEEP.md, "Networks"): each
/// point quantizes the shipped float weights in its format, measures the golden integer
/// network's accuracy on the test images, co-simulates some of them on the generated arrays and
/// pooling cores (every output checked), and synthesizes the network's distinct arrays.
public enum NetworkWorkload {
    public static let defaultAccuracyImages = 10_000
    public static let defaultHardwareImages = 32
    public static let accuracyImagesRange = 1...10_000
    public static let hardwareImagesRange = 1...10_000
    /// Images per hardware batch (`NetworkHardware.batch`).
    public static let batch = 16

    /// What `--format` accepts with a network workload, for refusals.
    public static let allowedFormats = "comma-separated " + QuantizationScheme.allowedNames

    /// `--pnr` for a network: each of its distinct arrays placed and routed on `device` (one
    /// clock for all: the slowest array's Fmax and critical path), the resources summed. An
    /// array not placed (more multipliers than the device has) makes the network not placed,
    /// with that array's reason.
    static func placeAndRoute(_ tops: [ModuleDefinition], device: Device) throws -> PlaceAndRouteMetrics? {
        combined(try tops.map { try PlaceAndRoute.metrics(for: $0, options: .init(device: device)) })
    }

    /// The network's figures from its arrays' (`placeAndRoute`).
    static func combined(_ all: [PlaceAndRouteMetrics]) -> PlaceAndRouteMetrics? {
        if let skipped = all.first(where: { $0.notApplicable != nil }) { return skipped }
        guard var slowest = all.min(by: { ($0.fmaxMHz ?? 0) < ($1.fmaxMHz ?? 0) }) else { return nil }
        func sum(_ v: (PlaceAndRouteMetrics) -> Int?) -> Int? { all.contains { v($0) == nil } ? nil : all.map { v($0)! }.reduce(0, +) }
        slowest.logicCells = sum(\.logicCells)
        slowest.flipFlops = sum(\.flipFlops)
        slowest.mult18 = all.map(\.mult18).reduce(0, +)
        slowest.bram = sum(\.bram)
        slowest.synthCells = all.reduce(into: [:]) { $0.merge($1.synthCells, uniquingKeysWith: +) }
        slowest.synthSeconds = all.map(\.synthSeconds).reduce(0, +)
        slowest.pnrSeconds = all.map(\.pnrSeconds).reduce(0, +)
        slowest.cached = all.allSatisfy { $0.cached ?? false }
        return slowest
    }

    /// The quantization of a network point.
    public static func scheme(_ p: SweepPoint) throws -> QuantizationScheme {
        guard let s = QuantizationScheme(p.schemeName) else {
            throw SweepUsageError(flag: "format", value: "'\(p.schemeName)'", allowed: allowedFormats)
        }
        return s
    }

    /// A network point's design fields: the array size, rounding and LFSR; the format; A at
    /// the scheme's activation bits (`fixed<N>`: N, the others 8). The arrays the network
    /// needs are derived from the quantized network when the point runs.
    public static func config(rows: Int, cols: Int, rounding: RoundingMode, lfsrStep: LFSRDraw, format: SweepFormat,
                              fixedBits: Int) -> ArrayConfig {
        switch format {
        case .fixed(let bits):
            return Grid.config(rows: rows, cols: cols, inputBits: bits ?? fixedBits, rounding: rounding, lfsrStep: lfsrStep)
        case .coded:
            return Grid.config(rows: rows, cols: cols, inputBits: 8, rounding: rounding, lfsrStep: lfsrStep, format: format)
        }
    }

    /// The sub-grid's weights (a hash of the shipped weights file) and image counts.
    static func runSpec(_ g: SubGrid) -> NetworkRunSpec {
        NetworkRunSpec(weights: weightsTag(g.workload.rawValue), accuracyImages: g.accuracyImages ?? defaultAccuracyImages,
                       hardwareImages: g.hardwareImages ?? defaultHardwareImages)
    }

    /// FNV-1a (64 bits, hex) of the model's shipped weights file, or "missing".
    public static func weightsTag(_ model: String) -> String {
        guard let data = FileManager.default.contents(atPath: ModelStore.shippedWeightsPath(model)) else { return "missing" }
        return fnv1a(data)
    }

    static func fnv1a(_ data: Data) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in data {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01B3
        }
        return String(h, radix: 16)
    }

    /// `ModelStore.quantized`, one process at a time per model and scheme (an exclusive lock
    /// file in the model cache), so two points of one scheme (nearest and stochastic rounding)
    /// do not fine-tune it twice: the second finds it cached.
    static func quantized(_ spec: NetworkSpec, scheme: QuantizationScheme, weights: WeightsFile) throws -> QuantizedNetwork {
        guard scheme.needsFineTuning else { return try ModelStore.quantized(spec, scheme: scheme, weights: weights) }
        let dir = ModelStore.cacheDirectory
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let fd = open("\(dir)/.lock-\(spec.name)-\(scheme.name)", O_CREAT | O_RDWR, 0o644)
        if fd >= 0 { _ = flock(fd, LOCK_EX) }
        defer { if fd >= 0 { _ = flock(fd, LOCK_UN); close(fd) } }
        return try ModelStore.quantized(spec, scheme: scheme, weights: weights) { line in
            FileHandle.standardError.write(Data("\(spec.name) \(line)\n".utf8))
        }
    }
}

/// What a network point measured (docs/SWEEP.md, "Networks").
public struct NetworkMetrics: Hashable, Sendable, Codable {
    public var model: String
    public var scheme: String
    /// Code widths of the array running the stage with the most MACs (the hidden layers of a
    /// BNN, whose first and last layers keep 8-bit activations).
    public var weightBits: Int
    public var activationBits: Int
    /// Distinct arrays the network needs (their area is summed in the point's synthesis).
    public var arrays: Int
    /// The golden integer network (bit-exact with the hardware) on the first `accuracyImages` test images.
    public var accuracy: Double
    public var accuracyImages: Int
    /// The float network on the same images, and on all 10,000 (the weights file's record).
    public var floatAccuracy: Double
    public var floatAccuracyRecorded: Double
    /// Images co-simulated on the hardware (every output compared), and its accuracy on them.
    public var hardwareImages: Int
    public var hardwareAccuracy: Double
    /// Over the co-simulated images: the energy model's pJ (arrays, buffer, DRAM) and cycles.
    public var energyPerImagePJ: Double
    public var cyclesPerImage: Double
    /// The pooling/post-processing cores, synthesized apart from the arrays.
    public var poolLUTs: Int?
    public var poolFlipFlops: Int?
    public var fineTuned: Bool
    public var quantizeSeconds: Double
    public var accuracySeconds: Double

    /// Accuracy lost against float on the same images, percentage points.
    public var accuracyLossPoints: Double { 100 * (floatAccuracy - accuracy) }
}

extension Runner {
    static func runNetwork(_ point: SweepPoint, _ options: RunOptions, _ r: inout PointResult, _ stage: inout String) throws {
        let model = point.workload.rawValue
        guard let spec = NetworkSpec.preset(model), let run = point.network else {
            throw SweepUsageError(flag: "workload", value: model, allowed: "a network point with its weights and image counts (lenet5, mlp)")
        }
        stage = "weights"
        let path = ModelStore.shippedWeightsPath(model)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NetworkError("no float weights at \(path) (make models, or ACCELGEN_MODELS)")
        }
        guard NetworkWorkload.fnv1a(data) == run.weights else {
            throw NetworkError("\(path) changed since the plan was made (weights \(NetworkWorkload.fnv1a(data)), planned \(run.weights)): rerun the sweep")
        }
        let weights = try WeightsFile.decode(data, path: path)
        let scheme = try NetworkWorkload.scheme(point)

        stage = "quantize"
        var t = Date()
        let network = try NetworkWorkload.quantized(spec, scheme: scheme, weights: weights)
        let quantizeSeconds = Date().timeIntervalSince(t)

        stage = "accuracy"
        t = Date()
        let test = try FashionMNIST.load(.test)
        let n = min(run.accuracyImages, test.count)
        let pixels = test.shape.count
        let images = (0..<n).map { Array(test.bytes[$0 * pixels..<($0 + 1) * pixels]) }
        let labels = Array(test.labels[0..<n])
        let c = point.config
        let hardware = NetworkHardware(rows: c.rows, cols: c.cols, rounding: c.rounding, lfsrStep: c.lfsrStep, seed: 1,
                                       batch: NetworkWorkload.batch)
        let (configs, arrayOfStage) = try hardware.arrays(for: network)
        // The golden rounder needs LFSR bits for every dropped bit (a precondition that would
        // kill the worker): refuse such a design with its reason instead.
        for (i, config) in configs.enumerated() where config.rounding == .stochastic {
            let shift = network.stages.indices.filter { arrayOfStage[$0] == i }.map { network.stages[$0].shift }.max() ?? 0
            if config.lfsrWidth < shift {
                throw NetworkError("array \(i) (\(config.format), A \(config.a.bits) bits) drops up to \(shift) bits but NetworkHardware.arrays gives it a \(config.lfsrWidth)-bit LFSR: stochastic rounding needs one at least as wide as the largest shift")
            }
        }
        let classes = try hardware.goldenClasses(network, images: images)
        let accuracy = Double(zip(classes, labels).filter { $0 == $1 }.count) / Double(max(n, 1))
        let floatAccuracy = try Training.accuracy(spec, parameters: weights.parameters, images: test.prefix(n))
        let accuracySeconds = Date().timeIntervalSince(t)

        let main = network.stages.indices.max { network.stages[$0].layer.macs < network.stages[$1].layer.macs } ?? 0
        var metrics = NetworkMetrics(model: model, scheme: scheme.name, weightBits: configs[arrayOfStage[main]].bCode.width,
                                     activationBits: configs[arrayOfStage[main]].aCode.width, arrays: configs.count,
                                     accuracy: accuracy, accuracyImages: n, floatAccuracy: floatAccuracy,
                                     floatAccuracyRecorded: weights.header.testAccuracy, hardwareImages: 0, hardwareAccuracy: 0,
                                     energyPerImagePJ: 0, cyclesPerImage: 0, fineTuned: scheme.needsFineTuning,
                                     quantizeSeconds: quantizeSeconds, accuracySeconds: accuracySeconds)
        r.network = metrics

        // Lint and build every array (the harnesses then find the builds cached): the systolic
        // arrays, or another dataflow's array for each stage's shift.
        let flow = point.dataflow
        let engines: NetworkCheck.EngineFactory? = flow == .os ? nil : { config in
            try Dataflows.design(flow, config)!.engine(initialState: .default)
        }
        let designs: [() throws -> ModuleDefinition] = flow == .os
            ? configs.map { config in { try Systolic.module(config) } }
            : try NetworkCheck.layerArrays(network, hardware: hardware).map { config in { try Dataflows.design(flow, config)!.module() } }
        var tops: [ModuleDefinition] = []
        var generateSeconds = 0.0, buildSeconds = 0.0
        for design in designs {
            tops.append(try generate(design, &r, &stage))
            generateSeconds += r.generateSeconds
            buildSeconds += r.buildSeconds
        }
        (r.generateSeconds, r.buildSeconds) = (generateSeconds, buildSeconds)

        stage = "simulate"
        t = Date()
        let h = min(run.hardwareImages, n)
        let check = try NetworkCheck(network, hardware: hardware, engines: engines)
        let result = try check.run(images: Array(images[0..<h]), labels: Array(labels[0..<h]))
        r.simulateSeconds = Date().timeIntervalSince(t)
        r.cycles = result.stages.map(\.cycles).reduce(0, +)
        r.macs = result.stages.map(\.macs).reduce(0, +)
        r.mismatches = result.mismatches
        r.utilization = r.cycles > 0 ? Double(r.macs) / Double(r.cycles * c.rows * c.cols) : 0
        r.simulatedMACsPerSecond = Double(r.cycles * c.rows * c.cols) / max(result.wallSeconds, 1e-9)
        var breakdown: [String: Double] = [:]
        for (s, st) in result.stages.enumerated() {
            breakdown.merge(EnergyModel(Datapath(configs[arrayOfStage[s]])).estimate(st.counts, layerMACs: st.macs).breakdown,
                            uniquingKeysWith: +)
        }
        let total = result.stages.map(\.energyPJ).reduce(0, +)
        r.energy = EnergyEstimate(picojoulesPerMAC: r.macs > 0 ? total / Double(r.macs) : 0, totalPicojoules: total, breakdown: breakdown)
        metrics.hardwareImages = result.images
        metrics.hardwareAccuracy = result.accuracy
        metrics.energyPerImagePJ = result.energyPerImagePJ
        metrics.cyclesPerImage = result.cyclesPerImage
        r.network = metrics
        if result.mismatches > 0 || result.images < h {
            r.status = .fail
            var text = "\(result.mismatches) mismatches after \(result.images) of \(h) images; first: \(result.firstMismatch ?? "?")"
            if let wave = result.waveform { text += "; waveform \(wave)" }
            r.message = clip(text)
            return
        }
        // The accuracy is the golden network's: on the co-simulated images it must classify
        // as the hardware did (`classMismatch` says where that holds).
        if let mismatch = check.classMismatch(golden: Array(classes.prefix(h)), run: result) {
            r.status = .fail
            r.mismatches = 1
            r.message = mismatch
            return
        }

        if options.synthesize {
            stage = "synthesis"
            var sum: SynthesisMetrics?
            for top in tops {
                let m = try SynthesisRunner.metrics(for: top)
                guard var s = sum else { sum = m; continue }
                s.genericCells += m.genericCells
                s.luts += m.luts
                s.flipFlops += m.flipFlops
                s.dsp48 += m.dsp48
                s.bram += m.bram
                s.logicDepth = max(s.logicDepth, m.logicDepth)
                s.seconds += m.seconds
                s.lutsAsMemory = (s.lutsAsMemory ?? 0) + (m.lutsAsMemory ?? 0)
                s.xilinxCells = (s.xilinxCells ?? [:]).merging(m.xilinxCells ?? [:], uniquingKeysWith: +)
                s.cached = (s.cached ?? false) && (m.cached ?? false)
                sum = s
            }
            r.synthesis = sum
            var pools: [PoolingConfig] = []
            for st in network.stages where !pools.contains(PoolingConfig(stage: st)) { pools.append(PoolingConfig(stage: st)) }
            var luts = 0, ffs = 0
            for p in pools {
                let m = try SynthesisRunner.metrics(for: try Pooling.module(p))
                luts += m.luts
                ffs += m.flipFlops
            }
            (metrics.poolLUTs, metrics.poolFlipFlops) = (luts, ffs)
            r.network = metrics
        }
        if let device = options.pnr {
            stage = "place and route"
            r.pnr = try NetworkWorkload.placeAndRoute(tops, device: device)
        }
    }
}

// MARK: - Pareto front

public enum Pareto {
    /// Indices of the points no other point beats: none has a cost as low or lower and an
    /// accuracy as high or higher, with one of the two strictly better. Ordered by cost
    /// (ties: higher accuracy first); of identical points the first is kept.
    public static func front(_ points: [(cost: Double, accuracy: Double)]) -> [Int] {
        let order = points.indices.sorted { i, j in
            let (a, b) = (points[i], points[j])
            return a.cost != b.cost ? a.cost < b.cost : a.accuracy != b.accuracy ? a.accuracy > b.accuracy : i < j
        }
        var front: [Int] = []
        var best = -Double.infinity
        for i in order where points[i].accuracy > best {
            front.append(i)
            best = points[i].accuracy
        }
        return front
    }
}

// MARK: - Report: plots and the quantization table

extension Report {
    /// The network points of `results`, grouped by model in order of appearance.
    static func networkModels(_ results: [PointResult]) -> [(model: String, points: [PointResult])] {
        var order: [String] = []
        var groups: [String: [PointResult]] = [:]
        for r in results.sorted(by: { $0.point.index < $1.point.index }) where r.point.workload.isNetwork {
            let m = r.point.workload.rawValue
            if groups[m] == nil { order.append(m) }
            groups[m, default: []].append(r)
        }
        return order.map { ($0, groups[$0]!) }
    }

    static func networkPlotFiles(_ model: String) -> [String] {
        ["\(model)-accuracy-luts.svg", "\(model)-accuracy-energy.svg", "\(model)-accuracy-throughput.svg"]
    }

    /// A label for a network point in plots and tables: the scheme, and the rounding when the
    /// model's points have several.
    static func networkLabel(_ r: PointResult, severalRoundings: Bool, severalSizes: Bool) -> String {
        var s = r.network?.scheme ?? r.point.schemeName
        if severalRoundings { s += " \(r.point.config.rounding.rawValue.prefix(1))" }
        if severalSizes { s += " \(size(r.point.config))" }
        return s
    }

    /// Passing points with the cost, and which of them are on the Pareto front (max accuracy, min cost).
    static func networkFront(_ points: [PointResult], cost: (PointResult) -> Double?) -> (points: [PointResult], front: Set<Int>) {
        let usable = points.filter { $0.status == .pass && $0.network != nil && cost($0) != nil }
        let indices = Pareto.front(usable.map { (cost: cost($0)!, accuracy: $0.network!.accuracy) })
        return (usable, Set(indices.map { usable[$0].point.index }))
    }

    static let networkLUTs: @Sendable (PointResult) -> Double? = { $0.synthesis.map { Double($0.luts) } }
    /// Throughput as a cost (lower is better): seconds per inference at the placed Fmax.
    static let networkSecondsPerInference: @Sendable (PointResult) -> Double? = { r in r.inferencesPerSecond.map { 1 / $0 } }
    static let networkEnergy: @Sendable (PointResult) -> Double? = { r in
        r.network.flatMap { $0.hardwareImages > 0 ? $0.energyPerImagePJ / 1000 : nil }
    }

    /// Accuracy against LUTs and against energy per image, per model: every passing point
    /// labelled with its scheme, the Pareto front connected, the float accuracy dashed.
    static func networkPlotSpecs(_ all: [PointResult]) -> [Spec] {
        var specs: [Spec] = []
        for (model, points) in networkModels(all) {
            let roundings = Set(points.map(\.point.config.rounding)).count > 1
            let sizes = Set(points.map { size($0.point.config) }).count > 1
            let float = points.first?.network.map { 100 * $0.floatAccuracy }
            let images = points.first?.network?.accuracyImages ?? 0
            // The x axis is the cost, or for throughput its inverse (the front is found on the cost).
            let identity: @Sendable (Double) -> Double = { $0 }
            let axes: [(file: String, cost: @Sendable (PointResult) -> Double?, x: @Sendable (Double) -> Double, xlabel: String, what: String)] = [
                (networkPlotFiles(model)[0], networkLUTs, identity, "LUTs (synth_xilinx, the network's arrays)", "LUTs"),
                (networkPlotFiles(model)[1], networkEnergy, identity, "energy per image (nJ, 45 nm model)", "energy per image"),
                (networkPlotFiles(model)[2], networkSecondsPerInference, { 1 / $0 },
                 "inferences per second (slowest array's Fmax, nextpnr-ecp5)", "inferences per second"),
            ]
            for (file, cost, x, xlabel, what) in axes {
                let (usable, front) = networkFront(points, cost: cost)
                guard !usable.isEmpty else { continue }
                var s = header
                s += "set key bottom right box opaque\n"
                s += "set output \(quoted(file))\n"
                s += "set title \(quoted("\(model): accuracy against \(what)"))\n"
                s += "set xlabel \(quoted(xlabel))\nset ylabel \(quoted("test accuracy (%), \(images) images"))\n"
                s += "set logscale x 2\nset offsets graph 0.08, graph 0.08, graph 0.08, graph 0.08\n"
                if let float {
                    s += "set arrow from graph 0, first \(num(float)) to graph 1, first \(num(float)) nohead dt 2 lc rgb \"#777777\"\n"
                    s += "set label \(quoted(String(format: "float %.2f%%", float))) at graph 0.02, first \(num(float)) offset 0,0.7 textcolor rgb \"#555555\"\n"
                }
                s += "$all << EOD\n"
                for r in usable {
                    s += "\(num(x(cost(r)!))) \(num(100 * r.network!.accuracy)) \(quoted(networkLabel(r, severalRoundings: roundings, severalSizes: sizes)))\n"
                }
                s += "EOD\n$front << EOD\n"
                let frontPoints = usable.filter { front.contains($0.point.index) }.sorted { (cost($0)!, -$0.network!.accuracy) < (cost($1)!, -$1.network!.accuracy) }
                for r in frontPoints { s += "\(num(x(cost(r)!))) \(num(100 * r.network!.accuracy))\n" }
                s += "EOD\n"
                s += "plot $front using 1:2 with linespoints lt 2 pt 6 ps 1.8 title \"Pareto front\", \\\n"
                s += "     $all using 1:2 with points lt 1 pt 7 ps 0.9 title \"points\", \\\n"
                s += "     $all using 1:2:3 with labels offset 0,0.8 font \",9\" notitle\n"
                specs.append(Spec(plot: Plot(file: file, title: "\(model): accuracy against \(what)",
                                             caption: "Test accuracy of the golden integer network (bit-exact with the co-simulated hardware) on \(images) Fashion-MNIST test images against \(xlabel); the Pareto front (highest accuracy for the cost) connected, the float network dashed."),
                                  script: s))
            }
        }
        return specs
    }

    /// The quantization table (docs/NETWORKS.md, "Quantization table"), one per model and array
    /// size: a float row, then one row per point.
    public static func networkTables(_ results: [PointResult]) -> String {
        var s = ""
        for (model, points) in networkModels(results) {
            let lutFront = networkFront(points, cost: networkLUTs).front
            let energyFront = networkFront(points, cost: networkEnergy).front
            let speedFront = networkFront(points, cost: networkSecondsPerInference).front
            var sizes: [String] = []
            for r in points where !sizes.contains(size(r.point.config)) { sizes.append(size(r.point.config)) }
            let first = points.first { $0.network != nil }?.network
            for sz in sizes {
                let rows = points.filter { size($0.point.config) == sz }
                s += "### \(model) on \(sz.replacingOccurrences(of: "x", with: "×")) arrays\n\n"
                if let f = first {
                    s += "Accuracy of the golden integer network (bit-exact with the hardware) on the first \(f.accuracyImages) Fashion-MNIST test images; "
                    s += "loss = float − quantized on the same images, in percentage points (float recorded on all 10,000: \(String(format: "%.2f%%", 100 * f.floatAccuracyRecorded))). "
                }
                s += "Bits are the code widths of the array running the layer with the most MACs. HW: test images co-simulated in Verilator, every output of every layer compared. "
                s += "Area: synth_xilinx of the network's distinct arrays, summed (pooling cores apart). Energy and cycles per image over the co-simulated images (45 nm model, docs/ENERGY.md). "
                s += "Pareto: on the front of accuracy against LUTs / against energy per image"
                // With --pnr: the slowest array's Fmax and the images per second it gives.
                let timed = rows.contains { $0.inferencesPerSecond != nil }
                s += timed ? " / against inferences per second. Fmax: the slowest of the network's arrays, placed and routed (nextpnr-ecp5).\n\n" : ".\n\n"
                let timing = timed ? " Fmax MHz | inferences / s |" : ""
                s += "| format | weight bits | activation bits | rounding | accuracy % | loss (points) | HW images (mismatches) | LUT | FF | DSP48 | BRAM | pool LUT | energy / image (nJ) | cycles / image |\(timing) Pareto |\n"
                s += "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\(timed ? "---:|---:|" : "")---|\n"
                if let f = first {
                    s += "| float | 32 | 32 | – | \(String(format: "%.2f", 100 * f.floatAccuracy)) | 0.00 | – | – | – | – | – | – | – | – |\(timed ? " – | – |" : "") |\n"
                }
                for r in rows {
                    guard let n = r.network else {
                        s += "| \(r.point.schemeName) | – | – | \(r.point.config.rounding) | – | – | \(r.status.rawValue) | – | – | – | – | – | – | – |\(timed ? " – | – |" : "") |\n"
                        continue
                    }
                    func opt(_ v: Int?) -> String { v.map(String.init) ?? "–" }
                    let hw = n.hardwareImages > 0
                    let syn = r.synthesis
                    let pareto = [lutFront.contains(r.point.index) ? "LUT" : nil, energyFront.contains(r.point.index) ? "energy" : nil,
                                  speedFront.contains(r.point.index) ? "speed" : nil]
                        .compactMap { $0 }.joined(separator: ", ")
                    let speed = !timed ? "" : " \(r.pnr?.fmaxMHz.map { String(format: "%.1f", $0) } ?? "–") | \(r.inferencesPerSecond.map { String(format: "%.0f", $0) } ?? "–") |"
                    let status = r.status == .pass ? "" : " \(r.status.rawValue)"
                    s += "| \(n.scheme) | \(n.weightBits) | \(n.activationBits) | \(r.point.config.rounding) | \(String(format: "%.2f", 100 * n.accuracy)) | "
                    s += "\(String(format: "%.2f", n.accuracyLossPoints)) | \(hw ? "\(n.hardwareImages) (\(r.mismatches))" : "–")\(status) | "
                    s += "\(opt(syn?.luts)) | \(opt(syn?.flipFlops)) | \(opt(syn?.dsp48)) | \(opt(syn?.bram)) | \(opt(n.poolLUTs)) | "
                    s += "\(hw ? String(format: "%.1f", n.energyPerImagePJ / 1000) : "–") | \(hw ? String(format: "%.0f", n.cyclesPerImage) : "–") |\(speed) \(pareto) |\n"
                }
                s += "\n"
                // Why a row has no figures: the point's first line.
                for r in rows where r.status != .pass {
                    let m = (r.message ?? "(no message)").split(separator: "\n").first.map(String.init) ?? ""
                    s += "- \(r.point.schemeName) \(r.point.config.rounding): \(r.status.rawValue): \(m.replacingOccurrences(of: "|", with: "\\|"))\n"
                }
                if rows.contains(where: { $0.status != .pass }) { s += "\n" }
            }
        }
        return s
    }

    /// The quantization table as JSON: per model and size the float row, then one object per point.
    public static func networkJSON(_ results: [PointResult]) throws -> String {
        var rows: [[String: Any]] = []
        for (model, points) in networkModels(results) {
            let lutFront = networkFront(points, cost: networkLUTs).front
            let energyFront = networkFront(points, cost: networkEnergy).front
            if let f = points.first(where: { $0.network != nil })?.network {
                rows.append(["model": model, "format": "float", "weight_bits": 32, "activation_bits": 32, "accuracy": f.floatAccuracy,
                             "accuracy_images": f.accuracyImages, "accuracy_loss_points": 0.0, "float_accuracy_recorded": f.floatAccuracyRecorded])
            }
            for r in points {
                var o: [String: Any] = ["model": model, "index": r.point.index, "key": r.point.key, "format": r.point.schemeName,
                                        "rows": r.point.config.rows, "cols": r.point.config.cols, "rounding": r.point.config.rounding.rawValue,
                                        "status": r.status.rawValue]
                if let n = r.network {
                    o["weight_bits"] = n.weightBits
                    o["activation_bits"] = n.activationBits
                    o["accuracy"] = n.accuracy
                    o["accuracy_images"] = n.accuracyImages
                    o["float_accuracy"] = n.floatAccuracy
                    o["accuracy_loss_points"] = n.accuracyLossPoints
                    o["fine_tuned"] = n.fineTuned
                    o["arrays"] = n.arrays
                    if n.hardwareImages > 0 {
                        o["hardware_images"] = n.hardwareImages
                        o["mismatches"] = r.mismatches
                        o["hardware_accuracy"] = n.hardwareAccuracy
                        o["energy_per_image_pj"] = n.energyPerImagePJ
                        o["cycles_per_image"] = n.cyclesPerImage
                    }
                    if let f = r.pnr?.fmaxMHz { o["fmax_mhz"] = f }
                    if let i = r.inferencesPerSecond { o["inferences_per_second"] = i }
                    if let l = n.poolLUTs { o["pool_luts"] = l }
                    if let f = n.poolFlipFlops { o["pool_flip_flops"] = f }
                }
                if let syn = r.synthesis {
                    o["luts"] = syn.luts
                    o["flip_flops"] = syn.flipFlops
                    o["dsp48"] = syn.dsp48
                    o["bram"] = syn.bram
                }
                o["pareto_luts"] = lutFront.contains(r.point.index)
                o["pareto_energy"] = energyFront.contains(r.point.index)
                if r.status != .pass, let m = r.message { o["message"] = m }
                rows.append(o)
            }
        }
        let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
