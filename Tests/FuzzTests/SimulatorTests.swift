import Testing
import HDL

// The in-process simulator on hand-written circuits with values worked out by hand, across
// word boundaries and through every kind of state.

@Suite struct SimulatorTests {
    @Test func wideArithmeticCarriesAcrossWords() throws {
        let d = try ModuleDefinition.define("wide") { m in
            let a = m.input("a", .unsigned(130))
            let b = m.input("b", .unsigned(130))
            m.output("sum", a &+ b)
            m.output("product", (a * b).truncated(to: 130))
            m.output("less", a .< b)
        }
        let sim = CircuitSimulator(d)
        try sim.poke("a", words: [~0, ~0, 0b11])  // 2^130 - 1
        try sim.poke("b", words: [1])
        #expect(try sim.peek("sum") == [0, 0, 0])
        #expect(try sim.peek("product") == [~0, ~0, 0b11])
        #expect(try sim.peek("less") == [0])
        try sim.poke("b", words: [2])  // (2^130 - 1) * 2 mod 2^130 = 2^130 - 2
        #expect(try sim.peek("product") == [~0 - 1, ~0, 0b11])
    }

    @Test func signedShiftsAndExtensionsOfWideValues() throws {
        let d = try ModuleDefinition.define("shifts") { m in
            let a = m.input("a", .signed(100))
            let n = m.input("n", .unsigned(8))
            m.output("sra", a >> n)
            m.output("shl", a << n)
            m.output("ext", a.extended(to: 200))
        }
        let sim = CircuitSimulator(d)
        try sim.poke("a", -2)
        try sim.poke("n", 70)
        #expect(try sim.peekSigned("sra") == -1)
        #expect(try sim.peek("shl") == [0, 0xFFFF_FFFF_FFFF_FF80 & ((1 << 36) - 1)])
        #expect(try sim.peek("ext") == [~0 - 1, ~0, ~0, 0xFF])
        try sim.poke("n", 200)  // past the width: everything shifts out
        #expect(try sim.peekSigned("sra") == -1)
        #expect(try sim.peek("shl") == [0, 0])
    }

    @Test func registersResetEnableAndMemoryReadBeforeWrite() throws {
        let d = try ModuleDefinition.define("state") { m in
            let en = m.input("en", .bit)
            let x = m.input("x", .unsigned(8))
            let r = m.register("r", .unsigned(8), reset: 5, enable: en)
            r.assign(x)
            let mem = m.memory("mem", width: 8, depth: 4)
            mem.write(address: m.constant(1, .unsigned(2)), data: x, enable: en)
            m.output("r_q", r)
            m.output("sync", mem.readSync(address: m.constant(1, .unsigned(2))))
            m.output("comb", mem.read(address: m.constant(1, .unsigned(2))))
        }
        let sim = CircuitSimulator(d)
        try sim.poke("rst", 1)
        try sim.step()
        #expect(try sim.peekUnsigned("r_q") == 5)
        try sim.poke("rst", 0)
        try sim.poke("en", 1)
        try sim.poke("x", 9)
        try sim.step()
        // The register and the memory took 9; the synchronous read saw the old word.
        #expect(try sim.peekUnsigned("r_q") == 9)
        #expect(try sim.peekUnsigned("comb") == 9)
        #expect(try sim.peekUnsigned("sync") == 0)
        try sim.poke("en", 0)
        try sim.poke("x", 3)
        try sim.step()
        #expect(try sim.peekUnsigned("r_q") == 9)
        #expect(try sim.peekUnsigned("sync") == 9)
        #expect(sim.cycle == 3)
    }

    @Test func instancesAreFlattened() throws {
        let inner = try ModuleDefinition.define("acc") { m in
            let x = m.input("x", .unsigned(4))
            let r = m.register("total", .unsigned(6))
            r.assign(r &+ x.extended(to: 6))
            m.output("total_q", r)
            m.output("through", x &+ 1)
        }
        let outer = try ModuleDefinition.define("outer") { m in
            let x = m.input("x", .unsigned(4))
            let a = m.instance(inner, name: "a", ["x": x])
            let b = m.instance(inner, name: "b", ["x": a["through"]])
            m.output("sum", a["total_q"] + b["total_q"])
        }
        let sim = CircuitSimulator(outer)
        let rows: [UInt64] = [1, 0, 0, 3, 0, 3]  // (rst, x) for three cycles
        let out = try sim.run(cycles: 3, inputs: ["rst", "x"], values: rows, outputs: ["sum"])
        // a sums x, b sums x + 1, both sampled before each edge; the first cycle is a reset.
        #expect(out == [0, 0, 3 + 4])
    }

    @Test func refusesWhatCosimRefuses() throws {
        let d = try ModuleDefinition.define("ports") { m in
            let r = m.register("r", .bit)
            r.assign(~r)
            m.output("q", r)
        }
        let sim = CircuitSimulator(d)
        #expect(throws: SimulatorError.self) { try sim.poke("clk", 1) }
        #expect(throws: SimulatorError.self) { try sim.poke("q", 1) }
        #expect(throws: SimulatorError.self) { try sim.peek("nope") }
    }
}
