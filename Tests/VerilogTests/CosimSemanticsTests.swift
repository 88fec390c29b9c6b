import Testing
import HDL
import Verilog
import Cosim
import Runtime
import TestTags

// Operator semantics in Verilator. The gallery (Gallery.swift) puts every operator on mixed
// shapes; the emitted Verilog is simulated on many input vectors and every output is compared
// with plain Int arithmetic. If any width depended on Verilog's context rules (unsigned
// promotion in mixed comparisons, truncated products, shifts of the wrong kind), some vector
// would disagree here.

/// Draws from the project's generator (Runtime's SplitMix64), so a failure names a
/// reproducible vector.
private extension SplitMix64 {
    mutating func value(_ s: Shape) -> Int {
        let raw = Int(next() & ((1 << UInt64(s.width)) - 1))
        return s.isSigned && raw >= 1 << (s.width - 1) ? raw - (1 << s.width) : raw
    }
    mutating func pick<T>(_ xs: [T]) -> T { xs[Int(next() % UInt64(xs.count))] }
}

private func range(_ s: Shape) -> (lo: Int, hi: Int) {
    s.isSigned ? (-(1 << (s.width - 1)), (1 << (s.width - 1)) - 1) : (0, (1 << s.width) - 1)
}

/// The values at and next to the ends and the middle of a shape's range.
private func extremes(_ s: Shape) -> [Int] {
    let (lo, hi) = range(s)
    let mid = s.isSigned ? 0 : (hi + 1) / 2
    return Array(Set([lo, lo + 1, mid - 1, mid, mid + 1, hi - 1, hi].filter { $0 >= lo && $0 <= hi })).sorted()
}

/// Reads an output word as an integer of the port's shape.
private func decode(_ word: UInt64, _ s: Shape) -> Int {
    let raw = Int(word & ((1 << UInt64(s.width)) - 1))
    return s.isSigned && raw >= 1 << (s.width - 1) ? raw - (1 << s.width) : raw
}

private func cosimDesign(_ top: ModuleDefinition, clock: String) throws -> CosimDesign {
    CosimDesign(top: top.name, sources: try sources(top),
                ports: top.ports.map { PortSpec(name: $0.name, width: $0.shape.width, direction: $0.direction == .input ? .input : .output) },
                clock: clock)
}

@Suite("Operator semantics in Verilator", .serialized, .tags(.verilator))
struct CosimSemanticsTests {
    /// The gallery under a wrapper with a `tick` input, so that bulk `run` (which clocks once per
    /// row) can drive it: every row sets all inputs, evaluates and samples before the edge.
    static func bench() throws -> ModuleDefinition {
        let gallery = try Gallery.combinational()
        return try ModuleDefinition.define("gallery_bench") { m in
            _ = m.input("tick", .bit)
            var conns: [String: Signal] = [:]
            for (n, s) in GalleryInputs.shapes { conns[n] = m.input(n, s) }
            let g = m.instance(gallery, name: "dut", conns)
            for o in Gallery.outputs { m.output(o.name, g[o.name]) }
        }
    }

    static func vectors() -> [GalleryInputs] {
        let shapes = GalleryInputs.shapes
        var rng = SplitMix64(seed: 0x5EED_0F_6A11_E2)
        var out: [GalleryInputs] = []
        func random() -> GalleryInputs {
            var v = GalleryInputs()
            for (n, s) in shapes { v[n] = rng.value(s) }
            return v
        }
        // Uniformly random vectors.
        for _ in 0..<4000 { out.append(random()) }
        // Every input drawn from its extremes.
        for _ in 0..<3000 {
            var v = GalleryInputs()
            for (n, s) in shapes { v[n] = rng.pick(extremes(s)) }
            out.append(v)
        }
        // Every (a, b) pair and every (c, d) pair, the rest random.
        for a in range(.signed(8)).lo...range(.signed(8)).hi {
            for b in 0...31 {
                var v = random(); v.a = a; v.b = b; out.append(v)
            }
        }
        for c in stride(from: -128, through: 127, by: 1) {
            for d in stride(from: 0, through: 255, by: 5) {
                var v = random(); v.c = c; v.d = d; v.e = 255 - d; out.append(v)
            }
        }
        // Every x (rounding and saturation input) with every random value r.
        for x in -2048...2047 {
            var v = random(); v.x = x; v.r = (x & 0xF0) >> 4; v.ux = x & 1023; out.append(v)
        }
        // Every shift amount on every extreme operand.
        for n in 0...7 {
            for k in 0...15 {
                for a in extremes(.signed(8)) {
                    var v = random(); v.n = n; v.k = k; v.a = a; v.c = a; v.d = a & 0xFF; v.b = a & 31; out.append(v)
                }
            }
        }
        return out
    }

    @Test func outputShapesFollowTheWidthRules() throws {
        let top = try Self.bench()
        let shapes = Dictionary(uniqueKeysWithValues: top.ports.map { ($0.name, $0.shape) })
        for o in Gallery.outputs {
            #expect(shapes[o.name] == o.shape, "\(o.name)")
        }
    }

    @Test func everyOperatorAgreesWithIntegerArithmetic() throws {
        let top = try Self.bench()
        let design = try cosimDesign(top, clock: "tick")
        try Lint.verilator(sources: design.sources, top: top.name)
        let sim = try Simulation(design)
        defer { sim.close() }

        let inputs = GalleryInputs.shapes.map(\.0)
        let outputs = Gallery.outputs
        let shapes = Dictionary(uniqueKeysWithValues: top.ports.map { ($0.name, $0.shape) })
        let vectors = Self.vectors()
        #expect(vectors.count > 20_000)
        let rows = vectors.map { v in inputs.map { UInt64(bitPattern: Int64(v[$0])) } }
        let results = try sim.run(inputs: inputs, values: rows, outputs: outputs.map(\.name))
        try #require(results.count == vectors.count)

        var mismatches: [String: Int] = [:]
        for (v, row) in zip(vectors, results) {
            for (o, word) in zip(outputs, row) {
                let got = decode(word, shapes[o.name]!)
                let want = o.expected(v)
                if got != want {
                    mismatches[o.name, default: 0] += 1
                    if mismatches[o.name] == 1 {
                        Issue.record("\(o.name): got \(got), expected \(want) for \(v)")
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "mismatching outputs: \(mismatches.sorted { $0.key < $1.key })")
    }

    @Test func pokeAndPeekAgreeWithBulkOnExtremes() throws {
        // The same model through the single-step API: poke every input, eval, peekSigned/peekUnsigned.
        let top = try Self.bench()
        let sim = try Simulation(try cosimDesign(top, clock: "tick"))
        defer { sim.close() }
        var rng = SplitMix64(seed: 77)
        for _ in 0..<40 {
            var v = GalleryInputs()
            for (n, s) in GalleryInputs.shapes {
                v[n] = rng.pick(extremes(s))
                try sim.poke(n, Int128(v[n]))
            }
            try sim.eval()
            for o in Gallery.outputs {
                let got = try o.shape.isSigned ? sim.peekSigned(o.name) : sim.peekUnsigned(o.name)
                #expect(got == Int128(o.expected(v)), "\(o.name) for \(v)")
            }
            try sim.step()
        }
    }

    // MARK: Sequential semantics

    /// Two enabled accumulators with reset value -3 (a two-level hierarchy), a register without
    /// reset, and a RAM with synchronous read, behind one top.
    static func sequential() throws -> ModuleDefinition {
        let pair = try Gallery.middle()
        let ram = try Gallery.ram()
        return try ModuleDefinition.define("seq_bench") { m in
            let en = m.input("en", .bit), p = m.input("p", .signed(8)), q = m.input("q", .signed(8))
            let we = m.input("we", .bit), re = m.input("re", .bit)
            let waddr = m.input("waddr", .unsigned(6)), raddr = m.input("raddr", .unsigned(6))
            let wdata = m.input("wdata", .unsigned(16))
            let a = m.instance(pair, name: "pair", ["en": en, "p": p, "q": q])
            let r = m.instance(ram, name: "ram", ["we": we, "re": re, "waddr": waddr, "raddr": raddr, "wdata": wdata])
            m.output("sum", a["sum"])
            m.output("rdata", r["rdata"])
        }
    }

    @Test func registersMemoriesAndHierarchyBehaveCycleByCycle() throws {
        let top = try Self.sequential()
        let design = try cosimDesign(top, clock: "clk")
        try Lint.verilator(sources: design.sources, top: top.name)
        let sim = try Simulation(design)
        defer { sim.close() }

        // Reference model in plain integers. acc_q: s12, reset -3, adds v when enabled (wraps).
        // sum_q: s13, no reset, samples acc0 + acc1. RAM: 64 x u16; rdata register loads
        // mem[raddr] when re (read before the same edge's write).
        func wrap12(_ v: Int) -> Int { let p = v & 0xFFF; return p >= 0x800 ? p - 0x1000 : p }
        var acc0: Int? = nil, acc1: Int? = nil  // unknown until the first reset
        var sum: Int? = nil
        var mem = [Int?](repeating: nil, count: 64)
        var rdata: Int? = nil
        var rng = SplitMix64(seed: 2024)

        let inputs = ["rst", "en", "p", "q", "we", "re", "waddr", "raddr", "wdata"]
        var rows: [[UInt64]] = []
        var expected: [(sum: Int?, rdata: Int?)] = []
        for cycle in 0..<3000 {
            let rst = cycle < 2 || rng.next() % 200 == 0 ? 1 : 0
            let en = Int(rng.next() & 1), p = rng.value(.signed(8)), q = rng.value(.signed(8))
            let we = Int(rng.next() & 1), re = Int(rng.next() % 4 != 0 ? 1 : 0)
            let waddr = rng.value(.unsigned(6)), raddr = rng.value(.unsigned(6)), wdata = rng.value(.unsigned(16))
            rows.append([rst, en, p, q, we, re, waddr, raddr, wdata].map { UInt64(bitPattern: Int64($0)) })
            // Outputs are sampled before the edge.
            expected.append((sum, rdata))
            // The edge.
            let nextSum = acc0.flatMap { x in acc1.map { x + $0 } }
            if rst == 1 {
                acc0 = -3; acc1 = -3
            } else {
                if en == 1 { acc0 = acc0.map { wrap12($0 + p) } } else { acc1 = acc1.map { wrap12($0 + q) } }
            }
            sum = nextSum
            if re == 1 { rdata = mem[raddr] }
            if we == 1 { mem[waddr] = wdata }
        }
        let results = try sim.run(inputs: inputs, values: rows, outputs: ["sum", "rdata"])
        var checked = 0, failures = 0
        for (cycle, (row, want)) in zip(results, expected).enumerated() {
            // Registers without reset and unwritten RAM words are unknown until first loaded.
            if let s = want.sum {
                checked += 1
                if decode(row[0], .signed(13)) != s {
                    failures += 1
                    if failures < 5 { Issue.record("cycle \(cycle): sum \(decode(row[0], .signed(13))), expected \(s)") }
                }
            }
            if let r = want.rdata {
                checked += 1
                if decode(row[1], .unsigned(16)) != r {
                    failures += 1
                    if failures < 5 { Issue.record("cycle \(cycle): rdata \(decode(row[1], .unsigned(16))), expected \(r)") }
                }
            }
        }
        #expect(failures == 0)
        #expect(checked > 4000)
    }
}
