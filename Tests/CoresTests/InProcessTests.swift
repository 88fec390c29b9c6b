import Cores
import Foundation
import Cosim
import Golden
import Runtime
import Testing
import Verification
import TestTags

/// The systolic array run by the in-process simulator through the same harness and check as
/// in Verilator (`SimulatorBackend.inProcess`): small arrays against the golden GEMM model
/// from random power-up states, with no build, so the fast lane co-simulates real designs.
@Suite("Systolic array in process")
struct InProcessSystolicTests {
    static let designs: [ArrayConfig] = [
        ArrayConfig(rows: 2, cols: 3, rounding: .stochastic),
        ArrayConfig(rows: 3, cols: 2, rounding: .nearest, format: .ternary),
        ArrayConfig(rows: 2, cols: 2, format: .binary, thresholds: true),
        ArrayConfig(rows: 2, cols: 2, rounding: .stochastic, format: .codebook(indexBits: 3), dynamicShift: true),
    ]

    @Test("random and corner GEMMs match the golden model, cycles match the formula", arguments: designs)
    func gemms(_ c: ArrayConfig) throws {
        let h = try GEMMCheck(c, initialState: .random(seed: 7), backend: .inProcess)
        var g = SplitMix64(seed: 11)
        for (m, n, k) in [(1, 1, 1), (c.rows, c.cols, 3), (2 * c.rows + 1, c.cols + 1, 5)] {
            let (a, b) = h.random(m: m, k: k, n: n, using: &g)
            let r = try h.run(label: "\(m)x\(k)x\(n)", a: a, b: b, ready: .random(probability: 0.6, seed: 3))
            #expect(r.passed, "\(r.label): \(r.firstMismatch ?? "")")
            let always = try h.run(label: "\(m)x\(k)x\(n) always ready", a: a, b: b)
            #expect(always.passed, "\(always.label): \(always.firstMismatch ?? "")")
            #expect(always.cycles == c.expectedCycles(m: m, n: n, k: k), "\(always.label): measured \(always.cycles) cycles")
        }
        try h.reset()
        let (ca, cb) = h.cornerCase(m: 5, k: 4, n: 3, seed: 2)
        let corner = try h.run(label: "corner", a: ca, b: cb)
        #expect(corner.passed, "corner: \(corner.firstMismatch ?? "")")
    }

    @Test("a waveform needs Verilator: the in-process simulator says so")
    func noWaveform() throws {
        let h = try SystolicHarness(ArrayConfig(rows: 1, cols: 1), backend: .inProcess)
        #expect(throws: (any Error).self) { try h.sim.dumpWaveform(to: URL(fileURLWithPath: "/tmp/never.vcd")) }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never.vcd"))
    }
}

/// The two simulators agree on a whole GEMM stream: the same C, delivered in the same cycles,
/// under backpressure.
@Suite("In process against Verilator", .tags(.verilator))
struct InProcessAgainstVerilatorTests {
    @Test func sameDeliveries() throws {
        let c = ArrayConfig(rows: 3, cols: 2, rounding: .stochastic)
        var g = SplitMix64(seed: 4)
        let a = SystolicHarness.random(rows: 7, cols: 6, c.a.golden, &g)
        let b = SystolicHarness.random(rows: 6, cols: 5, c.b.golden, &g)
        let runs = try [SimulatorBackend.verilator, .inProcess].map { backend in
            try SystolicHarness(c, initialState: .random(seed: 9), backend: backend)
                .deliver(a: a, b: b, ready: .repeating([true, false, false, true, true]))
        }
        #expect(runs[0].c == runs[1].c)
        #expect(runs[0].rowCycles == runs[1].rowCycles)
        #expect(runs[0].result.acceptCycles == runs[1].result.acceptCycles)
        #expect(runs[0].problems.isEmpty && runs[1].problems.isEmpty)
    }
}
