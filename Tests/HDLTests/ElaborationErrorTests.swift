import Testing
import HDL

// Every elaboration check, each with the exact place in this file where the offending signal or
// connection was made. `line = #line; statement` puts the line number on the statement's line.

private let file = fileID("ElaborationErrorTests")

@Suite("Elaboration errors")
struct ElaborationErrorTests {
    // MARK: Connections

    @Test func widthMismatchOnWire() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(8))
            let w = m.wire("w", .unsigned(4))
            line = #line; w.assign(a)
            m.output("y", w)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("width mismatch"))
        #expect(e.description.contains("'w'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func signednessMismatchIsAWidthMismatchToo() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .signed(8))
            let w = m.wire("w", .unsigned(8))
            line = #line; w.assign(a)
            m.output("y", w)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("width mismatch"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func widthMismatchOnRegister() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(8))
            let r = m.register("r", .unsigned(8))
            line = #line; r.assign(r + a)  // u9 into u8
            m.output("y", r)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("width mismatch"))
        #expect(e.description.contains("'r'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func widthMismatchOnOutputDeclaredByShape() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .signed(6))
            let y = m.output("y", .signed(12))
            line = #line; y.assign(a * a + 1)  // s13
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("width mismatch"))
        #expect(e.description.contains("'y'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func assigningToANonWireIsRefused() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(2))
            let b = ~a
            line = #line; b.assign(a)
            m.output("y", b)
        })
        #expect(e.description.contains("cannot be assigned"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func undrivenWire() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            line = #line; let w = m.wire("floating", .unsigned(3))
            m.output("y", ~w)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("undriven wire"))
        #expect(e.description.contains("'floating'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func undrivenOutputDeclaredByShape() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            _ = m.input("a", .bit)
            line = #line; _ = m.output("result", .signed(5))
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("undriven output"))
        #expect(e.description.contains("'result'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func registerWithoutNextValue() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            line = #line; let r = m.register("count_q", .unsigned(4))
            m.output("y", r)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("register 'count_q'"))
        #expect(e.description.contains("no next value"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func multipleDriversNameBothLocations() throws {
        var first = 0, second = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(4)), b = m.input("b", .unsigned(4))
            let w = m.wire("w", .unsigned(4))
            first = #line; w.assign(a)
            second = #line; w.assign(b)
            m.output("y", w)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("multiple drivers"))
        #expect(mentions(e.description, file, line: first))
        #expect(mentions(e.description, file, line: second))
    }

    @Test func multipleDriversOnARegister() throws {
        var first = 0, second = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(4))
            let r = m.register("r", .unsigned(4), reset: nil)
            first = #line; r.assign(a)
            second = #line; r.assign(r)
            m.output("y", r)
        })
        #expect(e.description.contains("multiple drivers"))
        #expect(mentions(e.description, file, line: first))
        #expect(mentions(e.description, file, line: second))
    }

    // MARK: Loops

    @Test func combinationalLoopThroughTwoWires() throws {
        var lineP = 0, lineQ = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(4))
            lineP = #line; let p = m.wire("p_loop", .unsigned(4))
            lineQ = #line; let q = m.wire("q_loop", .unsigned(4))
            p.assign(q ^ a)
            q.assign(p &+ 1)
            m.output("y", q)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("combinational loop"))
        #expect(e.description.contains("p_loop"))
        #expect(e.description.contains("q_loop"))
        #expect(mentions(e.description, file, line: lineP))
        #expect(mentions(e.description, file, line: lineQ))
    }

    @Test func wireDrivingItselfIsALoop() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            line = #line; let w = m.wire("self_loop", .bit)
            w.assign(~w)
            m.output("y", w)
        })
        #expect(e.description.contains("combinational loop"))
        #expect(e.description.contains("self_loop"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func loopBrokenByARegisterIsFine() throws {
        // p -> register -> q -> p: the register cuts the same-cycle path.
        let d = try ModuleDefinition.define("counter") { m in
            let en = m.input("en", .bit)
            let p = m.wire("p", .unsigned(4))
            let r = m.register("r", .unsigned(4), enable: en)
            let q = m.wire("q", .unsigned(4))
            r.assign(p)
            q.assign(r)
            p.assign(q &+ 1)
            m.output("y", q)
        }
        #expect(d.combinationalInputs["y"] == [])
    }

    @Test func loopThroughAChildsCombinationalPathIsFound() throws {
        let child = try ModuleDefinition.define("passthrough") { m in
            m.output("y", ~m.input("a", .unsigned(2)))
        }
        var line = 0
        let e = try #require(elaborationError { m in
            line = #line; let w = m.wire("around", .unsigned(2))
            let i = m.instance(child, name: "inv", ["a": w])
            w.assign(i["y"])
            m.output("y", w)
        })
        #expect(e.description.contains("combinational loop"))
        #expect(e.description.contains("around"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func loopThroughAChildsRegisterIsFine() throws {
        let child = try ModuleDefinition.define("delayer") { m in
            m.output("y", m.delay(m.input("a", .unsigned(2)), name: "a_q"))
        }
        #expect(child.combinationalInputs["y"] == [])
        let top = try ModuleDefinition.define("ring") { m in
            let w = m.wire("around", .unsigned(2))
            let i = m.instance(child, name: "d", ["a": w])
            w.assign(~i["y"])
            m.output("y", w)
        }
        #expect(top.combinationalInputs["y"] == [])
    }

    // MARK: Names

    @Test(arguments: ["2x", "a-b", "", "x y", "é"])
    func illegalPortNames(_ name: String) throws {
        var line = 0
        let e = try #require(elaborationError { m in
            line = #line; let a = m.input(name, .bit)
            m.output("y", a)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("port name"))
        #expect(e.description.contains("not a legal Verilog identifier"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test(arguments: ["module", "wire", "begin", "logic", "always_ff"])
    func reservedPortNames(_ name: String) throws {
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .bit)
            line = #line; m.output(name, a)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("reserved"))
        #expect(e.description.contains("'\(name)'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func duplicatePortNameNamesBothDeclarations() throws {
        var first = 0, second = 0
        let e = try #require(elaborationError { m in
            first = #line; let a = m.input("x", .unsigned(2))
            second = #line; m.output("x", ~a)
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("duplicate port name 'x'"))
        #expect(mentions(e.description, file, line: first))
        #expect(mentions(e.description, file, line: second))
    }

    @Test(arguments: ["clk", "rst"])
    func userPortsMayNotTakeTheImplicitClockOrResetName(_ name: String) throws {
        // A register adds `clk` and `rst` ports; a user port of the same name would be a
        // second declaration in the Verilog.
        var line = 0
        let e = try #require(elaborationError { m in
            line = #line; let a = m.input(name, .bit)
            let r = m.register("r", .bit)
            r.assign(a)
            m.output("y", r)
        })
        #expect(e.description.contains("'\(name)'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func aCombinationalModuleMayHaveAnInputNamedClk() throws {
        let d = try ModuleDefinition.define("gate") { m in
            m.output("y", m.input("clk", .bit) & m.input("en", .bit))
        }
        #expect(d.ports.map(\.name) == ["clk", "en", "y"])
        #expect(!d.usesClock)
    }

    @Test(arguments: ["2x", "a-b", "module", ""])
    func illegalModuleName(_ name: String) throws {
        var line = 0
        line = #line; let e = try #require(elaborationError(name) { m in
            m.output("y", m.input("a", .bit))
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("module name"))
        #expect(mentions(e.description, file, line: line))
    }

    // MARK: Instances

    private static func adder() throws -> ModuleDefinition {
        try ModuleDefinition.define("adder4") { m in
            let a = m.input("a", .unsigned(4)), b = m.input("b", .unsigned(4))
            m.output("sum", a + b)
        }
    }

    @Test func duplicateInstanceName() throws {
        let child = try Self.adder()
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(4))
            let i1 = m.instance(child, name: "u0", ["a": a, "b": a])
            line = #line; let i2 = m.instance(child, name: "u0", ["a": a, "b": a])
            m.output("y", i1["sum"] + i2["sum"])
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("duplicate instance name 'u0'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test(arguments: ["0u", "wire", "a.b"])
    func illegalInstanceName(_ name: String) throws {
        let child = try Self.adder()
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(4))
            line = #line; let i = m.instance(child, name: name, ["a": a, "b": a])
            m.output("y", i["sum"])
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("instance name"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func instanceWithAMissingInput() throws {
        let child = try Self.adder()
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(4))
            line = #line; let i = m.instance(child, name: "u0", ["a": a])
            m.output("y", i["sum"])
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("leaves input 'b'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func instanceWithAnUnknownInput() throws {
        let child = try Self.adder()
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(4))
            line = #line; let i = m.instance(child, name: "u0", ["a": a, "b": a, "carry_in": a.bit(0)])
            m.output("y", i["sum"])
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("no input 'carry_in'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func instanceWithAWidthMismatchedInput() throws {
        let child = try Self.adder()
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(4)), wide = m.input("wide", .unsigned(5))
            line = #line; let i = m.instance(child, name: "u0", ["a": a, "b": wide])
            m.output("y", i["sum"])
        })
        #expect(e.diagnostics.count == 1)
        #expect(e.description.contains("width mismatch"))
        #expect(e.description.contains("input 'b'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func instanceWithAnUnknownOutput() throws {
        let child = try Self.adder()
        var line = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(4))
            line = #line; let i = m.instance(child, name: "u0", ["a": a, "b": a])
            m.output("y", i["carry"])
        })
        #expect(e.description.contains("no output 'carry'"))
        #expect(mentions(e.description, file, line: line))
    }

    // MARK: Ownership

    @Test func signalFromAnotherModuleDrivingAnOutput() throws {
        var foreign: Signal!
        var made = 0, used = 0
        let other = try ModuleDefinition.define("other") { m in
            made = #line; foreign = m.input("x", .unsigned(3))
            m.output("y", foreign)
        }
        let e = try #require(elaborationError { m in
            _ = m.input("a", .bit)
            used = #line; m.output("y", foreign)
        })
        #expect(e.description.contains("belongs to module 'other'"))
        #expect(mentions(e.description, file, line: used))
        #expect(mentions(e.description, file, line: made))
        withExtendedLifetime(other) {}
    }

    @Test func signalFromAnotherModuleInAnOperator() throws {
        var foreign: Signal!
        var made = 0
        let other = try ModuleDefinition.define("other") { m in
            made = #line; foreign = m.input("x", .unsigned(3))
            m.output("y", foreign)
        }
        // Local operand first: the operator refuses the foreign one and names where it was made.
        let e1 = try #require(elaborationError { m in
            m.output("y", m.input("a", .unsigned(3)) &+ foreign)
        })
        #expect(e1.description.contains("belongs to module 'other'"))
        #expect(mentions(e1.description, file, line: made))
        // Foreign operand first: still refused where the result is used.
        var used = 0
        let e2 = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(3))
            let sum = foreign &+ a
            used = #line; m.output("y", sum)
        })
        #expect(e2.description.contains("belongs to module 'other'"))
        #expect(mentions(e2.description, file, line: used))
        withExtendedLifetime(other) {}
    }

    @Test func signalFromAnotherModuleInAConnection() throws {
        var foreign: Signal!
        let other = try ModuleDefinition.define("other") { m in
            foreign = m.input("x", .unsigned(4))
            m.output("y", foreign)
        }
        let child = try Self.adder()
        var lineWire = 0, lineInstance = 0, lineRegister = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(4))
            let w = m.wire("w", .unsigned(4))
            lineWire = #line; w.assign(foreign)
            lineInstance = #line; let i = m.instance(child, name: "u0", ["a": a, "b": foreign])
            let r = m.register("r", .unsigned(4))
            lineRegister = #line; r.assign(foreign)
            m.output("y", cat(w, i["sum"], r))
        })
        #expect(e.diagnostics.count == 3)
        #expect(mentions(e.description, file, line: lineWire))
        #expect(mentions(e.description, file, line: lineInstance))
        #expect(mentions(e.description, file, line: lineRegister))
        withExtendedLifetime(other) {}
    }

    // MARK: Other checks

    @Test func narrowingByExtensionOrWideningByTruncationIsRefused() throws {
        var lineExtend = 0, lineTruncate = 0, lineBits = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .signed(8))
            lineExtend = #line; let x = a.extended(to: 4)
            lineTruncate = #line; let t = a.truncated(to: 9)
            lineBits = #line; let b = a.bits(8, 2)
            m.output("y", cat(x, t, b))
        })
        #expect(e.diagnostics.count == 3)
        #expect(mentions(e.description, file, line: lineExtend))
        #expect(mentions(e.description, file, line: lineTruncate))
        #expect(mentions(e.description, file, line: lineBits))
    }

    @Test func muxSelectMustBeOneBit() throws {
        var line = 0
        let e = try #require(elaborationError { m in
            let s = m.input("s", .unsigned(2)), a = m.input("a", .unsigned(4))
            line = #line; let y = mux(s, a, ~a)
            m.output("y", y)
        })
        #expect(e.description.contains("mux select must be 1 bit"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func badRoundingRequests() throws {
        var lineDrop = 0, lineRandom = 0
        let e = try #require(elaborationError { m in
            let a = m.input("a", .signed(8)), r = m.input("r", .unsigned(2))
            lineDrop = #line; let x = a.roundedShiftRight(by: 8, mode: .truncate)
            lineRandom = #line; let y = a.roundedShiftRight(by: 3, mode: .stochastic(random: r))
            m.output("y", cat(x, y))
        })
        #expect(e.diagnostics.count == 2)
        #expect(mentions(e.description, file, line: lineDrop))
        #expect(mentions(e.description, file, line: lineRandom))
    }

    @Test func memoryChecks() throws {
        var lineDepth = 0, lineAddr = 0, lineData = 0, lineEnable = 0, lineReadEnable = 0
        let e = try #require(elaborationError { m in
            let a3 = m.input("a3", .unsigned(3)), a2 = m.input("a2", .unsigned(2)), d = m.input("d", .unsigned(8))
            let we = m.input("we", .unsigned(2))
            lineDepth = #line; _ = m.memory("tiny", width: 8, depth: 1)
            let mem = m.memory("mem", width: 8, depth: 4)
            lineAddr = #line; let r1 = mem.read(address: a3)
            lineData = #line; mem.write(address: a2, data: d.bits(6, 0), enable: we.bit(0))
            lineEnable = #line; mem.write(address: a2, data: d, enable: we)
            lineReadEnable = #line; let r2 = mem.readSync(address: a2, enable: we)
            m.output("y", cat(r1, r2))
        })
        #expect(e.diagnostics.count == 5)
        #expect(mentions(e.description, file, line: lineDepth))
        #expect(mentions(e.description, file, line: lineAddr))
        #expect(mentions(e.description, file, line: lineData))
        #expect(mentions(e.description, file, line: lineEnable))
        #expect(mentions(e.description, file, line: lineReadEnable))
    }

    @Test func widthsOutOfRange() throws {
        var line0 = 0, lineHuge = 0
        let e = try #require(elaborationError { m in
            line0 = #line; let a = m.input("a", .unsigned(0))
            lineHuge = #line; let w = m.wire("w", .unsigned(5000))
            w.assign(w)
            m.output("y", a)
        })
        #expect(mentions(e.description, file, line: line0))
        #expect(mentions(e.description, file, line: lineHuge))
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let e = try #require(elaborationError { m in
            let a = m.input("a", .unsigned(8))
            let w = m.wire("w", .unsigned(4))
            w.assign(a)                                   // width mismatch
            _ = m.wire("floating", .bit)                  // undriven
            _ = m.register("r", .bit)                     // no next value
            m.output("module", w)                         // reserved
        })
        #expect(e.diagnostics.count == 4)
        #expect(e.module == "dut")
    }
}
