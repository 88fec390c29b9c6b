import Foundation
import Testing
import TestTags

/// Every refused input, as a new user types it: one line on stderr that names the flag, the
/// value and what is allowed; exit status 2; nothing written.
@Suite("refused inputs")
struct RefusalTests {
    typealias CLI = GenerateRTLTests

    /// The inputs an outside user found refused without naming the flag or the range, each with
    /// the words its line must contain.
    @Test("generate-rtl: each line names the flag, the value and what is allowed", arguments: [
        (["systolic", "--rows", "abc"], ["--rows", "abc", "allowed 1...128"]),
        (["systolic", "--rows", "8.5"], ["--rows", "8.5", "allowed 1...128"]),
        (["systolic", "--lfsr-seed=-5"], ["--lfsr-seed", "-5", "allowed 1...2^lfsr-width-1"]),
        (["lfsr", "--seed=-5"], ["--seed", "-5", "allowed 1...2^width-1"]),
        (["lfsr", "--seed", "-5"], ["--seed", "-5", "allowed 1...2^width-1"]),
        (["systolic", "--output-frac", "30"], ["--output-frac", "30", "allowed"]),
        (["systolic", "--frobnicate", "3"], ["--frobnicate", "allowed", "--rows"]),
        (["systolic", "--rounding="], ["--rounding", "''", "allowed truncate, nearest, stochastic"]),
        (["systolic", "--acc-bits", "2"], ["--acc-bits", "2", "allowed 11...64"]),
        (["systolic", "--rows", "4", "--rows", "5"], ["--rows", "twice", "4", "5"]),
        (["systolic", "--relu"], ["--relu", "allowed"]),
        (["systolic", "--rounding"], ["--rounding", "missing value", "allowed truncate, nearest, stochastic"]),
        (["systolic", "--lfsr-step", "two"], ["--lfsr-step", "two", "allowed one, leap"]),
        (["rounder", "--lfsr-step="], ["--lfsr-step", "''", "allowed one, leap"]),
        (["pe-array", "--lfsr-step", "1"], ["--lfsr-step", "1", "allowed one, leap"]),
        (["pe-array", "--rows", "0"], ["--rows", "0", "allowed 1...128"]),
        (["systolic", "--format", "float"], ["--format", "float", "allowed fixed, binary, bwn, ternary, pow2, pow2e<2..4>, codebook, codebook<1..6>"]),
        (["systolic", "--format", "ternary", "--threshold-output"], ["--threshold-output", "only with --format binary or bwn"]),
        (["pe-array", "--dataflow", "rs", "--format", "bwn"], ["--format", "bwn", "fixed with --dataflow rs", "os and ws build bwn"]),
        (["pe-array", "--dataflow", "rs", "--dynamic-shift"], ["--dynamic-shift", "off with --dataflow rs", "built for os and ws"]),
        // The WS array has no threshold units: it used to build ROUND units and say nothing.
        (["pe-array", "--dataflow", "ws", "--format", "binary", "--threshold-output"], ["--threshold-output", "off with --dataflow ws", "built for os"]),
        (["pe-array", "--dataflow", "ws", "--rows", "65"], ["--rows", "65", "allowed 1...64"]),
        (["accelerator", "--rows", "65"], ["--rows", "65", "allowed 1...64"]),
        (["accelerator", "--data-bits", "96"], ["--data-bits", "96", "allowed 64 or 128"]),
        (["accelerator", "--address-bits", "40"], ["--address-bits", "40", "allowed 32 or 64"]),
        (["accelerator", "--scratchpad-kib", "0"], ["--scratchpad-kib", "0", "allowed 1...1024"]),
        (["accelerator", "--rows", "64", "--cols", "64", "--output-bits", "32", "--output-kib", "1"], ["--output-kib", "1", "at least 16 KiB"]),
        (["accelerator", "--format", "codebook4"], ["--format", "codebook4", "every format but codebook"]),
        (["accelerator", "--example-gemm", "5x3"], ["--example-gemm", "5x3", "allowed MxKxN with M and N 1...1024"]),
        (["accelerator", "--example-gemm", "0x4x4"], ["--example-gemm", "0x4x4", "allowed MxKxN"]),
        (["accelerator", "--rows", "2", "--cols", "2", "--scratchpad-kib", "1", "--example-gemm", "4x300x4"],
         ["--example-gemm", "4x300x4", "K 1...256 (the rows of banks A and B)"]),
        (["systolic", "--pe-pipeline", "3"], ["--pe-pipeline", "3", "allowed 0...2"]),
        (["systolic", "--requantize", "16", "--round-pipeline", "1"], ["--round-pipeline", "1", "0 with --requantize"]),
        (["systolic", "--requantize", "16", "--pe-pipeline", "2"], ["--pe-pipeline", "2", "0 with --requantize"]),
        (["systolic", "--round-pipeline", "-1"], ["--round-pipeline", "-1", "allowed 0...1"]),
        (["systolic", "--format", "binary", "--threshold-output", "--round-pipeline", "1"], ["--round-pipeline", "1", "0 with --threshold-output"]),
        (["rounder", "--round-pipeline", "2"], ["--round-pipeline", "2", "allowed 0...1"]),
    ])
    func generateRTL(_ arguments: [String], _ words: [String]) throws {
        let dir = CLI.freshDirectory()
        let r = try CLI.run(arguments + ["--out", dir.path])
        try Self.refusedOnce(r, words)
        #expect(!FileManager.default.fileExists(atPath: dir.path), "files were written for a refused input")
    }

    /// Flags the format or the threshold output fixes: the format's widths used to win silently.
    static let contradictions: [([String], [String])] = [
        (["--format", "ternary", "--weight-bits", "8"], ["--weight-bits", "8", "--format ternary"]),
        (["--format", "binary", "--input-bits", "4"], ["--input-bits", "4", "--format binary"]),
        (["--format", "binary", "--weight-unsigned"], ["--weight-unsigned", "--format binary"]),
        (["--format", "binary", "--threshold-output", "--output-bits", "4"], ["--output-bits", "4", "--threshold-output"]),
        (["--format", "pow2e2", "--weight-bits", "4"], ["--weight-bits", "4", "--format pow2e2"]),
    ]

    @Test("generate-rtl systolic and pe-array refuse flags their format fixes, naming both", arguments: Self.contradictions)
    func contradictoryDesignFlags(_ arguments: [String], _ words: [String]) throws {
        for core in [["systolic"], ["pe-array", "--dataflow", "os"]] {
            let dir = CLI.freshDirectory()
            try Self.refusedOnce(try CLI.run(core + arguments + ["--out", dir.path]), words)
            #expect(!FileManager.default.fileExists(atPath: dir.path), "files were written for a refused input")
        }
    }

    @Test("simulate and sweep refuse the same contradictions")
    func contradictoryDesignFlagsElsewhere() throws {
        for (arguments, words) in Self.contradictions {
            try Self.refusedOnce(try CLI.run(["gemm"] + arguments, tool: "simulate"), words)
        }
        let dir = CLI.freshDirectory()
        try Self.refusedOnce(try CLI.run(["--format", "binary", "--input-bits", "4", "--out", dir.path], tool: "sweep"),
                             ["--input-bits", "4", "--format binary"])
        try Self.refusedOnce(try CLI.run(["--format", "fixed8,binary", "--input-bits", "4", "--out", dir.path], tool: "sweep"),
                             ["--input-bits", "4", "--format fixed8,binary"])
        #expect(!FileManager.default.fileExists(atPath: dir.path))
        // A list with a format that takes the input bits is a grid, not a contradiction.
        #expect(try CLI.run(["--format", "fixed,binary", "--input-bits", "4", "--plan"], tool: "sweep").status == 0)
    }

    static func refusedOnce(_ r: GenerateRTLTests.Run, _ words: [String]) throws {
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        for w in words { #expect(r.stderr.contains(w), "'\(w)' missing from: \(r.stderr)") }
    }

    @Test("--out: empty, missing, a file, a foreign folder, an unwritable place")
    func outFolder() throws {
        try Self.refusedOnce(try CLI.run(["mac", "--out="]), ["--out", "''"])
        try Self.refusedOnce(try CLI.run(["mac"]), ["missing --out"])
        let file = CLI.freshDirectory()
        try Data("x".utf8).write(to: file)
        try Self.refusedOnce(try CLI.run(["mac", "--out", file.path]), ["--out", file.path, "a file, not a folder"])
        let foreign = CLI.freshDirectory()
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: foreign.appendingPathComponent("notes.txt"))
        try Self.refusedOnce(try CLI.run(["mac", "--out", foreign.path]), ["--out", foreign.path, "notes.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: foreign.path) == ["notes.txt"])
        // Under a file, and in /proc: the operating system refuses; the line says why.
        try Self.refusedOnce(try CLI.run(["mac", "--out", file.appendingPathComponent("sub").path]), ["--out", "sub"])
        try Self.refusedOnce(try CLI.run(["mac", "--out", "/proc/accelgen-out"]), ["--out", "/proc/accelgen-out"])
    }

    /// An 8×8 array then a 2×2 into the same folder leaves exactly the 2×2's files.
    @Test func secondDesignReplacesTheFirst() throws {
        let dir = CLI.freshDirectory()
        #expect(try CLI.run(["systolic", "--out", dir.path]).status == 0)
        #expect(try CLI.run(["systolic", "--rows", "2", "--cols", "2", "--rounding", "nearest", "--out", dir.path]).status == 0)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        let listed = Set(manifest["files"] as! [String] + ["manifest.json"])
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == listed)
        #expect(try GenerateRTLTests.sources(in: dir).values.filter { $0.contains("module systolic_") }.count == 1)
        // Nothing left beside it either (staging and retired folders are removed).
        let siblings = try FileManager.default.contentsOfDirectory(atPath: dir.deletingLastPathComponent().path)
        #expect(!siblings.contains { $0.hasPrefix(".\(dir.lastPathComponent).") })
    }

    @Test("the systolic manifest carries the derived figures and the reset contract")
    func manifest() throws {
        let dir = CLI.freshDirectory()
        #expect(try CLI.run(["systolic", "--rows", "4", "--cols", "3", "--out", dir.path]).status == 0)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        let derived = manifest["derived"] as! [String: Int]
        // s8.6 x s8.6 with K up to 4096: 8 + 8 + 12 bits; FIFO: the power of two >= 3R + C + 3.
        #expect(derived["accBits"] == 28)
        #expect(derived["fifoDepth"] == 32)
        #expect(derived["fifoWidth"] == 3 * 8 + 1)
        #expect(derived["lastBeatToFirstRowCycles"] == 4 + 3 + 3)
        let reset = manifest["reset"] as! [String: Any]
        #expect(reset["port"] as? String == "rst" && reset["minimumCycles"] as? Int == 1 && reset["synchronous"] as? Bool == true)
    }

    @Test("the manifest of a pipelined array names its stages and the cycles they add")
    func pipelinedManifest() throws {
        let dir = CLI.freshDirectory()
        let r = try CLI.run(["systolic", "--rows", "4", "--cols", "3", "--pe-pipeline", "2", "--round-pipeline", "1", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        let parameters = manifest["parameters"] as! [String: Any]
        #expect(parameters["pePipeline"] as? Int == 2 && parameters["roundPipeline"] as? Int == 1)
        #expect((manifest["derived"] as! [String: Int])["lastBeatToFirstRowCycles"] == 4 + 3 + 3 + 3)
        #expect((manifest["top"] as? String)?.hasSuffix("_pp2_rp1") == true)
    }

    @Test("negative fractional lengths work in both forms")
    func negativeValues() throws {
        for args in [["--output-frac", "-3"], ["--output-frac=-3"]] {
            let dir = CLI.freshDirectory()
            let r = try CLI.run(["rounder", "--input-frac", "-1"] + args + ["--rounding", "nearest", "--out", dir.path])
            #expect(r.status == 0, "\(r.stderr)")
        }
    }

    /// A word where a core or subcommand goes names the word and the ones there are.
    @Test("an unknown core or subcommand is named, with the list of those there are")
    func unknownSubcommand() throws {
        let cores = "systolic, pe-array, mac, lfsr, rounder, pool, accelerator"
        let dir = CLI.freshDirectory()
        try Self.refusedOnce(try CLI.run(["npu", "--out", dir.path]), ["unknown core 'npu' for generate-rtl: allowed \(cores)"])
        try Self.refusedOnce(try CLI.run(["bogus"]), ["unknown core 'bogus' for generate-rtl: allowed \(cores)"])
        try Self.refusedOnce(try CLI.run(["--out", dir.path]), ["--out", "before any core", cores])
        #expect(!FileManager.default.fileExists(atPath: dir.path))
        try Self.refusedOnce(try CLI.run(["bogus"], tool: "simulate"),
                             ["unknown subcommand 'bogus' for simulate: allowed gemm, cores, bench, conv, network"])
    }

    @Test("sweep refuses the same way")
    func sweep() throws {
        try Self.refusedOnce(try CLI.run(["--rows", "4", "--rows", "5", "--plan"], tool: "sweep"), ["--rows", "twice", "4", "5"])
        try Self.refusedOnce(try CLI.run(["--frobnicate", "--plan"], tool: "sweep"), ["--frobnicate", "allowed", "--rows"])
        try Self.refusedOnce(try CLI.run(["--rows=", "--plan"], tool: "sweep"), ["--rows", "''", "allowed 1...128"])
    }

    @Test("simulate refuses the same way")
    func simulate() throws {
        try Self.refusedOnce(try CLI.run(["gemm", "--m", "abc"], tool: "simulate"), ["--m", "abc", "allowed"])
        try Self.refusedOnce(try CLI.run(["--rows", "4", "--rows", "5"], tool: "simulate"), ["--rows", "twice"])
        try Self.refusedOnce(try CLI.run(["conv", "--dataflow", "xs"], tool: "simulate"), ["--dataflow", "xs", "allowed os, ws, rs"])
        try Self.refusedOnce(try CLI.run(["gemm", "--lfsr-step", "half"], tool: "simulate"), ["--lfsr-step", "half", "allowed one, leap"])
        try Self.refusedOnce(try CLI.run(["gemm", "--m", "0"], tool: "simulate"), ["--m", "0", "allowed 1...65536"])
        // A default that conflicts with what was given is named as the default.
        try Self.refusedOnce(try CLI.run(["gemm", "--input-frac", "10", "--input-bits", "12"], tool: "simulate"),
                             ["--lfsr-width", "16", "its default", "allowed 18...32"])
    }

    /// Formats training knows but the arrays do not build, and formats a dataflow does not run:
    /// refused before quantizing, which would fine-tune for minutes and write the model cache.
    @Test("simulate network refuses a format the hardware does not run before any work, writing nothing", arguments: [
        (["--format", "pow2e1"], ["--format", "pow2e1", "pow2e<2..4>"]),
        (["--format", "codebook7"], ["--format", "codebook7", "codebook<1..6>"]),
        (["--format", "codebook8"], ["--format", "codebook8", "codebook<1..6>"]),
        (["--format", "codebook4", "--dataflow", "ws"], ["--format", "codebook4", "--dataflow ws"]),
        (["--format", "binary", "--dataflow", "ws"], ["--format", "binary", "--dataflow ws"]),
        (["--format", "ternary", "--dataflow", "rs"], ["--format", "ternary", "--dataflow rs", "networks in ternary run on os and ws"]),
    ])
    func simulateNetworkFormat(_ arguments: [String], _ words: [String]) throws {
        let cache = CLI.freshDirectory()
        let r = try CLI.run(["network", "--model", "lenet5", "--images", "1"] + arguments, tool: "simulate",
                            environment: ["ACCELGEN_MODEL_CACHE": cache.path])
        try Self.refusedOnce(r, words)
        #expect(!FileManager.default.fileExists(atPath: cache.path), "the model cache was written for a refused input")
    }

    /// `--onnx` and its companions, refused before anything is imported, quantized or run (the
    /// refusals that need a model the import takes are in SimulateONNXTests).
    @Test("simulate network --onnx refuses contradictions, a missing or broken model and bad scales, in one line", arguments: [
        (["--onnx", "/nonexistent/m.onnx"], ["--onnx", "/nonexistent/m.onnx", "a float ONNX model the import takes"]),
        (["--model", "mlp", "--onnx", "m.onnx"], ["--model", "mlp", "no --model with --onnx"]),
        (["--input-scale", "2"], ["--input-scale", "2", "only with --onnx"]),
        (["--calibration", "c.npy"], ["--calibration", "c.npy", "only with --onnx"]),
        (["--onnx-report"], ["--onnx-report", "only with --onnx"]),
        (["--onnx", "m.onnx", "--format", "binary"], ["--format", "binary", "every format but binary with --onnx"]),
        (["--onnx", "m.onnx", "--input-scale", "0"], ["--input-scale", "0", "a positive number"]),
        (["--onnx", "m.onnx", "--input-scale", "-1"], ["--input-scale", "-1", "a positive number"]),
        (["--onnx", "m.onnx", "--input-scale", "1/0"], ["--input-scale", "1/0", "a positive number"]),
        (["--onnx", "m.onnx", "--input-scale", "abc"], ["--input-scale", "abc", "a positive number"]),
    ])
    func simulateNetworkONNX(_ arguments: [String], _ words: [String]) throws {
        let cache = CLI.freshDirectory()
        let r = try CLI.run(["network", "--images", "1"] + arguments, tool: "simulate", environment: ["ACCELGEN_MODEL_CACHE": cache.path])
        try Self.refusedOnce(r, words)
        #expect(!FileManager.default.fileExists(atPath: cache.path), "the model cache was written for a refused input")
    }

    @Test("simulate network --onnx refuses a file that is not an ONNX model, in one line")
    func simulateNetworkBrokenONNX() throws {
        let file = CLI.freshDirectory()
        try Data("not a model".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try Self.refusedOnce(try CLI.run(["network", "--onnx", file.path], tool: "simulate"), ["--onnx", file.path, "a float ONNX model the import takes"])
    }

    @Test("train --export-onnx writes the shipped float network as an ONNX file; refuses a missing folder and flags that train")
    func trainExportONNX() throws {
        let dir = CLI.freshDirectory()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("lenet5.onnx")
        let r = try CLI.run(["--model", "lenet5", "--export-onnx", file.path], tool: "train")
        #expect(r.status == 0, "\(r.stderr)")
        // LeNet-5's 44,426 float weights and biases, plus the graph.
        let size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        #expect(size > 44_426 * 4 && size < 44_426 * 4 + 4_000, "\(size) bytes")
        try Self.refusedOnce(try CLI.run(["--model", "lenet5", "--export-onnx", "/nonexistent/x.onnx"], tool: "train"),
                             ["--export-onnx", "/nonexistent/x.onnx", "an existing folder"])
        try Self.refusedOnce(try CLI.run(["--model", "lenet5", "--export-onnx", file.path, "--epochs", "2"], tool: "train"),
                             ["--epochs", "2", "only without --export-onnx"])
        try Self.refusedOnce(try CLI.run(["--model", "alexnet", "--export-onnx", file.path], tool: "train"),
                             ["--model", "alexnet", "lenet5, mlp"])
    }

    /// The help says which formats each dataflow runs, and a format it lists runs (the ones it
    /// leaves out are refused above).
    @Test func simulateNetworkHelp() throws {
        let help = try CLI.run(["network", "--help"], tool: "simulate").stdout.replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: #" +"#, with: " ", options: .regularExpression)
        #expect(help.contains("os: every format; ws: fixed, bwn, ternary, pow2e<2..4>; rs: fixed"), "\(help)")
        #expect(!help.contains("pow2e<1..4>") && !help.contains("codebook<1..8>"), "\(help)")
    }
}

@Suite("simulate --json", .tags(.verilator))
struct SimulateJSONTests {
    /// The top-level error block covers every run, not the last one.
    @Test func errorIsAggregatedOverRuns() throws {
        let r = try GenerateRTLTests.run(["gemm", "--rows", "4", "--cols", "4", "--m", "9", "--n", "5", "--k", "12",
                                          "--count", "4", "--seed", "3", "--json"], tool: "simulate")
        #expect(r.status == 0, "\(r.stderr)")
        let top = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let total = (top["error"] as! [String: [String: Any]])["stochastic"]!
        let runs = (top["runs"] as! [[String: Any]]).map { $0["error"] as! [String: Any] }
        #expect(runs.count == 5)
        let counts = runs.map { $0["count"] as! Int }
        #expect(total["count"] as? Int == counts.reduce(0, +))
        #expect(total["maxAbsError"] as? Double == runs.map { $0["maxAbsError"] as! Double }.max())
        let squares = zip(runs, counts).map { ($0["rmse"] as! Double) * ($0["rmse"] as! Double) * Double($1) }.reduce(0, +)
        #expect(abs((total["rmse"] as! Double) - (squares / Double(counts.reduce(0, +))).squareRoot()) < 1e-12)
        let bias = zip(runs, counts).map { ($0["meanError"] as! Double) * Double($1) }.reduce(0, +) / Double(counts.reduce(0, +))
        #expect(abs((total["meanError"] as! Double) - bias) < 1e-12)
    }
}

@Suite("simulate accelerator refusals")
struct SimulateAcceleratorRefusalTests {
    typealias CLI = GenerateRTLTests

    /// Refused before any work: a network with convolutions, a format other than fixed point,
    /// an unknown backend, a bank outside its range.
    @Test(arguments: [
        (["--model", "lenet5"], ["--model", "lenet5", "allowed mlp", "im2col"]),
        (["--format", "ternary"], ["--format", "ternary", "fixed2 ... fixed16"]),
        (["--backend", "icarus"], ["--backend", "icarus", "verilator, in-process"]),
        (["--rows", "0"], ["--rows", "0", "1...64"]),
    ])
    func beforeAnyWork(_ arguments: [String], _ words: [String]) throws {
        let cache = CLI.freshDirectory()
        let r = try CLI.run(["accelerator", "--images", "1"] + arguments, tool: "simulate", environment: ["ACCELGEN_MODEL_CACHE": cache.path])
        try RefusalTests.refusedOnce(r, words)
        #expect(!FileManager.default.fileExists(atPath: cache.path))
    }

    /// A scratchpad or output bank the MLP does not fit: one line naming the layer and the size.
    @Test(.tags(.dataset), arguments: [
        (["--scratchpad-kib", "16"], ["--scratchpad-kib", "layer 0 (dense 784->256) does not fit", "784 rows", "at least --scratchpad-kib 32"]),
        (["--output-kib", "1"], ["--output-kib", "layer 0 (dense 784->256) does not fit", "at least --output-kib 2"]),
    ])
    func tooSmall(_ arguments: [String], _ words: [String]) throws {
        try RefusalTests.refusedOnce(try CLI.run(["accelerator", "--images", "1", "--json"] + arguments, tool: "simulate"), words)
    }
}
