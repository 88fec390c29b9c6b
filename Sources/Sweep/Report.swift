import Cores
import Cosim
import Foundation
import Plotting

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

        // The format tables alone, for docs/FORMATS.md (`make formats`); none for a fixed-point sweep.
        let formats = dir.appendingPathComponent("formats.md")
        let arrays = results.filter { !$0.point.workload.isNetwork }
        if hasFormats(arrays) {
            try formatTables(arrays).write(to: formats, atomically: true, encoding: .utf8)
        } else {
            try? fm.removeItem(at: formats)
        }
        // The quantization table, for docs/NETWORKS.md (`make networks`); none without network points.
        let networksMD = dir.appendingPathComponent("networks.md"), networksJSON = dir.appendingPathComponent("networks.json")
        if results.contains(where: { $0.point.workload.isNetwork }) {
            try networkTables(results).write(to: networksMD, atomically: true, encoding: .utf8)
            try networkJSON(results).write(to: networksJSON, atomically: true, encoding: .utf8)
        } else {
            try? fm.removeItem(at: networksMD)
            try? fm.removeItem(at: networksJSON)
        }
        let report = dir.appendingPathComponent("report.md")
        let missing = failure.map { if case ToolError.missing = $0 { true } else { false } } ?? false
        try markdown(results, plots: drawn, plotsMissing: missing).write(to: report, atomically: true, encoding: .utf8)
        if missing { throw ReportError.gnuplotMissing(report: report) }
        if let failure { throw failure }
        return report
    }

    /// Every plot file a report may draw.
    static let allPlotFiles = ["area-luts.svg", "area-cells.svg", "sqnr.svg", "throughput-area.svg", "gops-area.svg", "energy.svg", "energy-breakdown.svg",
                               "conv-energy.svg", "conv-utilization.svg", "format-area.svg", "format-energy.svg", "conv-format-area.svg",
                               "conv-format-energy.svg", "format-mac.svg"]
        + WorkloadKind.allCases.filter(\.isNetwork).flatMap { networkPlotFiles($0.rawValue) }

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
    static func mainRounding(_ results: [PointResult]) -> RoundingMode? {
        let order: [RoundingMode] = [.stochastic, .nearest, .truncate]
        let counts = order.map { mode in results.filter { $0.point.config.rounding == mode }.count }
        guard let best = counts.max(), best > 0 else { return nil }
        return order[counts.firstIndex(of: best)!]
    }

    /// One line per input bitwidth (and number format, fixed point first), x = PEs; points with
    /// the same x are averaged.
    static func perBits(_ results: [PointResult], _ value: (PointResult) -> Double?) -> [Series] {
        let ranks = formatRanks(results)
        return lines(results, by: { FormatBits(format: ranks[$0.point.config.format]!, bits: $0.point.config.a.bits) },
                     title: { lineTitle(ranks, $0) }, value)
    }

    /// A line's number format (its rank in `formatRanks`) and input bits.
    struct FormatBits: Comparable, Hashable {
        var format: Int
        var bits: Int
        static func < (x: Self, y: Self) -> Bool { (x.format, x.bits) < (y.format, y.bits) }
    }

    /// The number formats of the results, fixed point first, then in the order their first
    /// point appears (results in index order): the order of lines, bars and table rows.
    static func formatRanks(_ results: [PointResult]) -> [NumberFormat: Int] {
        var ranks: [NumberFormat: Int] = [.fixed: 0]
        for r in results.sorted(by: { $0.point.index < $1.point.index }) where ranks[r.point.config.format] == nil {
            ranks[r.point.config.format] = ranks.count
        }
        return ranks
    }

    /// "8-bit" for fixed point (titles of a fixed-point sweep stay as they were), "bwn 8-bit",
    /// and "binary" (whose activations are ±1 whatever the grid's bits).
    static func lineTitle(_ ranks: [NumberFormat: Int], _ key: FormatBits) -> String {
        let tag = formatTag(ranks, key.format)
        return tag == "binary " ? "binary" : "\(tag)\(key.bits)-bit"
    }

    /// "" for fixed point, so titles of a fixed-point sweep stay as they were; "bwn " otherwise.
    static func formatTag(_ ranks: [NumberFormat: Int], _ rank: Int) -> String {
        guard rank != 0, let f = ranks.first(where: { $0.value == rank })?.key else { return "" }
        return "\(f) "
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
            + formatPlotSpecs(all.filter { !$0.point.workload.isNetwork }) + networkPlotSpecs(all)
    }

    // MARK: - Number formats

    /// Whether the report has the number-format plots and tables: when a point has a format
    /// other than fixed point (so a fixed-point sweep's report is what it was).
    static func hasFormats(_ results: [PointResult]) -> Bool { results.contains { $0.point.config.format != .fixed } }

    /// A format's name in plots and tables: `fixed<bits>` for fixed point, the format for the
    /// others, with A's bits when the sweep has several activation widths (`bwn a4`).
    static func formatLabel(_ c: ArrayConfig, severalWidths: Bool) -> String {
        switch c.format {
        case .fixed: "fixed\(c.a.bits)"
        case .binary: "binary"
        default: severalWidths ? "\(c.format) a\(c.a.bits)" : c.format.description
        }
    }

    /// The format table's rows and columns over the points of the main rounding mode: one row
    /// per format (and, for convolution points, dataflow), in the order their first point
    /// appears; one column group per array size; the first point of each cell.
    struct FormatPivot {
        var rows: [String]
        var sizes: [String]
        var cell: [String: [String: PointResult]]
        /// The first point of each row (its PE and codes).
        var first: [String: PointResult]
    }

    static func formatPivot(_ all: [PointResult], byDataflow: Bool = true) -> FormatPivot {
        let mode = mainRounding(all)
        let main = all.filter { $0.point.config.rounding == mode }.sorted { $0.point.index < $1.point.index }
        let coded = main.filter { $0.point.config.format != .fixed && $0.point.config.format != .binary }
        let several = Set(coded.map(\.point.config.a.bits)).count > 1
        func row(_ r: PointResult) -> String {
            let label = formatLabel(r.point.config, severalWidths: several)
            return r.point.workload == .gemm || !byDataflow ? label : "conv-\(r.point.dataflow) \(label)"
        }
        var rows: [String] = [], first: [String: PointResult] = [:], cell: [String: [String: PointResult]] = [:]
        var sizes: [(Int, Int, String)] = []
        for r in main {
            let name = row(r), c = r.point.config, sz = size(c)
            if first[name] == nil { rows.append(name); first[name] = r }
            if !sizes.contains(where: { $0.2 == sz }) { sizes.append((c.rows * c.cols, c.rows, sz)) }
            if cell[name]?[sz] == nil { cell[name, default: [:]][sz] = r }
        }
        return FormatPivot(rows: rows, sizes: sizes.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2), cell: cell, first: first)
    }

    /// Bars of LUTs and of energy per MAC by number format (one bar per array size; for
    /// convolution points per dataflow and size), and the PE's arithmetic per MAC by format.
    static func formatPlotSpecs(_ all: [PointResult]) -> [Spec] {
        guard hasFormats(all) else { return [] }
        var specs: [Spec] = []
        for (workload, prefix) in [(WorkloadKind.gemm, ""), (.conv, "conv-")] {
            let points = all.filter { $0.point.workload == workload }
            guard hasFormats(points) else { continue }
            let pivot = formatPivot(points)
            let mode = mainRounding(points).map { "\($0) rounding" } ?? ""
            let what = workload == .gemm ? "the GEMM workload" : "the convolution workload"
            let area = barScript(file: "\(prefix)format-area.svg", title: "\(workload == .gemm ? "" : "Convolution: ")LUTs by number format, \(mode)",
                                 ylabel: "LUTs (synth_xilinx)", pivot: pivot) { $0.synthesis.map { Double($0.luts) } }
            if let area {
                specs.append(Spec(plot: Plot(file: "\(prefix)format-area.svg", title: "\(workload == .gemm ? "" : "Convolution: ")Area by number format",
                                             caption: "synth_xilinx LUTs of the whole array by number format, one bar per array size, \(mode); DSP48s, flip-flops and the PE alone are in the table below."),
                                  script: area))
            }
            let energy = barScript(file: "\(prefix)format-energy.svg", title: "\(workload == .gemm ? "" : "Convolution: ")Energy per MAC by number format, \(mode)",
                                   ylabel: "pJ / MAC", pivot: pivot) { $0.energy?.picojoulesPerMAC }
            if let energy {
                specs.append(Spec(plot: Plot(file: "\(prefix)format-energy.svg", title: "\(workload == .gemm ? "" : "Convolution: ")Energy per MAC by number format",
                                             caption: "Estimated pJ per useful MAC of \(what) by number format (docs/ENERGY.md, \"Number formats\": the PE's arithmetic and the codes' widths in registers, buffer and DRAM), one bar per array size, \(mode)."),
                                  script: energy))
            }
        }
        // The PE's arithmetic alone: the same at every size and dataflow.
        var pe = formatPivot(all, byDataflow: false)
        pe.sizes = ["PE"]
        pe.cell = pe.first.mapValues { ["PE": $0] }
        if let script = barScript(file: "format-mac.svg", title: "PE arithmetic per MAC by number format", ylabel: "pJ / MAC (multiply or its replacement, and the add)",
                                  pivot: pe, { $0.peMACPicojoules }) {
            specs.append(Spec(plot: Plot(file: "format-mac.svg", title: "PE arithmetic per MAC by number format",
                                         caption: "The energy model's price of one MAC in the PE (45 nm): the multiply or what replaces it (XNOR, conditional negate, shift, with zero weights gated) and the accumulator's add; a codebook's table read is charged per weight loaded, not here."),
                              script: script))
        }
        return specs
    }

    /// A clustered bar chart: one cluster per pivot row, one bar per size; nil without data.
    static func barScript(file: String, title: String, ylabel: String, pivot: FormatPivot, _ value: (PointResult) -> Double?) -> String? {
        var rows: [String] = []
        var any = false
        for name in pivot.rows {
            let values = pivot.sizes.map { sz in pivot.cell[name]?[sz].flatMap(value) }
            any = any || values.contains { $0 != nil }
            rows.append(quoted(name) + " " + values.map { $0.map(num) ?? "?" }.joined(separator: " "))
        }
        guard any else { return nil }
        var s = header
        s += "set output \(quoted(file))\n"
        s += "set title \(quoted(title))\n"
        s += "set ylabel \(quoted(ylabel))\nset datafile missing \"?\"\nset style data histograms\nset style histogram clustered gap 1\n"
        s += "set style fill solid 0.9 border lc rgb \"#333333\"\nset boxwidth 0.9\nset yrange [0:*]\nset xtics scale 0\n"
        // One bar per cluster needs no key (the title says what it is); several get one outside.
        s += pivot.sizes.count > 1 ? "set key outside right top vertical\n" : "unset key\n"
        s += "$b << EOD\n"
        s += "format " + pivot.sizes.map { quoted($0) }.joined(separator: " ") + "\n"
        s += rows.joined(separator: "\n") + "\nEOD\n"
        s += "plot for [i=2:\(pivot.sizes.count + 1)] $b using i:xtic(1) title columnheader(i) lt (i - 1) lw 0.5\n"
        return s
    }

    /// The Markdown tables of docs/FORMATS.md ("Area and energy per format"): per format, the
    /// PE synthesized alone and the whole array at each size (LUT, FF, DSP48, BRAM); the
    /// PE's arithmetic per MAC and the workload's energy per MAC, SQNR and RMSE at each size.
    public static func formatTables(_ results: [PointResult]) -> String {
        let pivot = formatPivot(results.sorted { $0.point.index < $1.point.index })
        func opt(_ v: Int?) -> String { v.map(String.init) ?? "–" }
        func codes(_ c: ArrayConfig) -> String { "\(c.aCode.width)×\(c.bCode.width)" }
        var s = "| format | code bits A×B | PE LUT | PE FF | PE DSP |"
        var rule = "|---|---|---:|---:|---:|"
        for sz in pivot.sizes {
            s += " \(sz) LUT | \(sz) FF | \(sz) DSP | \(sz) BRAM |"
            rule += "---:|---:|---:|---:|"
        }
        s += "\n" + rule + "\n"
        for name in pivot.rows {
            let first = pivot.first[name]!
            // The PE is the same at every size: the first cell synthesized.
            let pe = pivot.sizes.compactMap { pivot.cell[name]?[$0]?.synthesis }.first { $0.peLUTs != nil }
            s += "| \(name) | \(codes(first.point.config)) | \(opt(pe?.peLUTs)) | \(opt(pe?.peFlipFlops)) | \(opt(pe?.peDSP48)) |"
            for sz in pivot.sizes {
                let m = pivot.cell[name]?[sz]?.synthesis
                s += " \(opt(m?.luts)) | \(opt(m?.flipFlops)) | \(opt(m?.dsp48)) | \(opt(m?.bram)) |"
            }
            s += "\n"
        }
        s += "\n| format | PE pJ/MAC |"
        rule = "|---|---:|"
        for sz in pivot.sizes { s += " \(sz) pJ/MAC |"; rule += "---:|" }
        for sz in pivot.sizes { s += " \(sz) SQNR dB |"; rule += "---:|" }
        for sz in pivot.sizes { s += " \(sz) RMSE |"; rule += "---:|" }
        s += "\n" + rule + "\n"
        for name in pivot.rows {
            let first = pivot.first[name]!
            s += "| \(name) | \(first.peMACPicojoules.map { String(format: "%.4f", $0) } ?? "–") |"
            let cells = pivot.sizes.map { pivot.cell[name]?[$0] }
            for r in cells { s += " \(r?.energy.map { String(format: "%.2f", $0.picojoulesPerMAC) } ?? "–") |" }
            for r in cells {
                let sqnr = r.flatMap { $0.sqnrDB.map { String(format: "%.1f", $0) } ?? ($0.status == .pass && $0.simulated ? "exact" : nil) }
                s += " \(sqnr ?? "–") |"
            }
            for r in cells { s += " \(r.flatMap { $0.simulated ? String(format: "%.4g", $0.rmse) : nil } ?? "–") |" }
            s += "\n"
        }
        return s
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
        let ranks = formatRanks(main)
        // Group: dataflow in the grid's order, then number format, then bits.
        func group(_ r: PointResult) -> Int {
            (order.firstIndex(of: r.point.dataflow) ?? order.count) * 100_000 + ranks[r.point.config.format]! * 100 + r.point.config.a.bits
        }
        func title(_ g: Int) -> String {
            let dataflow = g / 100_000 < order.count ? order[g / 100_000].rawValue : "?"
            let format = formatTag(ranks, g / 100 % 1000)
            return severalBits ? "\(dataflow) \(format)\(g % 100)-bit" : "\(dataflow)\(format.isEmpty ? "" : " " + format.dropLast())"
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

        // SQNR against bitwidth, one line per rounding mode (and number format), mean over array sizes.
        var sqnr: [Series] = []
        let ranks = formatRanks(all)
        for (format, rank) in ranks.sorted(by: { $0.value < $1.value }) {
            for rounding in RoundingMode.allCases {
                var byBits: [Int: [Double]] = [:]
                for r in all where r.point.config.rounding == rounding && r.point.config.format == format && r.status == .pass {
                    if let db = r.sqnrDB { byBits[r.point.config.a.bits, default: []].append(db) }
                }
                let pts = byBits.keys.sorted().map { (Double($0), byBits[$0]!.reduce(0, +) / Double(byBits[$0]!.count)) }
                if !pts.isEmpty { sqnr.append(Series(title: formatTag(ranks, rank) + rounding.rawValue, points: pts)) }
            }
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
        let mainRanks = formatRanks(main)
        func line(_ r: PointResult) -> FormatBits { FormatBits(format: mainRanks[r.point.config.format]!, bits: r.point.config.a.bits) }
        for b in Set(main.map(line)).sorted() {
            var pts: [(x: Double, y: Double)] = []
            for r in main where line(r) == b && r.cycles > 0 {
                guard let s = r.synthesis else { continue }
                let y = Double(r.macs) / Double(r.cycles)
                pts.append((Double(s.luts), y))
                labels.append((Double(s.luts), y, size(r.point.config)))
            }
            pts.sort { ($0.x, $0.y) < ($1.x, $1.y) }
            if !pts.isEmpty { thr.append(Series(title: lineTitle(mainRanks, b), points: pts)) }
        }
        if !thr.isEmpty {
            specs.append(Spec(plot: Plot(file: "throughput-area.svg", title: "Throughput against area",
                                         caption: "Useful MACs per cycle on the fixed workload (MACs / simulated cycles) against LUTs, one line per bitwidth, labelled with the array size, \(modeText)."),
                              script: script(file: "throughput-area.svg", title: "Throughput against area, \(modeText)", xlabel: "LUTs",
                                             ylabel: "MACs per cycle", logX: true, logY: true, xtics: nil, series: thr, labels: labels, yBase: 2)))
        }

        // `--pnr`: operations per second at the placed Fmax against the placed logic cells.
        var gops: [Series] = []
        var gopsLabels: [(x: Double, y: Double, text: String)] = []
        for b in Set(main.map(line)).sorted() {
            var pts: [(x: Double, y: Double)] = []
            for r in main where line(r) == b {
                guard let g = r.gops, let cells = r.pnr?.logicCells else { continue }
                pts.append((Double(cells), g))
                gopsLabels.append((Double(cells), g, size(r.point.config)))
            }
            pts.sort { ($0.x, $0.y) < ($1.x, $1.y) }
            if !pts.isEmpty { gops.append(Series(title: lineTitle(mainRanks, b), points: pts)) }
        }
        if !gops.isEmpty {
            specs.append(Spec(plot: Plot(file: "gops-area.svg", title: "GOPS against area (place and route)",
                                         caption: "2 × measured MACs per cycle × Fmax (median of three nextpnr-ecp5 seeds, out of context; docs/TIMING.md) against placed logic cells (TRELLIS_COMB), one line per bitwidth, labelled with the array size, \(modeText)."),
                              script: script(file: "gops-area.svg", title: "GOPS against ECP5 logic cells, \(modeText)", xlabel: "logic cells (TRELLIS_COMB)",
                                             ylabel: "GOPS", logX: true, logY: true, xtics: nil, series: gops, labels: gopsLabels, yBase: 2)))
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
        for b in Set(main.map(line)).sorted() {
            let candidates = main.filter { line($0) == b && $0.energy != nil }
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

    static func num(_ v: Double) -> String { Gnuplot.number(v) }

    static func quoted(_ s: String) -> String { Gnuplot.quoted(s) }

    static let header = """
        set terminal svg size 760,480 font "Helvetica,13" noenhanced background rgb "white"
        set encoding utf8
        set grid back lc rgb "#dddddd"
        set key top left box opaque
        set border 3
        set tics nomirror
        \(Gnuplot.lineTypes)

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
            let c = r.point.config
            let label = (c.format == .binary ? "binary" : "\(c.format == .fixed ? "" : "\(c.format) ")\(c.a.bits)-bit") + " \(size(c))"
            s += quoted(label) + " " + keys.map { num((e.breakdown[$0] ?? 0) / macs) }.joined(separator: " ") + "\n"
        }
        s += "EOD\n"
        s += "plot for [i=2:\(keys.count + 1)] $b using i:xtic(1) title columnheader(i) lw 0.5\n"
        return s
    }

    // MARK: - Markdown

    /// Place and route (docs/TIMING.md): one row per point that has it.
    public static func timingTable(_ results: [PointResult]) -> String {
        func opt(_ v: Int?) -> String { v.map(String.init) ?? "–" }
        func num(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "–" }
        let placed = results.filter { $0.pnr != nil }
        let device = Set(placed.map { $0.pnr!.device }).sorted().joined(separator: ", ")
        var s = "yosys `synth_ecp5`, nextpnr-ecp5 out of context on the \(device): Fmax is the median of three placement seeds (the spread in brackets), "
        s += "register to register inside the design (no I/O timing); logic cells are TRELLIS_COMB (a LUT4 or half a CCU2C carry); "
        s += "GOPS = 2 × measured MACs per cycle × Fmax.\n\n"
        s += "| # | design | Fmax MHz | seeds | critical path | ns | logic cells | FFs | MULT18 | DP16KD | GOPS | GOPS/kLUT | GOPS/MULT18 |\n"
        s += "|---:|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for r in placed {
            let p = r.pnr!
            let spread = p.seedFmaxMHz.isEmpty ? "–" : p.seedFmaxMHz.map { String(format: "%.1f", $0) }.joined(separator: ", ")
            let fmax = p.notApplicable.map { "n/a (\($0))" } ?? num(p.fmaxMHz, "%.1f")
            let gops = r.gops
            let perK = gops.flatMap { g in p.logicCells.flatMap { $0 > 0 ? 1000 * g / Double($0) : nil } }
            let perDSP = gops.flatMap { g in p.mult18 > 0 ? g / Double(p.mult18) : nil }
            s += "| \(r.point.index) | `\(r.point.key)` | \(fmax) | \(spread) | \(p.criticalPath.map { "`\($0)`" } ?? "–") | \(num(p.criticalPathNs, "%.2f")) | "
            s += "\(opt(p.logicCells)) | \(opt(p.flipFlops)) | \(p.mult18) | \(opt(p.bram)) | \(num(gops, "%.2f")) | \(num(perK, "%.3f")) | \(num(perDSP, "%.3f")) |\n"
        }
        return s
    }

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
        let networks = results.contains { $0.point.workload.isNetwork }
        if networks {
            s += "## Networks\n\n" + networkTables(results).replacingOccurrences(of: "\n### ", with: "\n### ") + "\n"
        }
        let arrays = results.filter { !$0.point.workload.isNetwork }
        if hasFormats(arrays) {
            s += "## Number formats\n\n"
            s += "Per format: the PE synthesized alone and the whole array (synth_xilinx LUTs, flip-flops, DSP48E1, block RAMs); the PE's arithmetic per MAC and the workload's pJ per useful MAC (docs/ENERGY.md, \"Number formats\"); SQNR and RMSE of the rounded outputs against the exact result (main rounding mode; also in `formats.md`).\n\n"
            s += formatTables(arrays) + "\n"
        }
        if results.contains(where: { $0.pnr != nil }) {
            s += "## Timing\n\n" + timingTable(results) + "\n"
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
            let sqnr = r.sqnrDB.map { String(format: "%.1f", $0) } ?? (r.status == .pass && r.cycles > 0 && r.network == nil ? "exact" : "–")
            let rmse = r.cycles > 0 && r.network == nil ? String(format: "%.4g", r.rmse) : "–"
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
