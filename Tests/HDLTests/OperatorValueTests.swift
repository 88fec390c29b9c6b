import Testing
import HDL

// Operator values, exhaustively over small shapes. Each operator is built by the DSL, then its
// graph is evaluated node by node with the primitive operations' bit-pattern meaning (Support.swift),
// which also checks that every primitive's operands already have the result's width. The expected
// value is computed here with plain Int arithmetic on the operands' true values.

private struct Case {
    let name: String
    let signal: Signal
    let expected: (Int, Int) -> Int

    init(name: String, signal: Signal, _ expected: @escaping (Int, Int) -> Int) {
        self.name = name
        self.signal = signal
        self.expected = expected
    }

    /// A case that depends on `a` only.
    init(name: String, signal: Signal, _ expected: @escaping (Int) -> Int) {
        self.init(name: name, signal: signal) { a, _ in expected(a) }
    }
}

/// Builds `cases` over inputs `a` and `b`, evaluates every pair of input values and compares.
private func checkAllPairs(_ sa: Shape, _ sb: Shape, _ build: (ModuleBuilder, Signal, Signal) -> [Case]) throws {
    var cases: [Case] = []
    let def = try ModuleDefinition.define("values") { m in
        let a = m.input("a", sa), b = m.input("b", sb)
        cases = build(m, a, b)
        for (i, c) in cases.enumerated() { m.output("o\(i)", c.signal) }
    }
    var failures = 0
    for va in allValues(width: sa.width, signed: sa.isSigned) {
        for vb in allValues(width: sb.width, signed: sb.isSigned) {
            var e = Evaluator(["a": va, "b": vb])
            for c in cases {
                let got = e.value(c.signal)
                let want = c.expected(va, vb)
                if got != want {
                    failures += 1
                    if failures <= 10 { Issue.record("\(c.name) with a=\(va) (\(sa)), b=\(vb) (\(sb)): got \(got), expected \(want)") }
                }
            }
            if !e.violations.isEmpty {
                Issue.record("primitive contract broken for \(sa), \(sb): \(Set(e.violations).sorted().prefix(5))")
                return
            }
        }
    }
    withExtendedLifetime(def) {}
}

private let smallShapes: [Shape] = [.unsigned(1), .signed(1), .unsigned(3), .signed(3), .unsigned(4), .signed(5)]
private let shapePairs: [(Shape, Shape)] = smallShapes.flatMap { a in smallShapes.map { (a, $0) } }

private func bitsOf(_ v: Int, _ w: Int) -> Int { v & ((1 << w) - 1) }

@Suite("Operator values")
struct OperatorValueTests {
    @Test(arguments: shapePairs)
    func binaryOperatorsComputeTrueValues(_ sa: Shape, _ sb: Shape) throws {
        try checkAllPairs(sa, sb) { m, a, b in
            // The shapes of the wrapping results, worked out from the rule (see WidthRuleTests).
            let signed = sa.isSigned || sb.isSigned
            func need(_ s: Shape) -> Int { signed && !s.isSigned ? s.width + 1 : s.width }
            let common = max(need(sa), need(sb))
            return [
                Case(name: "a + b", signal: a + b) { $0 + $1 },
                Case(name: "a - b", signal: a - b) { $0 - $1 },
                Case(name: "b - a", signal: b - a) { $1 - $0 },
                Case(name: "a &+ b", signal: a &+ b) { wrap($0 + $1, width: common, signed: signed) },
                Case(name: "a &- b", signal: a &- b) { wrap($0 - $1, width: common, signed: signed) },
                Case(name: "a * b", signal: a * b) { $0 * $1 },
                Case(name: "a & b", signal: a & b) { $0 & $1 },
                Case(name: "a | b", signal: a | b) { $0 | $1 },
                Case(name: "a ^ b", signal: a ^ b) { $0 ^ $1 },
                Case(name: "a .== b", signal: a .== b) { $0 == $1 ? 1 : 0 },
                Case(name: "a .!= b", signal: a .!= b) { $0 != $1 ? 1 : 0 },
                Case(name: "a .< b", signal: a .< b) { $0 < $1 ? 1 : 0 },
                Case(name: "a .<= b", signal: a .<= b) { $0 <= $1 ? 1 : 0 },
                Case(name: "a .> b", signal: a .> b) { $0 > $1 ? 1 : 0 },
                Case(name: "a .>= b", signal: a .>= b) { $0 >= $1 ? 1 : 0 },
                Case(name: "mux(a.bit(0), a, b)", signal: mux(a.bit(0), a, b)) { $0 & 1 == 1 ? $0 : $1 },
                Case(name: "cat(a, b)", signal: cat(a, b)) { (bitsOf($0, sa.width) << sb.width) | bitsOf($1, sb.width) },
                // Dynamic shifts: the amount is b's bit pattern, read unsigned.
                Case(name: "a << b", signal: a << b) { wrap($0 << bitsOf($1, sb.width), width: sa.width, signed: sa.isSigned) },
                Case(name: "a >> b", signal: a >> b) { $0 >> bitsOf($1, sb.width) },
            ]
        }
    }

    @Test(arguments: smallShapes + [.unsigned(6), .signed(6)])
    func unaryOperatorsAndStructure(_ sa: Shape) throws {
        let w = sa.width
        try checkAllPairs(sa, .bit) { m, a, _ in
            var cases = [
                Case(name: "~a", signal: ~a) { sa.isSigned ? ~$0 : (1 << w) - 1 - $0 },
                Case(name: "-a", signal: -a) { -$0 },
                Case(name: "andReduce", signal: a.andReduce()) { bitsOf($0, w) == (1 << w) - 1 ? 1 : 0 },
                Case(name: "orReduce", signal: a.orReduce()) { $0 != 0 ? 1 : 0 },
                Case(name: "xorReduce", signal: a.xorReduce()) { bitsOf($0, w).nonzeroBitCount % 2 },
                Case(name: "msb", signal: a.msb) { bitsOf($0, w) >> (w - 1) },
                Case(name: "asSigned", signal: a.asSigned) { wrap($0, width: w, signed: true) },
                Case(name: "asUnsigned", signal: a.asUnsigned) { bitsOf($0, w) },
                Case(name: "extended(to: w+3)", signal: a.extended(to: w + 3)) { $0 },
                Case(name: "zeroExtended(to: w+3)", signal: a.zeroExtended(to: w + 3)) { bitsOf($0, w) },
                Case(name: "signExtended(to: w+3)", signal: a.signExtended(to: w + 3)) { wrap($0, width: w, signed: true) },
            ]
            for n in 0...(w + 1) {
                cases.append(Case(name: "a << \(n)", signal: a << n) { wrap($0 << n, width: w, signed: sa.isSigned) })
                cases.append(Case(name: "a >> \(n)", signal: a >> n) { $0 >> n })
            }
            for lo in 0..<w {
                for hi in lo..<w {
                    cases.append(Case(name: "bits(\(hi), \(lo))", signal: a.bits(hi, lo)) { (bitsOf($0, w) >> lo) & ((1 << (hi - lo + 1)) - 1) })
                }
                cases.append(Case(name: "truncated(to: \(lo + 1))", signal: a.truncated(to: lo + 1)) { wrap($0, width: lo + 1, signed: sa.isSigned) })
            }
            return cases
        }
    }

    @Test(arguments: smallShapes + [.unsigned(6), .signed(6)])
    func integerOperands(_ sa: Shape) throws {
        let w = sa.width
        let ints = [-70, -9, -4, -1, 0, 1, 2, 3, 7, 8, 31, 100]
        try checkAllPairs(sa, .bit) { m, a, _ in
            var cases: [Case] = []
            for k in ints {
                cases.append(Case(name: "a + \(k)", signal: a + k) { $0 + k })
                cases.append(Case(name: "a - \(k)", signal: a - k) { $0 - k })
                cases.append(Case(name: "a &+ \(k)", signal: a &+ k) { wrap($0 + k, width: w, signed: sa.isSigned) })
                cases.append(Case(name: "a &- \(k)", signal: a &- k) { wrap($0 - k, width: w, signed: sa.isSigned) })
                cases.append(Case(name: "a & \(k)", signal: a & k) { wrap($0 & k, width: w, signed: sa.isSigned) })
                cases.append(Case(name: "a | \(k)", signal: a | k) { wrap($0 | k, width: w, signed: sa.isSigned) })
                cases.append(Case(name: "a ^ \(k)", signal: a ^ k) { wrap($0 ^ k, width: w, signed: sa.isSigned) })
                cases.append(Case(name: "a .== \(k)", signal: a .== k) { $0 == k ? 1 : 0 })
                cases.append(Case(name: "a .!= \(k)", signal: a .!= k) { $0 != k ? 1 : 0 })
                cases.append(Case(name: "a .< \(k)", signal: a .< k) { $0 < k ? 1 : 0 })
                cases.append(Case(name: "a .<= \(k)", signal: a .<= k) { $0 <= k ? 1 : 0 })
                cases.append(Case(name: "a .> \(k)", signal: a .> k) { $0 > k ? 1 : 0 })
                cases.append(Case(name: "a .>= \(k)", signal: a .>= k) { $0 >= k ? 1 : 0 })
                cases.append(Case(name: "mux(a.bit(0), a, \(k))", signal: mux(a.bit(0), a, k)) { $0 & 1 == 1 ? $0 : k })
                cases.append(Case(name: "mux(a.bit(0), \(k), a)", signal: mux(a.bit(0), k, a)) { $0 & 1 == 1 ? k : $0 })
            }
            return cases
        }
    }

    @Test(arguments: [Shape.signed(8), .unsigned(8), .signed(3), .unsigned(2), .signed(1)])
    func saturation(_ sa: Shape) throws {
        let targets: [Shape] = [.signed(1), .unsigned(1), .signed(3), .unsigned(3), .signed(8), .unsigned(8),
                                .signed(9), .unsigned(9), .signed(12), .unsigned(2), .signed(2)]
        try checkAllPairs(sa, .bit) { m, a, _ in
            targets.map { t in
                Case(name: "saturated(to: \(t))", signal: a.saturated(to: t)) { clamp($0, width: t.width, signed: t.isSigned) }
            }
        }
    }

    @Test(arguments: [Shape.signed(6), .unsigned(6), .signed(2), .unsigned(1)])
    func roundedShiftRight(_ sa: Shape) throws {
        let w = sa.width
        // b is the random input of stochastic rounding (at least as wide as any drop).
        try checkAllPairs(sa, .unsigned(max(1, w - 1))) { m, a, r in
            var cases: [Case] = []
            for d in 0..<w {
                cases.append(Case(name: "truncate by \(d)", signal: a.roundedShiftRight(by: d, mode: .truncate)) { x, _ in
                    roundShift(x, d, nearest: false)
                })
                cases.append(Case(name: "nearestEven by \(d)", signal: a.roundedShiftRight(by: d, mode: .nearestEven)) { x, _ in
                    roundShift(x, d, nearest: true)
                })
                cases.append(Case(name: "stochastic by \(d)", signal: a.roundedShiftRight(by: d, mode: .stochastic(random: r))) { x, rv in
                    (x + (rv & ((1 << d) - 1))) >> d  // floor((x + r mod 2^d) / 2^d)
                })
            }
            return cases
        }
    }

    @Test func nearestEvenTiesGoToEven() throws {
        // Hand-picked ties with d = 2 (half = 2): 2/4 = 0.5 -> 0, 6/4 = 1.5 -> 2, -2/4 = -0.5 -> 0,
        // -6/4 = -1.5 -> -2, 10/4 = 2.5 -> 2; and non-ties 3/4 -> 1, -3/4 -> -1, 5/4 -> 1.
        let table: [(Int, Int)] = [(2, 0), (6, 2), (-2, 0), (-6, -2), (10, 2), (3, 1), (-3, -1), (5, 1), (-5, -1), (7, 2)]
        var out: Signal!
        let def = try ModuleDefinition.define("ties") { m in
            out = m.input("x", .signed(6)).roundedShiftRight(by: 2, mode: .nearestEven)
            m.output("y", out)
        }
        for (x, want) in table {
            var e = Evaluator(["x": x])
            #expect(e.value(out) == want, "x = \(x)")
            #expect(e.violations.isEmpty)
        }
        withExtendedLifetime(def) {}
    }

    @Test func selectPicksTheIndexedCaseOrTheDefault() throws {
        // idx u2 over three cases of mixed shapes and a default: index 3 is past the end.
        try checkAllPairs(.unsigned(2), .signed(3)) { m, idx, b in
            return [Case(name: "select", signal: select(idx, [b, b &+ 1, -b], default: b & 1)) { i, v in
                switch i {
                case 0: return v
                case 1: return wrap(v + 1, width: 3, signed: true)
                case 2: return -v
                default: return v & 1
                }
            }]
        }
    }

    @Test func wideSelectIndexesEightCases() throws {
        var out: Signal!
        let def = try ModuleDefinition.define("sel8") { m in
            let i = m.input("i", .unsigned(3))
            let cases = (0..<6).map { m.constant(Int128($0 * 10 + 1), .unsigned(7)) }
            out = select(i, cases, default: m.constant(-5, .signed(4)))
            m.output("y", out)
        }
        for i in 0..<8 {
            var e = Evaluator(["i": i])
            #expect(e.value(out) == (i < 6 ? i * 10 + 1 : -5), "index \(i)")
        }
        withExtendedLifetime(def) {}
    }
}
