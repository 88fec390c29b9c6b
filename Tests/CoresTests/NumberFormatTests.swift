import Foundation
import Cores
import Cosim
import Golden
import Runtime
import Testing
import Verification
import Verilog
import TestTags

/// The number formats of docs/FORMATS.md on the output-stationary systolic array: the golden
/// decoding against hand-written values, then every format co-simulated bit for bit from a
/// random power-up state, linted, compiled in Icarus and synthesized.
@Suite("Number formats", .tags(.verilator, .icarus, .synthesis))
struct NumberFormatTests {
    static let formats: [NumberFormat] = [.binary, .binaryWeights, .ternary, .powerOfTwo(exponentBits: 2), .powerOfTwo(exponentBits: 3),
                                          .codebook(indexBits: 2), .codebook(indexBits: 4)]

    static func config(_ f: NumberFormat, rows: Int = 3, cols: Int = 4, rounding: RoundingMode = .stochastic) -> ArrayConfig {
        // Coded weights are small integers (scale 2^0); binary activations too.
        let coded = f.codesWeightValues
        return ArrayConfig(rows: rows, cols: cols, a: FixedPoint(bits: 6, frac: f == .binary ? 0 : 3),
                           b: FixedPoint(bits: 6, frac: coded ? 0 : 3), maxK: 64,
                           output: FixedPoint(bits: 8, frac: f == .binary ? 0 : 1), rounding: rounding, seed: 0x51, format: f)
    }

    @Test("codes decode to the values the formats define")
    func decoding() {
        #expect(OperandCode.binary.value(1) == 1)
        #expect(OperandCode.binary.value(0) == -1)
        #expect([0b00, 0b01, 0b10, 0b11].map { OperandCode.ternary.value($0) } == [0, 0, 1, -1])
        // [sign, e] with 3 exponent bits: e = 0 is zero, e = 7 is 2^6.
        let pow2 = OperandCode.powerOfTwo(exponentBits: 3)
        #expect([0b0000, 0b0001, 0b0010, 0b0111, 0b1000, 0b1001, 0b1111].map { pow2.value($0) } == [0, 1, 2, 64, 0, -1, -64])
        #expect(OperandCode.codebook([5, -7, 0, 3]).value(1) == -7)
        #expect(OperandCode.fixed(FixedFormat(wordLength: 4, fracLength: 0, signed: true)).codes == -8...7)
        #expect(OperandCode.powerOfTwo(exponentBits: 2).codes == 0...7)
    }

    @Test("formats parse from their names and the values fit the format")
    func parsing() {
        #expect(NumberFormat("pow2") == .powerOfTwo(exponentBits: 3))
        #expect(NumberFormat("pow2e4") == .powerOfTwo(exponentBits: 4))
        #expect(NumberFormat("codebook") == .codebook(indexBits: 4))
        #expect(NumberFormat("bwn") == .binaryWeights)
        #expect(NumberFormat("pow2e5") == nil)
        #expect(NumberFormat("codebook0") == nil)
        #expect(NumberFormat("float") == nil)
        let c = Self.config(.powerOfTwo(exponentBits: 3))
        #expect(c.b == FixedPoint(bits: 8, frac: 0))  // magnitudes up to 2^6, and a sign
        #expect(c.bCode == .unsigned(4))
        // BNN's accumulator is the signed 2·popcount - K: ceil(log2(K + 1)) + 1 bits.
        #expect(Self.config(.binary).accBits == 8)
        #expect(ArrayConfig(maxK: 4096, format: .binary).accBits == 14)
        // -a of a 6-bit a needs 7 bits, and 64 terms 6 more.
        #expect(Self.config(.ternary).accBits == 13)
    }

    @Test("every format matches its golden model from a random power-up state, K odd and even, with corners",
          arguments: formats)
    func gemms(_ f: NumberFormat) throws {
        let c = Self.config(f)
        let check = try GEMMCheck(c, initialState: .random(seed: 7))
        var g = SplitMix64(seed: 11)
        for (m, k, n) in [(5, 7, 6), (3, 8, 9), (1, 1, 1)] {
            let (a, b) = check.random(m: m, k: k, n: n, using: &g)
            let r = try check.run(label: "\(f) \(m)x\(k)x\(n)", a: a, b: b)
            #expect(r.passed, "\(r.label): \(r.firstMismatch ?? "") \(r.waveform ?? "")")
            #expect(r.cycles == c.expectedCycles(m: m, n: n, k: k))
            let (ca, cb) = check.cornerCase(m: m, k: k, n: n, seed: 3)
            let corner = try check.run(label: "\(f) corners \(m)x\(k)x\(n)", a: ca, b: cb)
            #expect(corner.passed, "\(corner.label): \(corner.firstMismatch ?? "") \(corner.waveform ?? "")")
        }
    }

    @Test("binary: all -1 and all +1 operands give ±K, idle cycles add nothing")
    func binaryExtremes() throws {
        let c = Self.config(.binary, rows: 2, cols: 2, rounding: .truncate)
        let check = try GEMMCheck(c, initialState: .random(seed: 3))
        for k in [5, 6] {
            // Row 0 all -1 (code 0), row 1 all +1; column 0 all -1, column 1 all +1.
            let a = Matrix<Int128>(rows: 2, cols: k) { i, _ in Int128(i) }
            let b = Matrix<Int128>(rows: k, cols: 2) { _, j in Int128(j) }
            let r = try check.run(label: "extremes k=\(k)", a: a, b: b)
            #expect(r.passed, "\(r.firstMismatch ?? "")")
            let got = try check.harness.deliver(a: a, b: b).c
            #expect(got == Matrix([[Int128(k), -Int128(k)], [-Int128(k), Int128(k)]]))
        }
    }

    @Test("binary and binary weights with thresholds: one bit per output, (sum >= T) xor flip, on wide, tall and 1-term GEMMs")
    func thresholds() throws {
        for (rows, cols, format) in [(2, 5, NumberFormat.binary), (4, 2, .binary), (3, 4, .binaryWeights)] {
            let c = ArrayConfig(rows: rows, cols: cols, a: FixedPoint(bits: format == .binary ? 2 : 8, frac: 0), maxK: 32,
                                output: FixedPoint(bits: 8, frac: 0), rounding: .truncate, format: format, thresholds: true)
            #expect(c.outputCode == .unsigned(1))
            let check = try GEMMCheck(c, initialState: .random(seed: 4))
            var g = SplitMix64(seed: 8)
            for (m, k, n) in [(7, 1, 11), (3, 6, 5), (9, 9, 2)] {
                let (a, b) = check.random(m: m, k: k, n: n, using: &g)
                let r = try check.run(label: "\(rows)x\(cols) \(m)x\(k)x\(n)", a: a, b: b, thresholds: check.randomThresholds(n: n, k: k, using: &g))
                #expect(r.passed, "\(r.label): \(r.firstMismatch ?? "") \(r.waveform ?? "")")
            }
        }
        // By hand: K = 3, a = b = all +1 gives 3; T = 3 passes, T = 4 does not, and flip inverts.
        let c = ArrayConfig(rows: 1, cols: 3, a: FixedPoint(bits: 2, frac: 0), maxK: 8, output: FixedPoint(bits: 8, frac: 0),
                            rounding: .truncate, format: .binary, thresholds: true)
        let h = try GEMMCheck(c, initialState: .random(seed: 1)).harness
        let ones = Matrix<Int128>(rows: 1, cols: 3, repeating: 1)
        let got = try h.deliver(a: ones, b: Matrix(rows: 3, cols: 3, repeating: 1),
                                thresholds: [Threshold(3), Threshold(4), Threshold(3, flip: true)]).c
        #expect(got == Matrix([[1, 0, 0]]))
    }

    @Test("batch norm and sign fold into a threshold, the compare turning where γ < 0")
    func thresholdFolding() {
        // γ(x - μ)/σ + β >= 0 with γ = 2, β = 1, μ = 3, σ = 4: x >= 1, so T = 1.
        #expect(Threshold(gamma: 2, beta: 1, mean: 3, sigma: 4, range: -10...10) == Threshold(1))
        // γ = -2: x <= 5, i.e. not x >= 6.
        let turned = Threshold(gamma: -2, beta: 1, mean: 3, sigma: 4, range: -10...10)
        #expect(turned == Threshold(6, flip: true))
        #expect([4, 5, 6, 7].map { turned.activation($0) } == [1, 1, 0, 0])
        // τ = 2.5 with γ > 0: x >= 3.
        #expect(Threshold(gamma: 1, beta: -0.5, mean: 2, sigma: 1, range: -10...10) == Threshold(3))
        // γ = 0: the sign of β for every x.
        #expect(Threshold(gamma: 0, beta: -1, mean: 0, sigma: 1, range: -10...10).activation(7) == 0)
        #expect(Threshold(gamma: 0, beta: 1, mean: 0, sigma: 1, range: -10...10).activation(-10) == 1)
    }

    @Test("dynamic fixed point: the shift changes between GEMMs, the LFSRs carry on", arguments: [RoundingMode.stochastic, .nearest])
    func dynamicShift(_ rounding: RoundingMode) throws {
        let c = ArrayConfig(rows: 3, cols: 2, a: FixedPoint(bits: 6, frac: 4), maxK: 64, output: FixedPoint(bits: 6, frac: 1),
                            rounding: rounding, seed: 0x1D, dynamicShift: true)
        #expect(c.dropBits == 7)
        let check = try GEMMCheck(c, initialState: .random(seed: 6))
        var g = SplitMix64(seed: 21)
        for shift in [7, 0, 3, 7, 5, 1] {
            try check.setShift(shift)
            let (a, b) = check.random(m: 4, k: 5, n: 3, using: &g)
            let r = try check.run(label: "shift \(shift)", a: a, b: b)
            #expect(r.passed, "\(r.label): \(r.firstMismatch ?? "") \(r.waveform ?? "")")
        }
        try check.reset()
        let (a, b) = check.random(m: 2, k: 3, n: 2, using: &g)
        let r = try check.run(label: "after reset, shift kept", a: a, b: b)
        #expect(r.passed, "\(r.firstMismatch ?? "")")
    }

    @Test("the golden ROUND unit drops the dynamic shift's bits")
    func dynamicShiftGolden() {
        let input = FixedFormat(wordLength: 12, fracLength: 6, signed: true), output = FixedFormat(wordLength: 6, fracLength: 0, signed: true)
        var unit = RounderModel(input: input, output: output, mode: .nearest, lfsrWidth: 16, seed: 1)
        unit.shift = 2
        unit.clock(valid: true, x: 11)  // 11 / 4 = 2.75
        #expect(unit.out == 3)
        unit.shift = 0
        unit.clock(valid: true, x: 11)
        #expect(unit.out == 11)
        unit.shift = 9  // more than D = 6 acts as D: 100 / 64 = 1.56
        unit.clock(valid: true, x: 100)
        #expect(unit.out == 2)
        unit.shift = 1  // 200 / 2 = 100 saturates at 31
        unit.clock(valid: true, x: 200)
        #expect(unit.out == 31)
    }

    @Test("a reset in the middle of a GEMM leaves no trace (binary and codebook)")
    func resetMidRun() throws {
        for f in [NumberFormat.binary, .codebook(indexBits: 2)] {
            let check = try GEMMCheck(Self.config(f), initialState: .random(seed: 5))
            var g = SplitMix64(seed: 2)
            let (a, b) = check.random(m: 7, k: 9, n: 5, using: &g)
            try check.abandon(a: a, b: b, after: 13)
            try check.reset()
            let r = try check.run(label: "\(f) after reset", a: a, b: b)
            #expect(r.passed, "\(r.label): \(r.firstMismatch ?? "")")
        }
    }

    @Test("each format's array lints clean, compiles in Icarus without X after reset, and synthesizes", arguments: formats)
    func toolsAccept(_ f: NumberFormat) throws {
        var configs = [Self.config(f, rows: 2, cols: 2)]
        if f == .ternary { configs.append(ArrayConfig(rows: 2, cols: 2, rounding: .stochastic, format: .ternary, dynamicShift: true)) }
        if f == .binary { configs.append(ArrayConfig(rows: 2, cols: 3, a: FixedPoint(bits: 2, frac: 0), maxK: 16, output: FixedPoint(bits: 8, frac: 0), format: .binary, thresholds: true)) }
        for c in configs {
            let top = try Systolic.module(c)
            let sources = Dictionary(uniqueKeysWithValues: try VerilogEmitter.emit(top).map { ($0.fileName, $0.text) })
            try Lint.verilator(sources: sources, top: top.name)
            let report = try Synthesis.yosys(sources: sources, top: top.name)
            #expect(report.totalCells > 0)
            let icarus = try IcarusCheck.run(top, cycles: 120, resets: [60])
            #expect(icarus.undefinedCycles == 0, "\(top.name): \(icarus.first ?? "")")
        }
    }

    /// A threshold design builds no ROUND path, so the fields of one do not tell two threshold
    /// designs apart, and its JSON (the manifest) leaves them out and reads back the same.
    @Test("a threshold design's ROUND fields are neutral and its JSON round-trips")
    func thresholdConfigCoding() throws {
        let a = ArrayConfig(rows: 4, cols: 4, a: FixedPoint(bits: 8, frac: 0), output: FixedPoint(bits: 16, frac: -3),
                            rounding: .stochastic, lfsrWidth: 20, seed: 5, format: .binary, thresholds: true)
        let b = ArrayConfig(rows: 4, cols: 4, a: FixedPoint(bits: 8, frac: 0), rounding: .nearest, format: .binary, thresholds: true)
        #expect(a == b && a.moduleName == b.moduleName && a.dropBits == 0)
        try a.validate()
        let json = try JSONEncoder().encode(a)
        let text = String(decoding: json, as: UTF8.self)
        for key in ["output", "rounding", "lfsrWidth", "seed", "lfsrStep"] { #expect(!text.contains("\"\(key)\""), "\(text)") }
        #expect(try JSONDecoder().decode(ArrayConfig.self, from: json) == a)
    }
}
