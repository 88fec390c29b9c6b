import Cores
import Cosim
import Foundation
import Golden
import HDL
import Model
import Runtime
import Testing
import Verification
import Verilog
import TestTags

/// The systolic array with per-column requantization (`requantize`) against the golden
/// `Requantization`: random and corner multipliers, shifts and biases, negative sums, ties and
/// saturation, from random power-up states and after a reset in the middle of a GEMM.
@Suite("Requantizer")
struct RequantizerTests {
    static let designs: [ArrayConfig] = [
        // Narrow: sums of a few 4-bit products, a 4-bit multiplier, so ties and saturation are common.
        ArrayConfig(rows: 2, cols: 3, a: FixedPoint(bits: 4, frac: 0), maxK: 8, output: FixedPoint(bits: 4, frac: 0), requantize: 4),
        // int8 operands, a 16-bit multiplier, 8-bit outputs with ReLU.
        ArrayConfig(rows: 3, cols: 2, a: FixedPoint(bits: 8, frac: 0), maxK: 64, output: FixedPoint(bits: 8, frac: 0), relu: true, requantize: 16),
        // Ternary weights, unsigned outputs, a 31-bit multiplier (TFLite's), entries wider than 64 bits.
        ArrayConfig(rows: 2, cols: 2, a: FixedPoint(bits: 8, frac: 0), maxK: 300, output: FixedPoint(bits: 6, frac: 0, signed: false),
                    format: .ternary, requantize: 31),
    ]

    /// Random entries with corners mixed in: the largest and smallest multiplier, shift 0, the
    /// widest shift and a field past it, the extreme biases; most shifts near the one that
    /// brings a sum to the output's range, so outputs are not all saturated or zero.
    static func entries(_ c: ArrayConfig, count: Int, _ g: inout SplitMix64) -> [Requantization] {
        let r = c.requantizer!
        let acc = c.accumulator.golden
        let typical = r.multiplierBits + max(0, c.accBits - 2 - c.output.bits)
        return (0..<count).map { _ in
            let m: Int128 = [1, (Int128(1) << r.multiplierBits) - 1, Int128.random(in: 1...(Int128(1) << r.multiplierBits) - 1, using: &g)][Int.random(in: 0...2, using: &g)]
            let s = [0, 1, r.maxShift, (1 << r.shiftBits) - 1, Int.random(in: 0...r.maxShift, using: &g),
                     min(r.maxShift, max(0, typical + Int.random(in: -3...3, using: &g))),
                     min(r.maxShift, max(0, typical + Int.random(in: -3...3, using: &g)))][Int.random(in: 0...6, using: &g)]
            let b: Int128 = [acc.minInt, acc.maxInt, 0, Int128.random(in: -64...64, using: &g), Int128.random(in: acc.minInt...acc.maxInt, using: &g)][Int.random(in: 0...4, using: &g)]
            return Requantization(bias: b, multiplier: m, shift: s)
        }
    }

    /// What the array must deliver: each exact sum wrapped to the accumulator, requantized by
    /// its column's entry, then ReLU when configured.
    static func expected(_ c: ArrayConfig, a: Matrix<Int128>, b: Matrix<Int128>, _ q: [Requantization]) -> Matrix<Int128> {
        let values = c.operandCodes(codebook: nil)
        let sums = GEMMModel.multiply(a: a.map(values.a.value), b: b.map(values.b.value), accBits: c.accBits, signed: c.accumulator.signed)
        let r = c.requantizer!
        return Matrix(rows: sums.rows, cols: sums.cols) { i, j in
            let y = q[j].apply(sums[i, j], maxShift: r.maxShift, output: c.output.golden)
            return c.relu ? max(0, y) : y
        }
    }

    /// GEMMs of several tile shapes (so entries change from tile to tile), under backpressure,
    /// an abandoned GEMM, a reset, and a corner GEMM of extreme operands.
    static func check(_ c: ArrayConfig, backend: SimulatorBackend, seed: UInt64) throws {
        let h = try SystolicHarness(c, record: false, initialState: .random(seed: UInt32(seed)), backend: backend)
        var g = SplitMix64(seed: seed)
        let (fa, fb) = (c.operandCodes(codebook: nil).a, c.operandCodes(codebook: nil).b)
        func codes(_ rows: Int, _ cols: Int, _ f: OperandCode) -> Matrix<Int128> {
            Matrix(rows: rows, cols: cols) { _, _ in Int128.random(in: f.codes, using: &g) }
        }
        for (run, (m, k, n)) in [(1, 1, 1), (c.rows, 3, c.cols), (2 * c.rows + 1, 7, 2 * c.cols + 1), (c.rows + 1, c.maxK, 3 * c.cols)].enumerated() {
            let a = codes(m, k, fa), b = codes(k, n, fb)
            let q = entries(c, count: n, &g)
            let d = try h.deliver(a: a, b: b, requantization: q, ready: run % 2 == 0 ? .always : .random(probability: 0.6, seed: 5))
            #expect(d.problems.isEmpty, "\(c.moduleName) \(m)x\(k)x\(n): \(d.problems.first ?? "")")
            let want = expected(c, a: a, b: b, q)
            let bad = (0..<m).flatMap { i in (0..<n).map { (i, $0) } }.first { d.c[$0.0, $0.1] != want[$0.0, $0.1] }
            #expect(bad == nil, "\(c.moduleName) \(m)x\(k)x\(n): C[\(bad.map { "\($0.0), \($0.1)" } ?? "")] = \(bad.map { d.c[$0.0, $0.1] } ?? 0), expected \(bad.map { want[$0.0, $0.1] } ?? 0) (entry \(bad.map { q[$0.1] }.map { "\($0)" } ?? ""))")
        }
        // Ties: small sums, multipliers and shifts, so (sum + b)·M often ends in exactly half.
        let small = Matrix<Int128>(rows: 2 * c.rows, cols: 2) { _, _ in Int128.random(in: -3...3, using: &g) }
        let weights = codes(2, 2 * c.cols, fb)
        let ties = (0..<2 * c.cols).map { _ in
            Requantization(bias: Int128.random(in: -2...2, using: &g), multiplier: Int128.random(in: 1...3, using: &g), shift: Int.random(in: 1...2, using: &g))
        }
        let t = try h.deliver(a: small, b: weights, requantization: ties)
        #expect(t.problems.isEmpty && t.c == expected(c, a: small, b: weights, ties), "\(c.moduleName) ties: \(t.problems.first ?? "wrong C")")
        // Abandoned mid-GEMM, then a one-cycle reset: the next GEMM is exact again.
        try h.abandon(a: codes(2 * c.rows, 5, fa), b: codes(5, 2 * c.cols, fb), after: 9)
        try h.reset()
        // Extremes: every operand at its format's minimum or maximum, so sums are the largest
        // negative and positive ones, meeting the extreme biases and multipliers.
        let k = c.maxK
        let a = Matrix<Int128>(rows: 2 * c.rows, cols: k) { i, _ in i % 2 == 0 ? fa.codes.lowerBound : fa.codes.upperBound }
        let b = Matrix<Int128>(rows: k, cols: 2 * c.cols) { _, j in j % 2 == 0 ? fb.codes.lowerBound : fb.codes.upperBound }
        let q = entries(c, count: 2 * c.cols, &g)
        let d = try h.deliver(a: a, b: b, requantization: q)
        #expect(d.problems.isEmpty && d.c == expected(c, a: a, b: b, q), "\(c.moduleName) extremes: \(d.problems.first ?? "wrong C")")
    }

    @Test("in process: random and corner entries match the golden model", arguments: designs)
    func inProcess(_ c: ArrayConfig) throws {
        for seed: UInt64 in [3, 17] { try Self.check(c, backend: .inProcess, seed: seed) }
    }

    @Test("in Verilator: the same", .tags(.verilator))
    func verilator() throws {
        try Self.check(Self.designs[1], backend: .verilator, seed: 5)
    }

    /// Hand-worked values of the rule, independent of both implementations.
    @Test("the rounding rule: half to even, one rounding, saturation")
    func rule() {
        let s8 = FixedFormat(wordLength: 8, fracLength: 0, signed: true)
        func y(_ x: Int128, b: Int128 = 0, m: Int128, s: Int) -> Int128 {
            Requantization(bias: b, multiplier: m, shift: s).apply(x, maxShift: 40, output: s8)
        }
        #expect(y(5, m: 1, s: 1) == 2)      // 2.5 -> 2
        #expect(y(7, m: 1, s: 1) == 4)      // 3.5 -> 4
        #expect(y(-5, m: 1, s: 1) == -2)    // -2.5 -> -2
        #expect(y(-7, m: 1, s: 1) == -4)    // -3.5 -> -4
        #expect(y(3, m: 3, s: 2) == 2)      // 9/4 = 2.25 -> 2
        #expect(y(5, m: 3, s: 3) == 2)      // 15/8 = 1.875 -> 2
        #expect(y(-3, b: 1, m: 5, s: 2) == -2)  // -10/4 = -2.5 -> -2
        #expect(y(1000, m: 1, s: 0) == 127)
        #expect(y(-1000, m: 1, s: 2) == -128)
        #expect(y(100, m: 255, s: 99) == 0)  // acts as shift 40: 25500/2^40 -> 0
        let m = QuantizedNetwork.Requantization(bias: 0, factor: 0.0123, bits: 16, maxShift: 40)!
        #expect(m.multiplier >= 1 << 15 && m.multiplier < 1 << 16)
        #expect(abs(Double(m.multiplier) / pow(2, Double(m.shift)) - 0.0123) < 0.0123 / 30000)
        #expect(QuantizedNetwork.Requantization(bias: 0, factor: 70000, bits: 16, maxShift: 40) == nil)
    }

    @Test("refused: PE arrays, thresholds, a dynamic shift, widths out of range")
    func refusals() throws {
        var c = ArrayConfig(requantize: 16)
        #expect(throws: Never.self) { try c.validate() }
        // What the ws, os and rs PE arrays call.
        #expect(throws: ParameterError.self) { try c.validate(sides: Systolic.sizes, reductionFlag: "max-reduction") }
        c.requantize = 33
        #expect(throws: ParameterError.self) { try c.validate() }
        #expect(throws: ParameterError.self) { try ArrayConfig(requantize: 1).validate() }
        #expect(throws: ParameterError.self) { try ArrayConfig(format: .binary, thresholds: true, requantize: 16).validate() }
        #expect(throws: ParameterError.self) { try ArrayConfig(dynamicShift: true, requantize: 16).validate() }
    }

    @Test("lint -Wall clean, yosys synth, no X after a one-cycle reset in Icarus", .tags(.verilator, .synthesis, .icarus), arguments: designs)
    func lintSynthIcarus(_ c: ArrayConfig) throws {
        let top = try Systolic.module(c)
        let sources = Dictionary(uniqueKeysWithValues: try VerilogEmitter.emit(top).map { ($0.fileName, $0.text) })
        try Lint.verilator(sources: sources, top: top.name)
        let unit = try Requantizer.module(c.requantizer!)
        let report = try Synthesis.yosys(sources: Dictionary(uniqueKeysWithValues: try VerilogEmitter.emit(unit).map { ($0.fileName, $0.text) }), top: unit.name)
        // The output register and its valid bit, nothing more.
        #expect(LintSynthTests.flipFlops(report) == c.output.bits + 1, "\(report.cells)")
        let x = try IcarusCheck.run(top, cycles: 300, resets: [120, 121])
        #expect(x.undefinedCycles == 0, "\(x.first ?? "")")
    }
}
