import Testing
import HDL
import Verilog
import Cosim
import TestTags

@Suite("Emitted structure", .tags(.verilator))
struct StructureTests {
    @Test func everyNamedNodeIsAWireDeclaredWhereItIsAssigned() throws {
        // Two named nodes (an add and a xor; equal widths need no extension) and one output.
        let d = try ModuleDefinition.define("chain") { m in
            let a = m.input("a", .unsigned(8)), b = m.input("b", .unsigned(8))
            let s = (a &+ b).named("s")
            let t = (s ^ a).named("t")
            m.output("y", t)
        }
        let v = text(d)
        #expect(assigns(v).count == 3)
        #expect(lines(v).contains("wire [7:0] s = a + b;"))
        #expect(lines(v).contains("wire [7:0] t = s ^ a;"))
        #expect(lines(v).contains("assign y = t;"))
        #expect(count("always", in: v) == 0)
    }

    @Test func extensionsReadOnceAreWrittenInPlace() throws {
        // u8 + u4 -> u9: both operands are zero-extended to 9 bits, in place, then added.
        let d = try ModuleDefinition.define("widen") { m in
            let a = m.input("a", .unsigned(8)), b = m.input("b", .unsigned(4))
            m.output("y", (a + b).named("sum"))
        }
        let v = text(d)
        #expect(assigns(v).count == 2)
        #expect(rhs(of: "sum", in: v) == "{{1{1'b0}}, a} + {{5{1'b0}}, b}")
        #expect(declaredWidth("sum", in: v) == 9)
    }

    @Test func everyStatementAppliesAtMostTheInlineLimitOfOperators() throws {
        let v = text(try Gallery.combinational())
        let all = assigns(v)
        #expect(all.count > 30)
        for (lhs, rhs) in all {
            #expect(operatorCount(rhs) <= 4, "\(lhs) = \(rhs)")
        }
        // Something was written in place.
        #expect(all.contains { operatorCount($0.rhs) >= 2 })
    }

    /// A value read twice keeps its wire; a signed right shift (and a sign extension, written
    /// as one) keeps its wire even when read once: inside a larger unsigned expression Verilog
    /// would make it a logical shift.
    @Test func sharedValuesAndSignedShiftsKeepTheirWires() throws {
        let d = try ModuleDefinition.define("keep") { m in
            let a = m.input("a", .unsigned(8)), b = m.input("b", .unsigned(8)), s = m.input("s", .signed(8))
            let n = m.input("n", .unsigned(3))
            let shared = a ^ b
            m.output("x", shared &+ a)
            m.output("y", shared & b)
            m.output("z", ((s >> n).asUnsigned &+ a))
            m.output("w", s.extended(to: 12).asUnsigned &+ m.constant(1, .unsigned(12)))
        }
        let v = text(d)
        let shared = try #require(assigns(v).first { $0.rhs == "a ^ b" }?.lhs)
        #expect(rhs(of: "x", in: v) == "\(shared) + a")
        #expect(rhs(of: "y", in: v) == "\(shared) & b")
        let shift = try #require(assigns(v).first { $0.rhs == "$signed(s) >>> n" }?.lhs)
        #expect(rhs(of: "z", in: v) == "\(shift) + a")
        let widened = try #require(assigns(v).first { $0.rhs == "$signed({s, {4{1'b0}}}) >>> 4" }?.lhs)
        #expect(rhs(of: "w", in: v) == "\(widened) + 12'h1")
        try lint(d)
    }

    @Test func signedOperationsCastBothOperands() throws {
        let d = try ModuleDefinition.define("signed_ops") { m in
            let a = m.input("a", .signed(8)), b = m.input("b", .signed(8)), n = m.input("n", .unsigned(3))
            m.output("p", (a * b).named("prod"))
            m.output("lt", (a .< b).named("less"))
            m.output("le", (a .<= b).named("less_eq"))
            m.output("gt", (a .> b).named("greater"))
            m.output("sr", (a >> n).named("shifted"))
            m.output("mixed", (a .< n).named("mixed_lt"))  // u3 joins the signed side
        }
        let v = text(d)
        for name in ["prod", "less", "less_eq", "greater", "mixed_lt"] {
            let r = try #require(rhs(of: name, in: v), "\(name)")
            #expect(count("$signed(", in: r) == 2, "\(name) = \(r)")
        }
        let shift = try #require(rhs(of: "shifted", in: v))
        #expect(shift == "$signed(a) >>> n")
    }

    @Test func unsignedOperationsAreNeverCast() throws {
        let d = try ModuleDefinition.define("unsigned_ops") { m in
            let a = m.input("a", .unsigned(8)), b = m.input("b", .unsigned(8)), n = m.input("n", .unsigned(3))
            m.output("p", (a * b).named("prod"))
            m.output("lt", (a .< b).named("less"))
            m.output("ge", (a .>= b).named("greater_eq"))
            m.output("sr", (a >> n).named("shifted"))
            m.output("sl", (a << n).named("shifted_left"))
            m.output("s", (a &+ b).named("sum"))
        }
        let v = text(d)
        #expect(!v.contains("$signed"))
        #expect(!v.contains(">>>"))
        #expect(rhs(of: "shifted", in: v) == "a >> n")
        #expect(rhs(of: "shifted_left", in: v) == "a << n")
        #expect(rhs(of: "less", in: v) == "a < b")
        #expect(rhs(of: "greater_eq", in: v) == "b <= a")
    }

    @Test func additionNeedsNoCastBecauseWidthsAlreadyMatch() throws {
        // Signed add/sub of equal-width operands gives the same bits either way.
        let d = try ModuleDefinition.define("signed_add") { m in
            let a = m.input("a", .signed(8)), b = m.input("b", .signed(8))
            m.output("y", (a &+ b).named("sum"))
            m.output("z", (a &- b).named("diff"))
        }
        let v = text(d)
        #expect(rhs(of: "sum", in: v) == "a + b")
        #expect(rhs(of: "diff", in: v) == "a - b")
    }

    @Test func portsKeepTheirNames() throws {
        let d = try ModuleDefinition.define("ports") { m in
            let a = m.input("data_in", .unsigned(8))
            let b = m.input("x_1", .signed(3))
            let c = m.input("_private", .bit)
            let e = m.input("ABC", .unsigned(2))
            m.output("data_out", a ^ a)
            m.output("result_q", cat(b, c, e))
            let z = m.output("zz_top", .unsigned(2))
            z.assign(e)
        }
        let v = text(d)
        #expect(portNames(v) == ["data_in", "x_1", "_private", "ABC", "data_out", "result_q", "zz_top"])
        #expect(v.contains("input  wire [7:0] data_in"))
        #expect(v.contains("output wire [1:0] zz_top"))
        try lint(d)
    }

    @Test func namingAnInputSignalDoesNotRenameItsPort() throws {
        // `.named` gives a node a Verilog name; a port's name is fixed when it is declared.
        let d = try ModuleDefinition.define("renamed") { m in
            let a = m.input("a", .unsigned(4)).named("wire")
            let b = m.input("b", .unsigned(4)).named("a")
            let r = m.register("r", .unsigned(4))
            _ = m.clock.named("clock_in")
            _ = m.reset.named("b")
            r.assign(a &+ b)
            m.output("y", r)
        }
        #expect(d.ports.map(\.name) == ["clk", "rst", "a", "b", "y"])
        let v = text(d)
        #expect(portNames(v) == ["clk", "rst", "a", "b", "y"])
        #expect(rhs(of: "y", in: v) == "r")
        try lint(d)
    }

    @Test func twoDifferentModulesWithOneNameAreRefusedByTheEmitter() throws {
        let narrow = try ModuleDefinition.define("leaf") { m in m.output("y", ~m.input("a", .unsigned(2))) }
        let wide = try ModuleDefinition.define("leaf") { m in m.output("y", ~m.input("a", .unsigned(3))) }
        let top = try ModuleDefinition.define("top") { m in
            let a = m.input("a", .unsigned(3))
            let i = m.instance(narrow, name: "n", ["a": a.bits(1, 0)])
            let j = m.instance(wide, name: "w", ["a": a])
            m.output("y", cat(i["y"], j["y"]))
        }
        #expect(throws: ElaborationError.self) { try VerilogEmitter.emit(top) }
        // The same definition twice is emitted once.
        let twice = try ModuleDefinition.define("top2") { m in
            let a = m.input("a", .unsigned(3))
            let i = m.instance(wide, name: "w0", ["a": a])
            let j = m.instance(wide, name: "w1", ["a": ~a])
            m.output("y", i["y"] ^ j["y"])
        }
        let files = try VerilogEmitter.emit(twice)
        #expect(files.map(\.module) == ["leaf", "top2"])
        #expect(count("leaf w", in: files[1].text) == 2)
        try lint(twice)
    }

    @Test func clockAndResetComeFirst() throws {
        let d = try ModuleDefinition.define("seq") { m in
            let a = m.input("a", .unsigned(4))
            m.output("y", m.delay(a, name: "a_q"))
        }
        #expect(portNames(text(d)) == ["clk", "rst", "a", "y"])
    }

    @Test func internalNamesAreMadeLegalAndUnique() throws {
        let d = try ModuleDefinition.define("mangle") { m in
            let a = m.input("a", .unsigned(4)), din = m.input("data_in", .unsigned(4))
            let w1 = (a &+ din).named("wire")
            let w2 = (a ^ din).named("module")
            let w3 = (a | din).named("begin")
            let t1 = (w1 & w2).named("t")
            let t2 = (t1 | w3).named("t")
            let p1 = (~t2).named("a")          // collides with an input port
            let p2 = (~p1).named("data_in")    // and another
            let p3 = (p2 &+ 1).named("y")      // collides with the output port
            let bad1 = (p3 ^ a).named("2x")
            let bad2 = (bad1 ^ din).named("a-b")
            let bad3 = (~bad2).named("_unused_ok")
            m.output("y", bad3)
        }
        let v = text(d)
        let declared = declaredNames(v)
        let ports = Set(portNames(v))
        #expect(declared.count == 11)  // eleven named nodes (the constant 1 of `&+ 1` is written in place)
        #expect(Set(declared).count == declared.count, "unique: \(declared)")
        for n in declared {
            #expect(isLegalIdentifier(n), "\(n)")
            #expect(!someKeywords.contains(n), "\(n)")
            #expect(!ports.contains(n), "\(n)")
            #expect(n != "_unused_ok")
        }
        #expect(portNames(v) == ["a", "data_in", "y"])
        try lint(d)
    }

    @Test func namesThatCollideWithTheEmittersOwnNamesStillLint() throws {
        let child = try ModuleDefinition.define("child") { m in
            m.output("y", ~m.input("a", .unsigned(2)))
        }
        // A port called `_unused_ok` beside an unused bit, and an instance named like a port.
        let d = try ModuleDefinition.define("clash") { m in
            let spare = m.input("_unused_ok", .unsigned(4))
            let u = m.input("u", .unsigned(2))
            let i = m.instance(child, name: "u", ["a": u])
            m.output("y", cat(i["y"], spare.bits(1, 0)))
        }
        try lint(d)
    }

    @Test func deadLogicIsNotEmitted() throws {
        let d = try ModuleDefinition.define("dead") { m in
            let a = m.input("a", .unsigned(4)), b = m.input("b", .unsigned(4))
            _ = (a * b).named("dead_product")
            let r = m.register("dead_q", .unsigned(4))
            r.assign(r &+ a)
            let mem = m.memory("dead_mem", width: 4, depth: 8)
            mem.write(address: b.bits(2, 0), data: a, enable: a.bit(0))
            _ = mem.readSync(address: a.bits(2, 0)).named("dead_read")
            m.output("y", (a ^ b).named("live_xor"))
        }
        let v = text(d)
        for dead in ["dead_product", "dead_q", "dead_mem", "dead_read", "*", "always"] {
            #expect(!v.contains(dead), "\(dead) should not be emitted")
        }
        #expect(rhs(of: "live_xor", in: v) == "a ^ b")
        // The ports remain (clk/rst because the module has registers); lint must accept them unused.
        #expect(portNames(v) == ["clk", "rst", "a", "b", "y"])
        try lint(d)
    }

    @Test func unreadBitsAreListedForLint() throws {
        let d = try ModuleDefinition.define("partial") { m in
            let a = m.input("a", .unsigned(8))
            let unused = m.input("unused_in", .unsigned(3))
            m.output("y", a.bits(5, 2))
            _ = unused
        }
        try lint(d)
        let v = text(d)
        let sink = try #require(lines(v).first { $0.contains("_unused_ok") })
        #expect(sink.contains("a[7:6]"))
        #expect(sink.contains("a[1:0]"))
        #expect(sink.contains("unused_in"))
    }

    @Test func registersAndMemories() throws {
        let d = try ModuleDefinition.define("storage") { m in
            let en = m.input("en", .bit), a = m.input("a", .unsigned(8))
            let withReset = m.register("acc_q", .unsigned(8), reset: 5, enable: en)
            withReset.assign(withReset &+ a)
            let noReset = m.register("pipe_q", .unsigned(8), reset: nil)
            noReset.assign(a)
            let mem = m.memory("ram", width: 8, depth: 16)
            mem.write(address: a.bits(3, 0), data: noReset, enable: en)
            let rd = mem.readSync(address: a.bits(7, 4), enable: en).named("rd_q")
            m.output("y", withReset ^ rd)
            m.output("z", mem.read(address: a.bits(3, 0)).named("rd_comb"))
        }
        let v = text(d)
        #expect(v.contains("reg  [7:0] acc_q;") || v.contains("reg [7:0] acc_q;"))
        // The reset is written as data: loads on reset or enable, the reset value on reset.
        #expect(v.contains("always @(posedge clk) if (rst | en) acc_q <= rst ? 8'h5 : "))
        #expect(v.contains("always @(posedge clk) pipe_q <= a;"))
        #expect(v.contains("[0:15];"))
        #expect(v.contains("always @(posedge clk) if (en) rd_q <= ram["))
        #expect(rhs(of: "rd_comb", in: v)?.hasPrefix("ram[") == true)
        #expect(count("always @(posedge clk) if (en) ram[", in: v) == 1)
        try lint(d)
    }
}
