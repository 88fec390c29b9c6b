import Cores
import HDL
import Testing
import TestTags
import Verification

/// Formal proofs with yosys-smtbmc and z3 on small parameters (`make formal` runs the larger
/// ones): `Formal` in Sources/Verification.
@Suite("Formal proofs", .tags(.synthesis))
struct FormalTests {
    @Test("the FIFO neither loses, duplicates nor reorders a word, and holds its output while stalled",
          arguments: [FIFOConfig(width: 4, depth: 2), FIFOConfig(width: 5, depth: 4)])
    func fifo(_ c: FIFOConfig) throws {
        let proof = try Formal.fifo(c, depth: 10)
        #expect(proof.passed, "\(proof)\n\(proof.log)")
    }

    @Test("the ROUND unit stays in range and saturates exactly when the rounded value is out of range",
          arguments: [RoundingMode.truncate, .nearest, .stochastic])
    func rounder(_ mode: RoundingMode) throws {
        let c = RounderConfig(input: FixedPoint(bits: 10, frac: 4), output: FixedPoint(bits: 4, frac: 1), rounding: mode,
                              lfsr: LFSRConfig(width: 5, seed: 3))
        let proof = try Formal.rounder(c, depth: 4, induction: true)
        #expect(proof.passed, "\(proof)\n\(proof.log)")
    }

    /// The checker can fail: a unit that rounds to nearest, checked against truncation's rule.
    @Test("a wrong property is caught: a ROUND unit that rounds to nearest is not a truncation")
    func aFailingProofFails() throws {
        let c = RounderConfig(input: FixedPoint(bits: 10, frac: 4), output: FixedPoint(bits: 6, frac: 1), rounding: .nearest,
                              lfsr: LFSRConfig(width: 5, seed: 3))
        let proof = try Formal.rounder(c, depth: 4, induction: false, checkingAs: .truncate)
        #expect(!proof.passed, "\(proof)")
    }

    @Test("the systolic array's C stream is stable while stalled (bounded past its latency)")
    func systolicStable() throws {
        let c = ArrayConfig(rows: 2, cols: 2, a: FixedPoint(bits: 3, frac: 1), b: FixedPoint(bits: 3, frac: 1),
                            output: FixedPoint(bits: 3, frac: 0), rounding: .truncate)
        let proof = try Formal.systolicOutputStable(c, depth: c.lastBeatToFirstRow + 6)
        #expect(proof.passed, "\(proof)\n\(proof.log)")
    }

    @Test("the PE equals a reference multiply-accumulate (bounded)", arguments: [
        ArrayConfig(rows: 1, cols: 1, a: FixedPoint(bits: 3, frac: 1), b: FixedPoint(bits: 3, frac: 1), maxK: 4),
        ArrayConfig(rows: 1, cols: 1, a: FixedPoint(bits: 3, frac: 1, signed: false), b: FixedPoint(bits: 4, frac: 1), maxK: 8),
    ])
    func pe(_ c: ArrayConfig) throws {
        let proof = try Formal.pe(c, depth: 10)
        #expect(proof.passed, "\(proof)\n\(proof.log)")
    }

    /// The FIFO checker can fail: a one-word "FIFO" that is always ready loses the word it holds
    /// when a new one arrives while the reader stalls (and changes its output while stalled).
    @Test("a lossy FIFO fails the proof")
    func aLossyFIFOFails() throws {
        let c = FIFOConfig(width: 4, depth: 2)
        let io = FIFO.Interface(c)
        let lossy = try ModuleDefinition.define("lossy_fifo") { m in
            let inValid = m.input(io.inValid), inData = m.input(io.inData), outReady = m.input(io.outReady)
            let full = m.register("full_q", .bit)
            let data = m.register("data_q", .unsigned(4), reset: nil, enable: inValid)
            data.assign(inData)
            full.assign(inValid | (full & ~outReady))
            m.output(io.inReady, m.constant(1, .bit))
            m.output(io.outValid, full)
            m.output(io.outData, data)
        }
        let proof = try Formal.fifo(c, depth: 6, design: lossy)
        #expect(!proof.passed, "\(proof)")
    }
}
