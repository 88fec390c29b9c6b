import Testing
import HDL
import Verilog
import Cosim
import TestTags

// Verilator lint (-Wall, zero warnings) and yosys synthesis of designs that use every feature.
// These never skip: a missing tool throws ToolError.missing and fails the test.

@Suite("Lint and synthesis", .tags(.verilator, .synthesis))
struct ToolTests {
    @Test func combinationalGalleryLints() throws {
        try lint(try Gallery.combinational())
    }

    @Test func systemLintsCleanly() throws {
        let top = try Gallery.system()
        let files = try sources(top)
        // One file per distinct module: the leaf is instantiated twice but emitted once.
        #expect(files.keys.sorted() == ["acc_leaf.v", "acc_pair.v", "gallery.v", "sync_ram.v", "system.v"])
        #expect(count("module acc_leaf (", in: files.values.joined()) == 1)
        try Lint.verilator(sources: files, top: top.name)
    }

    @Test func systemSynthesizes() throws {
        let top = try Gallery.system()
        let report = try Synthesis.yosys(sources: try sources(top), top: top.name)
        #expect(report.totalCells > 0)
        // Registers survive synthesis: held_q (16), free_q (13), sum_q (13), two acc_q (12 each)
        // and the RAM's read register are all flip-flops of some kind.
        let flops = report.cells.filter { $0.key.contains("DFF") || $0.key.contains("dff") }.values.reduce(0, +)
        #expect(flops >= 16 + 13 + 13 + 12 + 12 + 16, "\(report.cells)")
    }

    @Test func synchronousReadMemoryIsInferredAsAMemory() throws {
        let ram = try Gallery.ram()
        try lint(ram)
        // Stop before memory mapping: the RAM must still be one memory cell, not loose logic.
        let coarse = try Synthesis.yosys(sources: try sources(ram), top: ram.name, script: "synth -run begin:fine")
        let memCells = coarse.cells.filter { $0.key.hasPrefix("$mem") }.values.reduce(0, +)
        #expect(memCells == 1, "\(coarse.cells)")
        let full = try Synthesis.yosys(sources: try sources(ram), top: ram.name)
        #expect(full.totalCells > 0)
    }

    @Test func wideConstantsLintAndSynthesize() throws {
        let d = try ModuleDefinition.define("wide_consts") { m in
            let sel = m.input("sel", .bit)
            m.output("y127", mux(sel, m.constant(-1, .signed(127)), m.constant(-(Int128(1) << 126), .signed(127))))
            m.output("y130", mux(sel, m.constant(-5, .signed(130)), m.constant(Int128.max, .signed(130))))
            m.output("u127", m.constant(Int128.max, .unsigned(127)))
        }
        try lint(d)
        #expect(try Synthesis.yosys(sources: try sources(d), top: d.name).totalCells > 0)
    }

    @Test func deadRegistersLeaveTheClockUnusedButLintClean() throws {
        let d = try ModuleDefinition.define("dead_reg") { m in
            let a = m.input("a", .unsigned(4))
            let r = m.register("r", .unsigned(4), reset: nil)
            r.assign(a)
            m.output("y", ~a)
        }
        try lint(d)
    }

    @Test func generatedCoresStyleModulesLint() throws {
        // A counter with a combinational compare, a narrow output and a 1-bit register.
        let d = try ModuleDefinition.define("counter_wrap") { m in
            let en = m.input("en", .bit)
            let limit = m.input("limit", .unsigned(6))
            let n = m.register("n_q", .unsigned(6), enable: en)
            let done = n .>= limit
            n.assign(mux(done, m.constant(0, .unsigned(6)), n &+ 1))
            m.output("n", n)
            m.output("done", m.delay(done, name: "done_q", reset: nil))
        }
        try lint(d)
        #expect(try Synthesis.yosys(sources: try sources(d), top: d.name).totalCells > 0)
    }
}
