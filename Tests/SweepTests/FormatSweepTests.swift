@testable import Cores
import Foundation
import HDL
import Model
@testable import Sweep
import Testing
import Verilog
import TestTags

/// `sweep --format` (docs/SWEEP.md, "Number formats"): parsing, the designs it makes, a small
/// format sweep through the binary, and the PEs' synthesis (docs/FORMATS.md, "Area and energy
/// per format").
@Suite("sweep --format", .tags(.verilator, .synthesis))
struct FormatSweepTests {
    @Test("format lists parse: fixed, fixed<N>, binary, bwn, ternary, pow2, pow2e<E>, codebook, codebook<n>")
    func parse() throws {
        let list = try Grid.formatList("fixed,fixed4, binary,bwn,ternary,pow2,pow2e2,codebook,codebook2")
        #expect(list == [.fixed(bits: nil), .fixed(bits: 4), .coded(.binary), .coded(.binaryWeights), .coded(.ternary),
                         .coded(.powerOfTwo(exponentBits: 3)), .coded(.powerOfTwo(exponentBits: 2)), .coded(.codebook(indexBits: 4)),
                         .coded(.codebook(indexBits: 2))])
        #expect(list.map(\.description) == ["fixed", "fixed4", "binary", "bwn", "ternary", "pow2e3", "pow2e2", "codebook4", "codebook2"])
        for bad in ["fixed1", "fixed17", "fixed08", "fixedx", "pow2e5", "codebook7", "xnor", "", "bwn,"] {
            #expect(throws: SweepUsageError.self, "\(bad)") { try Grid.formatList(bad) }
        }
        // The refusal names the item that is wrong, not the whole list.
        let e = try #require(throws: SweepUsageError.self) { try Grid.formatList("bwn,pow2e9") }
        #expect(e.message == "invalid value 'pow2e9' for --format: allowed \(SweepFormat.allowed)")
        let bogus = try #require(throws: SweepUsageError.self) { try Grid.formatList("fixed8,bogus") }
        #expect(bogus.message == "invalid value 'bogus' for --format: allowed \(SweepFormat.allowed)")
        let rows = try #require(throws: SweepUsageError.self) { try Grid.intList("4,x,8", flag: "rows", range: 1...128) }
        #expect(rows.message.hasPrefix("invalid value 'x' for --rows"))
    }

    @Test("without --format the plan is the fixed-point plan it was: same keys, same configs, no format in the JSON")
    func defaultUnchanged() throws {
        let plain = Grid.points(Grid.defaultGrid)
        var explicit = Grid.defaultGrid
        for i in explicit.indices { explicit[i].format = [.fixed(bits: nil)] }
        #expect(Grid.points(explicit) == plain)
        for p in plain {
            #expect(!p.key.contains("fixed") && p.config.format == .fixed)
            #expect(!String(decoding: try JSONEncoder().encode(p), as: UTF8.self).contains("format"))
        }
        // fixed<N> is the fixed-point point at N bits with the grid's output bits.
        let fixed4 = Grid.config(rows: 8, cols: 8, inputBits: 8, outputBits: 8, rounding: .nearest, format: .fixed(bits: 4))
        #expect(fixed4 == Grid.config(rows: 8, cols: 8, inputBits: 4, outputBits: 8, rounding: .nearest))
    }

    /// The rule of docs/SWEEP.md for each format: A at the input bits, B's values in [-2, 2),
    /// C with its 7 integer bits; every design valid at 4, 8 and 16 bits.
    @Test("each format's design follows the documented rule and is valid", arguments: [4, 8, 16])
    func designs(_ bits: Int) throws {
        let formats = try Grid.formatList("binary,bwn,ternary,pow2e2,pow2e3,pow2e4,codebook1,codebook4,codebook6")
        for f in formats {
            let c = Grid.config(rows: 4, cols: 4, inputBits: bits, rounding: .stochastic, format: f)
            try c.validate()
            guard case .coded(let format) = f else { continue }
            #expect(c.format == format)
            let p = SweepPoint(index: 0, config: c)
            #expect(p.key.hasSuffix("-stochastic-\(format)"), "\(p.key)")
            // B's values in [-2, 2): ±1 and ternary at scale 1, powers of two up to 2^(2^E-2)
            // scaled down to 1, a codebook's entries A's format.
            switch format {
            case .binary, .binaryWeights, .ternary: #expect(c.b == FixedPoint(bits: 2, frac: 0), "\(format): B \(c.b)")
            case .powerOfTwo(let e): #expect(c.b == FixedPoint(bits: 1 << e, frac: (1 << e) - 2), "\(format): B \(c.b)")
            case .codebook, .fixed: #expect(c.b == c.a, "\(format): B \(c.b)")
            }
            #expect(c.a == (format == .binary ? FixedPoint(bits: 2, frac: 0) : FixedPoint(bits: bits, frac: bits - 2)), "\(format): A \(c.a)")
            #expect(c.output.bits == bits && c.output.frac == min(bits - 8, c.a.frac + c.b.frac), "\(format): C \(c.output)")
        }
    }

    @Test("combinations a dataflow does not build are left out with their reason, the rest planned")
    func leftOut() throws {
        let g = SubGrid(dataflow: [.os, .ws, .rs], rows: [2], inputBits: [8], rounding: [.stochastic], workload: .conv,
                        format: [.fixed(bits: nil), .coded(.binaryWeights), .coded(.binary)])
        let (points, skipped) = Grid.plan([g])
        #expect(points.map(\.key) == ["conv-os-2x2-s8f6-s8f0-stochastic", "conv-os-2x2-s8f6-s8f0-stochastic-bwn",
                                      "conv-ws-2x2-s8f6-s8f0-stochastic", "conv-ws-2x2-s8f6-s8f0-stochastic-bwn",
                                      "conv-rs-2x2-s8f6-s8f0-stochastic"])
        #expect(skipped.count == 4 && skipped.contains { $0.hasPrefix("conv rs with bwn (allowed: fixed with --dataflow rs") }, "\(skipped)")
        #expect(skipped.contains { $0.hasPrefix("conv os with binary") })
    }

    /// Three formats on a 4×4 array (no synthesis): every element of C as the golden model
    /// says, the format column, energy and the PE's arithmetic per MAC in the documented order.
    @Test("a format sweep (binary, ternary, codebook2 on 4×4) passes with zero mismatches and writes the format column")
    func smallSweep() throws {
        let dir = SweepEngineTests.freshDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try SweepEngineTests.run(["--rows", "4", "--format", "binary,ternary,codebook2", "--no-synth", "--out", dir.path])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let rows = try SweepEngineTests.csvRows(dir)
        #expect(rows.map { $0["key"]! } == ["os-4x4-s2f0-s8f0-stochastic-binary", "os-4x4-s8f6-s8f0-stochastic-ternary",
                                            "os-4x4-s8f6-s8f0-stochastic-codebook2"])
        #expect(rows.map { $0["format"]! } == ["binary", "ternary", "codebook2"])
        for row in rows {
            #expect(row["status"] == "pass" && row["mismatches"] == "0", "\(row["key"]!): \(row["message"]!)")
            #expect(Int(row["macs"]!) == Workload.standard.macs && Double(row["energy_pj_per_mac"]!)! > 0)
            #expect(row["pe_luts"] == "", "--no-synth")
        }
        // Binary products are exact and C has room for every sum: no rounding, no error.
        #expect(rows[0]["rmse"] == "0.0" && rows[0]["sqnr_db"] == "")
        #expect(Double(rows[1]["sqnr_db"]!)! > 15 && Double(rows[2]["sqnr_db"]!)! > 20)
        let mac = rows.map { Double($0["pe_mac_pj"]!)! }
        #expect(mac[0] < mac[1] && mac[1] < mac[2], "\(mac)")
        let json = try SweepEngineTests.jsonRows(dir)
        #expect((json[2]["energy_breakdown_pj"] as! [String: Double])["decode"]! > 0, "a codebook reads its table")
        // The report: the format plots and tables, and formats.md.
        let plots = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("plots").path)
        #expect(plots.contains("format-energy.svg") && plots.contains("format-mac.svg") && !plots.contains("format-area.svg"), "\(plots)")
        let formats = try String(contentsOf: dir.appendingPathComponent("formats.md"), encoding: .utf8)
        #expect(formats.contains("| binary | 1×1 |") && formats.contains("| codebook2 | 8×2 |"), "\(formats)")
    }

    /// The binary PE: an XNOR and an add of ±1 into a 14-bit accumulator, no multiplier, so no
    /// DSP48; the fixed-point 8-bit PE is one DSP48. Pinned at yosys 0.23 (docs/FORMATS.md).
    @Test("the binary PE synthesizes to no DSP48 (LUT/FF pinned); the fixed8 PE to one DSP48")
    func peSynthesis() throws {
        let binary = Grid.config(rows: 8, cols: 8, inputBits: 8, rounding: .stochastic, format: .coded(.binary))
        let b = try SynthesisRunner.metrics(for: try Systolic.pe(binary))
        #expect(binary.accBits == 14)
        // Flip-flops: a_q (the code and its live bit), b_q, the accumulator and res_q:
        // 2 + 1 + 14 + 14. LUTs: the 14-bit add of ±1 (XNOR and select fold into its LUTs).
        #expect(b.dsp48 == 0 && b.flipFlops == 2 + 1 + 14 + 14 && b.luts == 14, "binary PE: \(b.luts) LUT, \(b.flipFlops) FF, \(b.dsp48) DSP")
        let fixed8 = Grid.config(rows: 8, cols: 8, inputBits: 8, rounding: .stochastic, format: .fixed(bits: 8))
        let f = try SynthesisRunner.metrics(for: try Systolic.pe(fixed8))
        #expect(f.dsp48 == 1, "\(f)")

        // In a sweep point the same PE is found in the array's hierarchy and synthesized alone.
        let top = try Systolic.module(Grid.config(rows: 2, cols: 3, inputBits: 8, rounding: .stochastic, format: .coded(.binary)))
        #expect(Runner.peModule(of: top, binary, excluding: binary.rounder(column: 0).moduleName) == nil, "8×8 is not 2×3")
        let small = Grid.config(rows: 2, cols: 3, inputBits: 8, rounding: .stochastic, format: .coded(.binary))
        #expect(Runner.peModule(of: top, small, excluding: small.rounder(column: 0).moduleName) == (try Systolic.pe(small)).name)
        let one = Grid.config(rows: 1, cols: 1, inputBits: 8, rounding: .stochastic)
        #expect(Runner.peModule(of: try Systolic.module(one), one, excluding: one.rounder(column: 0).moduleName) == (try Systolic.pe(one)).name)

        // Synthesized with its array, the PE is reported as it is alone: its own yosys process
        // reads its file only (the ROUND unit's flow reads them all: it instantiates the LFSR).
        let unit = small.rounder(column: 0).moduleName, pe = try Systolic.pe(small).name
        let sources = try VerilogEmitter.emit(top).map { ($0.fileName, $0.text) }
        #expect(SynthesisRunner.unitFiles(pe, sources) == ["\(pe).v"])
        #expect(SynthesisRunner.unitFiles(unit, sources) == ["lfsr16.v", "\(unit).v"].sorted())
        let array = try SynthesisRunner.metrics(for: top, options: .init(unit: unit, pe: pe))
        #expect(array.peLUTs == b.luts && array.peFlipFlops == b.flipFlops && array.peDSP48 == 0, "\(array)")
        #expect(array.dsp48 == 0 && array.unitFlipFlops! >= 8 + 1)  // output register and valid
    }
}
