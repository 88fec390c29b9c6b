import Accelerator
import Cores
import Cosim
import Foundation
import Golden
import HDL
import Model
import Runtime
import Testing
import TestTags

/// The golden model of `config`'s array after reset (the program's CONFIG reseeds it).
func model(_ c: ArrayConfig) -> SystolicModel {
    SystolicModel(rows: c.rows, cols: c.cols, a: c.a.golden, b: c.b.golden, accBits: c.accBits, output: c.output.golden,
                  mode: c.rounding, lfsrWidth: c.lfsrWidth, seed: c.seed, draw: c.lfsrStep)
}

func randomGEMM(_ c: ArrayConfig, m: Int, k: Int, n: Int, seed: UInt64) -> (Matrix<Int128>, Matrix<Int128>) {
    var g = SplitMix64(seed: seed)
    let (fa, fb) = (c.a.golden, c.b.golden)
    return (Matrix(rows: m, cols: k) { _, _ in Int128.random(in: fa.minInt...fa.maxInt, using: &g) },
            Matrix(rows: k, cols: n) { _, _ in Int128.random(in: fb.minInt...fb.maxInt, using: &g) })
}

/// Loads a compiled GEMM into the host's DRAM, runs it, and returns C from DRAM.
func runGEMM(_ host: AcceleratorHost, _ g: GEMMProgram) throws -> (AcceleratorHost.Status, Matrix<Int128>) {
    for region in g.image { host.dram.write(region.bytes, at: region.address) }
    let status = try host.run(program: g.programBase, length: g.program.count, window: g.window)
    return (status, g.output(from: host.dram, config: host.config))
}

func small(_ rows: Int, _ cols: Int, scratchpadKiB: Int = 1, dataBits: Int = 64) -> AcceleratorConfig {
    AcceleratorConfig(array: ArrayConfig(rows: rows, cols: cols), scratchpadKiB: scratchpadKiB, outputKiB: 1, dataBits: dataBits)
}

@Suite struct AcceleratorGEMMTests {
    @Test(arguments: [
        (2, 2, 1, 1, 1), (2, 2, 5, 7, 3), (3, 2, 7, 4, 9), (2, 2, 9, 33, 6), (3, 2, 2, 5, 1),
    ])
    func gemmMatchesGolden(rows: Int, cols: Int, m: Int, k: Int, n: Int) throws {
        let c = small(rows, cols)
        let (a, b) = randomGEMM(c.array, m: m, k: k, n: n, seed: UInt64(m * 100 + k * 10 + n))
        let host = try AcceleratorHost(c, timing: AXIDRAM.Timing(latency: 7, bytesPerCycle: 8, backpressure: 0.3, seed: 5),
                                       initialState: .random(seed: 11))
        let g = try GEMMProgram(a: a, b: b, config: c)
        let (status, got) = try runGEMM(host, g)
        #expect(status == AcceleratorHost.Status(busy: false, done: true, error: false, code: 0))
        var golden = model(c.array)
        let expected = golden.gemm(a: a, b: b).c
        #expect(got.elements == expected.elements)
        #expect(host.checker.handshakes > 0)
    }
}
