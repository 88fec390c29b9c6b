import Foundation
import Golden
import Plotting

/// `train --figure`: Gupta et al., "Deep learning with limited numerical precision", ICML 2015,
/// Figure 2 (test error against epochs, float and `<16, FL>` fixed point with round-to-nearest
/// and stochastic rounding), on Fashion-MNIST with every product in the array's arithmetic.
/// The plan is a list of named configurations; each runs in `DIR/<name>/` as a single
/// `train --arithmetic` run would (ArrayTrainingRun: checkpoint, resume, co-simulation), and
/// the figure's data and plots are drawn from their histories (docs/TRAINING.md).
public struct TrainingFigure: Sendable {
    public struct Configuration: Codable, Hashable, Sendable {
        /// The folder under `--out` and the row label: `mlp-float-s1`, `mlp-fl8-stochastic-s1`,
        /// `mlp-fl10-stochastic-one-s1` (see `name(of:)`).
        public var name: String
        public var options: ArrayTrainingOptions

        public init(_ options: ArrayTrainingOptions, name: String? = nil) {
            self.options = options
            self.name = name ?? Self.name(of: options)
        }

        /// Model, arithmetic (WL when not 16, FL, rounding, `one` for one-step LFSR draws,
        /// `satone` for the straight-through derivative of saturation, `rate` for 1/B in the learning rate), seed.
        public static func name(of o: ArrayTrainingOptions) -> String {
            guard o.arithmetic == .fixed else { return "\(o.model)-float-s\(o.seed)" }
            let wl = o.wordLength == 16 ? "" : "-wl\(o.wordLength)"
            let sat = o.saturationDerivative == .one ? "-satone" : ""
            let rate = o.batchMean == .rate ? "-rate" : ""
            return "\(o.model)\(wl)-fl\(o.fracLength)-\(o.rounding)\(o.lfsrDraw == .one ? "-one" : "")\(sat)\(rate)-s\(o.seed)"
        }
    }

    public var configurations: [Configuration]
    /// Overrides of every configuration's own value, for a quick look or a test (nil: keep it).
    /// A smaller `epochs` than a folder has finished draws the figure of the first epochs.
    public var epochs: Int?
    public var trainLimit: Int?
    public var testLimit: Int?

    public init(configurations: [Configuration], epochs: Int? = nil, trainLimit: Int? = nil, testLimit: Int? = nil) {
        self.configurations = configurations
        self.epochs = epochs
        self.trainLimit = trainLimit
        self.testLimit = testLimit
    }

    // MARK: - The plan

    /// What every configuration of `gupta2015` starts from.
    public static func base(_ model: String) -> ArrayTrainingOptions {
        var o = ArrayTrainingOptions()
        o.model = model
        o.wordLength = 16
        o.learningRate = 0.1
        o.batchSize = 100
        o.batchMean = .error
        o.rows = 16
        o.cols = 16
        o.epochs = model == "lenet5" ? 4 : 8
        return o
    }

    /// The figure `train --figure` runs.
    public static var gupta2015: TrainingFigure {
        var list: [ArrayTrainingOptions] = []
        /// `fl` nil: the same SGD in Double.
        func add(_ model: String, fl: Int?, _ rounding: RoundingMode = .stochastic, seed: UInt64 = 1, lfsrSeed: UInt64 = 1,
                 draw: LFSRDraw = .leap, saturation: SaturationDerivative = .zero, mean: BatchMean = .error) {
            var o = base(model)
            o.arithmetic = fl == nil ? .float : .fixed
            o.fracLength = fl ?? o.fracLength
            o.rounding = rounding
            o.seed = seed
            o.lfsrSeed = lfsrSeed
            o.lfsrDraw = draw
            o.saturationDerivative = saturation
            o.batchMean = mean
            list.append(o)
        }
        let roundings: [RoundingMode] = [.nearest, .stochastic]
        // MLP, seed 1: the figure's curves.
        add("mlp", fl: nil)
        for fl in [8, 10, 14] { for r in roundings { add("mlp", fl: fl, r) } }
        // A second seed (initial weights, image order and LFSR seeds): how large a gap is noise.
        add("mlp", fl: nil, seed: 2, lfsrSeed: 5)
        for fl in [8, 10] { for r in roundings { add("mlp", fl: fl, r, seed: 2, lfsrSeed: 5) } }
        // One-step LFSR draws (successive draws share D − 1 bits, the ROUND unit as first built).
        for fl in [8, 10] { add("mlp", fl: fl, .stochastic, draw: .one) }
        // FL 14 spans [−2, 2): with errors passed straight through the rails, as a backward pass
        // that ignores saturation would, against the true derivative of the clip above.
        add("mlp", fl: 14, .stochastic, saturation: .one)
        // FL 8 with 1/B in the learning rate: errors p − onehot (not /B) are 100 times larger, so
        // fewer of them round away; gradients are sums in <16, 1>.
        for r in roundings { add("mlp", fl: 8, r, mean: .rate) }
        // LeNet-5, seed 1.
        add("lenet5", fl: nil)
        for fl in [8, 10] { for r in roundings { add("lenet5", fl: fl, r) } }
        return TrainingFigure(configurations: list.map { Configuration($0) })
    }

    // MARK: - Selection

    /// The models of the plan, in plan order.
    public var models: [String] {
        var seen: [String] = []
        for c in configurations where !seen.contains(c.options.model) { seen.append(c.options.model) }
        return seen
    }

    /// The plan restricted to `models`.
    public func only(models: [String]) -> TrainingFigure {
        var f = self
        f.configurations = configurations.filter { models.contains($0.options.model) }
        return f
    }

    /// The configurations as they run: the plan's overrides applied.
    public var runs: [Configuration] {
        configurations.map { c in
            var c = c
            if let epochs { c.options.epochs = epochs }
            if let trainLimit { c.options.trainLimit = trainLimit }
            if let testLimit { c.options.testLimit = testLimit }
            return c
        }
    }

    // MARK: - Checks before anything is written

    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// Two configurations with one name (one folder).
        case duplicate(name: String)
        /// A configuration that cannot run (ArrayTrainer refuses its options).
        case configuration(name: String, message: String)
        /// `DIR/<name>/` holds something else.
        case folder(name: String, conflict: ArrayTrainingRun.Conflict)

        public var description: String {
            switch self {
            case .duplicate(let name): "two configurations are named \(name)"
            case .configuration(let name, let message): "configuration \(name): \(message)"
            case .folder(let name, let conflict): "\(name)/: \(conflict)"
            }
        }
    }

    /// The first reason the plan cannot run in `out`, or nil.
    public func problem(out: String) -> Problem? {
        var names: Set<String> = []
        for c in runs {
            if !names.insert(c.name).inserted { return .duplicate(name: c.name) }
            // ArrayTrainer's own checks: the options' ranges and the model it builds.
            do { _ = try ArrayTrainer(options: c.options) } catch {
                return .configuration(name: c.name, message: "\(error)")
            }
            do { _ = try ArrayTrainingRun.saved(c.options, in: "\(out)/\(c.name)") } catch {
                return .folder(name: c.name, conflict: error)
            }
        }
        return nil
    }

    // MARK: - Running

    public struct Result: Codable, Sendable {
        public var configuration: Configuration
        /// The finished epochs, at most the configuration's epochs.
        public var history: [ArrayEpochReport]
        /// Epochs trained by this invocation (the rest came from the checkpoint).
        public var trained: Int
        /// Why the configuration stopped early, if it did.
        public var error: String?

        public var mismatches: Int { history.reduce(0) { $0 + $1.mismatches } }
    }

    /// Relative cost of what is left of a run, so the longest start first and do not finish
    /// alone at the end. A guess: only the order depends on it.
    static func cost(_ o: ArrayTrainingOptions, done: Int) -> Double {
        Double(max(0, o.epochs - done)) * Double(o.trainLimit ?? 60000) * (o.model == "lenet5" ? 5 : 1) * (o.arithmetic == .float ? 0.8 : 1)
    }

    /// Runs every configuration in `out/<name>/`, `jobs` at a time on threads, resuming each
    /// from its checkpoint; `figure.csv` and `figure.json` are rewritten after every finished
    /// epoch. `replay` makes each run's GEMM replayer (nil: no co-simulation). `log` gets every
    /// progress line prefixed with the configuration's name. Call `problem(out:)` first.
    public func run(out: String, train: LabeledImages, test: LabeledImages, jobs: Int,
                    replay: (@Sendable () -> ArrayTrainingRun.Replay)?,
                    log: @escaping @Sendable (String) -> Void, warn: @escaping @Sendable (String) -> Void) throws -> [Result] {
        let runs = self.runs
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let state = RunState()
        var queue: [(index: Int, cost: Double)] = []
        for (i, c) in runs.enumerated() {
            try FileManager.default.createDirectory(atPath: "\(out)/\(c.name)", withIntermediateDirectories: true)
            let saved = try ArrayTrainingRun.saved(c.options, in: "\(out)/\(c.name)")
            let history = Array((saved?.history ?? []).prefix(c.options.epochs))
            state.results.append(Result(configuration: c, history: history, trained: 0, error: nil))
            if history.count >= c.options.epochs {
                let last = history.last.map { String(format: ", test error %.2f%%", 100 * $0.testError) } ?? ""
                log("\(c.name): finished, \(history.count) epochs\(last)")
            } else {
                queue.append((i, Self.cost(c.options, done: saved?.epochsDone ?? 0)))
            }
        }
        try Self.writeData(state.results, to: out)
        // Stable: equal costs keep plan order.
        state.queue = queue.enumerated().sorted { x, y in
            x.element.cost != y.element.cost ? x.element.cost > y.element.cost : x.offset < y.offset
        }.map(\.element.index)

        let group = DispatchGroup()
        for _ in 0..<max(1, min(jobs, state.queue.count)) {
            group.enter()
            let t = Thread {
                while let i = state.take() {
                    let c = runs[i]
                    func prefixed(_ line: String) -> String {
                        "\(c.name): " + (line.hasPrefix("train: ") ? String(line.dropFirst(7)) : line)
                    }
                    do {
                        _ = try ArrayTrainingRun.run(
                            c.options, in: "\(out)/\(c.name)", train: train, test: test, replay: replay?(), details: false,
                            log: { line in state.locked { log(prefixed(line)) } },
                            warn: { line in state.locked { warn(prefixed(line)) } },
                            finished: { report in
                                state.locked {
                                    state.results[i].history.append(report)
                                    state.results[i].trained += 1
                                    // A failed write here is not the run's failure: the checkpoint is written.
                                    try? Self.writeData(state.results, to: out)
                                }
                            })
                    } catch {
                        state.locked {
                            state.results[i].error = "\(error)"
                            warn("\(c.name): error: \(error)")
                        }
                    }
                }
                group.leave()
            }
            // The sweep's worker threads' stack size: a training step's locals are on the heap,
            // but the default 512 KB of a secondary thread leaves little margin.
            t.stackSize = 8 << 20
            t.start()
        }
        group.wait()
        try Self.writeData(state.results, to: out)
        return state.results
    }

    final class RunState: @unchecked Sendable {
        let lock = NSLock()
        var results: [Result] = []
        var queue: [Int] = []

        func take() -> Int? { locked { queue.isEmpty ? nil : queue.removeFirst() } }

        func locked<T>(_ body: () throws -> T) rethrows -> T {
            lock.lock()
            defer { lock.unlock() }
            return try body()
        }
    }

    // MARK: - figure.csv and figure.json

    public static let csvName = "figure.csv"
    public static let jsonName = "figure.json"

    /// One row per configuration per finished epoch. Fields that a float run does not have
    /// (word length, FL, rounding, LFSR draw and seed, array size) are empty.
    public static func csv(_ results: [Result]) -> String {
        var s = "model,configuration,arithmetic,word_length,frac_length,rounding,lfsr_draw,saturation_derivative,seed,lfsr_seed,learning_rate,learning_rate_applied,"
            + "batch_size,batch_mean,rows,cols,train_limit,test_limit,epoch,loss,test_error,test_loss,seconds,images_per_second,updates,changed,"
            + ArrayEpochReport.tensors.map { "saturated_\($0),produced_\($0)" }.joined(separator: ",") + ",cosimulated,mismatches\n"
        for r in results {
            let o = r.configuration.options, fixed = o.arithmetic == .fixed
            func f(_ v: Any) -> String { fixed ? "\(v)" : "" }
            let config = [o.model, r.configuration.name, o.arithmetic.rawValue, f(o.wordLength), f(o.fracLength), f(o.rounding.rawValue),
                          f(o.lfsrDraw.rawValue), f(o.saturationDerivative.rawValue), "\(o.seed)", f(o.lfsrSeed), "\(o.learningRate)", "\(o.effectiveLearningRate)",
                          "\(o.batchSize)", o.batchMean.rawValue, f(o.rows), f(o.cols), o.trainLimit.map(String.init) ?? "",
                          o.testLimit.map(String.init) ?? ""].joined(separator: ",")
            for e in r.history {
                s += config + ",\(e.epoch),\(e.loss),\(e.testError),\(e.testLoss),\(e.seconds),\(e.imagesPerSecond),\(e.updates),\(e.changed),"
                    + ArrayEpochReport.tensors.map { "\(e.saturated[$0] ?? 0),\(e.produced[$0] ?? 0)" }.joined(separator: ",")
                    + ",\(e.cosimulated),\(e.mismatches)\n"
            }
        }
        return s
    }

    /// The results with each configuration's options; sorted keys, so the same results give
    /// the same bytes.
    public static func json(_ results: [Result]) throws -> Data {
        struct Entry: Encodable {
            var name: String
            var options: ArrayTrainingOptions
            var epochs: [ArrayEpochReport]
            var error: String?
        }
        struct File: Encodable { var configurations: [Entry] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(File(configurations: results.map {
            Entry(name: $0.configuration.name, options: $0.configuration.options, epochs: $0.history, error: $0.error)
        }))
    }

    public static func writeData(_ results: [Result], to out: String) throws {
        try Data(csv(results).utf8).write(to: URL(fileURLWithPath: "\(out)/\(csvName)"), options: .atomic)
        try json(results).write(to: URL(fileURLWithPath: "\(out)/\(jsonName)"), options: .atomic)
    }

    // MARK: - Plots

    public enum PlotError: Error, CustomStringConvertible {
        case gnuplotMissing(out: String)
        case failed(script: String, output: String)

        public var description: String {
            switch self {
            case .gnuplotMissing(let out):
                "gnuplot is not installed, so \(out) has the data and the .gp scripts but no plots: run `make deps` (apt package gnuplot-nox)"
            case .failed(let script, let output): "gnuplot \(script) failed: \(output)"
            }
        }
    }

    /// One plot: its SVG's file name and the gnuplot script that draws it.
    public struct Plot: Sendable {
        public var file: String
        public var script: String
    }

    /// Per model, `figure-<model>.svg` (Figure 2's two panels) and, when the plan has one-step
    /// draws, `lfsr-draw-<model>.svg`.
    public static func plots(_ results: [Result]) -> [Plot] {
        var models: [String] = []
        for r in results where !models.contains(r.configuration.options.model) { models.append(r.configuration.options.model) }
        var plots: [Plot] = []
        for model in models {
            let mine = results.filter { $0.configuration.options.model == model && !$0.history.isEmpty }
            if let p = figurePlot(model, mine) { plots.append(p) }
            if let p = drawPlot(model, mine) { plots.append(p) }
        }
        return plots
    }

    /// Writes each plot's `.gp` next to its SVG in `out`; gnuplot draws into a scratch folder
    /// and the SVG is renamed into place, so a reader never sees half a file.
    public static func writePlots(_ results: [Result], to out: String) throws -> [String] {
        var written: [String] = []
        let fm = FileManager.default
        // Scratch folders of a plotting that was killed.
        for item in (try? fm.contentsOfDirectory(atPath: out)) ?? [] where item.hasPrefix(".gnuplot-") {
            try? fm.removeItem(atPath: "\(out)/\(item)")
        }
        for plot in plots(results) {
            let gp = plot.file.replacingOccurrences(of: ".svg", with: ".gp")
            try Data(plot.script.utf8).write(to: URL(fileURLWithPath: "\(out)/\(gp)"), options: .atomic)
            let scratch = "\(out)/.gnuplot-\(UUID().uuidString)"
            try fm.createDirectory(atPath: scratch, withIntermediateDirectories: false)
            defer { try? fm.removeItem(atPath: scratch) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["gnuplot", "../\(gp)"]
            p.currentDirectoryURL = URL(fileURLWithPath: scratch)
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            if p.terminationStatus == 127 { throw PlotError.gnuplotMissing(out: out) }
            let svg = "\(scratch)/\(plot.file)"
            let size = (try? fm.attributesOfItem(atPath: svg)[.size] as? Int) ?? 0
            if p.terminationStatus != 0 || size == 0 { throw PlotError.failed(script: gp, output: output) }
            if rename(svg, "\(out)/\(plot.file)") != 0 {
                throw PlotError.failed(script: gp, output: "rename into \(out): \(String(cString: strerror(errno)))")
            }
            written.append(plot.file)
        }
        return written
    }

    /// The sweep report's style (Sweep/Report.swift `header`): terminal, font, grid, border and
    /// the shared line types. The key goes under the x label, where it hides no curve, placed by
    /// hand (`set key below` overlaps the label), its top as high as its `keyRows` rows need.
    static func header(width: Int, height: Int, keyRows: Int) -> String {
        let keyTop = 1.5 + 1.3 * Double(keyRows)
        return """
        set terminal svg size \(width),\(height + 20 * keyRows) font "Helvetica,13" noenhanced background rgb "white"
        set encoding utf8
        set grid back lc rgb "#dddddd"
        set key at graph 0.5, character \(num(keyTop)) center top horizontal box opaque
        set bmargin \(Int((keyTop + 4).rounded(.up)))
        set border 3
        set tics nomirror
        \(Gnuplot.lineTypes)

        """
    }

    static func displayName(_ model: String) -> String { ["mlp": "MLP", "lenet5": "LeNet-5"][model] ?? model }

    static func num(_ v: Double) -> String { Gnuplot.number(v) }

    static func quoted(_ s: String) -> String { Gnuplot.quoted(s) }

    /// A curve: test error (%) per epoch, its line type, dash type (nil: solid), its title.
    struct Series {
        var title: String
        var lineType: Int
        var dash: Int?
        var points: [(epoch: Int, error: Double)]
    }

    static func series(_ r: Result, title: String, lineType: Int, dash: Int?) -> Series {
        Series(title: title, lineType: lineType, dash: dash, points: r.history.map { ($0.epoch, 100 * $0.testError) })
    }

    /// What takes its own colour: the FL, and where 1/B goes.
    struct ColourKey: Hashable, Comparable {
        var frac: Int
        var rate: Bool
        init(_ o: ArrayTrainingOptions) {
            frac = o.fracLength
            rate = o.batchMean == .rate
        }
        static func < (a: Self, b: Self) -> Bool { (a.rate ? 1 : 0, a.frac) < (b.rate ? 1 : 0, b.frac) }
    }

    /// Line type per FL (and batch mean): float is black (8), the others take the palette in
    /// order, skipping black.
    static func lineTypes(_ results: [Result]) -> [ColourKey: Int] {
        let keys = Set(results.filter { $0.configuration.options.arithmetic == .fixed }.map { ColourKey($0.configuration.options) }).sorted()
        let palette = [1, 2, 3, 4, 5, 6, 7, 9]
        return Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, palette[$0 % palette.count]) })
    }

    static func curveTitle(_ o: ArrayTrainingOptions) -> String {
        guard o.arithmetic == .fixed else { return "float" }
        let format = o.wordLength == 16 ? "FL \(o.fracLength)" : "WL \(o.wordLength), FL \(o.fracLength)"
        return format + (o.batchMean == .rate ? ", 1/B in the rate" : "") + (o.saturationDerivative == .one ? ", straight-through saturation" : "")
    }

    /// Rows of a panel's key: two columns fit under a panel while the titles are short
    /// ("FL 8, 1/B in the rate"); a longer one ("FL 14, straight-through saturation") takes one.
    static func keyRows(_ series: [Series]) -> Int {
        series.contains { $0.title.count > 24 } ? series.count : (series.count + 1) / 2
    }

    /// Data blocks and a `plot` command for one panel; the data are inline so the script
    /// redraws alone.
    static func panel(_ series: [Series], tag: String) -> String {
        var s = ""
        for (i, ser) in series.enumerated() {
            s += "$\(tag)\(i) << EOD\n"
            for p in ser.points { s += "\(p.epoch) \(num(p.error))\n" }
            s += "EOD\n"
        }
        let plots = series.enumerated().map { i, ser in
            "$\(tag)\(i) using 1:2 with linespoints lt \(ser.lineType)\(ser.dash.map { " dt \($0) pt 6" } ?? "") ps 0.9 title \(quoted(ser.title))"
        }
        // An empty panel still takes its place in the layout.
        s += "plot " + (plots.isEmpty ? "NaN notitle" : plots.joined(separator: ", \\\n     ")) + "\n"
        return s
    }

    /// Shared axes: epochs 1…last, test error 0…the worst point rounded up to 5 %.
    static func axes(_ series: [Series]) -> String {
        let last = series.flatMap { $0.points.map(\.epoch) }.max() ?? 1
        let worst = series.flatMap { $0.points.map(\.error) }.max() ?? 0
        let top = max(5, (worst * 1.05 / 5).rounded(.up) * 5)
        var s = "set xlabel \"epoch\"\nset ylabel \"test error (%)\"\n"
        s += "set xrange [0.5:\(num(Double(last) + 0.5))]\nset yrange [0:\(num(top))]\n"
        if last <= 20 { s += "set xtics 1\n" }
        return s
    }

    /// Figure 2's layout: (a) round-to-nearest and (b) stochastic rounding side by side, each
    /// with the float curve and one curve per FL; the first seed solid, other seeds dashed,
    /// straight-through saturation dotted.
    /// Runs with one-step LFSR draws are in `drawPlot` instead.
    static func figurePlot(_ model: String, _ results: [Result]) -> Plot? {
        let main = results.filter { $0.configuration.options.lfsrDraw == .leap || $0.configuration.options.arithmetic == .float }
        guard !main.isEmpty else { return nil }
        let firstSeed = main.map(\.configuration.options.seed).min()!
        let types = lineTypes(main)
        func curves(_ rounding: RoundingMode) -> [Series] {
            // Float first, then by FL, seed and name: the key's order.
            let chosen = main.filter { $0.configuration.options.arithmetic == .float || $0.configuration.options.rounding == rounding }
                .sorted { x, y in
                    let (a, b) = (x.configuration.options, y.configuration.options)
                    let ka = (a.arithmetic == .float ? -1 : a.fracLength, a.seed, x.configuration.name)
                    let kb = (b.arithmetic == .float ? -1 : b.fracLength, b.seed, y.configuration.name)
                    return ka < kb
                }
            return chosen.map { r in
                let o = r.configuration.options
                let seed = o.seed == firstSeed ? "" : " (seed \(o.seed))"
                let dash = o.seed != firstSeed ? 2 : o.arithmetic == .fixed && o.saturationDerivative == .one ? 3 : nil
                return series(r, title: curveTitle(o) + seed, lineType: o.arithmetic == .float ? 8 : types[ColourKey(o)]!, dash: dash)
            }
        }
        let nearest = curves(.nearest), stochastic = curves(.stochastic)
        let file = "figure-\(model).svg"
        var s = header(width: 1200, height: 500, keyRows: max(keyRows(nearest), keyRows(stochastic)))
        s += "set output \(quoted(file))\n"
        s += axes(nearest + stochastic)
        s += "set multiplot layout 1,2 title \(quoted("\(displayName(model)) on Fashion-MNIST: <16, FL> fixed point in the array's arithmetic against float (after Gupta et al. 2015, Figure 2)"))\n"
        s += "set title \"(a) round to nearest\"\n" + panel(nearest, tag: "n")
        s += "set title \"(b) stochastic rounding\"\n" + panel(stochastic, tag: "s")
        s += "unset multiplot\n"
        return Plot(file: file, script: s)
    }

    /// Leap against one-step LFSR draws: each one-step run with its leap twin (the same options
    /// otherwise), one colour per FL, one-step dashed.
    static func drawPlot(_ model: String, _ results: [Result]) -> Plot? {
        let types = lineTypes(results)
        var series: [Series] = []
        for one in results where one.configuration.options.arithmetic == .fixed && one.configuration.options.lfsrDraw == .one {
            var twin = one.configuration.options
            twin.lfsrDraw = .leap
            guard let leap = results.first(where: { $0.configuration.options == twin }) else { continue }
            let o = one.configuration.options
            let title = "\(curveTitle(o)), \(o.rounding)"
            series.append(Self.series(leap, title: "\(title), leap (D steps per draw)", lineType: types[ColourKey(o)]!, dash: nil))
            series.append(Self.series(one, title: "\(title), one step per draw", lineType: types[ColourKey(o)]!, dash: 2))
        }
        guard !series.isEmpty else { return nil }
        let file = "lfsr-draw-\(model).svg"
        var s = header(width: 760, height: 480, keyRows: keyRows(series))
        s += "set output \(quoted(file))\n"
        s += "set title \(quoted("\(displayName(model)): stochastic rounding with decorrelated (leap) and one-step LFSR draws"))\n"
        s += axes(series)
        s += panel(series, tag: "d")
        return Plot(file: file, script: s)
    }
}
