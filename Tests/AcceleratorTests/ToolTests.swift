import Accelerator
import Cores
import Cosim
import Foundation
import Golden
import HDL
import Runtime
import Testing
import TestTags
import Verilog

func sources(_ top: ModuleDefinition) throws -> [String: String] {
    Dictionary(uniqueKeysWithValues: try VerilogEmitter.emit(top).map { ($0.fileName, $0.text) })
}

@Suite("Accelerator lint, Icarus, synthesis", .tags(.verilator, .icarus, .synthesis))
struct AcceleratorToolTests {
    static let configs: [AcceleratorConfig] = [
        AcceleratorConfig(),
        AcceleratorConfig(array: ArrayConfig(rows: 3, cols: 2), scratchpadKiB: 1, outputKiB: 1, dataBits: 128, addressBits: 64),
        AcceleratorConfig(array: ArrayConfig(rows: 9, cols: 9, rounding: .nearest), scratchpadKiB: 4, outputKiB: 2),
    ]

    @Test("verilator --lint-only -Wall clean and Icarus compiles", arguments: configs.indices)
    func lintAndIcarus(_ i: Int) throws {
        let top = try Accelerator.module(Self.configs[i])
        let s = try sources(top)
        try Lint.verilator(sources: s, top: top.name)
        _ = try Icarus.run(sources: s, top: top.name)
    }

    /// The banks become block RAM: a 2×2 array with 16 KiB of scratchpad (4096 rows of 16 bits
    /// in A and in B) and 4 KiB of output.
    @Test func banksAreBlockRAM() throws {
        let c = AcceleratorConfig(array: ArrayConfig(rows: 2, cols: 2), scratchpadKiB: 16, outputKiB: 4)
        let top = try Accelerator.module(c)
        let report = try Synthesis.yosys(sources: try sources(top), top: top.name, script: "synth_xilinx -noiopad -noclkbuf")
        let bram = report.cells.filter { $0.key.hasPrefix("RAMB") }.values.reduce(0, +)
        #expect(bram >= 3, "\(report.cells)")
    }

    @Test func sameConfigurationSameBytes() throws {
        for c in Self.configs {
            #expect(try VerilogEmitter.emit(try Accelerator.module(c)).map(\.text) == VerilogEmitter.emit(try Accelerator.module(c)).map(\.text))
        }
    }
}

@Suite("Accelerator in Verilator", .tags(.verilator))
struct AcceleratorVerilatorTests {
    /// The same host, DRAM and checker on the Verilator build: exact from a random power-up,
    /// on a small accelerator and on the default one (Generated/accelerator).
    @Test(arguments: [
        (AcceleratorConfig(array: ArrayConfig(rows: 3, cols: 2), scratchpadKiB: 1, outputKiB: 1), 4, 5, 3),
        (AcceleratorConfig(), 19, 40, 17),
    ])
    func gemmInVerilator(_ c: AcceleratorConfig, m: Int, k: Int, n: Int) throws {
        let (a, b) = randomGEMM(c.array, m: m, k: k, n: n, seed: 77)
        let host = try AcceleratorHost(c, timing: AXIDRAM.Timing(latency: 6, bytesPerCycle: 8, backpressure: 0.2, seed: 4),
                                       initialState: .random(seed: 19), backend: .verilator)
        let g = try GEMMProgram(a: a, b: b, config: c)
        let (status, got) = try runGEMM(host, g)
        #expect(status.done && !status.error)
        var golden = model(c.array)
        #expect(got.elements == golden.gemm(a: a, b: b).c.elements)
    }
}

@Suite("Accelerator register map through PeakRDL", .tags(.python))
struct AcceleratorPeakRDLTests {
    /// `peakrdl c-header` on our .rdl gives the same registers at the same offsets with the
    /// same fields (position, width, mask) as our C header: the offsets are compared by a C
    /// program compiled against both headers, the fields by their macros' values.
    @Test func peakRDLHeaderMatchesOurs() throws {
        let map = RegisterMap.accelerator(AcceleratorConfig())
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("accelgen-rdl-\(UUID().uuidString.prefix(8))")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        try map.systemRDL.write(to: dir.appendingPathComponent("accel_regs.rdl"), atomically: true, encoding: .utf8)
        try map.cHeader.write(to: dir.appendingPathComponent("ours.h"), atomically: true, encoding: .utf8)
        let peakrdl = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".venv/bin/peakrdl").path
        #expect(fm.isExecutableFile(atPath: peakrdl), "run make deps: \(peakrdl) is missing")
        let r = try runTool(peakrdl, ["c-header", "accel_regs.rdl", "-o", "peak.h"], in: dir)
        #expect(r.status == 0, "\(r.output)")
        let peak = try String(contentsOf: dir.appendingPathComponent("peak.h"), encoding: .utf8)
        let ours = try String(contentsOf: dir.appendingPathComponent("ours.h"), encoding: .utf8)
        func macros(_ text: String) -> [String: UInt64] {
            var out: [String: UInt64] = [:]
            for line in text.split(separator: "\n") where line.hasPrefix("#define ") {
                let parts = line.split(separator: " ")
                guard parts.count == 3 else { continue }
                var v = String(parts[2]).lowercased()
                if v.hasSuffix("u") { v.removeLast() }
                if let n = v.hasPrefix("0x") ? UInt64(v.dropFirst(2), radix: 16) : UInt64(v) { out[String(parts[1])] = n }
            }
            return out
        }
        let (p, o) = (macros(peak), macros(ours))
        // PeakRDL: ACCEL_REGS__REG__FIELD_bp/_bw/_bm; ours: ACCEL_REGS_REG_FIELD_LSB/_WIDTH/_MASK.
        let suffixes = ["_bp": "_LSB", "_bw": "_WIDTH", "_bm": "_MASK"]
        var compared = 0
        for (name, value) in p {
            guard let s = suffixes.keys.first(where: { name.hasSuffix($0) }) else { continue }
            let ourName = String(name.dropLast(s.count)).replacingOccurrences(of: "__", with: "_") + suffixes[s]!
            #expect(o[ourName] == value, "\(name) = \(value), ours \(ourName) = \(o[ourName].map { "\($0)" } ?? "missing")")
            compared += 1
        }
        #expect(compared == 3 * map.registers.reduce(0) { $0 + $1.fields.count })
        #expect(o.keys.filter { $0.hasSuffix("_LSB") }.count == compared / 3)
        // Offsets: the packed struct's members against our OFFSET macros.
        var program = "#include <stddef.h>\n#include <stdio.h>\n#include \"peak.h\"\n#include \"ours.h\"\nint main(void) {\n"
        for r in map.registers {
            program += "    printf(\"%s %d %d\\n\", \"\(r.name)\", (int)offsetof(accel_regs_t, \(r.name.lowercased())), (int)ACCEL_REGS_\(r.name)_OFFSET);\n"
        }
        program += "    printf(\"size %d\\n\", (int)sizeof(accel_regs_t));\n    return 0;\n}\n"
        try program.write(to: dir.appendingPathComponent("offsets.c"), atomically: true, encoding: .utf8)
        let cc = try runTool("cc", ["-o", "offsets", "offsets.c"], in: dir)
        #expect(cc.status == 0, "\(cc.output)")
        let run = try runTool(dir.appendingPathComponent("offsets").path, [], in: dir)
        let lines = run.output.split(separator: "\n")
        for line in lines where !line.hasPrefix("size") {
            let f = line.split(separator: " ")
            #expect(f[1] == f[2], "\(line)")
        }
        #expect(lines.last == "size \(4 * map.registers.count)")
        #expect(lines.count == map.registers.count + 1)
    }
}
