import Cores
import Cosim
import Foundation

/// A sweep's report: SVG plots drawn with gnuplot (`plots/*.svg`, each next to the `.gp`
/// script that drew it, data inline, so a reader can redraw or restyle it) and `report.md`,
/// which links every plot and tabulates every point. The same results give the same bytes:
/// nothing depends on time, wall-clock measurements or dictionary order.
public enum Report {
    /// One drawn plot: its file under `plots/` and a caption.
    public struct Plot: Hashable, Sendable {
        public var file: String
        public var title: String
        public var caption: String
    }

    public static func write(results: [PointResult], to dir: URL) throws -> URL {
        let fm = FileManager.default
        let plotsDir = dir.appendingPathComponent("plots", isDirectory: true)
        try fm.createDirectory(at: plotsDir, withIntermediateDirectories: true)
        let results = results.sorted { $0.point.index < $1.point.index }

        let specs = plotSpecs(results)
        // Plots of an earlier report in this folder that this one does not draw would linger.
        for name in allPlotFiles {
            try? fm.removeItem(at: plotsDir.appendingPathComponent(name))
            try? fm.removeItem(at: plotsDir.appendingPathComponent(name.replacingOccurrences(of: ".svg", with: ".gp")))
        }
        var drawn: [Plot] = []
        var failure: Error?
        for spec in specs {
            let gp = spec.plot.file.replacingOccurrences(of: ".svg", with: ".gp")
            try spec.script.write(to: plotsDir.appendingPathComponent(gp), atomically: true, encoding: .utf8)
            if failure.map({ if case ToolError.missing = $0 { true } else { false } }) == true { continue }
            do {
                let r = try runTool("gnuplot", [gp], in: plotsDir)
                let svg = plotsDir.appendingPathComponent(spec.plot.file)
                let size = (try? fm.attributesOfItem(atPath: svg.path)[.size] as? Int) ?? 0
                if r.status != 0 || size == 0 { throw ToolError.failed(tool: "gnuplot \(gp)", output: r.output) }
                drawn.append(spec.plot)
            } catch {
                if failure == nil { failure = error }
            }
        }

        let report = dir.appendingPathComponent("report.md")
        let missing = failure.map { if case ToolError.missing = $0 { true } else { false } } ?? false
        try markdown(results, plots: drawn, plotsMissing: missing).write(to: report, atomically: true, encoding: .utf8)
        if missing { throw ReportError.gnuplotMissing(report: report) }
        if let failure { throw failure }
        return report
    }

    /// Every plot file a report may draw.
    static let allPlotFiles = ["area-luts.svg", "area-cells.svg", "sqnr.svg", "throughput-area.svg", "energy.svg", "energy-breakdown.svg",
                               "conv-energy.svg", "conv-utilization.svg"]

    public enum ReportError: Error, CustomStringConvertible {
        case gnuplotMissing(report: URL)
        public var description: String {
            switch self {
            case .gnuplotMissing(let report):
                "gnuplot is not installed, so \(report.path) has tables but no plots: run `make deps` (apt package gnuplot-nox)"
            }
        }
    }

    // MARK: - Plot data

    struct Spec {
        var plot: Plot
        var script: String
    }

    struct Series {
        var title: String
        var points: [(x: Double, y: Double)]
    }

    static func size(_ c: ArrayConfig) -> String { "\(c.rows)x\(c.cols)" }

    /// The rounding mode the area, throughput and energy lines use: the one most points have
    /// (ties: stochastic, nearest, truncate), so each line compares like with like.
    static func mainRounding(_ results: [PointResult]) -> OutputRounding? {
        let order: [OutputRounding] = [.stochastic, .nearest, .truncate]
        let counts = order.map { mode in results.filter { $0.point.config.rounding == mode }.count }
        guard let best = counts.max(), best > 0 else { return nil }
        return order[counts.firstIndex(of: best)!]
    }

    /// One line per input bitwidth, x = PEs; points with the same x are averaged.
    static func perBits(_ results: [PointResult], _ value: (PointResult) -> Double?) -> [Series] {
        lines(results, by: \.point.config.a.bits, title: { "\($0)-bit" }, value)
    }

    /// One line per value of `group` (in its order), x = PEs; points with the same x are
    /// averaged; a line without any value is left out.
    static func lines<Group: Comparable & Hashable>(_ results: [PointResult], by group: (PointResult) -> Group,
                                                    title: (Group) -> String, _ value: (PointResult) -> Double?) -> [Series] {
        Set(results.map(group)).sorted().compactMap { g in
            var byX: [Int: [Double]] = [:]
            for r in results where group(r) == g {
                if let v = value(r) { byX[r.point.config.rows * r.point.config.cols, default: []].append(v) }
            }
            let pts = byX.keys.sorted().map { x in (Double(x), byX[x]!.reduce(0, +) / Double(byX[x]!.count)) }
            return pts.isEmpty ? nil : Series(title: title(g), points: pts)
        }
    }

    static func sizeTics(_ results: [PointResult]) -> String {
        var labels: [Int: String] = [:]
        for r in results {
            let c = r.point.config
            let x = c.rows * c.cols
            if labels[x] == nil || (c.rows == c.cols) { labels[x] = size(c) }
        }
        return "(" + labels.keys.sorted().map { "\"\(labels[$0]!)\" \($0)" }.joined(separator: ", ") + ")"
    }

    /// The GEMM plots over the GEMM points, then the convolution plots over the convolution
    /// points: a workload without points draws none of its plots.
    static func plotSpecs(_ all: [PointResult]) -> [Spec] {
        gemmPlotSpecs(all.filter { $0.point.workload == .gemm }) + convPlotSpecs(all.filter { $0.point.workload == .conv })
    }

    /// Energy per MAC and utilization of the convolution workload against array size, one line
    /// per dataflow (and input bitwidth, when the sweep has several), main rounding mode.
    static func convPlotSpecs(_ all: [PointResult]) -> [Spec] {
        let mode = mainRounding(all)
        let main = all.filter { $0.point.config.rounding == mode }
        let modeText = mode.map { "\($0) rounding" } ?? ""
        let tics = sizeTics(main)
        let order = Grid.dataflows(for: .conv)
        let severalBits = Set(main.map(\.point.config.a.bits)).count > 1
        // Group: dataflow in the grid's order, then bits.
        func group(_ r: PointResult) -> Int { (order.firstIndex(of: r.point.dataflow) ?? order.count) * 100 + r.point.config.a.bits }
        func title(_ g: Int) -> String {
            let dataflow = g / 100 < order.count ? order[g / 100].rawValue : "?"
            return severalBits ? "\(dataflow) \(g % 100)-bit" : dataflow
        }
        var specs: [Spec] = []
        let energy = lines(main, by: group, title: title) { $0.energy?.picojoulesPerMAC }
        if !energy.isEmpty {
            specs.append(Spec(plot: Plot(file: "conv-energy.svg", title: "Convolution: energy per MAC against array size, by dataflow",
                                         caption: "Estimated pJ per MAC of the convolution workload (gated MACs included in the count, so zero gating lowers it; docs/CONV.md energy model: MAC, register file, PE-to-PE, buffer, DRAM), one line per dataflow, \(modeText)."),
                              // Linear y: the DRAM floor keeps the dataflows within a factor of two, which a
                              // log axis of whole decades would flatten.
                              script: script(file: "conv-energy.svg", title: "Convolution: energy per MAC against array size, \(modeText)",
                                             xlabel: "array size (rows x cols)", ylabel: "pJ / MAC", logX: true, logY: false,
                                             xtics: tics, series: energy, key: "top right")))
        }
        let utilization = lines(main, by: group, title: title) { $0.simulated ? $0.utilization : nil }
        if !utilization.isEmpty {
            specs.append(Spec(plot: Plot(file: "conv-utilization.svg", title: "Convolution: utilization against array size, by dataflow",
                                         caption: "MACs of the convolution workload / (simulated cycles × PEs), one line per dataflow, \(modeText)."),
                              script: script(file: "conv-utilization.svg", title: "Convolution: utilization against array size, \(modeText)",
                                             xlabel: "array size (rows x cols)", ylabel: "utilization (MACs / cycle / PE)", logX: true, logY: false,
                                             xtics: tics, series: utilization, key: "bottom left")))
        }
        return specs
    }

    static func gemmPlotSpecs(_ all: [PointResult]) -> [Spec] {
        var specs: [Spec] = []
        let mode = mainRounding(all)
        let main = all.filter { $0.point.config.rounding == mode }
        let modeText = mode.map { "\($0) rounding" } ?? ""
        let tics = sizeTics(main)

        let luts = perBits(main) { $0.synthesis.map { Double($0.luts) } }
        if !luts.isEmpty {
            specs.append(Spec(plot: Plot(file: "area-luts.svg", title: "Area: LUTs against array size",
                                         caption: "synth_xilinx LUT1–LUT6 (logic only; shift registers and LUT RAM are in the table), one line per bitwidth, \(modeText)."),
                              script: script(file: "area-luts.svg", title: "LUTs (synth_xilinx) against array size, \(modeText)",
                                             xlabel: "array size (rows x cols)", ylabel: "LUTs", logX: true, logY: true,
                                             xtics: tics, series: luts)))
        }
        let cells = perBits(main) { $0.synthesis.map { Double($0.genericCells) } }
        if !cells.isEmpty {
            specs.append(Spec(plot: Plot(file: "area-cells.svg", title: "Area: generic cells against array size",
                                         caption: "Cells after the generic yosys synth (gates and flip-flops), one line per bitwidth, \(modeText)."),
                              script: script(file: "area-cells.svg", title: "Generic cells (yosys synth) against array size, \(modeText)",
                                             xlabel: "array size (rows x cols)", ylabel: "cells", logX: true, logY: true,
                                             xtics: tics, series: cells)))
        }

        // SQNR against bitwidth, one line per rounding mode, mean over array sizes.
        var sqnr: [Series] = []
        for rounding in OutputRounding.allCases {
            var byBits: [Int: [Double]] = [:]
            for r in all where r.point.config.rounding == rounding && r.status == .pass {
                if let db = r.sqnrDB { byBits[r.point.config.a.bits, default: []].append(db) }
            }
            let pts = byBits.keys.sorted().map { (Double($0), byBits[$0]!.reduce(0, +) / Double(byBits[$0]!.count)) }
            if !pts.isEmpty { sqnr.append(Series(title: rounding.rawValue, points: pts)) }
        }
        if !sqnr.isEmpty {
            let bits = Set(sqnr.flatMap { $0.points.map { Int($0.x) } }).sorted()
            specs.append(Spec(plot: Plot(file: "sqnr.svg", title: "SQNR against bitwidth",
                                         caption: "Signal-to-quantization-noise ratio of the rounded C against the exact real product, one line per rounding mode; passing points, mean over array sizes."),
                              script: script(file: "sqnr.svg", title: "SQNR against bitwidth", xlabel: "input/weight bits",
                                             ylabel: "SQNR (dB)", logX: false, logY: false,
                                             xtics: "(" + bits.map { "\"\($0)\" \($0)" }.joined(separator: ", ") + ")", series: sqnr)))
        }

        // Throughput (useful MACs per cycle on the workload) against LUTs.
        var thr: [Series] = []
        var labels: [(x: Double, y: Double, text: String)] = []
        for b in Set(main.map(\.point.config.a.bits)).sorted() {
            var pts: [(x: Double, y: Double)] = []
            for r in main where r.point.config.a.bits == b && r.cycles > 0 {
                guard let s = r.synthesis else { continue }
                let y = Double(r.macs) / Double(r.cycles)
                pts.append((Double(s.luts), y))
                labels.append((Double(s.luts), y, size(r.point.config)))
            }
            pts.sort { ($0.x, $0.y) < ($1.x, $1.y) }
            if !pts.isEmpty { thr.append(Series(title: "\(b)-bit", points: pts)) }
        }
        if !thr.isEmpty {
            specs.append(Spec(plot: Plot(file: "throughput-area.svg", title: "Throughput against area",
                                         caption: "Useful MACs per cycle on the fixed workload (MACs / simulated cycles) against LUTs, one line per bitwidth, labelled with the array size, \(modeText)."),
                              script: script(file: "throughput-area.svg", title: "Throughput against area, \(modeText)", xlabel: "LUTs",
                                             ylabel: "MACs per cycle", logX: true, logY: true, xtics: nil, series: thr, labels: labels, yBase: 2)))
        }

        let energy = perBits(main) { $0.energy?.picojoulesPerMAC }
        if !energy.isEmpty {
            specs.append(Spec(plot: Plot(file: "energy.svg", title: "Energy per MAC against array size",
                                         caption: "Estimated pJ per useful MAC on the workload (docs/ENERGY.md: 45 nm cost table, DRAM, buffer, registers and arithmetic), one line per bitwidth, \(modeText)."),
                              script: script(file: "energy.svg", title: "Energy per MAC (45 nm model) against array size, \(modeText)",
                                             xlabel: "array size (rows x cols)", ylabel: "pJ / MAC", logX: true, logY: true,
                                             xtics: tics, series: energy)))
        }

        // Energy breakdown of the largest array per bitwidth (stacked bars).
        var largest: [PointResult] = []
        for b in Set(main.map(\.point.config.a.bits)).sorted() {
            let candidates = main.filter { $0.point.config.a.bits == b && $0.energy != nil }
            if let best = candidates.max(by: { ($0.point.config.rows * $0.point.config.cols, -$0.point.index) < ($1.point.config.rows * $1.point.config.cols, -$1.point.index) }) {
                largest.append(best)
            }
        }
        if !largest.isEmpty {
            specs.append(Spec(plot: Plot(file: "energy-breakdown.svg", title: "Where the energy goes",
                                         caption: "pJ per useful MAC by component for the largest array at each bitwidth, \(modeText)."),
                              script: breakdownScript(largest)))
        }
        return specs
    }

    // MARK: - gnuplot

    static func num(_ v: Double) -> String { String(format: "%.6g", v) }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static let header = """
        set terminal svg size 760,480 font "Helvetica,13" noenhanced background rgb "white"
        set encoding utf8
        set grid back lc rgb "#dddddd"
        set key top left box opaque
        set border 3
        set tics nomirror
        set linetype 1 lc rgb "#0072B2" lw 2 pt 7
        set linetype 2 lc rgb "#D55E00" lw 2 pt 5
        set linetype 3 lc rgb "#009E73" lw 2 pt 9
        set linetype 4 lc rgb "#CC79A7" lw 2 pt 11
        set linetype 5 lc rgb "#E69F00" lw 2 pt 13
        set linetype 6 lc rgb "#56B4E9" lw 2 pt 7
        set linetype 7 lc rgb "#F0E442" lw 2 pt 5
        set linetype 8 lc rgb "#000000" lw 2 pt 9
        set linetype 9 lc rgb "#999999" lw 2 pt 11
        set linetype cycle 9

        """

    static func script(file: String, title: String, xlabel: String, ylabel: String, logX: Bool, logY: Bool,
                       xtics: String?, series: [Series], labels: [(x: Double, y: Double, text: String)] = [], yBase: Int = 10,
                       key: String? = nil) -> String {
        var s = header
        if let key { s += "set key \(key)\n" }
        s += "set output \(quoted(file))\n"
        s += "set title \(quoted(title))\n"
        s += "set xlabel \(quoted(xlabel))\nset ylabel \(quoted(ylabel))\n"
        if logX { s += "set logscale x 2\n" }
        if logY { s += "set logscale y \(yBase)\n" }
        if let xtics { s += "set xtics \(xtics)\n" }
        // Tight x range with a margin; a log y axis keeps whole decades (or octaves) so that
        // it always has labelled tics.
        s += "set autoscale xfix\n" + (logY ? "" : "set autoscale yfix\n")
        s += "set offsets graph 0.06, graph 0.06, graph 0.1, graph 0.1\n"
        for (i, ser) in series.enumerated() {
            s += "$d\(i) << EOD\n"
            for p in ser.points { s += "\(num(p.x)) \(num(p.y))\n" }
            s += "EOD\n"
        }
        if !labels.isEmpty {
            s += "$labels << EOD\n"
            for l in labels { s += "\(num(l.x)) \(num(l.y)) \(quoted(l.text))\n" }
            s += "EOD\n"
        }
        var plots = series.enumerated().map { i, ser in
            "$d\(i) using 1:2 with linespoints lt \(i + 1) ps 0.9 title \(quoted(ser.title))"
        }
        if !labels.isEmpty { plots.append("$labels using 1:2:3 with labels offset 0,0.9 font \",10\" notitle") }
        s += "plot " + plots.joined(separator: ", \\\n     ") + "\n"
        return s
    }

    static func breakdownScript(_ points: [PointResult]) -> String {
        // Off-chip first, then on-chip movement, then arithmetic; unknown keys last.
        let order = ["DRAM", "buffer", "PE-to-PE", "skew registers", "accumulator register", "drain", "round", "multiply", "accumulate"]
        let present = Set(points.flatMap { $0.energy!.breakdown.keys })
        let keys = order.filter(present.contains) + present.subtracting(order).sorted()
        var s = header
        s += "set output \"energy-breakdown.svg\"\n"
        s += "set title \"Energy per MAC by component (largest array per bitwidth)\"\n"
        s += "set ylabel \"pJ / MAC\"\nset style data histograms\nset style histogram rowstacked\n"
        s += "set style fill solid 0.9 border lc rgb \"#333333\"\nset boxwidth 0.6\nset key outside right top vertical\nset yrange [0:*]\n"
        s += "$b << EOD\n"
        s += "point " + keys.map { quoted($0) }.joined(separator: " ") + "\n"
        for r in points {
            let e = r.energy!
            let macs = e.picojoulesPerMAC > 0 ? e.totalPicojoules / e.picojoulesPerMAC : 1
            let label = "\(r.point.config.a.bits)-bit \(size(r.point.config))"
            s += quoted(label) + " " + keys.map { num((e.breakdown[$0] ?? 0) / macs) }.joined(separator: " ") + "\n"
        }
        s += "EOD\n"
        s += "plot for [i=2:\(keys.count + 1)] $b using i:xtic(1) title columnheader(i) lw 0.5\n"
        return s
    }

    // MARK: - Markdown

    static func markdown(_ results: [PointResult], plots: [Plot], plotsMissing: Bool) -> String {
        var s = "# Sweep report\n\n"
        let pass = results.filter { $0.status == .pass }.count
        let fail = results.filter { $0.status == .fail }.count
        let error = results.filter { $0.status == .error }.count
        s += "\(results.count) point\(results.count == 1 ? "" : "s"): \(pass) pass, \(fail) fail (mismatches against the golden model), \(error) error.\n\n"
        if plotsMissing {
            s += "_No plots: gnuplot is not installed (`make deps` installs the apt package gnuplot-nox)._\n\n"
        }
        for p in plots {
            s += "## \(p.title)\n\n![\(p.title)](plots/\(p.file))\n\n\(p.caption)\n\n"
        }
        s += "## Points\n\n"
        s += "Area from yosys (docs/ENERGY.md): LUTs, flip-flops, DSP48E1 and block RAMs after `synth_xilinx`; cells after the generic `synth`; depth is the longest combinational path in gates. "
        s += "MAC/cycle = useful MACs of the workload over simulated cycles; SQNR of the rounded C against the exact product; energy from the 45 nm model.\n\n"
        s += "| # | design | status | LUTs | FFs | DSP | BRAM | cells | depth | MAC/cycle | util | SQNR dB | RMSE | pJ/MAC |\n"
        s += "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for r in results {
            let syn = r.synthesis
            func opt(_ v: Int?) -> String { v.map(String.init) ?? "–" }
            let perCycle = r.cycles > 0 ? String(format: "%.2f", Double(r.macs) / Double(r.cycles)) : "–"
            let util = r.cycles > 0 ? String(format: "%.1f%%", 100 * r.utilization) : "–"
            let sqnr = r.sqnrDB.map { String(format: "%.1f", $0) } ?? (r.status == .pass && r.cycles > 0 ? "exact" : "–")
            let rmse = r.cycles > 0 ? String(format: "%.4g", r.rmse) : "–"
            let energy = r.energy.map { String(format: "%.2f", $0.picojoulesPerMAC) } ?? "–"
            s += "| \(r.point.index) | `\(r.point.key)` | \(r.status.rawValue) | \(opt(syn?.luts)) | \(opt(syn?.flipFlops)) | \(opt(syn?.dsp48)) | \(opt(syn?.bram)) | \(opt(syn?.genericCells)) | \(opt(syn?.logicDepth)) | \(perCycle) | \(util) | \(sqnr) | \(rmse) | \(energy) |\n"
        }
        let troubled = results.filter { $0.status != .pass }
        if !troubled.isEmpty {
            s += "\n## Failures and errors\n\n"
            for r in troubled {
                let msg = (r.message ?? "(no message)").split(separator: "\n").first.map(String.init) ?? ""
                s += "- #\(r.point.index) `\(r.point.key)` \(r.status.rawValue): \(msg.replacingOccurrences(of: "|", with: "\\|"))\n"
            }
        }
        return s
    }
}
