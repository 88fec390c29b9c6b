import Testing
import HDL
import Verilog

/// Readable Verilog: temporaries named after what they feed, constants in place, a source
/// comment on each line, and per-instance constants as Verilog parameters.
@Suite struct ReadabilityTests {
    /// A 4-bit register whose reset value is the parameter `INIT`; it counts up.
    static func counter() throws -> ModuleDefinition {
        try ModuleDefinition.define("pcounter") { m in
            let initial = m.parameter("INIT", .unsigned(4), default: 3)
            let q = m.register("count_q", .unsigned(4), reset: initial)
            q.assign(q &+ 1)
            m.output("count", q)
            m.output("plus_init", q &+ initial)
        }
    }

    /// Two counters: one set to 9, one handed the parent's own parameter `BASE` (default 5).
    static func pair() throws -> ModuleDefinition {
        let child = try counter()
        return try ModuleDefinition.define("pair") { m in
            let base = m.parameter("BASE", .unsigned(4), default: 5)
            let a = m.instance(child, name: "ua", parameters: ["INIT": m.constant(9, .unsigned(4))], [:])
            let b = m.instance(child, name: "ub", parameters: ["INIT": base], [:])
            let c = m.instance(child, name: "uc", [:])
            m.output("a", a["count"])
            m.output("b", b["count"])
            m.output("c", c["count"])
            m.output("b_plus", b["plus_init"])
        }
    }

    @Test func simulatorHonoursParameters() throws {
        let sim = CircuitSimulator(try Self.pair())
        try sim.poke("rst", 1)
        try sim.step()
        try sim.poke("rst", 0)
        #expect(try sim.peekUnsigned("a") == 9)
        #expect(try sim.peekUnsigned("b") == 5)
        #expect(try sim.peekUnsigned("c") == 3)  // default
        #expect(try sim.peekUnsigned("b_plus") == 10)
        try sim.step()
        #expect(try sim.peekUnsigned("a") == 10)
        #expect(try sim.peekUnsigned("b_plus") == 11)
    }

    @Test func parametersAreEmittedOnceAndSetPerInstance() throws {
        let files = try VerilogEmitter.emit(try Self.pair())
        #expect(files.map(\.module) == ["pcounter", "pair"])
        let child = files[0].text, parent = files[1].text
        #expect(child.contains("module pcounter #(\n    parameter [3:0] INIT = 4'h3\n) ("))
        #expect(child.contains("count_q <= rst ? INIT : "))
        #expect(child.contains("count_q + INIT;"))
        #expect(parent.contains("module pair #(\n    parameter [3:0] BASE = 4'h5\n) ("))
        #expect(parent.contains("pcounter #(.INIT(4'h9)) ua ("))
        #expect(parent.contains("pcounter #(.INIT(BASE)) ub ("))
        #expect(parent.contains("    pcounter uc ("))
    }

    @Test func instanceParametersAreChecked() throws {
        let child = try Self.counter()
        #expect(throws: ElaborationError.self) {
            try ModuleDefinition.define("bad") { m in
                let x = m.input("x", .unsigned(4))
                _ = m.instance(child, name: "u", parameters: ["INIT": x], [:])  // not a constant
            }
        }
        #expect(throws: ElaborationError.self) {
            try ModuleDefinition.define("bad") { m in
                _ = m.instance(child, name: "u", parameters: ["INIT": m.constant(1, .unsigned(5))], [:])  // wrong shape
            }
        }
        #expect(throws: ElaborationError.self) {
            try ModuleDefinition.define("bad") { m in
                _ = m.instance(child, name: "u", parameters: ["SEED": m.constant(1, .unsigned(4))], [:])  // no such parameter
            }
        }
    }

    @Test func temporariesAreNamedAfterWhatTheyFeed() throws {
        let d = try ModuleDefinition.define("named") { m in
            let a = m.input("a", .unsigned(8)), b = m.input("b", .unsigned(8)), c = m.input("c", .unsigned(8))
            let sum = ((a &+ b) &+ c).named("sum")
            m.output("y", sum ^ a)
        }
        let text = VerilogEmitter.emit(module: d)
        #expect(text.contains("wire [7:0] sum = (a + b) + c;"))
        #expect(text.contains("assign y = sum ^ a;"))
        // A value read twice keeps a wire, named after the named signal it feeds.
        let e = try ModuleDefinition.define("shared") { m in
            let a = m.input("a", .unsigned(8)), b = m.input("b", .unsigned(8)), c = m.input("c", .unsigned(8))
            let ab = a &+ b
            let sum = (ab &+ c).named("sum")
            m.output("y", sum ^ ab)
        }
        let shared = VerilogEmitter.emit(module: e)
        #expect(shared.contains("wire [7:0] _sum_T = a + b;"), "\(shared)")
        #expect(shared.contains("wire [7:0] sum = _sum_T + c;"))
        #expect(shared.contains("assign y = sum ^ _sum_T;"))
        // No name made of an operation and a counter.
        #expect(!text.contains("_add"))
    }

    @Test func smallConstantsAndSlicesAreWrittenInPlace() throws {
        let d = try ModuleDefinition.define("inplace") { m in
            let x = m.input("x", .unsigned(8)), s = m.input("s", .signed(8))
            m.output("y", x &+ 3)
            m.output("z", (s .< -2).named("neg"))
            m.output("hi", x.bits(7, 4) .== 0)
        }
        let text = VerilogEmitter.emit(module: d)
        #expect(text.contains("assign y = x + 8'h3;"))
        #expect(text.contains("wire neg = $signed(s) < -8'sd2;"))
        #expect(text.contains("assign hi = x[7:4] == 4'h0;"))
        // One wire, for the named signal: none for the constants, the slice or what is read once.
        let declarations = text.split(separator: "\n").filter { $0.hasPrefix("    wire ") || $0.hasPrefix("    reg ") }
        #expect(declarations.count == 1, "\(declarations)")
    }

    /// A constant in a signed operation reads as the number it is, in any width, the most
    /// negative value of its width too; the fuzzer checks the meaning in Verilator and Icarus.
    @Test func signedConstantsAreSignedDecimalLiterals() throws {
        let d = try ModuleDefinition.define("signed_literals") { m in
            let s = m.input("s", .signed(8)), w = m.input("w", .signed(127))
            m.output("low", (s .< -128).named("low"))
            m.output("high", (s .> 5).named("high"))
            m.output("wide", (w .< -5).named("wide"))
        }
        let text = VerilogEmitter.emit(module: d)
        #expect(text.contains(" = $signed(s) < -8'sd128;"), "\(text)")
        #expect(text.contains("8'sd5 < $signed(s)") || text.contains("$signed(s) > 8'sd5"), "\(text)")
        #expect(text.contains(" = $signed(w) < -127'sd5;"), "\(text)")
        try lint(d)
    }

    @Test func everyLineCarriesItsSourceLocation() throws {
        let text = try VerilogEmitter.emit(try Self.pair()).map(\.text).joined()
        let lines = text.split(separator: "\n").filter {
            $0.hasPrefix("    wire ") || $0.hasPrefix("    reg ") || $0.hasPrefix("    assign ") || $0.hasPrefix("    always ")
        }
        #expect(!lines.isEmpty)
        for line in lines where !line.contains("_unused_ok") {
            #expect(line.contains("  // VerilogTests/ReadabilityTests.swift:"), "\(line)")
        }
    }
}
