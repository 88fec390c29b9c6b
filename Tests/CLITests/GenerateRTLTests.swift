import Cosim
import Foundation
import Testing
import TestTags

/// `generate-rtl` as a user runs it: the built binary, its exit status, its output files.
@Suite("generate-rtl command", .tags(.verilator, .synthesis))
struct GenerateRTLTests {
    /// The executables sit beside the test bundle in the build folder.
    static func binary(_ name: String) throws -> URL {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw ToolError.missing("\(name) (build it first: swift build)")
    }

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String], tool: String = "generate-rtl", environment: [String: String] = [:]) throws -> Run {
        let p = Process()
        p.executableURL = try binary(tool)
        p.arguments = arguments
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func freshDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("gen-\(UUID().uuidString)")
    }

    static func sources(in dir: URL) throws -> [String: String] {
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".v") {
            files[name] = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        }
        return files
    }

    @Test("accelerator writes lint-clean Verilog, the register map as SystemRDL and C, and the map in the manifest")
    func accelerator() throws {
        let dir = Self.freshDirectory()
        let r = try Self.run(["accelerator", "--rows", "2", "--cols", "3", "--scratchpad-kib", "2", "--output-kib", "1", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        let top = manifest["top"] as! String
        let listed = Set(manifest["files"] as! [String])
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)).subtracting(["manifest.json"])
        #expect(listed == present)
        #expect(listed.contains("accel_regs.rdl") && listed.contains("accel_regs.h"))
        let header = try String(contentsOf: dir.appendingPathComponent("accel_regs.h"), encoding: .utf8)
        #expect(header.contains("#define ACCEL_REGS_STATUS_OFFSET 0x4u"))
        let rdl = try String(contentsOf: dir.appendingPathComponent("accel_regs.rdl"), encoding: .utf8)
        #expect(rdl.contains("addrmap accel_regs {") && rdl.contains("} status @ 0x4;"))
        let registers = ((manifest["parameters"] as! [String: Any])["registers"] as! [String: Any])["registers"] as! [[String: Any]]
        #expect(registers.map { $0["name"] as! String }.prefix(2) == ["CTRL", "STATUS"])
        let ports = (manifest["ports"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(ports.contains("m_axi_arvalid") && ports.contains("s_axil_wdata") && ports.contains("irq"))
        try Lint.verilator(sources: try Self.sources(in: dir), top: top)
    }

    @Test("mac --input-bits 8 writes lint-clean, synthesizable Verilog and a manifest")
    func macDefault() throws {
        let dir = Self.freshDirectory()
        let r = try Self.run(["mac", "--input-bits", "8", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let files = try Self.sources(in: dir)
        #expect(files.keys.sorted() == ["mac_s8f0_s8f0_acc26.v"])
        try Lint.verilator(sources: files, top: "mac_s8f0_s8f0_acc26")
        #expect(try Synthesis.yosys(sources: files, top: "mac_s8f0_s8f0_acc26").totalCells > 0)

        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        #expect(manifest["top"] as? String == "mac_s8f0_s8f0_acc26")
        let ports = manifest["ports"] as! [[String: Any]]
        let widths = Dictionary(uniqueKeysWithValues: ports.map { ($0["name"] as! String, $0["width"] as! Int) })
        // 8 + 8 + ceil(log2 1024) = 26
        #expect(widths == ["clk": 1, "rst": 1, "a": 8, "b": 8, "en": 1, "clear": 1, "acc": 26])
        let parameters = manifest["parameters"] as! [String: Any]
        #expect(parameters["accBits"] as? Int == 26)
    }

    @Test("every core writes lint-clean Verilog", arguments: [
        ["lfsr", "--width", "32", "--seed", "12345"],
        ["rounder", "--rounding", "nearest", "--output-bits", "6"],
        ["rounder", "--input-bits", "90", "--input-frac", "30", "--output-bits", "16", "--lfsr-width", "30"],
        ["rounder", "--lfsr-step", "one"],
        ["systolic", "--rows", "2", "--cols", "3", "--lfsr-step", "one"],
        ["mac", "--input-bits", "5", "--input-unsigned", "--weight-bits", "13", "--acc-bits", "40"],
        ["pe-array", "--dataflow", "ws", "--rows", "3", "--cols", "2", "--rounding", "nearest", "--relu"],
        ["pe-array", "--dataflow", "os", "--rows", "2", "--cols", "3", "--no-zero-gating"],
        ["pe-array", "--dataflow", "rs", "--rows", "3", "--cols", "3", "--rounding", "truncate"],
        ["pool"],
        ["pool", "--pool", "average", "--size", "4", "--input-bits", "12", "--max-width", "64", "--max-height", "20"],
        ["pool", "--binary", "--pool", "none"],
    ])
    func cores(_ arguments: [String]) throws {
        let dir = Self.freshDirectory()
        let r = try Self.run(arguments + ["--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        try Lint.verilator(sources: try Self.sources(in: dir), top: manifest["top"] as! String)
    }

    /// Each bad value: exit status 2, one line naming the flag and its value, no files.
    @Test("bad parameters are refused with one line and nothing written", arguments: [
        (["mac", "--input-bits", "40"], "--input-bits", "40"),
        (["mac", "--input-bits", "1"], "--input-bits", "1"),
        (["mac", "--weight-bits", "33"], "--weight-bits", "33"),
        (["mac", "--acc-bits", "200"], "--acc-bits", "200"),
        (["mac", "--max-k", "0"], "--max-k", "0"),
        (["mac", "--input-bits", "abc"], "--input-bits", "abc"),
        (["lfsr", "--width", "2"], "--width", "2"),
        (["lfsr", "--width", "33"], "--width", "33"),
        (["lfsr", "--seed", "0"], "--seed", "0"),
        (["lfsr", "--width", "4", "--seed", "16"], "--seed", "16"),
        (["rounder", "--output-frac", "9"], "--output-frac", "9"),
        (["rounder", "--rounding", "ceiling"], "--rounding", "ceiling"),
        (["rounder", "--lfsr-width", "4"], "--lfsr-width", "4"),
        (["rounder", "--output-bits", "64"], "--output-bits", "64"),
        (["systolic", "--requantize", "33"], "--requantize", "33"),
        (["systolic", "--requantize", "16", "--dynamic-shift"], "--requantize", "16"),
        (["pool", "--size", "9"], "--size", "9"),
        (["pool", "--max-width", "48"], "--max-width", "48"),
        (["pool", "--result-bits", "0"], "--result-bits", "0"),
        (["pool", "--pool", "min"], "--pool", "min"),
        (["pool", "--binary", "--pool", "average"], "--pool", "average"),
        (["pe-array", "--dataflow", "nlr"], "--dataflow", "nlr"),
        (["pe-array", "--dataflow", "ws", "--rows", "0"], "--rows", "0"),
        (["pe-array", "--dataflow", "rs", "--weight-registers", "0"], "--weight-registers", "0"),
        (["pe-array", "--dataflow", "os", "--max-reduction", "0"], "--max-reduction", "0"),
    ])
    func refused(_ arguments: [String], _ flag: String, _ value: String) throws {
        let dir = Self.freshDirectory()
        let r = try Self.run(arguments + ["--out", dir.path])
        #expect(r.status == 2)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(flag) && r.stderr.contains(value), "\(r.stderr)")
        #expect(r.stderr.contains("allowed") || r.stderr.contains("provide one of") || r.stderr.contains("invalid"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path), "files were written for a refused parameter")
    }

    @Test("an unknown core and a missing --out exit with status 2")
    func usageErrors() throws {
        #expect(try Self.run(["fft", "--out", Self.freshDirectory().path]).status == 2)
        #expect(try Self.run(["mac"]).status == 2)
    }

    /// A threshold design has no ROUND path: its manifest and top name describe none, and
    /// `c_data` is one bit per column. A design with ROUND units names its LFSR step.
    @Test("a threshold design's manifest and name describe what is built")
    func thresholdManifest() throws {
        let dir = Self.freshDirectory()
        let r = try Self.run(["systolic", "--rows", "4", "--cols", "3", "--format", "binary", "--threshold-output", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        let top = manifest["top"] as! String
        #expect(!top.contains("stochastic") && !top.contains("lfsr") && !top.contains("seed") && top.hasSuffix("_thr"), "\(top)")
        let parameters = manifest["parameters"] as! [String: Any]
        for key in ["output", "rounding", "lfsrWidth", "seed", "lfsrStep"] {
            #expect(parameters[key] == nil, "\(key) describes a ROUND path that is not there")
        }
        #expect(parameters["thresholds"] as? Bool == true && parameters["format"] as? String == "binary")
        let ports = manifest["ports"] as! [[String: Any]]
        #expect(ports.first { $0["name"] as? String == "c_data" }?["width"] as? Int == 3)
        #expect(try Self.sources(in: dir).keys.allSatisfy { !$0.hasPrefix("round_") && !$0.hasPrefix("lfsr") })

        let plain = Self.freshDirectory()
        #expect(try Self.run(["systolic", "--rows", "2", "--cols", "2", "--lfsr-step", "leap", "--out", plain.path]).status == 0)
        let p = try JSONSerialization.jsonObject(with: Data(contentsOf: plain.appendingPathComponent("manifest.json"))) as! [String: Any]
        #expect((p["parameters"] as! [String: Any])["lfsrStep"] as? String == "leap")
    }

    /// The manifest keys an outside testbench needs beyond the widths are documented where the
    /// formats are (docs/FORMATS.md, "The manifest").
    @Test("format, thresholds, dynamicShift, lfsrStep and requantize are written and documented")
    func manifestKeysDocumented() throws {
        let doc = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/FORMATS.md"), encoding: .utf8)
        var written: Set<String> = []
        for flags in [["--format", "ternary", "--dynamic-shift"], ["--format", "binary", "--threshold-output"], ["--requantize", "16"]] {
            let dir = Self.freshDirectory()
            let r = try Self.run(["systolic", "--rows", "2", "--cols", "2"] + flags + ["--out", dir.path])
            #expect(r.status == 0, "\(r.stderr)")
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
            written.formUnion((manifest["parameters"] as! [String: Any]).keys)
        }
        for key in ["format", "thresholds", "dynamicShift", "lfsrStep", "requantize"] {
            #expect(written.contains(key), "\(key) is not written")
            #expect(doc.contains("| `\(key)` |"), "\(key) is not in docs/FORMATS.md's manifest table")
        }
    }

    @Test("the same command writes the same bytes")
    func deterministic() throws {
        let a = Self.freshDirectory(), b = Self.freshDirectory()
        _ = try Self.run(["rounder", "--out", a.path])
        _ = try Self.run(["rounder", "--out", b.path])
        for name in try FileManager.default.contentsOfDirectory(atPath: a.path) {
            let x = try Data(contentsOf: a.appendingPathComponent(name))
            let y = try Data(contentsOf: b.appendingPathComponent(name))
            #expect(x == y, "\(name) differs")
        }
    }

    @Test("--help lists the cores, and each core's parameters with defaults and ranges")
    func help() throws {
        let top = try Self.run(["--help"])
        #expect(top.status == 0)
        for core in ["mac", "lfsr", "rounder"] { #expect(top.stdout.contains(core)) }
        let mac = try Self.run(["mac", "--help"])
        #expect(mac.stdout.contains("--input-bits") && mac.stdout.contains("2...32") && mac.stdout.contains("(default: 8)"))
    }
}
