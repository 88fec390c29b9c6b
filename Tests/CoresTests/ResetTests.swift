import Cores
import Cosim
import Foundation
import Golden
import Runtime
import Testing
import Verification
import TestTags

/// The reset contract (docs/SYSTOLIC.md, Reset): a one-cycle synchronous reset, from any
/// power-up state and at any cycle of a run, leaves the array as good as new.
@Suite("Reset from any state", .tags(.verilator))
struct ResetTests {
    static let seeds: [InitialState] = [.random(seed: 1), .random(seed: 2), .random(seed: 3), .random(seed: 4), .zero]

    static func gemm(_ c: ArrayConfig, m: Int, k: Int, n: Int, seed: UInt64) -> (Matrix<Int128>, Matrix<Int128>) {
        var g = SplitMix64(seed: seed)
        return (SystolicHarness.random(rows: m, cols: k, c.a.golden, &g), SystolicHarness.random(rows: k, cols: n, c.b.golden, &g))
    }

    @Test("power-up: four random initial states and zero give identical, golden-equal results (8x8 and 4x3)",
          arguments: [ArrayConfig(), ArrayConfig(rows: 4, cols: 3)])
    func powerUp(_ c: ArrayConfig) throws {
        let (a, b) = Self.gemm(c, m: 2 * c.rows + 1, k: 19, n: 2 * c.cols - 1, seed: 5)
        var results: [Matrix<Int128>] = []
        for state in Self.seeds {
            let harness = try GEMMCheck(c, record: false, initialState: state)
            let report = try harness.run(label: "after power-up (\(state))", a: a, b: b)
            #expect(report.mismatches == 0, "\(state): \(report.firstMismatch ?? "")")
            results.append(try harness.harness.deliver(a: a, b: b).c)
        }
        #expect(Set(results.map { "\($0.elements)" }).count == 1)
    }

    /// Reset held for 1 or 2 cycles at many points of a GEMM (operands in the skew lines, sums in
    /// the accumulators, rows in the read-out and the FIFO); the next GEMM must be exact. On the
    /// array without the flush chain, a 1-cycle reset 4 cycles into a GEMM corrupted 54 of 64
    /// elements of the next result.
    @Test("reset in the middle of a GEMM, then a clean GEMM (8x8 and 16x4)", arguments: [ArrayConfig(), ArrayConfig(rows: 16, cols: 4)])
    func midGEMM(_ c: ArrayConfig) throws {
        let harness = try GEMMCheck(c, record: false, initialState: .random(seed: 9))
        let (a, b) = Self.gemm(c, m: 2 * c.rows, k: 23, n: c.cols + 1, seed: 11)
        let (a2, b2) = Self.gemm(c, m: c.rows, k: 7, n: c.cols, seed: 12)
        for (point, cycles) in [(1, 1), (4, 1), (8, 2), (14, 1), (c.rows + c.cols, 1), (30, 1), (60, 2), (90, 1)] {
            try harness.abandon(a: a, b: b, after: point)
            try harness.reset(cycles: cycles)
            let report = try harness.run(label: "reset \(cycles) cycles at \(point)", a: a2, b: b2)
            #expect(report.mismatches == 0, "reset at \(point): \(report.firstMismatch ?? "")")
        }
    }

    /// The MAC, LFSR and ROUND units (random resets mid-run included) from several states.
    @Test("MAC, LFSR and ROUND units from four random states and zero", arguments: seeds)
    func cores(_ state: InitialState) throws {
        var reports = [try MACCheck.run(MACConfig(), randomCycles: 3000, initialState: state),
                       try LFSRCheck.run(LFSRConfig(), cycles: 3000, initialState: state),
                       try LFSRCheck.run(LFSRConfig(steps: 10), cycles: 3000, initialState: state)]
        for mode in RoundingMode.allCases {
            reports.append(try RounderCheck.run(RounderConfig(rounding: mode), randomCycles: 3000, initialState: state))
        }
        reports.append(try RounderCheck.run(RounderConfig(lfsrStep: .one), randomCycles: 3000, initialState: state))
        for r in reports { #expect(r.passed, "\(state): \(r)") }
    }

    /// While rst is high nothing is accepted, and after its first edge no row is offered.
    @Test func handshakeDuringReset() throws {
        let c = ArrayConfig(rows: 4, cols: 4)
        let sim = try Simulation(try cosimDesign(try Systolic.module(c)), initialState: .random(seed: 5))
        defer { sim.close() }
        for port in ["a_valid", "b_valid", "a_last", "c_ready"] { try sim.poke(port, 1) }
        try sim.poke("rst", 1)
        try sim.step()
        for _ in 0..<3 {
            #expect(try sim.peekUnsigned("a_ready") == 0)
            #expect(try sim.peekUnsigned("b_ready") == 0)
            #expect(try sim.peekUnsigned("c_valid") == 0)
            #expect(try sim.peekUnsigned("c_data") == 0)
            try sim.step()
        }
    }
}
