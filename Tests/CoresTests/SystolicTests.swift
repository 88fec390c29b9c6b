import Cores
import Cosim
import Golden
import Runtime
import Testing
import Verification
import TestTags

/// The systolic array in Verilator against the golden GEMM model (docs/SYSTOLIC.md).
@Suite("Systolic array", .tags(.verilator))
struct SystolicTests {
    /// Array shapes (R ≠ C, 1×N, N×1, 1×1) across every rounding mode and signedness mix.
    static let designs: [ArrayConfig] = [
        ArrayConfig(rows: 2, cols: 3, rounding: .stochastic),
        ArrayConfig(rows: 3, cols: 2, rounding: .nearest),
        ArrayConfig(rows: 1, cols: 4, rounding: .truncate),
        ArrayConfig(rows: 4, cols: 1, a: FixedPoint(bits: 6, frac: 3, signed: false), b: FixedPoint(bits: 5, frac: 2),
                       output: FixedPoint(bits: 6, frac: 1), rounding: .stochastic, lfsrWidth: 5, seed: 9),
        ArrayConfig(rows: 1, cols: 1, a: FixedPoint(bits: 4, frac: 0), output: FixedPoint(bits: 4, frac: 0, signed: false), rounding: .nearest),
    ]

    /// GEMM shapes around the array: M, N, K smaller than, equal to and larger than R, C, and
    /// not multiples of them.
    static func shapes(_ c: ArrayConfig) -> [(m: Int, n: Int, k: Int)] {
        let (r, col) = (c.rows, c.cols)
        return [(1, 1, 1), (r, col, r), (r, col, 1), (max(1, r - 1), max(1, col - 1), 2),
                (2 * r + 1, 3 * col + 2, 7), (3 * r, 2 * col, r + 5), (r + 1, col + 1, 3 * r + 1)]
    }

    @Test("random and corner GEMMs match the golden model bit for bit, cycles match the formula", arguments: designs)
    func gemms(_ c: ArrayConfig) throws {
        let h = try GEMMCheck(c)
        var g = SplitMix64(seed: UInt64(c.rows * 100 + c.cols))
        for (m, n, k) in Self.shapes(c) {
            let a = SystolicHarness.random(rows: m, cols: k, c.a.golden, &g)
            let b = SystolicHarness.random(rows: k, cols: n, c.b.golden, &g)
            let r = try h.run(label: "\(m)x\(k)x\(n)", a: a, b: b)
            #expect(r.passed, "\(r.label): \(r.firstMismatch ?? "") \(r.waveform ?? "")")
            #expect(r.cycles == c.expectedCycles(m: m, n: n, k: k), "\(r.label): measured \(r.cycles) cycles")
            let (ca, cb) = h.cornerCase(m: m, k: k, n: n, seed: 5)
            let corner = try h.run(label: "corner \(m)x\(k)x\(n)", a: ca, b: cb)
            #expect(corner.passed, "\(corner.label): \(corner.firstMismatch ?? "") \(corner.waveform ?? "")")
        }
    }

    @Test("the corner GEMM saturates C at both ends")
    func saturation() throws {
        let c = ArrayConfig(rows: 2, cols: 2, rounding: .nearest)
        let h = try GEMMCheck(c)
        let (a, b) = h.cornerCase(m: 4, k: 16, n: 4, seed: 1)
        // Row 0 of A is all minimum: times column 0 of B (all minimum) it is far above the
        // output maximum, times column 1 (all maximum) far below the minimum: 16 products of
        // about -4 reach -63.5 against a minimum of -32.
        var model = SystolicModel(rows: 2, cols: 2, a: c.a.golden, b: c.b.golden, output: c.output.golden,
                                  mode: .nearest, lfsrWidth: 16, seed: 1)
        let out = model.gemm(a: a, b: b).c
        #expect(out[0, 0] == c.output.golden.maxInt)
        #expect(out[0, 1] == c.output.golden.minInt)
        let r = try h.run(label: "saturation", a: a, b: b)
        #expect(r.passed, "\(r.firstMismatch ?? "")")
    }

    @Test("back-to-back tiles overlap the drain: each extra tile costs max(K, R) cycles")
    func tilesOverlap() throws {
        let c = ArrayConfig(rows: 4, cols: 4, rounding: .truncate)
        let h = try GEMMCheck(c)
        var g = SplitMix64(seed: 3)
        for k in [2, 4, 9] {
            var previous: Int?
            for tiles in 1...3 {
                let a = SystolicHarness.random(rows: 4 * tiles, cols: k, c.a.golden, &g)
                let b = SystolicHarness.random(rows: k, cols: 4, c.b.golden, &g)
                let r = try h.run(label: "\(tiles) tiles, K=\(k)", a: a, b: b)
                #expect(r.passed)
                if let p = previous { #expect(r.cycles - p == max(k, 4), "K=\(k): tile \(tiles) added \(r.cycles - p) cycles") }
                previous = r.cycles
            }
        }
    }

    @Test("a slow consumer (C ready 30% of cycles) loses nothing")
    func backpressure() throws {
        let c = ArrayConfig(rows: 3, cols: 2, rounding: .stochastic, seed: 77)
        let h = try GEMMCheck(c)
        var g = SplitMix64(seed: 8)
        for k in [1, 3, 20] {
            let a = SystolicHarness.random(rows: 10, cols: k, c.a.golden, &g)
            let b = SystolicHarness.random(rows: k, cols: 7, c.b.golden, &g)
            let r = try h.run(label: "slow consumer K=\(k)", a: a, b: b, ready: .random(probability: 0.3, seed: UInt64(k)))
            #expect(r.passed, "\(r.firstMismatch ?? "")")
            #expect(r.cycles >= c.expectedCycles(m: 10, n: 7, k: k))
        }
    }

    @Test("column seeds are distinct and follow the documented formula")
    func seeds() {
        let c = ArrayConfig(rows: 1, cols: 128, lfsrWidth: 16, seed: 1)
        let seeds = (0..<128).map(c.columnSeed)
        #expect(Set(seeds).count == 128)
        #expect(seeds[0] == 1 && seeds[1] == 7920 && seeds[9] == 1 + (7919 * 9) % 65535)
    }

    @Test("the driver packs a beat's fields bit for bit, across 64-bit word boundaries")
    func beatPacking() {
        var g = SplitMix64(seed: 11)
        for width in [1, 3, 7, 8, 13, 16, 31, 33, 63, 64] {
            for count in [1, 2, 5, 9, 17] {
                let values = (0..<count).map { _ in Int128(Int64(bitPattern: g.next())) >> (64 - width) }
                var packed: [UInt64] = []
                SystolicHarness.pack(values, width: width, into: &packed)
                #expect(packed.count == (count * width + 63) / 64)
                // Bit b of field i is bit i·width + b of the beat.
                var expected = [UInt64](repeating: 0, count: (count * width + 63) / 64)
                for (i, v) in values.enumerated() {
                    for b in 0..<width where (v >> b) & 1 == 1 { expected[(i * width + b) / 64] |= 1 << UInt64((i * width + b) % 64) }
                }
                #expect(packed == expected, "width \(width), \(count) fields")
            }
        }
    }
}
