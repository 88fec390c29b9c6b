import Testing
import HDL

private let file = fileID("HierarchyTests")

/// A small leaf whose shape depends on `width`; `swap` exchanges which output carries which value.
private func leaf(_ name: String = "leaf", width: Int = 4, swap: Bool = false) throws -> ModuleDefinition {
    try ModuleDefinition.define(name) { m in
        let a = m.input("a", .unsigned(width)), b = m.input("b", .unsigned(width))
        let p = a & b, q = a | b
        m.output("x", swap ? q : p)
        m.output("y", swap ? p : q)
    }
}

private func parent(_ name: String, _ children: [ModuleDefinition], crossed: Bool = false) throws -> ModuleDefinition {
    try ModuleDefinition.define(name) { m in
        let a = m.input("a", .unsigned(4)), b = m.input("b", .unsigned(4))
        var outs: [Signal] = []
        for (i, c) in children.enumerated() {
            let inst = m.instance(c, name: "u\(i)", crossed ? ["a": b, "b": a] : ["a": a, "b": b])
            outs += [inst["x"], inst["y"]]
        }
        m.output("o", cat(outs))
    }
}

@Suite("Hierarchy")
struct HierarchyTests {
    /// A parent may give an instance its own reset: the child's registers reset on that signal
    /// (here `clear` or `rst`) and not on the parent's `rst` alone.
    @Test func anInstanceTakesItsOwnReset() throws {
        let counter = try ModuleDefinition.define("counter") { m in
            let q = m.register("q", .unsigned(4), reset: 5)
            q.assign(q &+ 1)
            m.output("q", q)
        }
        let top = try ModuleDefinition.define("top") { m in
            let clear = m.input("clear", .bit)
            let a = m.instance(counter, name: "a", ["rst": clear | m.reset])
            let b = m.instance(counter, name: "b", [:])
            m.output("qa", a["q"])
            m.output("qb", b["q"])
        }
        let sim = CircuitSimulator(top)
        try sim.poke("rst", 1); try sim.poke("clear", 0); try sim.step(1)
        try sim.poke("rst", 0); try sim.step(3)
        #expect(try sim.peekUnsigned("qa") == 8 && sim.peekUnsigned("qb") == 8)
        try sim.poke("clear", 1); try sim.step(1); try sim.poke("clear", 0)
        #expect(try sim.peekUnsigned("qa") == 5 && sim.peekUnsigned("qb") == 9)
    }

    @Test func twoInstancesOfOneDefinitionListItOnce() throws {
        let l = try leaf()
        let top = try parent("top", [l, l])
        #expect(try top.hierarchy().map(\.name) == ["leaf", "top"])
        #expect(top.instances.count == 2)
    }

    @Test func childrenComeBeforeParentsAtEveryLevel() throws {
        let l = try leaf()
        let mid = try parent("mid", [l])
        let other = try leaf("other")
        let top = try ModuleDefinition.define("top") { m in
            let a = m.input("a", .unsigned(4))
            let i = m.instance(mid, name: "m0", ["a": a, "b": a])
            let j = m.instance(other, name: "o0", ["a": a, "b": a])
            let k = m.instance(l, name: "l0", ["a": a, "b": a])
            m.output("o", cat(i["o"], j["x"], k["y"]))
        }
        #expect(try top.hierarchy().map(\.name) == ["leaf", "mid", "other", "top"])
    }

    @Test func theSameGeneratorRunTwiceIsOneModule() throws {
        // Two separately built but identical definitions share a name legitimately.
        let top = try parent("top", [try leaf(), try leaf()])
        #expect(try top.hierarchy().map(\.name) == ["leaf", "top"])
    }

    @Test func twoDifferentDefinitionsWithOneNameAreRefused() throws {
        var line = 0
        let narrow = try leaf(width: 4)
        line = #line; let wide = try ModuleDefinition.define("leaf") { m in
            let a = m.input("a", .unsigned(4)), b = m.input("b", .unsigned(4))
            m.output("x", a ^ b)
            m.output("y", a | b)
        }
        let top = try parent("top", [narrow, wide])
        let e = try #require(throws: ElaborationError.self) { try top.hierarchy() }
        #expect(e.description.contains("two different modules are both named 'leaf'"))
        #expect(mentions(e.description, file, line: line))
    }

    @Test func definitionsThatDifferOnlyInWhichOutputCarriesWhatAreDifferent() throws {
        // Same ports, same nodes in the same order: only the output wiring differs.
        let top = try parent("top", [try leaf(), try leaf(swap: true)])
        #expect(throws: ElaborationError.self) { try top.hierarchy() }
    }

    @Test func definitionsThatDifferOnlyInInstanceConnectionsAreDifferent() throws {
        let l = try leaf()
        let straight = try parent("mid", [l])
        let crossed = try parent("mid", [l], crossed: true)
        let top = try ModuleDefinition.define("top") { m in
            let a = m.input("a", .unsigned(4))
            let i = m.instance(straight, name: "s", ["a": a, "b": ~a])
            let j = m.instance(crossed, name: "c", ["a": a, "b": ~a])
            m.output("o", cat(i["o"], j["o"]))
        }
        #expect(throws: ElaborationError.self) { try top.hierarchy() }
    }

    @Test func identicalParentsWithDifferentSameNamedChildrenAreRefused() throws {
        // Two "mid"s built the same way, but their "leaf" children differ: only one "leaf" module
        // can be emitted, so this must be refused rather than silently using one of them.
        let midA = try parent("mid", [try leaf(swap: false)])
        let midB = try parent("mid", [try leaf(swap: true)])
        let top = try ModuleDefinition.define("top") { m in
            let a = m.input("a", .unsigned(4))
            let i = m.instance(midA, name: "ma", ["a": a, "b": a])
            let j = m.instance(midB, name: "mb", ["a": a, "b": a])
            m.output("o", cat(i["o"], j["o"]))
        }
        #expect(throws: ElaborationError.self) { try top.hierarchy() }
    }

    @Test func clockAndResetReachChildrenAutomatically() throws {
        let counter = try ModuleDefinition.define("counter") { m in
            let r = m.register("n", .unsigned(3))
            r.assign(r &+ 1)
            m.output("n", r)
        }
        #expect(counter.ports.map(\.name) == ["clk", "rst", "n"])
        let top = try ModuleDefinition.define("top") { m in
            let i = m.instance(counter, name: "c", [:])
            m.output("n", i["n"])
        }
        #expect(top.ports.map(\.name) == ["clk", "rst", "n"])
        #expect(top.instances[0].inputs.map(\.port) == ["clk", "rst"])
    }

    @Test func combinationalInputsFollowPathsThroughChildren() throws {
        let child = try ModuleDefinition.define("mixed") { m in
            let a = m.input("a", .unsigned(2)), b = m.input("b", .unsigned(2))
            m.output("comb", ~a)
            m.output("seq", m.delay(b, name: "b_q"))
        }
        #expect(child.combinationalInputs == ["comb": ["a"], "seq": []])
        let top = try ModuleDefinition.define("top") { m in
            let p = m.input("p", .unsigned(2)), q = m.input("q", .unsigned(2))
            let i = m.instance(child, name: "u", ["a": p, "b": q])
            m.output("y1", i["comb"])
            m.output("y2", i["seq"] ^ p)
        }
        #expect(top.combinationalInputs == ["y1": ["p"], "y2": ["p"]])
    }
}
