@testable import Cores
import Cosim
import Foundation
import HDL
import Model
@testable import Sweep
import Testing
import Verilog
import TestTags

// Synthesis metrics, hardware-quality checks, the energy model and the report
// (docs/ENERGY.md). The synthesis tests run yosys (installed by `make deps`); the report tests
// run gnuplot (apt package gnuplot-nox, also from `make deps`).

private let noCache = SynthesisRunner.Options(cache: false)

private func tempDir(_ label: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-metrics-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

// MARK: - Parsing and hashing (no tools)

@Suite("Synthesis metrics: parsing")
struct SynthesisParsingTests {
    @Test("stat -top: the design hierarchy totals, not a module's own cells")
    func hierarchyTotals() {
        let text = """
        === pe ===

           Number of cells:                  5
             DSP48E1                         1
             FDRE                            4

        === top ===

           Number of cells:                  3
             LUT3                            1
             pe                              2

        === design hierarchy ===

           top                               1
             pe                              2

           Number of wires:                 10
           Number of cells:                 11
             DSP48E1                         2
             FDRE                            8
             LUT3                            1

        """
        let t = SynthesisRunner.parseTotals(text)
        #expect(t.cells == 11)
        #expect(t.types == ["DSP48E1": 2, "FDRE": 8, "LUT3": 1])
        let m = SynthesisRunner.metrics(generic: t, xilinx: t, depth: 3)
        #expect(m.dsp48 == 2 && m.flipFlops == 8 && m.luts == 1 && m.logicDepth == 3)
    }

    @Test("stat of a leaf module (no hierarchy section)")
    func leaf() {
        let text = """
        === mac ===

           Number of cells:                 79
             DSP48E1                         1
             FDRE                           26
             LUT2                           26
             LUT4                           26
             SRLC32E                         2
             RAM64M                          1
             RAMB36E1                        1
             RAMB18E1                        2
        """
        let t = SynthesisRunner.parseTotals(text)
        let m = SynthesisRunner.metrics(generic: t, xilinx: t, depth: 0)
        #expect(m.luts == 52 && m.flipFlops == 26 && m.dsp48 == 1 && m.bram == 3 && m.lutsAsMemory == 6)
    }

    @Test("ltp: the longest of the per-module paths")
    func longestPath() {
        let text = """
        Longest topological path in fifo (length=17):
        Longest topological path in empty (length=-1):
        Longest topological path in pe (length=37):
        """
        #expect(SynthesisRunner.parseLongestPath(text) == 37)
        #expect(SynthesisRunner.parseLongestPath("") == 0)
    }
}

// MARK: - Hardware quality (yosys)

@Suite("Hardware quality under synth_xilinx", .serialized, .tags(.synthesis))
struct HardwareQualityTests {
    static let macs: [(a: Int, b: Int, maxK: Int)] = [(8, 8, 1024), (16, 16, 1024), (18, 25, 32), (25, 18, 32), (25, 18, 1024)]

    @Test("every MAC up to 18×25 bits is one DSP48E1", arguments: macs.indices)
    func macIsOneDSP(_ i: Int) throws {
        let (wa, wb, k) = Self.macs[i]
        let c = MACConfig(a: FixedPoint(bits: wa), b: FixedPoint(bits: wb), maxK: k)
        let m = try SynthesisRunner.metrics(for: try MAC.module(c), options: noCache)
        #expect(m.dsp48 == 1, "MAC \(wa)x\(wb), acc \(c.accBits): \(m)")
        // Multiply, add and accumulator register all in the DSP when the accumulator fits its
        // 48 bits: the fabric keeps only the operand gating and the clear.
        if c.accBits <= 48 { #expect(m.flipFlops == 0 && m.luts <= wa + 2, "\(m)") }
    }

    @Test("the systolic PE: multiply, add and accumulator register in one DSP48E1 (8 and 16 bits)", arguments: [8, 16])
    func peIsOneDSP(_ bits: Int) throws {
        let c = ArrayConfig(a: FixedPoint(bits: bits, frac: bits - 2))
        let m = try SynthesisRunner.metrics(for: try Systolic.pe(c), options: noCache)
        #expect(m.dsp48 == 1, "\(m)")
        // Fabric flip-flops: a_q, b_q and res_q. acc_q is the DSP's C register (CREG, reset
        // by `restart`), fed back from P; the result is read out by the column's multiplexer.
        #expect(m.flipFlops == c.a.bits + c.b.bits + c.accBits, "\(m)")
        #expect(m.luts <= 2, "\(m)")
    }

    @Test("a 4-bit PE's 8-bit product stays in LUTs (yosys maps products of 9 bits or more)")
    func narrowPE() throws {
        let c = ArrayConfig(a: FixedPoint(bits: 4, frac: 2))
        let m = try SynthesisRunner.metrics(for: try Systolic.pe(c), options: noCache)
        #expect(m.dsp48 == 0)
        #expect(m.luts > 20)
    }

    /// LUT/FF of one ROUND unit (24 -> 8 bits, drops 8 bits, saturates; one output per
    /// valid input). Documented in docs/ENERGY.md; yosys 0.23 gives truncate 18 LUT / 9 FF,
    /// nearest 23 / 9, stochastic 44 / 25 (16 of them the LFSR, which leaps 8 steps per output).
    @Test("rounding unit cost: stochastic costs more than truncate, all in a plausible range")
    func rounderCost() throws {
        var figures: [RoundingMode: SynthesisMetrics] = [:]
        for mode in RoundingMode.allCases {
            figures[mode] = try SynthesisRunner.metrics(for: try Rounder.module(RounderConfig(rounding: mode)), options: noCache)
        }
        let t = figures[.truncate]!, n = figures[.nearest]!, s = figures[.stochastic]!
        for mode in RoundingMode.allCases {
            let m = figures[mode]!
            print("ROUND unit s24.8 -> s8.0, \(mode): \(m.luts) LUT, \(m.flipFlops) FF, \(m.genericCells) generic cells, depth \(m.logicDepth)")
        }
        // Output register (8) + valid (1); stochastic adds the 16-bit LFSR.
        #expect(t.flipFlops == 9 && n.flipFlops == 9 && s.flipFlops == 25)
        #expect((4...40).contains(t.luts), "truncate \(t.luts) LUTs")
        #expect((6...60).contains(n.luts), "nearest \(n.luts) LUTs")
        #expect((10...80).contains(s.luts), "stochastic \(s.luts) LUTs")
        #expect(s.luts > t.luts && s.flipFlops > t.flipFlops)
        #expect(s.dsp48 == 0 && s.bram == 0)
        #expect(s.genericCells > t.genericCells)
    }

    /// One ROUND unit of the default 8×8 array (s28.12 -> s8.2, D = 10, 16-bit LFSR), with its
    /// LFSR leaping 10 steps per output against stepping once (docs/ARITHMETIC.md, "Fresh bits").
    /// The leap adds no flip-flop, only the XOR network. yosys 0.23: 57 LUT / 25 FF leaping,
    /// 35 / 25 one step. ABC's mapping of the same logic moves with the order of the netlist:
    /// the emitter's earlier layout (one operation per `assign`, every wire declared first) gave
    /// 45 / 36, the same logic in today's layout with nothing written in place 55 / 35.
    @Test("ROUND unit of the default array: the LFSR leap costs a few LUTs and no flip-flop")
    func leapCost() throws {
        let leap = try SynthesisRunner.metrics(for: try Rounder.module(ArrayConfig().rounder(column: 0)), options: noCache)
        let one = try SynthesisRunner.metrics(for: try Rounder.module(ArrayConfig(lfsrStep: .one).rounder(column: 0)), options: noCache)
        print("ROUND unit s28.12 -> s8.2, leap: \(leap.luts) LUT, \(leap.flipFlops) FF, \(leap.genericCells) generic cells, depth \(leap.logicDepth)")
        print("ROUND unit s28.12 -> s8.2, one step: \(one.luts) LUT, \(one.flipFlops) FF, \(one.genericCells) generic cells, depth \(one.logicDepth)")
        #expect(leap.flipFlops == 25 && one.flipFlops == 25)
        #expect(leap.luts > one.luts && leap.luts <= one.luts + 25, "leap \(leap.luts) LUTs, one step \(one.luts)")
        #expect(leap.dsp48 == 0 && leap.bram == 0)
    }

    /// Hierarchical totals (each module synthesized once, multiplied by instance count) against
    /// (1) the same netlist flattened afterwards: identical; (2) a flattened synthesis: the same
    /// DSPs and depth, and somewhat fewer LUTs and flip-flops (flattening lets yosys remove the
    /// edge PEs' unused forwarding registers).
    @Test("hierarchical totals agree with a flattened run (4×4 array)")
    func hierarchyMatchesFlat() throws {
        let c = ArrayConfig(rows: 4, cols: 4)
        let top = try Systolic.module(c)
        let files = try VerilogEmitter.emit(top)
        let m = try SynthesisRunner.metrics(files: files, top: top.name, options: noCache)
        #expect(m.dsp48 == 16)

        // (1) stat -top of the hierarchy == stat of the flattened hierarchical netlist.
        let dir = try tempDir("flat")
        defer { try? FileManager.default.removeItem(at: dir) }
        for f in files { try f.text.write(to: dir.appendingPathComponent(f.fileName), atomically: false, encoding: .utf8) }
        let script = """
            \(SynthesisRunner.readCommand(files.map(\.fileName).sorted()))
            synth_xilinx -top \(top.name) -noiopad -noclkbuf
            tee -q -o hier.txt stat -top \(top.name)
            flatten
            tee -q -o flat.txt stat

            """
        try script.write(to: dir.appendingPathComponent("f.ys"), atomically: false, encoding: .utf8)
        let r = try runTool("yosys", ["-q", "-s", "f.ys"], in: dir)
        #expect(r.status == 0)
        let hier = SynthesisRunner.parseTotals(try String(contentsOf: dir.appendingPathComponent("hier.txt"), encoding: .utf8))
        let flat = SynthesisRunner.parseTotals(try String(contentsOf: dir.appendingPathComponent("flat.txt"), encoding: .utf8))
        #expect(hier.types == flat.types && hier.cells == flat.cells)
        #expect(m.xilinxCells == hier.types)

        // (2) a flattened synthesis.
        let x = try SynthesisRunner.flattenedCells(files: files, top: top.name, xilinx: true)
        let flatMetrics = SynthesisRunner.metrics(generic: .init(cells: 0, types: [:]), xilinx: .init(cells: 0, types: x.cells), depth: 0)
        #expect(flatMetrics.dsp48 == m.dsp48)
        // Edge effects only: the forwarding registers of the last row and column, whose outputs
        // go nowhere (7 of 16 PEs sit on such an edge here; the share falls as 1/R). yosys
        // 0.23: 1105 -> 958 FFs; LUTs + INVs 551 -> 558 (flattening trades LUTs for INVs).
        #expect(flatMetrics.flipFlops <= m.flipFlops && Double(flatMetrics.flipFlops) >= 0.85 * Double(m.flipFlops),
                "flattened \(flatMetrics.flipFlops) FFs, hierarchical \(m.flipFlops)")
        #expect(Double(flatMetrics.luts) <= 1.02 * Double(m.luts) && Double(flatMetrics.luts) >= 0.8 * Double(m.luts),
                "flattened \(flatMetrics.luts) LUTs, hierarchical \(m.luts)")
        let g = try SynthesisRunner.flattenedCells(files: files, top: top.name, xilinx: false)
        #expect(g.logicDepth == m.logicDepth, "flattened depth \(g.logicDepth), per-module \(m.logicDepth)")
    }

    @Test("results are cached by content; a hit is marked and keeps the figures")
    func cache() throws {
        let dir = try tempDir("cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = SynthesisRunner.Options(cache: true, cacheDirectory: dir)
        let top = try LFSR.module(LFSRConfig(width: 8, seed: 3))
        let first = try SynthesisRunner.metrics(for: top, options: options)
        let second = try SynthesisRunner.metrics(for: top, options: options)
        #expect(first.cached == false && second.cached == true)
        var a = first, b = second
        a.cached = nil
        b.cached = nil
        #expect(a == b)
        #expect(first.flipFlops == 8)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 1)
    }
}

@Suite("Energy of a systolic design (GEMM events and its datapath)")
struct EnergyTests {
    /// 2×2 array, s8.6 operands (28-bit accumulator), s8.2 outputs (10 bits dropped),
    /// stochastic rounding with a 16-bit LFSR, on a 2×2×2 GEMM: one tile of two beats.
    @Test("hand-computed 2×2 case")
    func handComputed() {
        let c = ArrayConfig(rows: 2, cols: 2)
        #expect(c.accBits == 28 && c.dropBits == 10)
        let e = GEMMEvents(rows: c.rows, cols: c.cols, m: 2, n: 2, k: 2)
        #expect(e.tiles == 1 && e.macs == 8)
        #expect(e.accumulatorWrites == 12)                 // 8 updates + 4 result captures
        #expect(e.skewWritesA == 6 && e.skewWritesB == 6)  // per beat: 2 input regs + 1 skew reg
        #expect(e.hopsA == 8 && e.hopsB == 8)
        #expect(e.readouts == 4)                           // each result once
        #expect(e.rounds == 4 && e.deskewWrites == 2 && e.fifoWords == 4)
        #expect(e.bufferReadsA == 4 && e.bufferReadsB == 4)
        #expect(e.dramReadsA == 4 && e.dramReadsB == 4 && e.dramWritesC == 4)

        let mac = 0.2 + 0.05 * 28 / 16                     // 8×8 multiply + 28-bit add
        let reg = mac / 8, hop = 2 * mac / 8               // per bit
        let round = 0.05 * 18 / 16 + 0.05 * 28 / 16 + 16 * reg  // saturate 18 bits, add, LFSR
        let expected: [String: Double] = [
            "multiply": 8 * 0.2,
            "accumulate": 8 * 0.05 * 28 / 16,
            "accumulator register": 12 * 28 * reg,
            "skew registers": (6 * 8 + 6 * 8 + 2 * 8) * reg,
            "PE-to-PE": 16 * 8 * hop,
            "drain": 4 * 28 * hop,
            "round": 4 * round,
            "buffer": (4 * 8 + 4 * 8 + 32 + 32 + 2 * 4 * 8) * 5.0 / 32,
            "DRAM": (32 + 32 + 32) * 20.0,
        ]
        let est = EnergyModel.systolic(c, m: 2, n: 2, k: 2)
        #expect(Set(est.breakdown.keys) == Set(expected.keys))
        for (key, value) in expected {
            #expect(abs(est.breakdown[key]! - value) < 1e-9, "\(key): \(est.breakdown[key]!) != \(value)")
        }
        let total = expected.values.reduce(0, +)
        #expect(abs(est.totalPicojoules - total) < 1e-9)
        #expect(abs(est.totalPicojoules - 1988.525) < 1e-9)
        #expect(abs(est.picojoulesPerMAC - total / 8) < 1e-9)
    }

    @Test("pJ/MAC falls with array size on a large GEMM (reuse)")
    func reuse() {
        for bits in [4, 8, 16] {
            let perMAC = [2, 4, 8, 16, 32].map { n in
                EnergyModel.systolic(Grid.config(rows: n, cols: n, inputBits: bits, rounding: .stochastic), m: 512, n: 512, k: 512).picojoulesPerMAC
            }
            for (a, b) in zip(perMAC, perMAC.dropFirst()) { #expect(b < a, "\(bits)-bit: \(perMAC)") }
            // DRAM traffic per MAC ~ 1/R + 1/N: the 32×32 array saves most of it.
            #expect(perMAC.last! < perMAC.first! / 4)
        }
    }

    @Test("pJ/MAC rises with bitwidth")
    func bitwidth() {
        for size in [4, 8, 32] {
            for rounding in RoundingMode.allCases {
                let perMAC = [4, 8, 12, 16].map { bits in
                    EnergyModel.systolic(Grid.config(rows: size, cols: size, inputBits: bits, rounding: rounding), m: 100, n: 37, k: 300).picojoulesPerMAC
                }
                for (a, b) in zip(perMAC, perMAC.dropFirst()) { #expect(b > a, "\(size)x\(size) \(rounding): \(perMAC)") }
            }
        }
    }

    @Test("stochastic rounding costs more than nearest, nearest more than truncate")
    func roundingCost() {
        let e = RoundingMode.allCases.map { r in
            EnergyModel.systolic(ArrayConfig(rounding: r), m: 64, n: 64, k: 64).breakdown["round"]!
        }
        #expect(e[0] < e[1] && e[1] < e[2])
    }

    @Test("padding: a ragged GEMM costs more per useful MAC than a tiled one")
    func padding() {
        let c = ArrayConfig(rows: 8, cols: 8)
        let even = EnergyModel.systolic(c, m: 64, n: 64, k: 64).picojoulesPerMAC
        let ragged = EnergyModel.systolic(c, m: 65, n: 65, k: 64).picojoulesPerMAC
        #expect(ragged > even)
        #expect(GEMMEvents(rows: c.rows, cols: c.cols, m: 65, n: 65, k: 64).macs == 81 * 64 * 64)
    }
}

// MARK: - Report

@Suite("Report", .tags(.verilator, .synthesis))
struct ReportTests {
    static func synthetic() -> [PointResult] {
        var results: [PointResult] = []
        var index = 0
        func add(_ size: Int, _ bits: Int, _ rounding: RoundingMode, status: PointResult.Status = .pass) {
            let c = Grid.config(rows: size, cols: size, inputBits: bits, rounding: rounding)
            let pes = Double(size * size)
            let syn = SynthesisMetrics(genericCells: Int(pes * Double(bits * bits) * 12) + 500, luts: Int(pes) * bits * 3 + 200,
                                       flipFlops: Int(pes) * (bits * 2 + 60), dsp48: bits >= 8 ? size * size : 0, bram: size >= 16 ? 4 : 0,
                                       logicDepth: 20 + bits * 2, seconds: 1.5 * pes)
            let cycles = 4000 / size + 500
            let macs = 300_000
            let sqnr: Double = 6.02 * Double(bits) + (rounding == .stochastic ? -3 : rounding == .nearest ? 0 : -5)
            let energy = EnergyModel.systolic(c, m: 64, n: 64, k: 64)
            results.append(PointResult(point: SweepPoint(index: index, config: c), status: status,
                                       message: status == .pass ? nil : "gemm0: 3 mismatches; first: row 1 | col 2",
                                       mismatches: status == .pass ? 0 : 3, cycles: cycles, macs: macs,
                                       utilization: Double(macs) / (Double(cycles) * pes), simulatedMACsPerSecond: 1e6 * pes,
                                       rmse: 0.1 / Double(bits), maxAbsError: 0.5, bias: 0.001, sqnrDB: sqnr, synthesis: syn,
                                       energy: energy, generateSeconds: 0.1, buildSeconds: 2, simulateSeconds: 1))
            index += 1
        }
        for size in [2, 4, 8] { for bits in [4, 8, 16] { add(size, bits, .stochastic) } }
        for bits in [4, 8, 16] { add(8, bits, .truncate); add(8, bits, .nearest) }
        add(16, 8, .stochastic, status: .fail)
        results.append(PointResult(point: SweepPoint(index: index, config: Grid.config(rows: 32, cols: 32, inputBits: 16, rounding: .stochastic)),
                                   status: .error, message: "synthesis: yosys failed"))
        return results
    }

    @Test("writes every plot as SVG and report.md links each one")
    func writesPlots() throws {
        let dir = try tempDir("report")
        defer { try? FileManager.default.removeItem(at: dir) }
        let results = Self.synthetic()
        let url = try Report.write(results: results, to: dir)
        #expect(url == dir.appendingPathComponent("report.md"))
        let md = try String(contentsOf: url, encoding: .utf8)
        let plots = dir.appendingPathComponent("plots")
        let svgs = try FileManager.default.contentsOfDirectory(atPath: plots.path).filter { $0.hasSuffix(".svg") }.sorted()
        for required in ["area-luts.svg", "area-cells.svg", "sqnr.svg", "throughput-area.svg", "energy.svg", "energy-breakdown.svg"] {
            #expect(svgs.contains(required), "missing \(required): \(svgs)")
        }
        for svg in svgs {
            let data = try Data(contentsOf: plots.appendingPathComponent(svg))
            let text = String(decoding: data, as: UTF8.self)
            #expect(data.count > 1000, "\(svg) is nearly empty")
            #expect(text.hasPrefix("<?xml") && text.contains("<svg"), "\(svg) is not SVG")
            #expect(text.contains("</svg>"))
            #expect(md.contains("](plots/\(svg))"), "report.md does not link \(svg)")
        }
        // The table has every point; failures are listed with their message.
        for r in results { #expect(md.contains("| \(r.point.index) | `\(r.point.key)` | \(r.status.rawValue) |")) }
        #expect(md.contains("synthesis: yosys failed"))
        #expect(md.contains("row 1 \\| col 2"))
        // For looking at the plots: ACCELGEN_REPORT_SAMPLE=/some/dir keeps a copy there.
        if let keep = ProcessInfo.processInfo.environment["ACCELGEN_REPORT_SAMPLE"], !keep.isEmpty {
            _ = try Report.write(results: Self.synthetic(), to: URL(fileURLWithPath: keep, isDirectory: true))
        }
    }

    @Test("the same results give the same bytes")
    func deterministic() throws {
        let a = try tempDir("det-a"), b = try tempDir("det-b")
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        let results = Self.synthetic()
        _ = try Report.write(results: results, to: a)
        _ = try Report.write(results: results.reversed(), to: b)
        let files = try FileManager.default.contentsOfDirectory(atPath: a.appendingPathComponent("plots").path).sorted()
        #expect(files == (try FileManager.default.contentsOfDirectory(atPath: b.appendingPathComponent("plots").path).sorted()))
        for f in files {
            #expect(try Data(contentsOf: a.appendingPathComponent("plots/\(f)")) == Data(contentsOf: b.appendingPathComponent("plots/\(f)")), "\(f) differs")
        }
        #expect(try Data(contentsOf: a.appendingPathComponent("report.md")) == Data(contentsOf: b.appendingPathComponent("report.md")))
    }

    @Test("only errors: report.md without plots")
    func onlyErrors() throws {
        let dir = try tempDir("errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = PointResult(point: SweepPoint(index: 0, config: ArrayConfig()), status: .error, message: "lint: boom")
        let url = try Report.write(results: [r], to: dir)
        let md = try String(contentsOf: url, encoding: .utf8)
        #expect(md.contains("1 point: 0 pass, 0 fail"))
        #expect(!md.contains("!["))
    }
}
