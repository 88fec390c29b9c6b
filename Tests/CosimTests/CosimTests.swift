@testable import Cosim
import Foundation
import Runtime
import Testing
import TestTags

// These tests need Verilator. They never skip: without it they fail with
// "`verilator` was not found on PATH: run `make deps` ...".
// They exercise the driver protocol on small hand-written fixtures, some of whose registers
// have no reset, so they start from zero (`initialState: .zero`); generated designs are
// checked from random power-up states everywhere else (`InitialState.default`).

@Suite(.tags(.verilator)) struct CounterTests {
    @Test func pokeStepPeek() throws {
        let sim = try Simulation(TestDesigns.counter, initialState: .zero)
        defer { sim.close() }
        try sim.poke("rst", 1)
        try sim.step()
        #expect(try sim.peekUnsigned("q") == 0)
        try sim.poke("rst", 0)
        try sim.poke("en", 1)
        try sim.poke("inc", 3)
        try sim.step(5)
        #expect(try sim.peekUnsigned("q") == 15)
        #expect(try sim.peekUnsigned("q_times_inc") == 45)
        try sim.poke("en", 0)
        try sim.step(3)
        #expect(try sim.peekUnsigned("q") == 15)
        // Masked to 8 bits: 0x1FF -> 0xFF; -1 -> 0xFF.
        try sim.poke("inc", 0x1FF)
        try sim.eval()
        #expect(try sim.peek("q_times_inc") == [UInt64(15 * 255)])
        try sim.poke("inc", -1)
        try sim.poke("en", 1)
        try sim.step()
        #expect(try sim.peekUnsigned("q") == (15 + 255) & 0xFF)
        #expect(sim.cycle == 10)
        #expect(try sim.sync() == 10)
        // Synchronous reset: nothing happens before the edge.
        try sim.poke("rst", 1)
        try sim.eval()
        #expect(try sim.peekUnsigned("q") == 14)
        try sim.step()
        #expect(try sim.peekUnsigned("q") == 0)
    }

    @Test func bulkMatchesSwiftModel() throws {
        let sim = try Simulation(TestDesigns.counter, record: false, initialState: .zero)
        defer { sim.close() }
        let cycles = 200_000
        var rng = SplitMix64(seed: 42)
        var values = [UInt64]()
        values.reserveCapacity(cycles * 3)
        var expected = [UInt64]()
        expected.reserveCapacity(cycles * 2)
        var q: UInt64 = 0  // registers start at 0
        for _ in 0..<cycles {
            let r = rng.next()
            let rst: UInt64 = r & 0x3FF == 0 ? 1 : 0
            let en: UInt64 = (r >> 10) & 3 != 0 ? 1 : 0
            let inc = (r >> 12) & 0x1FF  // 9 bits: the top bit must be masked away
            values += [rst, en, inc]
            expected += [q, (q * (inc & 0xFF)) & 0xFFFF]  // sampled before the edge
            if rst == 1 { q = 0 } else if en == 1 { q = (q + inc) & 0xFF }
        }
        let out = try sim.run(cycles: cycles, inputs: ["rst", "en", "inc"], values: values, outputs: ["q", "q_times_inc"])
        #expect(out.count == expected.count)
        let firstBad = zip(out, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstBad == nil, "first mismatch at value \(firstBad ?? -1) (cycle \((firstBad ?? 0) / 2))")
        #expect(sim.cycle == cycles)
        #expect(try sim.peekUnsigned("q") == Int128(q))

        // Row form: one array of input words per cycle.
        let rows: [[UInt64]] = [[0, 1, 1], [0, 1, 2], [1, 0, 0], [0, 1, 7]]
        let got = try sim.run(inputs: ["rst", "en", "inc"], values: rows, outputs: ["q"])
        #expect(got == [[q], [(q + 1) & 0xFF], [(q + 3) & 0xFF], [0]])
        #expect(try sim.peekUnsigned("q") == 7)
    }

    @Test func secondSimulationIsACacheHit() throws {
        let first = try Simulation(TestDesigns.counter, initialState: .zero)
        first.close()
        let second = try Simulation(TestDesigns.counter, initialState: .zero)
        defer { second.close() }
        #expect(second.model.cacheHit)
        #expect(second.model.executable == first.model.executable)
        #expect(second.model.buildSeconds < 2)
    }

    @Test func changedDesignIsRebuilt() throws {
        // The nonce makes this design new on every run, so it is never in the cache.
        var changed = TestDesigns.counter
        let nonce = UUID().uuidString
        changed.sources["counter.v"] = changed.sources["counter.v"]!
            .replacingOccurrences(of: "q <= q + inc;", with: "q <= q + inc + 8'd1; // \(nonce)")
        let model = try Verilator.build(changed)
        defer { try? FileManager.default.removeItem(at: model.directory) }
        #expect(!model.cacheHit)
        #expect(model.key != (try Verilator.build(TestDesigns.counter)).key)
        let again = try Verilator.build(changed)
        #expect(again.cacheHit)

        let sim = try Simulation(changed, initialState: .zero)
        defer { sim.close() }
        try sim.poke("en", 1)
        try sim.poke("inc", 2)
        try sim.step(4)
        #expect(try sim.peekUnsigned("q") == 12)
    }

    @Test func waveformOnRequest() throws {
        let vcd = temporaryFile("counter.vcd")
        defer { try? FileManager.default.removeItem(at: vcd.deletingLastPathComponent()) }
        let sim = try Simulation(TestDesigns.counter, waveform: vcd, initialState: .zero)
        try sim.poke("en", 1)
        try sim.poke("inc", 1)
        try sim.step(20)
        #expect(try sim.peekUnsigned("q") == 20)
        sim.close()
        let text = try String(contentsOf: vcd, encoding: .utf8)
        #expect(text.contains("$enddefinitions"))
        for port in ["clk", "rst", "en", "inc", "q", "q_times_inc"] {
            #expect(text.contains(" \(port) ") || text.contains(" \(port) ["), "VCD lacks \(port)")
        }
        #expect(text.contains("#200"))  // 20 cycles of 10 time units
    }

    @Test func dumpWaveformReplays() throws {
        let sim = try Simulation(TestDesigns.counter, initialState: .zero)
        defer { sim.close() }
        try sim.poke("en", 1)
        try sim.poke("inc", 5)
        try sim.step(3)
        _ = try sim.run(cycles: 4, inputs: ["inc"], values: [1, 2, 3, 4], outputs: ["q"])
        #expect(try sim.peekUnsigned("q") == 25)
        #expect(sim.recordedBytes > 0)
        let vcd = temporaryFile("replay.vcd")
        defer { try? FileManager.default.removeItem(at: vcd.deletingLastPathComponent()) }
        let written = try sim.dumpWaveform(to: vcd)
        #expect(written == vcd)
        let text = try String(contentsOf: vcd, encoding: .utf8)
        #expect(text.contains("$enddefinitions"))
        #expect(text.contains(" q "))
        #expect(text.contains(" inc "))
        // q reaches 25 = 0b00011001 in the replay.
        #expect(text.contains("b00011001 "))
        // The live simulation goes on after the dump.
        try sim.step()
        #expect(try sim.peekUnsigned("q") == 29)
    }
}

@Suite(.tags(.verilator)) struct InitialStateTests {
    /// acc100 has no reset: what it holds before the first edge is the power-up state.
    func powerUp(_ state: InitialState) throws -> [UInt64] {
        let sim = try Simulation(TestDesigns.mix, initialState: state)
        defer { sim.close() }
        return try sim.peek("acc100")
    }

    @Test func randomStateDependsOnTheSeedOnly() throws {
        let zero = try powerUp(.zero)
        let one = try powerUp(.random(seed: 1)), again = try powerUp(.random(seed: 1))
        let two = try powerUp(.random(seed: 2))
        #expect(zero == [0, 0])
        #expect(one == again)
        #expect(one != two)
        // Random means random: both words of the 100-bit register are set.
        #expect(one[0] != 0 && one[1] != 0)
    }

    @Test func defaultIsRandom() throws {
        #expect(InitialState.default != .zero)
        let sim = try Simulation(TestDesigns.mix)
        defer { sim.close() }
        #expect(sim.initialState == InitialState.default)
        #expect(try sim.peek("acc100") != [0, 0])
    }
}

@Suite(.tags(.verilator)) struct WidthTests {
    @Test func everyWidthClass() throws {
        let sim = try Simulation(TestDesigns.mix, initialState: .zero)
        defer { sim.close() }
        var rng = SplitMix64(seed: 7)
        let m100 = UInt128.mask(100)
        for trial in 0..<50 {
            let a8 = rng.next() & 0xFF, b16 = rng.next() & 0xFFFF, c32 = rng.next() & 0xFFFF_FFFF
            // 40-bit signed in range, both signs; 64-bit signed including extremes.
            var s40 = Int64(bitPattern: rng.next()) >> 24
            var s64 = Int64(bitPattern: rng.next())
            if trial == 0 { s40 = -(1 << 39); s64 = .min }
            if trial == 1 { s40 = (1 << 39) - 1; s64 = .max }
            var wa = (UInt128(rng.next()) << 64 | UInt128(rng.next())) & m100
            var wb = (UInt128(rng.next()) << 64 | UInt128(rng.next())) & m100
            if trial == 2 { wa = m100; wb = 1 }  // carry out of bit 99

            try sim.poke("a8", Int128(a8))
            try sim.poke("b16", Int128(b16))
            try sim.poke("c32", Int128(c32))
            try sim.poke("s40", Int128(s40))
            try sim.poke("s64", Int128(s64))
            try sim.poke("wa", words: wa.words)
            try sim.poke("wb", Int128(bitPattern: wb))
            try sim.eval()

            #expect(try sim.peekUnsigned("x8") == Int128(a8 ^ 0x5A))
            #expect(try sim.peekUnsigned("y16") == Int128((b16 + a8) & 0xFFFF))
            #expect(try sim.peekUnsigned("z32") == Int128((c32 * 3) & 0xFFFF_FFFF))
            // -(-2^39) wraps to -2^39 in 40 bits.
            let n40 = s40 == -(1 << 39) ? s40 : -s40
            #expect(try sim.peekSigned("n40") == Int128(n40))
            #expect(try sim.peekUnsigned("n40") == Int128(n40) & ((1 << 40) - 1))
            #expect(try sim.peekSigned("t64") == Int128(s64 &+ s40))
            #expect(try sim.peek("t64") == [UInt64(bitPattern: s64 &+ s40)])
            let full = wa + wb
            #expect(try sim.peek("sum100") == (full & m100).words)
            #expect(try sim.peekUnsigned("sum100") == Int128(full & m100))
            #expect(try sim.peekUnsigned("carry100") == Int128(full >> 100))
            // cat130 = {wa, c32[29:0]}: three words.
            let low = (wa << 30) | UInt128(c32 & 0x3FFF_FFFF)
            #expect(try sim.peek("cat130") == low.words + [UInt64(wa >> 98)])
        }
        // Negative values into wide ports are sign-extended then masked to 100 bits.
        try sim.poke("wa", -1)
        try sim.poke("wb", 0)
        #expect(try sim.peek("sum100") == m100.words)
        #expect(try sim.peekSigned("sum100") == -1)
        // words beyond the width are dropped.
        try sim.poke("wa", words: [1, 0, 0xFFFF])
        #expect(try sim.peek("sum100") == [1, 0])
    }

    @Test func wideBulk() throws {
        let sim = try Simulation(TestDesigns.mix, initialState: .zero)
        defer { sim.close() }
        let m100 = UInt128.mask(100)
        var rng = SplitMix64(seed: 99)
        let cycles = 1000
        var rows = [[UInt64]]()
        var expected = [[UInt64]]()
        var acc: UInt128 = 0
        for _ in 0..<cycles {
            let wa = (UInt128(rng.next()) << 64 | UInt128(rng.next())) & m100
            let wb = (UInt128(rng.next()) << 64 | UInt128(rng.next())) & m100
            let a8 = rng.next() & 0xFF
            rows.append(wa.words + [a8] + wb.words)
            expected.append(((wa + wb) & m100).words + [a8 ^ 0x5A] + acc.words)
            acc = (acc + wa) & m100
        }
        let out = try sim.run(inputs: ["wa", "a8", "wb"], values: rows, outputs: ["sum100", "x8", "acc100"])
        #expect(out == expected)
        #expect(try sim.peek("acc100") == acc.words)
    }
}

@Suite(.tags(.verilator)) struct ErrorTests {
    @Test func unknownPort() throws {
        let sim = try Simulation(TestDesigns.counter, initialState: .zero)
        defer { sim.close() }
        let e = #expect(throws: CosimError.self) { try sim.poke("nope", 1) }
        #expect(e?.description.contains("unknown port `nope`") == true)
        #expect(e?.description.contains("counter") == true)
        #expect(throws: CosimError.self) { try sim.peek("nope") }
        #expect(throws: CosimError.self) { _ = try sim.run(cycles: 1, inputs: ["nope"], values: [0], outputs: []) }
        let out = #expect(throws: CosimError.self) { try sim.poke("q", 1) }
        #expect(out?.description.contains("output") == true)
        #expect(throws: CosimError.self) { try sim.poke("clk", 1) }
        let shape = #expect(throws: CosimError.self) { _ = try sim.run(cycles: 2, inputs: ["en"], values: [1], outputs: []) }
        #expect(shape?.description.contains("rows") == true)
        // The simulation is still usable.
        try sim.poke("en", 1)
        try sim.poke("inc", 1)
        try sim.step(2)
        #expect(try sim.peekUnsigned("q") == 2)
    }

    @Test func brokenVerilog() throws {
        let broken = CosimDesign(
            top: "broken",
            sources: ["broken.v": "module broken(input clk, output [3:0] y);\n  assign y = 4'd3 +;\nendmodule\n"],
            ports: [.input("clk"), .output("y", 4)])
        let e = #expect(throws: CosimError.self) { try Simulation(broken) }
        guard case .buildFailed(let top, let excerpt, let dir)? = e else {
            Issue.record("expected buildFailed, got \(String(describing: e))"); return
        }
        #expect(top == "broken")
        #expect(excerpt.first?.contains("%Error") == true)
        #expect(excerpt.joined().contains("broken.v:2"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("build.log").path))
        #expect(e!.description.contains("failed"))
        #expect(!e!.description.contains("\n"))
    }

    @Test func lintWarningFailsTheBuild() throws {
        // Builds do not pass -Wno-fatal: a WIDTH warning stops the build and is reported.
        let sloppy = CosimDesign(
            top: "sloppy",
            sources: ["sloppy.v": "module sloppy(input [3:0] a, output [3:0] y);\n  assign y = a + 5'd1;\nendmodule\n"],
            ports: [.input("a", 4), .output("y", 4)])
        let e = #expect(throws: CosimError.self) { try Verilator.build(sloppy) }
        #expect(e?.description.contains("%Warning-WIDTH") == true)
        #expect(e?.description.contains("sloppy.v:2") == true)
    }

    @Test func portListMismatch() throws {
        var wrong = TestDesigns.counter
        wrong.ports[3] = .input("inc", 9)  // the Verilog says 8
        let e = #expect(throws: CosimError.self) { try Verilator.build(wrong) }
        #expect(e?.description.contains("`inc` is 8 bits wide in the Verilog, not 9") == true)
    }

    @Test func invalidDesign() {
        let bad = CosimDesign(top: "x", sources: ["x.v": "module x; endmodule"], ports: [.input("a"), .input("a")])
        let e = #expect(throws: CosimError.self) { try Verilator.build(bad) }
        #expect(e?.description.contains("listed twice") == true)
    }

    @Test func messagesNameTheFix() {
        #expect(CosimError.toolMissing("verilator").description.contains("run `make deps`"))
    }

    @Test func driverDeath() throws {
        let sim = try Simulation(TestDesigns.counter, initialState: .zero)
        defer { sim.close() }
        try sim.step()
        kill(sim.driverProcessID, SIGKILL)
        let e = #expect(throws: CosimError.self) { try sim.peek("q") }
        #expect(e?.description.contains("died") == true)
        #expect(e?.description.contains("signal 9") == true)
        #expect(throws: CosimError.self) { try sim.step() }
    }
}

@Suite(.tags(.verilator)) struct BuildLogicTests {
    func trigger(_ t: String) -> String {
        #"VL_DBG_MSGF("         'act' region trigger index 0 is active: \#(t)\n");"#
    }

    @Test func fallingEdgeMergeOnlyForPosedgeDesigns() {
        let d = TestDesigns.counter
        #expect(Verilator.fallingEdgeIsInert(d, generated: [trigger("@(posedge clk)")]))
        #expect(Verilator.fallingEdgeIsInert(d, generated: [trigger("@(posedge clk or posedge rst)")]))
        #expect(!Verilator.fallingEdgeIsInert(d, generated: [trigger("@(negedge clk)")]))
        #expect(!Verilator.fallingEdgeIsInert(d, generated: [trigger("@(posedge clk)"), trigger("@(posedge counter.div)")]))
        #expect(!Verilator.fallingEdgeIsInert(d, generated: [trigger("@([changed] clk)")]))
        #expect(!Verilator.fallingEdgeIsInert(d, generated: [trigger("Internal 'act' trigger - first iteration")]))
        #expect(!Verilator.fallingEdgeIsInert(d, generated: []))
    }

    @Test func portTableUsesVerilatorStorageTypes() {
        let h = Verilator.portTableHeader(TestDesigns.mix, mergeFallingEdge: true)
        #expect(h.contains("#define COSIM_CLOCK 0"))
        #expect(h.contains("sizeof(m->a8) == 1"))
        #expect(h.contains("sizeof(m->b16) == 2"))
        #expect(h.contains("sizeof(m->c32) == 4"))
        #expect(h.contains("sizeof(m->s40) == 8"))
        #expect(h.contains("sizeof(m->s64) == 8"))
        #expect(h.contains("sizeof(m->wa) == 16"))      // VlWide<4>
        #expect(h.contains("sizeof(m->cat130) == 20"))  // VlWide<5>
        #expect(h.contains("m->wa.data()"))
    }
}
