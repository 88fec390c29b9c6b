import Cores
import Cosim
import Foundation
import Sweep
import Testing
#if canImport(Glibc)
import Glibc
import TestTags
#endif

/// The `sweep` command as a user runs it: the built binary (beside the test bundle), its exit
/// status, its point files and merged tables. Tiny grids of 2×2 and 2×3 arrays; synthesis only
/// where it is the point.
@Suite("sweep engine", .serialized, .tags(.verilator, .synthesis))
struct SweepEngineTests {
    // MARK: - Support

    static var binary: URL {
        get throws {
            let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for candidate in [dir, dir.deletingLastPathComponent()] {
                let url = candidate.appendingPathComponent("sweep")
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
            throw ToolError.missing("sweep (build it first: swift build)")
        }
    }

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Starts the binary with stdout and stderr going to files (read them after it exits).
    static func process(_ arguments: [String], environment: [String: String] = [:]) throws -> (Process, URL, URL) {
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-test-logs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let out = logs.appendingPathComponent("stdout"), err = logs.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = try binary
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        return (p, out, err)
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let (p, out, err) = try process(arguments, environment: environment)
        p.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        return Run(status: p.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                   stderr: try String(contentsOf: err, encoding: .utf8))
    }

    static func freshDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("sweep-test-\(UUID().uuidString)")
    }

    static func pointFiles(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("points").path)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
    }

    static func modificationDate(_ url: URL) throws -> Date {
        try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as! Date
    }

    /// RFC 4180: quoted fields may hold commas, doubled quotes and line breaks.
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\n" {
                row.append(field); rows.append(row); row = []; field = ""
            } else { field.append(c) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    /// Rows of sweep.csv as dictionaries, after checking the header is exactly the documented columns.
    static func csvRows(_ dir: URL) throws -> [[String: String]] {
        let rows = parseCSV(try String(contentsOf: dir.appendingPathComponent("sweep.csv"), encoding: .utf8))
        #expect(rows.first == Table.columnNames)
        return rows.dropFirst().map { cells in
            #expect(cells.count == Table.columnNames.count, "\(cells)")
            return Dictionary(uniqueKeysWithValues: zip(Table.columnNames, cells))
        }
    }

    static func jsonRows(_ dir: URL) throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("sweep.json"))) as! [[String: Any]]
    }

    // MARK: - Grid

    @Test("the default grid: 21 valid points, sizes 2 to 32, bitwidths 4, 8, 16, every rounding at 8×8")
    func defaultGrid() throws {
        let points = Grid.points(Grid.defaultGrid)
        #expect(points.count == 21)
        #expect(points.map(\.index) == Array(0..<21))
        #expect(Set(points.map(\.key)).count == 21)
        #expect(Set(points.map(\.config.rows)) == [2, 4, 8, 16, 32])
        #expect(Set(points.map(\.config.a.bits)) == [4, 8, 16])
        #expect(Set(points.filter { $0.config.rows == 8 }.map(\.config.rounding)) == Set(RoundingMode.allCases))
        for p in points {
            try p.config.validate()
            let c = p.config
            #expect(c.a.frac == c.a.bits - 2 && c.b == c.a)
            #expect(c.output.bits == c.a.bits && c.output.frac == c.output.bits - 8)
            #expect(c.dropBits > 0, "\(p.key): rounding must drop bits")
        }
    }

    @Test("--plan: flags make a cartesian product; a config file's sub-grids are deduplicated by key")
    func plan() throws {
        let flags = try Self.run(["--plan", "--json", "--rows", "2,4", "--cols", "2,3", "--input-bits", "4,8", "--rounding", "nearest,stochastic"])
        #expect(flags.status == 0, "\(flags.stderr)")
        let entries = try JSONSerialization.jsonObject(with: Data(flags.stdout.utf8)) as! [[String: Any]]
        #expect(entries.count == 16)
        #expect(entries.map { $0["index"] as! Int } == Array(0..<16))
        #expect(entries[0]["key"] as? String == "os-2x2-s4f2-s4f-4-nearest")

        let dir = Self.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("grid.json")
        try Data("""
            {"grids": [{"rows": [2, 4], "inputBits": 8, "rounding": ["nearest", "truncate"]},
                       {"rows": 2, "cols": [2, 3], "inputBits": [8], "rounding": "nearest"}]}
            """.utf8).write(to: config)
        let text = try Self.run(["--plan", "--config", config.path])
        #expect(text.status == 0, "\(text.stderr)")
        let keys = ["os-2x2-s8f6-s8f0-nearest", "os-2x2-s8f6-s8f0-truncate", "os-4x4-s8f6-s8f0-nearest",
                    "os-4x4-s8f6-s8f0-truncate", "os-2x3-s8f6-s8f0-nearest"]
        for (i, key) in keys.enumerated() { #expect(text.stdout.contains(" \(i)  \(key) "), "\(text.stdout)") }
        #expect(text.stdout.contains("5 points"))
    }

    @Test("--pe-pipeline and --round-pipeline are grid axes: keys end in -pp<n>, -rp<n>; ws and rs are left out with a note")
    func pipelining() throws {
        let r = try Self.run(["--plan", "--json", "--rows", "2", "--pe-pipeline", "0,2", "--round-pipeline", "0,1"])
        #expect(r.status == 0, "\(r.stderr)")
        let entries = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        #expect(entries.map { $0["key"] as! String } == ["os-2x2-s8f6-s8f0-stochastic", "os-2x2-s8f6-s8f0-stochastic-rp1",
                                                       "os-2x2-s8f6-s8f0-stochastic-pp2", "os-2x2-s8f6-s8f0-stochastic-pp2-rp1"])
        let configs = entries.map { $0["config"] as! [String: Any] }
        #expect(configs[0]["pePipeline"] == nil && configs[0]["roundPipeline"] == nil, "off: the point's JSON is as before")
        #expect(configs[3]["pePipeline"] as? Int == 2 && configs[3]["roundPipeline"] as? Int == 1)

        let conv = try Self.run(["--plan", "--json", "--workload", "conv", "--rows", "2", "--pe-pipeline", "0,1"])
        #expect(conv.status == 0, "\(conv.stderr)")
        let keys = (try JSONSerialization.jsonObject(with: Data(conv.stdout.utf8)) as! [[String: Any]]).map { $0["key"] as! String }
        #expect(keys.contains("conv-os-2x2-s8f6-s8f0-stochastic-pp1"))
        #expect(keys.filter { $0.hasSuffix("-pp1") }.count == 1, "\(keys)")
        #expect(conv.stderr.contains("conv ws with pipelining (allowed: os)") && conv.stderr.contains("conv rs with pipelining"), "\(conv.stderr)")

        let dir = Self.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("grid.json")
        try Data(#"[{"rows": 2, "inputBits": 8, "rounding": "nearest", "pePipeline": [1], "roundPipeline": 1}]"#.utf8).write(to: config)
        let file = try Self.run(["--plan", "--config", config.path])
        #expect(file.status == 0 && file.stdout.contains(" 0  os-2x2-s8f6-s8f0-nearest-pp1-rp1 "), "\(file.stdout)\(file.stderr)")
    }

    @Test("--lfsr-step one: stochastic points step their LFSRs once per output, under their own keys; leap is written as before")
    func lfsrStep() throws {
        let r = try Self.run(["--plan", "--json", "--rounding", "truncate,stochastic", "--lfsr-step", "one"])
        #expect(r.status == 0, "\(r.stderr)")
        let entries = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        #expect(entries.map { $0["key"] as! String } == ["os-8x8-s8f6-s8f0-truncate", "os-8x8-s8f6-s8f0-stochastic-lfsr-one"])
        let configs = entries.map { $0["config"] as! [String: Any] }
        #expect(configs[0]["lfsrStep"] == nil, "the step means nothing to truncation: left at the default")
        #expect(configs[1]["lfsrStep"] as? String == "one")

        let leap = SweepPoint(index: 0, config: Grid.config(rows: 2, cols: 2, inputBits: 4, rounding: .stochastic))
        #expect(leap.key == "os-2x2-s4f2-s4f-4-stochastic")
        let encoded = try JSONEncoder().encode(leap)
        #expect(!String(decoding: encoded, as: UTF8.self).contains("lfsrStep"))
        #expect(try JSONDecoder().decode(SweepPoint.self, from: encoded).config.lfsrStep == .leap)

        let dir = Self.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("grid.json")
        try Data("""
            [{"rows": 2, "inputBits": 8, "rounding": "stochastic"},
             {"rows": 2, "inputBits": 8, "rounding": "stochastic", "lfsrStep": "one"}]
            """.utf8).write(to: config)
        let both = try Self.run(["--plan", "--config", config.path])
        #expect(both.status == 0, "\(both.stderr)")
        for (i, key) in ["os-2x2-s8f6-s8f0-stochastic", "os-2x2-s8f6-s8f0-stochastic-lfsr-one"].enumerated() {
            #expect(both.stdout.contains(" \(i)  \(key) "), "\(both.stdout)")
        }
    }

    @Test("bad flags: one line naming the flag, the value (a list's bad item) and what is allowed; status 2; nothing written", arguments: [
        (["--rows", "0"], "--rows", "0"),
        (["--rows", "2,x"], "--rows", "'x'"),
        (["--cols", "200"], "--cols", "200"),
        (["--input-bits", "40"], "--input-bits", "40"),
        (["--output-bits", "1"], "--output-bits", "1"),
        (["--rounding", "ceiling"], "--rounding", "ceiling"),
        (["--dataflow", "ws"], "--dataflow", "ws"),
        (["--workload", "gemm", "--dataflow", "os,rs"], "--dataflow", "'rs'"),
        (["--workload", "conv", "--dataflow", "os,xs"], "--dataflow", "'xs'"),
        (["--workload", "dense"], "--workload", "dense"),
        (["--jobs", "0"], "--jobs", "0"),
        (["--jobs", "many"], "--jobs", "many"),
        (["--point", "99", "--rows", "2"], "--point", "99"),
        (["--config", "/nonexistent/grid.json"], "--config", "/nonexistent/grid.json"),
        (["--lfsr-step", "two"], "--lfsr-step", "two"),
        (["--format", "pow2e9"], "--format", "pow2e9"),
        (["--format", "bwn,fixed17"], "--format", "'fixed17'"),
        (["--format", "fixed,"], "--format", "fixed,"),
        (["--workload", "conv", "--dataflow", "rs", "--format", "bwn,ternary"], "--format", "bwn,ternary"),
        (["--pe-pipeline", "0,3"], "--pe-pipeline", "'3'"),
        (["--round-pipeline", "2"], "--round-pipeline", "'2'"),
        (["--workload", "lenet5", "--pe-pipeline", "1"], "--pe-pipeline", "'1'"),
    ])
    func refused(_ arguments: [String], _ flag: String, _ value: String) throws {
        let dir = Self.freshDirectory()
        let r = try Self.run(arguments + ["--out", dir.path])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(flag) && r.stderr.contains(value) && r.stderr.contains("allowed"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path), "files were written for a refused flag")
    }

    @Test("a bad config file is refused with one line naming the entry", arguments: [
        (#"[{"rows": 2, "inputBits": 40, "rounding": "nearest"}]"#, "inputBits"),
        (#"[{"rowz": 2, "inputBits": 4, "rounding": "nearest"}]"#, "rowz"),
        (#"[{"rows": 2, "rounding": "nearest"}]"#, "inputBits"),
        (#"[{"rows": 2, "inputBits": 4, "rounding": "up"}]"#, "rounding"),
        (#"{"rows": 2}"#, "--config"),
        (#"[{"rows": 2, "inputBits": 4, "rounding": "nearest", "dataflow": "ws"}]"#, "dataflow"),
        (#"[{"workload": "dense", "rows": 2, "inputBits": 4, "rounding": "nearest"}]"#, "workload"),
        (#"[{"workload": ["conv"], "rows": 2, "inputBits": 4, "rounding": "nearest"}]"#, "workload"),
        (#"[{"rows": 2, "inputBits": 4, "rounding": "stochastic", "lfsrStep": "two"}]"#, "lfsrStep"),
        (#"[{"rows": 2, "inputBits": 4, "rounding": "nearest", "format": ["bwn", "xnor"]}]"#, "format"),
        (#"[{"rows": 2, "inputBits": 4, "rounding": "nearest", "pePipeline": 5}]"#, "pePipeline"),
    ])
    func refusedConfig(_ text: String, _ named: String) throws {
        let dir = Self.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("grid.json")
        try Data(text.utf8).write(to: config)
        let r = try Self.run(["--config", config.path, "--out", dir.appendingPathComponent("out").path])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(named), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }

    // MARK: - Output schema

    /// The schema of docs/SWEEP.md, in order: columns are only ever appended.
    static let schemaColumns = [
        "index", "key", "dataflow", "rows", "cols", "input_bits", "input_frac", "weight_bits", "weight_frac", "acc_bits",
        "output_bits", "output_frac", "rounding", "lfsr_width", "status", "mismatches", "cycles", "macs", "utilization",
        "simulated_macs_per_s", "rmse", "max_abs_error", "bias", "sqnr_db", "generic_cells", "luts", "luts_as_memory",
        "flip_flops", "dsp48", "bram", "logic_depth", "round_unit_luts", "round_unit_flip_flops", "energy_pj_per_mac",
        "energy_total_pj", "generate_s", "build_s", "simulate_s", "synth_s", "synth_cached", "message",
        "workload", "performed_macs", "gated_macs", "counts_agree", "lfsr_step", "format", "pe_luts", "pe_flip_flops", "pe_dsp48", "pe_mac_pj",
        "scheme", "accuracy", "float_accuracy", "accuracy_loss_points", "accuracy_images", "hardware_images", "hardware_accuracy",
        "energy_per_image_pj", "cycles_per_image", "arrays", "pool_luts", "pool_flip_flops", "fine_tuned",
        "pnr_device", "fmax_mhz", "critical_path", "critical_path_ns", "pnr_luts", "pnr_ffs", "mult18", "pnr_bram",
        "pnr_seconds", "pnr_cached", "pnr_note", "gops", "gops_per_klut", "gops_per_dsp", "inferences_per_second", "pe_pipeline", "round_pipeline",
    ]

    @Test("the table's columns are the documented schema, in the order of docs/SWEEP.md's table")
    func documentedSchema() throws {
        #expect(Table.columnNames == Self.schemaColumns)
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/SWEEP.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let section = text.components(separatedBy: "## Table schema")[1].components(separatedBy: "\n## ")[0]
        // First cell of each table row: one or more `name`s.
        var documented: [String] = []
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cell = line.split(separator: "|")[0]
            documented += cell.split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        }
        #expect(documented == Self.schemaColumns)
    }

    @Test("sweep.csv and sweep.json: the documented columns in order, typed values, one row per point (with synthesis)")
    func schema() throws {
        let dir = Self.freshDirectory()
        let r = try Self.run(["--rows", "2", "--cols", "2,3", "--input-bits", "4", "--rounding", "nearest", "--out", dir.path])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains("[2/2]"), "progress on stderr: \(r.stderr)")
        #expect(r.stdout.contains("report: "), "\(r.stdout)")
        #expect(try Self.pointFiles(dir) == ["0-os-2x2-s4f2-s4f-4-nearest.json", "1-os-2x3-s4f2-s4f-4-nearest.json"])

        let kinds = Dictionary(uniqueKeysWithValues: Table.columns.map { ($0.name, $0.kind) })
        let csv = try Self.csvRows(dir)
        #expect(csv.count == 2)
        for (i, row) in csv.enumerated() {
            for (name, cell) in row where !cell.isEmpty {
                switch kinds[name]! {
                case .int: #expect(Int(cell) != nil, "\(name) = \(cell)")
                case .double: #expect(Double(cell) != nil, "\(name) = \(cell)")
                case .bool: #expect(cell == "true" || cell == "false", "\(name) = \(cell)")
                case .string: break
                }
            }
            #expect(row["index"] == String(i))
            #expect(row["status"] == "pass" && row["message"] == "" && row["mismatches"] == "0")
            #expect(Int(row["cycles"]!)! > 0 && Int(row["macs"]!)! == Workload.standard.macs)
            #expect((0.5...1).contains(Double(row["utilization"]!)!))
            for name in ["rmse", "max_abs_error", "sqnr_db", "simulated_macs_per_s", "generate_s", "simulate_s", "energy_pj_per_mac"] {
                #expect(Double(row[name] ?? "") != nil, "\(name) is empty")
            }
            #expect(Int(row["generic_cells"]!)! > 0 && Int(row["luts"]!)! > 0 && Int(row["flip_flops"]!)! > 0)
            #expect(Int(row["logic_depth"]!)! > 0 && Double(row["synth_s"]!)! >= 0)
            // One ROUND unit per output column: its output register and valid at least.
            let outputBits = Int(row["output_bits"]!)!
            #expect(Int(row["round_unit_flip_flops"]!)! >= outputBits + 1 && Int(row["round_unit_luts"]!)! > 0)
            // The PE alone: a_q, b_q and res_q at least; a 4-bit product is LUTs, no DSP.
            #expect(row["format"] == "fixed" && Int(row["pe_flip_flops"]!)! >= 4 + 4 + Int(row["acc_bits"]!)!, "\(row)")
            #expect(Int(row["pe_luts"]!)! > 0 && row["pe_dsp48"] == "0" && Double(row["pe_mac_pj"]!)! > 0)
        }
        #expect(csv.allSatisfy { $0["workload"] == "gemm" && $0["gated_macs"] == "" && $0["counts_agree"] == "" })
        #expect(csv[0]["cols"] == "2" && csv[1]["cols"] == "3")
        #expect(csv[0]["output_frac"] == "-4" && csv[0]["rounding"] == "nearest")

        let json = try Self.jsonRows(dir)
        #expect(json.count == 2)
        for (object, row) in zip(json, csv) {
            #expect(Set(object.keys) == Set(Table.columnNames + ["energy_breakdown_pj", "xilinx_cells"]))
            for (name, kind) in kinds {
                let v = object[name]!
                if v is NSNull { #expect(row[name] == "", "\(name): null in JSON, '\(row[name]!)' in CSV"); continue }
                switch kind {
                case .int: #expect((v as? NSNumber).flatMap { Int(exactly: $0.doubleValue) }.map(String.init) == row[name], "\(name)")
                case .double: #expect((v as? NSNumber).map { abs($0.doubleValue - Double(row[name]!)!) <= 1e-9 * max(1, abs($0.doubleValue)) } == true, "\(name)")
                case .bool: #expect("\(type(of: v))".contains("Bool") && String(describing: (v as? Bool) ?? false) == row[name], "\(name)")
                case .string: #expect(v as? String == row[name], "\(name)")
                }
            }
            #expect(object["energy_breakdown_pj"] is [String: Any])
        }
        // GEMM points only: the convolution plots are not drawn (no empty plots).
        let plots = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("plots").path)
        #expect(plots.contains("energy.svg") && !plots.contains { $0.hasPrefix("conv-") }, "\(plots)")
    }

    @Test("a CSV field with commas, quotes and line breaks is quoted and stays on one line")
    func csvQuoting() throws {
        let p = SweepPoint(index: 0, config: Grid.config(rows: 2, cols: 2, inputBits: 4, rounding: .nearest))
        let r = PointResult(point: p, status: .error, message: "simulate: a, \"b\"\nline 2")
        let text = Table.csv([r])
        #expect(text.split(separator: "\n").count == 2)
        let rows = Self.parseCSV(text)
        #expect(rows.count == 2 && rows[1][Table.columnNames.firstIndex(of: "message")!] == "simulate: a, \"b\"; line 2")
        #expect(rows[1].count == Table.columnNames.count, "the quoted field is one field")
        #expect(rows[1][Table.columnNames.firstIndex(of: "cycles")!] == "", "not simulated: empty")
    }

    // MARK: - Robust runs

    @Test("a sweep killed mid-way (SIGKILL) keeps its finished points; the rerun skips them, no row lost or doubled")
    func resumeAfterKill() throws {
        let dir = Self.freshDirectory()
        let grid = ["--rows", "2", "--cols", "2,3", "--input-bits", "4,8", "--rounding", "truncate", "--no-synth", "--jobs", "2", "--out", dir.path]
        let (p, _, _) = try Self.process(grid)
        let deadline = Date().addingTimeInterval(600)
        while p.isRunning, Date() < deadline, ((try? Self.pointFiles(dir)) ?? []).isEmpty { usleep(50_000) }
        let wasRunning = p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(wasRunning, "the sweep finished before it could be killed")
        usleep(1_000_000)  // workers notice their parent is gone within 0.2 s and exit
        let before = try Self.pointFiles(dir)
        #expect(!before.isEmpty && before.count < 4, "\(before)")
        var dates: [String: Date] = [:]
        for name in before { dates[name] = try Self.modificationDate(dir.appendingPathComponent("points/\(name)")) }
        usleep(500_000)
        #expect(try Self.pointFiles(dir) == before, "a worker kept running after its sweep was killed")

        let r = try Self.run(grid)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains("\(before.count) already done, \(4 - before.count) to run"), "\(r.stderr)")
        let after = try Self.pointFiles(dir)
        #expect(after.count == 4)
        for name in before {
            #expect(try Self.modificationDate(dir.appendingPathComponent("points/\(name)")) == dates[name], "\(name) was rerun")
        }
        let rows = try Self.csvRows(dir)
        #expect(rows.map { $0["index"]! } == ["0", "1", "2", "3"])
        #expect(Set(rows.map { $0["key"]! }).count == 4)
        #expect(rows.allSatisfy { $0["status"] == "pass" })

        // A third run has nothing left to do.
        let again = try Self.run(grid)
        #expect(again.status == 0 && again.stderr.contains("4 already done, 0 to run"), "\(again.stderr)")
    }

    @Test("failing points (invalid design, crashed worker) are recorded with their error; the others pass")
    func failingPoint() throws {
        let dir = Self.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("grid.json")
        // Sub-grid 2 keeps 20 fractional bits of a 4-fractional-bit accumulator: not a valid design.
        try Data("""
            [{"rows": 2, "cols": [2, 3], "inputBits": 4, "rounding": "nearest"},
             {"rows": 2, "inputBits": 4, "rounding": "truncate", "outputFrac": 20},
             {"rows": 2, "inputBits": 8, "rounding": "nearest"}]
            """.utf8).write(to: config)
        let out = dir.appendingPathComponent("out")
        let r = try Self.run(["--config", config.path, "--no-synth", "--out", out.path],
                             environment: ["ACCELGEN_SWEEP_CRASH": "os-2x2-s8f6-s8f0-nearest"])
        #expect(r.status == 1, "failed points make the status 1: \(r.stderr)")
        let rows = try Self.csvRows(out)
        #expect(rows.map { $0["status"]! } == ["pass", "pass", "error", "error"])
        #expect(rows[2]["message"]!.contains("output-frac") && rows[2]["message"]!.contains("20"), "\(rows[2]["message"]!)")
        #expect(rows[2]["cycles"] == "", "an invalid design is not simulated")
        #expect(rows[3]["message"]!.contains("signal"), "\(rows[3]["message"]!)")
        #expect(rows[0]["message"] == "" && rows[1]["mismatches"] == "0")
        #expect(try Self.pointFiles(out).count == 4)

        // Errors count as done: the rerun runs nothing.
        let again = try Self.run(["--config", config.path, "--no-synth", "--out", out.path])
        #expect(again.stderr.contains("4 already done, 0 to run"), "\(again.stderr)")
    }

    // MARK: - Beyond one machine

    @Test("--plan, then --point I for each point, then --merge gives the same table as one run")
    func planPointMerge() throws {
        let dir = Self.freshDirectory()
        let grid = ["--rows", "2", "--cols", "3,2", "--input-bits", "8", "--rounding", "truncate", "--no-synth", "--out", dir.path]
        let plan = try Self.run(grid + ["--plan", "--json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let entries = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as! [[String: Any]]
        #expect(entries.count == 2)
        #expect(!FileManager.default.fileExists(atPath: dir.path), "--plan writes nothing")

        let early = try Self.run(grid + ["--merge"])
        #expect(early.status == 1 && early.stderr.contains("2 of 2 points have no result yet"), "\(early.stderr)")

        for e in entries.reversed() {
            let i = e["index"] as! Int, key = e["key"] as! String
            let r = try Self.run(grid + ["--point", String(i)])
            #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("points/\(i)-\(key).json").path))
        }
        let skip = try Self.run(grid + ["--point", "0"])
        #expect(skip.status == 0 && skip.stdout.contains("already done"), "\(skip.stdout)")

        let merged = try Self.run(grid + ["--merge"])
        #expect(merged.status == 0, "\(merged.stdout)\n\(merged.stderr)")
        let rows = try Self.csvRows(dir)
        #expect(rows.map { $0["key"]! } == entries.map { $0["key"] as! String })
        #expect(rows.map { $0["index"]! } == ["0", "1"] && rows.allSatisfy { $0["status"] == "pass" })
        #expect(try Self.jsonRows(dir).count == 2)
    }

    @Test("a changed grid reuses stored points by key, renamed to their new index")
    func changedGrid() throws {
        let dir = Self.freshDirectory()
        let first = try Self.run(["--rows", "2", "--input-bits", "4", "--rounding", "truncate", "--no-synth", "--out", dir.path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try Self.pointFiles(dir) == ["0-os-2x2-s4f2-s4f-4-truncate.json"])

        let r = try Self.run(["--rows", "2", "--cols", "3,2", "--input-bits", "4", "--rounding", "truncate", "--no-synth", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("1 already done, 1 to run"), "\(r.stderr)")
        #expect(try Self.pointFiles(dir) == ["0-os-2x3-s4f2-s4f-4-truncate.json", "1-os-2x2-s4f2-s4f-4-truncate.json"])
        let rows = try Self.csvRows(dir)
        #expect(rows.map { $0["key"]! } == ["os-2x3-s4f2-s4f-4-truncate", "os-2x2-s4f2-s4f-4-truncate"])
        #expect(rows.map { $0["index"]! } == ["0", "1"])
    }

    // MARK: - Convolution workload

    @Test("--workload conv: keys start with conv-, GEMM keys and point files stay as they were; ws is refused with GEMMs")
    func convPlan() throws {
        let conv = try Self.run(["--plan", "--json", "--workload", "conv", "--rows", "2", "--input-bits", "4"])
        #expect(conv.status == 0, "\(conv.stderr)")
        let entries = try JSONSerialization.jsonObject(with: Data(conv.stdout.utf8)) as! [[String: Any]]
        #expect(entries.map { $0["key"] as! String } == ["conv-os-2x2-s4f2-s4f-4-stochastic", "conv-ws-2x2-s4f2-s4f-4-stochastic",
                                                         "conv-rs-2x2-s4f2-s4f-4-stochastic"], "all three dataflows by default")
        #expect(entries.allSatisfy { $0["workload"] as? String == "conv" })

        // One config file, both workloads, the same design: two points, two keys.
        let dir = Self.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("grid.json")
        try Data("""
            [{"rows": 2, "inputBits": 4, "rounding": "nearest"},
             {"workload": "conv", "dataflow": ["os", "ws"], "rows": 2, "inputBits": 4, "rounding": "nearest"}]
            """.utf8).write(to: config)
        let mixed = try Self.run(["--plan", "--config", config.path])
        #expect(mixed.status == 0, "\(mixed.stderr)")
        for (i, key) in ["os-2x2-s4f2-s4f-4-nearest", "conv-os-2x2-s4f2-s4f-4-nearest", "conv-ws-2x2-s4f2-s4f-4-nearest"].enumerated() {
            #expect(mixed.stdout.contains(" \(i)  \(key) "), "\(mixed.stdout)")
        }

        // A GEMM point is written without a workload field, as before it existed, and read back as one.
        let gemm = SweepPoint(index: 0, config: Grid.config(rows: 2, cols: 2, inputBits: 4, rounding: .nearest))
        let encoded = try JSONEncoder().encode(gemm)
        #expect(!String(decoding: encoded, as: UTF8.self).contains("workload"))
        #expect(try JSONDecoder().decode(SweepPoint.self, from: encoded) == gemm)
        var convPoint = gemm
        convPoint.workload = .conv
        #expect(try JSONDecoder().decode(SweepPoint.self, from: try JSONEncoder().encode(convPoint)).workload == .conv)

        let refused = try Self.run(["--workload", "gemm", "--dataflow", "ws", "--out", dir.appendingPathComponent("out").path])
        #expect(refused.status == 2)
        #expect(refused.stderr == "sweep: error: invalid value 'ws' for --dataflow: allowed os with --workload gemm; os, ws, rs with --workload conv\n",
                "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }

    @Test("a conv sweep: OS, WS and RS on 2×2 and 2×3 arrays pass, hardware counts equal the mapper's, gating and energy recorded")
    func convSweep() throws {
        let dir = Self.freshDirectory()
        let r = try Self.run(["--workload", "conv", "--dataflow", "os,ws,rs", "--rows", "2", "--cols", "2,3", "--input-bits", "8",
                              "--rounding", "stochastic", "--no-synth", "--out", dir.path])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let rows = try Self.csvRows(dir)
        #expect(rows.map { $0["key"]! } == ["conv-os-2x2-s8f6-s8f0-stochastic", "conv-os-2x3-s8f6-s8f0-stochastic",
                                            "conv-ws-2x2-s8f6-s8f0-stochastic", "conv-ws-2x3-s8f6-s8f0-stochastic",
                                            "conv-rs-2x2-s8f6-s8f0-stochastic", "conv-rs-2x3-s8f6-s8f0-stochastic"])
        let macs = ConvWorkload.standard.macs
        for row in rows {
            let key = row["key"]!
            #expect(row["workload"] == "conv" && row["status"] == "pass" && row["mismatches"] == "0", "\(key): \(row["message"]!)")
            #expect(row["counts_agree"] == "true", "\(key)")
            #expect(Int(row["macs"]!) == macs && Int(row["cycles"]!)! > 0, "\(key)")
            let performed = Int(row["performed_macs"]!)!, gated = Int(row["gated_macs"]!)!
            // About half the activations are zero: a large share of the MACs is gated, and
            // every MAC of the layers is either performed or gated (OS also gates padding lanes).
            #expect(gated > macs / 3 && performed > 0 && performed + gated >= macs, "\(key): \(performed) + \(gated) vs \(macs)")
            #expect((0.05...1).contains(Double(row["utilization"]!)!), "\(key)")
            // Outputs s8.0 of sums with a standard deviation near 11: about 30 dB of rounding noise.
            #expect(Double(row["energy_pj_per_mac"]!)! > 0 && Double(row["sqnr_db"]!)! > 20, "\(key): \(row["sqnr_db"]!)")
            #expect(row["generic_cells"] == "" && row["round_unit_luts"] == "", "--no-synth: no synthesis columns")
        }
        for object in try Self.jsonRows(dir) {
            let breakdown = object["energy_breakdown_pj"] as! [String: Double]
            #expect(Set(breakdown.keys) == ["mac", "registerFile", "peToPE", "buffer", "dram"])
            #expect(abs(breakdown.values.reduce(0, +) - (object["energy_total_pj"] as! Double)) < 1e-6 * (object["energy_total_pj"] as! Double))
        }
        // The conv plots are drawn and linked, the GEMM plots (no GEMM points) are not.
        let plots = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("plots").path)
        #expect(plots.contains("conv-energy.svg") && plots.contains("conv-utilization.svg") && !plots.contains("energy.svg"), "\(plots)")
        let report = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("(plots/conv-energy.svg)"))
        let gp = try String(contentsOf: dir.appendingPathComponent("plots/conv-energy.gp"), encoding: .utf8)
        #expect(gp.contains("title \"os\"") && gp.contains("title \"ws\"") && gp.contains("title \"rs\""), "one line per dataflow")
    }

    @Test("a conv point with synthesis has the array's area and the ROUND unit's cost; a size WS refuses is an error point")
    func convSynthesisAndRefusedSize() throws {
        let dir = Self.freshDirectory()
        let r = try Self.run(["--workload", "conv", "--dataflow", "ws", "--rows", "2", "--input-bits", "4", "--rounding", "nearest",
                              "--out", dir.path])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let row = try #require(try Self.csvRows(dir).first)
        #expect(row["status"] == "pass" && row["counts_agree"] == "true")
        #expect(Int(row["luts"]!)! > 0 && Int(row["flip_flops"]!)! > 0 && Int(row["logic_depth"]!)! > 0)
        #expect(Int(row["round_unit_flip_flops"]!)! >= Int(row["output_bits"]!)! + 1 && Int(row["round_unit_luts"]!)! > 0)
        // The WS PE alone (found in the hierarchy as the module instantiated rows × cols times).
        #expect(Int(row["pe_luts"]!)! > 0 && Int(row["pe_flip_flops"]!)! > Int(row["acc_bits"]!)!, "\(row)")

        // WS arrays have at most 64 rows: the point is an error naming the flag, and is not built.
        let big = Self.freshDirectory()
        let e = try Self.run(["--workload", "conv", "--dataflow", "ws", "--rows", "65", "--cols", "2", "--input-bits", "4",
                              "--no-synth", "--out", big.path])
        #expect(e.status == 1)
        let erow = try #require(try Self.csvRows(big).first)
        #expect(erow["status"] == "error" && erow["cycles"] == "" && erow["build_s"] == "0.0", "\(erow)")
        #expect(erow["message"] == "config: invalid value 65 for --rows: allowed 1...64", "\(erow["message"]!)")
    }
}
