import Cosim
import Foundation
import Testing
import TestTags

/// Testbench/cocotb as a hardware engineer runs it: `generate-rtl accelerator --example-gemm`,
/// then the cocotb bench (cocotbext-axi's AXI4-Lite manager and AXI4 RAM with random pauses) in
/// Icarus Verilog, from the project's .venv (`make deps`).
@Suite("cocotb testbench", .tags(.icarus, .python))
struct CocotbTests {
    typealias CLI = GenerateRTLTests

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = root.appendingPathComponent(".venv/bin/python").path
    static let bench = root.appendingPathComponent("Testbench/cocotb/run.py").path

    /// cocotb and cocotbext-axi in .venv, or a failure that says how to get them.
    static func requireCocotb() throws {
        let check = try? runTool(python, ["-c", "import cocotb, cocotbext.axi; print(cocotb.__version__)"])
        guard let check, check.status == 0 else {
            Issue.record("cocotb is missing from \(python): run make deps (installs scripts/requirements.txt into .venv)")
            throw ToolError.missing("cocotb")
        }
        #expect(check.output.hasPrefix("1.9.2"), "cocotb \(check.output)")
    }

    /// The 2×2 accelerator with a GEMM of 3×3 tiles, every value of C checked, and a bad
    /// opcode; then the same bench with one expected value of C changed must fail, naming it.
    @Test func gemmAndBadOpcodeThenAWrongExpectation() throws {
        try Self.requireCocotb()
        let dir = CLI.freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let design = dir.appendingPathComponent("design"), sim = dir.appendingPathComponent("sim")
        let g = try CLI.run(["accelerator", "--rows", "2", "--cols", "2", "--scratchpad-kib", "1", "--output-kib", "1",
                             "--example-gemm", "5x33x6", "--example-seed", "7", "--out", design.path])
        #expect(g.status == 0, "\(g.stderr)")

        let pass = try runTool(Self.python, [Self.bench, design.path, "--build", sim.path, "--seed", "5"])
        #expect(pass.status == 0, "\(pass.output.suffix(3000))")
        #expect(pass.output.contains("TESTS=2 PASS=2 FAIL=0"), "\(pass.output.suffix(3000))")
        #expect(pass.output.contains("GEMM 5x33x6: all 30 values of C exact"))
        #expect(pass.output.contains("error_code 1 (badOpcode)"))

        // The bench is the check: one wrong expected value makes it fail and name the value.
        let file = design.appendingPathComponent("example_gemm.json")
        var example = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
        var c = example["c"] as! [[Int]]
        c[3][4] += 1
        example["c"] = c
        try JSONSerialization.data(withJSONObject: example).write(to: file)
        let fail = try runTool(Self.python, [Self.bench, design.path, "--build", sim.path, "--seed", "5"])
        #expect(fail.status != 0)
        #expect(fail.output.contains("1 of 30 values of C differ, first: C[3][4] = \(c[3][4] - 1), expected \(c[3][4])"),
                "\(fail.output.suffix(3000))")
        #expect(fail.output.contains("TESTS=2 PASS=1 FAIL=1"))
    }
}

/// `--example-gemm`'s file: what the bench reads, deterministic in its seed.
@Suite("generate-rtl accelerator --example-gemm")
struct ExampleGEMMTests {
    typealias CLI = GenerateRTLTests

    func example(_ seed: Int) throws -> (manifest: [String: Any], json: Data) {
        let dir = CLI.freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["accelerator", "--rows", "3", "--cols", "2", "--scratchpad-kib", "1", "--output-kib", "1",
                             "--example-gemm", "4x6x5", "--example-seed", "\(seed)", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as! [String: Any]
        return (manifest, try Data(contentsOf: dir.appendingPathComponent("example_gemm.json")))
    }

    @Test func fieldsAndSeed() throws {
        let (manifest, data) = try example(3)
        #expect((manifest["files"] as! [String]).contains("example_gemm.json"))
        let errors = (manifest["parameters"] as! [String: Any])["errors"] as! [String: Int]
        #expect(errors["badOpcode"] == 1 && errors["programEnd"] == 8)
        let e = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect(e["m"] as? Int == 4 && e["k"] as? Int == 6 && e["n"] as? Int == 5)
        let (a, b, c) = (e["a"] as! [[Int]], e["b"] as! [[Int]], e["c"] as! [[Int]])
        #expect(a.count == 4 && a.allSatisfy { $0.count == 6 } && b.count == 6 && b.allSatisfy { $0.count == 5 })
        #expect(c.count == 4 && c.allSatisfy { $0.count == 5 })
        // s8.6 operands, s8.2 outputs: codes of 8 bits.
        #expect((a + b + c).joined().allSatisfy { (-128...127).contains($0) })
        let output = e["output"] as! [String: Any]
        #expect(output["values_per_chunk"] as? Int == 2 && output["value_bits"] as? Int == 8 && output["chunk_bytes"] as? Int == 8)
        // 3 tile columns of 8 bytes per output row.
        #expect(output["row_stride_bytes"] as? Int == 24)
        let program = (e["dram"] as! [[String: Any]]).first { $0["address"] as? Int == e["program_base"] as? Int }
        #expect((program?["hex"] as? String)?.count == 2 * 16 * (e["program_instructions"] as! Int))
        #expect(try example(3).json == data)
        #expect(try example(4).json != data)
    }
}
