import Cores
import Foundation
@testable import Sweep
import Testing
import TestTags
import Timing

/// `sweep --workload lenet5|mlp` (docs/SWEEP.md, "Networks"): the Pareto front, the plan and
/// its resume key, refusals, and one small network point through the binary (the shipped
/// LeNet-5 weights at fixed8, which needs no fine-tuning, on a 4×4 array).
@Suite("sweep --workload lenet5", .tags(.verilator, .synthesis, .dataset))
struct NetworkSweepTests {
    @Test("the Pareto front: highest accuracy for the cost, dominated and duplicate points left out")
    func pareto() {
        // (cost, accuracy): 0 and 2 and 4 are on the front; 1 is beaten by 0 (dearer, worse),
        // 3 by 2 (same cost, worse), 5 duplicates 4 (the first is kept), 6 by 4 (dearer, equal).
        let points: [(cost: Double, accuracy: Double)] = [(10, 0.80), (20, 0.70), (30, 0.85), (30, 0.84), (100, 0.90), (100, 0.90), (200, 0.90)]
        #expect(Pareto.front(points) == [0, 2, 4])
        #expect(Pareto.front([]) == [])
        #expect(Pareto.front([(5, 0.1)]) == [0])
        // Cheaper and better on every count: the only point on the front.
        #expect(Pareto.front([(50, 0.5), (40, 0.6), (60, 0.4)]) == [1])
        // Listed dearest first: the front still comes out cheapest first.
        #expect(Pareto.front([(400, 0.9), (300, 0.8), (200, 0.7), (100, 0.6)]) == [3, 2, 1, 0])
    }

    @Test("network points: keys by model, size, scheme and rounding; default image counts; a result made from other weights is not reused")
    func planAndResume() throws {
        let g = SubGrid(rows: [4], inputBits: [8], rounding: [.nearest, .stochastic], workload: .lenet5,
                        format: [.fixed(bits: 8), .coded(.binary), .coded(.codebook(indexBits: 4))], hardwareImages: 4)
        let points = Grid.points([g])
        #expect(points.map(\.key) == ["lenet5-4x4-fixed8-nearest", "lenet5-4x4-binary-nearest", "lenet5-4x4-codebook4-nearest",
                                      "lenet5-4x4-fixed8-stochastic", "lenet5-4x4-binary-stochastic", "lenet5-4x4-codebook4-stochastic"])
        #expect(points.map(\.schemeName) == ["fixed8", "binary", "codebook4", "fixed8", "binary", "codebook4"])
        #expect(points.allSatisfy { $0.network?.accuracyImages == 10_000 && $0.network?.hardwareImages == 4 && $0.dataflow == .os })
        #expect(points.allSatisfy { !$0.network!.weights.isEmpty })
        // A plain GEMM point has no network and writes none.
        let gemm = Grid.points([SubGrid(rows: [4], inputBits: [8], rounding: [.nearest])])[0]
        let encoded = String(decoding: try JSONEncoder().encode(gemm), as: UTF8.self)
        #expect(gemm.network == nil && !encoded.contains("network"))

        let dir = SweepEngineTests.freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = SweepStore(directory: dir)
        try store.prepare()
        var old = points[0]
        old.network!.weights = "0123abcd"
        try store.write(PointResult(point: old, status: .pass))
        #expect(try store.finished(in: points).isEmpty, "other weights: rerun")
        try store.write(PointResult(point: points[0], status: .pass))
        #expect(try Array(store.finished(in: points).keys) == ["lenet5-4x4-fixed8-nearest"])
        var more = points[0]
        more.network!.accuracyImages = 500
        #expect(try store.finished(in: [more]).isEmpty, "other image counts: rerun")
    }

    @Test("flags that make no sense for a network are refused with one line and nothing written",
          arguments: [
              (["--workload", "lenet5", "--input-bits", "4"], "invalid value '4' for --input-bits: allowed only with --workload gemm or conv"),
              (["--workload", "lenet5", "--output-bits", "16"], "invalid value '16' for --output-bits: allowed only with --workload gemm or conv"),
              (["--workload", "mlp", "--dataflow", "xs"], "invalid value 'xs' for --dataflow: allowed os, ws, rs with --workload mlp"),
              (["--workload", "mlp", "--dataflow", "rs", "--format", "ternary"], "invalid value 'ternary' for --format: allowed a format the grid's dataflows build"),
              (["--workload", "lenet5", "--format", "fixed,bwn"], "invalid value 'fixed' for --format: allowed comma-separated fixed<2..16>"),
              (["--workload", "gemm", "--accuracy-images", "100"], "invalid value '100' for --accuracy-images: allowed only with --workload lenet5 or mlp"),
              (["--rows", "4", "--hardware-images", "8"], "invalid value '8' for --hardware-images: allowed only with --workload lenet5 or mlp"),
              (["--workload", "lenet5", "--accuracy-images", "0"], "invalid value '0' for --accuracy-images: allowed an integer in 1...10000"),
              (["--workload", "lenet5", "--hardware-images", "x"], "invalid value 'x' for --hardware-images: allowed an integer in 1...10000"),
              (["--workload", "resnet"], "invalid value 'resnet' for --workload: allowed gemm, conv, lenet5, mlp"),
              (["--format", "fixed8,bogus"], "invalid value 'bogus' for --format: allowed comma-separated"),
          ])
    func refusals(arguments: [String], prefix: String) throws {
        let dir = SweepEngineTests.freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try SweepEngineTests.run(arguments + ["--out", dir.path])
        #expect(r.status == 2, "\(r.stdout)\n\(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("sweep: error: " + prefix), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path), "nothing written")
    }

    @Test("a config file's network sub-grid refuses bit keys and takes the image counts")
    func configFile() throws {
        let dir = SweepEngineTests.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("grid.json")
        try #"[{"workload": "lenet5", "rows": 4, "rounding": "nearest", "format": ["fixed8", "ternary"], "accuracyImages": 200, "hardwareImages": 2}]"#
            .write(to: file, atomically: true, encoding: .utf8)
        let g = try Grid.load(configFile: file)
        let points = Grid.points(g)
        #expect(points.map(\.key) == ["lenet5-4x4-fixed8-nearest", "lenet5-4x4-ternary-nearest"])
        #expect(points.allSatisfy { $0.network?.accuracyImages == 200 && $0.network?.hardwareImages == 2 })
        try #"[{"workload": "lenet5", "rows": 4, "rounding": "nearest", "inputBits": 8}]"#.write(to: file, atomically: true, encoding: .utf8)
        let e = try #require(throws: SweepUsageError.self) { try Grid.load(configFile: file) }
        #expect(e.message.hasPrefix("invalid key 'inputBits' in grid.json sub-grid 0 with workload lenet5"), "\(e.message)")
        try #"[{"rows": 4, "inputBits": 8, "rounding": "nearest", "hardwareImages": 2}]"#.write(to: file, atomically: true, encoding: .utf8)
        let f = try #require(throws: SweepUsageError.self) { try Grid.load(configFile: file) }
        #expect(f.message.hasPrefix("invalid key 'hardwareImages' in grid.json sub-grid 0 with workload gemm"), "\(f.message)")
    }

    /// One point: quantize, classify 300 test images with the golden network, co-simulate 4,
    /// synthesize the one fixed8 array and the pooling cores; then a rerun resumes.
    @Test("network points on other dataflows: keyed by dataflow, and the formats a dataflow does not run left out with the registry's reason")
    func otherDataflows() {
        let g = SubGrid(dataflow: [.os, .ws, .rs], rows: [4], inputBits: [8], rounding: [.nearest], workload: .mlp,
                        format: [.fixed(bits: 8), .coded(.ternary), .coded(.codebook(indexBits: 4))], hardwareImages: 2)
        let (points, skipped) = Grid.plan([g])
        #expect(points.map(\.key) == ["mlp-4x4-fixed8-nearest", "mlp-4x4-ternary-nearest", "mlp-4x4-codebook4-nearest",
                                      "mlp-ws-4x4-fixed8-nearest", "mlp-ws-4x4-ternary-nearest", "mlp-rs-4x4-fixed8-nearest"])
        #expect(skipped.count == 3, "\(skipped)")
        #expect(skipped.contains { $0.hasPrefix("mlp ws with codebook4") && $0.contains("networks in codebook<1..6> run on os") })
        #expect(skipped.contains { $0.hasPrefix("mlp rs with ternary") && $0.contains("networks in ternary run on os and ws") })
        // Without a dataflow list a network runs on the systolic array only.
        #expect(Grid.defaultDataflows(for: .mlp) == [.os] && Grid.dataflows(for: .mlp) == [.os, .ws, .rs])
    }

    @Test("the MLP at fixed8 on a 4×4 weight-stationary array: every layer co-simulated and checked, the golden accuracy's classes")
    func weightStationaryNetwork() throws {
        // fixed8 needs no fine-tuning, so nothing is written to the model cache.
        let g = SubGrid(dataflow: [.ws], rows: [4], inputBits: [8], rounding: [.nearest], workload: .mlp,
                        format: [.fixed(bits: 8)], accuracyImages: 20, hardwareImages: 2)
        let point = try #require(Grid.points([g]).first)
        let r = Runner.run(point, options: RunOptions(synthesize: false))
        #expect(r.status == .pass, "\(r.message ?? "")")
        let n = try #require(r.network)
        #expect(n.hardwareImages == 2 && r.mismatches == 0 && r.macs > 0 && n.cyclesPerImage > 0 && n.energyPerImagePJ > 0)
        // The MLP's MACs per image (784-256-256-10, docs/NETWORKS.md), two images.
        #expect(r.macs == 2 * (784 * 256 + 256 * 256 + 256 * 10), "\(r.macs)")
    }

    @Test("LeNet-5 at fixed8 on 4×4: accuracy, loss, energy and cycles per image, area; the table, plots and a resume")
    func smallNetworkSweep() throws {
        let dir = SweepEngineTests.freshDirectory()
        let cache = SweepEngineTests.freshDirectory()
        defer {
            try? FileManager.default.removeItem(at: dir)
            try? FileManager.default.removeItem(at: cache)
        }
        let args = ["--workload", "lenet5", "--format", "fixed8", "--rows", "4", "--rounding", "nearest",
                    "--accuracy-images", "300", "--hardware-images", "4", "--out", dir.path]
        let r = try SweepEngineTests.run(args, environment: ["ACCELGEN_MODEL_CACHE": cache.path])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let rows = try SweepEngineTests.csvRows(dir)
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row["key"] == "lenet5-4x4-fixed8-nearest" && row["workload"] == "lenet5" && row["scheme"] == "fixed8")
        #expect(row["status"] == "pass" && row["mismatches"] == "0", "\(row["message"] ?? "")")
        #expect(row["accuracy_images"] == "300" && row["hardware_images"] == "4")
        #expect(row["input_bits"] == "8" && row["weight_bits"] == "8" && row["fine_tuned"] == "false")
        let accuracy = try #require(Double(row["accuracy"]!)), float = try #require(Double(row["float_accuracy"]!))
        // The shipped LeNet-5 is near 90% on Fashion-MNIST; 8-bit dynamic fixed point keeps most of it.
        #expect(accuracy > 0.5 && float > 0.5, "accuracy \(accuracy), float \(float)")
        let loss = try #require(Double(row["accuracy_loss_points"]!))
        #expect(abs(loss - 100 * (float - accuracy)) < 1e-9 && abs(loss) < 5, "loss \(loss)")
        // Three images in a hundred steps: the accuracy is a whole number of images out of 300.
        #expect(abs(accuracy * 300 - (accuracy * 300).rounded()) < 1e-6)
        let energy = try #require(Double(row["energy_per_image_pj"]!)), cycles = try #require(Double(row["cycles_per_image"]!))
        #expect(energy > 0 && cycles > 0)
        // LeNet-5's MACs per image (conv 5×5 1→6 on 28×28, conv 5×5 6→16 on 12×12, dense 256→120→84→10)
        // over 16 PEs is a floor on the cycles; the energy total is per image times images.
        let macs = 24 * 24 * 6 * 25 + 8 * 8 * 16 * 150 + 256 * 120 + 120 * 84 + 84 * 10
        #expect(Int(row["macs"]!) == 4 * macs)
        #expect(cycles >= Double(macs) / 16)
        #expect(abs(Double(row["energy_total_pj"]!)! - 4 * energy) < 1e-6 * energy)
        for column in ["luts", "flip_flops", "pool_luts"] { #expect((Int(row[column]!) ?? 0) > 0, "\(column): \(row[column]!)") }
        #expect(Int(row["dsp48"]!) != nil && Int(row["bram"]!) != nil)
        #expect(row["rmse"] == "" && row["sqnr_db"] == "" && row["pe_mac_pj"] == "", "no GEMM error statistics for a network")

        // The table: the float row, then the point with its figures.
        let md = try String(contentsOf: dir.appendingPathComponent("networks.md"), encoding: .utf8)
        #expect(md.contains("### lenet5 on 4×4 arrays"))
        #expect(md.contains(String(format: "| float | 32 | 32 | – | %.2f | 0.00 |", 100 * float)), "\(md)")
        #expect(md.contains(String(format: "| fixed8 | 8 | 8 | nearest | %.2f | %.2f | 4 (0) | %@ |", 100 * accuracy, loss, row["luts"]!)), "\(md)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("networks.json"))) as? [[String: Any]])
        #expect(json.map { $0["format"] as? String } == ["float", "fixed8"])
        #expect(json[1]["pareto_luts"] as? Bool == true && json[1]["mismatches"] as? Int == 0)
        let plots = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("plots").path)
        #expect(plots.contains("lenet5-accuracy-luts.svg") && plots.contains("lenet5-accuracy-energy.svg"), "\(plots)")
        #expect(!plots.contains("format-mac.svg") && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("formats.md").path))
        let report = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("## Networks") && report.contains("plots/lenet5-accuracy-luts.svg"))

        // A rerun finds the point done and writes the same table.
        let again = try SweepEngineTests.run(args, environment: ["ACCELGEN_MODEL_CACHE": cache.path])
        #expect(again.status == 0 && again.stderr.contains("1 points: 1 already done, 0 to run"), "\(again.stderr)")
        #expect(try String(contentsOf: dir.appendingPathComponent("networks.md"), encoding: .utf8) == md)
    }
}

/// `sweep --pnr` on network points, without placing anything: how the arrays' figures combine
/// and what the report makes of them.
@Suite("network timing")
struct NetworkTimingTests {
    /// One array's place-and-route figures, as the cache stores them.
    static func placed(fmax: Double?, cells: Int, mult18: Int, path: String, note: String? = nil) throws -> PlaceAndRouteMetrics {
        var o: [String: Any] = ["device": "LFE5U-85F-6 CABGA381", "seeds": [1, 2, 3], "seedFmaxMHz": fmax.map { [$0, $0, $0] } ?? [],
                                "mult18": mult18, "synthCells": ["LUT4": cells], "synthSeconds": 1.0, "pnrSeconds": 10.0,
                                "logicCells": cells, "flipFlops": cells / 2, "bram": 0, "criticalPath": path, "cached": true]
        if let fmax { o["fmaxMHz"] = fmax }
        if let note { o["notApplicable"] = note }
        return try JSONDecoder().decode(PlaceAndRouteMetrics.self, from: JSONSerialization.data(withJSONObject: o))
    }

    @Test("a network runs at its slowest array's Fmax, on the sum of its arrays' resources")
    func combined() throws {
        let fast = try Self.placed(fmax: 90, cells: 1000, mult18: 16, path: "a → b")
        let slow = try Self.placed(fmax: 60, cells: 3000, mult18: 16, path: "c → d")
        let c = try #require(NetworkWorkload.combined([fast, slow]))
        #expect(c.fmaxMHz == 60 && c.criticalPath == "c → d")
        #expect(c.logicCells == 4000 && c.flipFlops == 2000 && c.mult18 == 32 && c.bram == 0)
        #expect(c.synthCells["LUT4"] == 4000 && c.pnrSeconds == 20 && c.synthSeconds == 2 && c.cached == true)
        // An array that did not fit leaves the whole network unplaced, saying why.
        let big = try Self.placed(fmax: nil, cells: 0, mult18: 400, path: "", note: "needs 400 MULT18X18D")
        let n = try #require(NetworkWorkload.combined([fast, big]))
        #expect(n.fmaxMHz == nil && n.notApplicable == "needs 400 MULT18X18D")
        #expect(NetworkWorkload.combined([]) == nil)
    }

    @Test("inferences per second: Fmax over cycles per image; the table, the JSON and the plot's Pareto front")
    func report() throws {
        func point(_ index: Int, _ format: SweepFormat, accuracy: Double, fmax: Double, cycles: Double) throws -> PointResult {
            let g = SubGrid(rows: [4], inputBits: [8], rounding: [.nearest], workload: .mlp, format: [format], hardwareImages: 2)
            var p = try #require(Grid.points([g]).first)
            p.index = index
            var r = PointResult(point: p, status: .pass, cycles: Int(2 * cycles), macs: 1000)
            r.network = NetworkMetrics(model: "mlp", scheme: p.schemeName, weightBits: 8, activationBits: 8, arrays: 1,
                                       accuracy: accuracy, accuracyImages: 100, floatAccuracy: 0.9, floatAccuracyRecorded: 0.9,
                                       hardwareImages: 2, hardwareAccuracy: accuracy, energyPerImagePJ: 1000, cyclesPerImage: cycles,
                                       fineTuned: false, quantizeSeconds: 0, accuracySeconds: 0)
            r.pnr = try NetworkTimingTests.placed(fmax: fmax, cells: 100, mult18: 16, path: "x → y")
            return r
        }
        // fixed8 is the most accurate; ternary the fastest; bwn neither (slower and worse than ternary).
        let results = [try point(0, .fixed(bits: 8), accuracy: 0.88, fmax: 50, cycles: 10_000),
                       try point(1, .coded(.ternary), accuracy: 0.85, fmax: 80, cycles: 10_000),
                       try point(2, .coded(.binaryWeights), accuracy: 0.80, fmax: 60, cycles: 10_000)]
        #expect(results[1].inferencesPerSecond == 8000)
        let table = Report.networkTables(results)
        #expect(table.contains("Fmax MHz | inferences / s"), "\(table)")
        #expect(table.contains("| 80.0 | 8000 |"), "\(table)")
        let front = Report.networkFront(results, cost: Report.networkSecondsPerInference).front
        #expect(front == [0, 1])
        let json = try Report.networkJSON(results)
        #expect(json.contains("\"inferences_per_second\""))
        let plot = try #require(Report.networkPlotSpecs(results).first { $0.plot.file == "mlp-accuracy-throughput.svg" })
        // The x axis is inferences per second (8000 for ternary), not seconds per inference.
        #expect(plot.script.contains("8000 85"), "\(plot.script)")
    }
}
