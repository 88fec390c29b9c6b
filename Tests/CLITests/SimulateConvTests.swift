import Foundation
import Testing
import TestTags

/// `simulate conv` as a user runs it: exit status, one-line errors, JSON that parses.
@Suite("simulate conv command", .tags(.verilator))
struct SimulateConvTests {
    static func run(_ arguments: [String]) throws -> GenerateRTLTests.Run {
        try GenerateRTLTests.run(["conv"] + arguments, tool: "simulate")
    }

    @Test("a bad flag value exits with status 2 and one line naming the flag", arguments: [
        (["--stride", "0"], "--stride"),
        (["--layer", "vgg16"], "--layer"),
        (["--sparsity", "1.5"], "--sparsity"),
        (["--filter-height", "9", "--analytic"], "--filter-height"),
        (["--dataflow", "nlr"], "--dataflow"),
        (["--rows", "x"], "--rows"),
        (["--layer", "alexnet-conv3", "--max-reduction", "1024", "--analytic"], "--max-reduction"),
    ])
    func badFlag(_ arguments: [String], _ flag: String) throws {
        let r = try Self.run(arguments)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(flag), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    /// AlexNet CONV1 (3×227×227 input, 96 filters of 3×11×11, stride 4: 55×55 outputs) on a
    /// 16×16 output-stationary array, against the closed forms of docs/CONV.md worked out here
    /// by hand: the im2col GEMM is 3025 × 363 by 363 × 96, so 190 · 6 = 1140 tiles of 363 beats.
    @Test("--analytic --json for alexnet-conv1 gives the closed-form OS counts, cycles and energy")
    func analyticJSON() throws {
        let r = try Self.run(["--layer", "alexnet-conv1", "--analytic", "--json", "--rows", "16", "--cols", "16"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let counts = try #require(object["analyticCounts"] as? [String: Int])
        let (rows, cols, k, pixels, filters) = (16, 16, 3 * 11 * 11, 55 * 55, 96)
        let tiles = (pixels + rows - 1) / rows * ((filters + cols - 1) / cols)
        let beats = tiles * k
        // Zero gating skips the 15 padding rows of the last row tile, once per column tile and column.
        let gated = (190 * rows - pixels) * k * (filters / cols) * cols
        let macs = beats * rows * cols - gated
        #expect(macs == pixels * filters * k)
        let expected = [
            "macs": macs, "gatedMACs": gated, "registerFileReads": macs, "registerFileWrites": macs,
            "peToPE": beats * (rows * (cols - 1) + cols * (rows - 1)), "bufferReads": beats * (rows + cols),
            "bufferWrites": tiles * rows * cols, "dramReads": 3 * 227 * 227 + filters * k, "dramWrites": filters * pixels,
        ]
        for (field, value) in expected { #expect(counts[field] == value, "\(field)") }
        #expect(object["macs"] as? Int == 105_415_200)
        #expect(object["cycles"] as? Int == k + (tiles - 1) * max(k, rows) + 2 * rows + cols + 2)
        // Energy: e_MAC = 0.2 pJ (8b × 8b) + 0.05 · 28/16 pJ (28-bit add), data movement at
        // Eyeriss's ratios (register file 1, PE to PE 2, buffer 6, DRAM 200); docs/CONV.md's
        // table gives 256.1 µJ.
        let eMAC = 0.2 + 0.05 * 28 / 16
        let words = Double(macs) + 2 * Double(macs) + 2 * Double(expected["peToPE"]!)
            + 6 * Double(expected["bufferReads"]! + expected["bufferWrites"]!) + 200 * Double(expected["dramReads"]! + expected["dramWrites"]!)
        let energy = try #require(object["energy"] as? [String: Any])
        let total = try #require(energy["totalPJ"] as? Double)
        #expect(abs(total - eMAC * words) < 1e-6 * total, "\(total) pJ, expected \(eMAC * words)")
        #expect(abs((energy["pJPerMAC"] as? Double ?? 0) - eMAC * words / Double(macs)) < 1e-9)
    }

    @Test("--layer alexnet --analytic --json gives one object per CONV layer")
    func alexnetGroup() throws {
        let r = try Self.run(["--layer", "alexnet", "--analytic", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(array.compactMap { ($0["layer"] as? [String: Any])?["name"] as? String } == (1...5).map { "alexnet-conv\($0)" })
    }

    @Test("a tiny co-simulated OS layer exits 0 with zero mismatches")
    func tinyCosim() throws {
        let r = try Self.run(["--dataflow", "os", "--rows", "2", "--cols", "2", "--sparsity", "0.3"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("tiny"))
        let j = try Self.run(["--dataflow", "os", "--rows", "2", "--cols", "2", "--sparsity", "0.3", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        #expect(object["mismatches"] as? Int == 0)
        #expect(object["countsAgree"] as? Bool == true)
    }
}
