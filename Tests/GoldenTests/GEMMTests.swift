import Foundation
import Testing
import Golden
import Runtime

/// Expectations here come from hand arithmetic, from the naive triple loop and wrap below (written
/// for the tests, sharing nothing with GEMMModel), or from the already-tested LFSRModel and
/// Rounding units, never from the GEMM code itself.
struct GEMMTests {
    static func s(_ wl: Int, _ fl: Int = 0) -> FixedFormat { FixedFormat(wordLength: wl, fracLength: fl, signed: true) }
    static func u(_ wl: Int, _ fl: Int = 0) -> FixedFormat { FixedFormat(wordLength: wl, fracLength: fl, signed: false) }

    /// Exact product over Int128, no wrapping.
    static func naive(_ a: [[Int128]], _ b: [[Int128]]) -> [[Int128]] {
        let n = b.first?.count ?? 0
        return a.map { row in
            (0..<n).map { j in
                var sum: Int128 = 0
                for p in 0..<row.count { sum += row[p] * b[p][j] }
                return sum
            }
        }
    }

    /// `v mod 2^bits`, read signed or unsigned (bits <= 126).
    static func wrap(_ v: Int128, bits: Int, signed: Bool) -> Int128 {
        let modulus = Int128(1) << bits
        var r = v % modulus
        if r < 0 { r += modulus }
        if signed && r >= modulus / 2 { r -= modulus }
        return r
    }

    /// Uniform in the format, with one draw in eight at an end of the range to hit the corners.
    static func random(_ f: FixedFormat, _ g: inout SplitMix64) -> Int128 {
        switch g.next() % 16 {
        case 0: return f.minInt
        case 1: return f.maxInt
        default:
            let span = UInt64(f.maxInt - f.minInt) &+ 1  // formats here are at most 63 bits wide
            return f.minInt + Int128(span == 0 ? g.next() : g.next() % span)
        }
    }

    static func randomMatrix(_ rows: Int, _ cols: Int, _ f: FixedFormat, _ g: inout SplitMix64) -> [[Int128]] {
        (0..<rows).map { _ in (0..<cols).map { _ in random(f, &g) } }
    }

    // MARK: - Hand-computed

    @Test("2x2 by hand: [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]")
    func handTwoByTwo() {
        let a = Matrix<Int128>([[1, 2], [3, 4]]), b = Matrix<Int128>([[5, 6], [7, 8]])
        let want = Matrix<Int128>([[19, 22], [43, 50]])
        #expect(GEMMModel.multiply(a: a, b: b, accBits: 16, signed: true) == want)
        var array = SystolicModel(rows: 2, cols: 2, a: Self.s(8), b: Self.s(8), output: Self.s(16),
                                  mode: .truncate, lfsrWidth: 8, seed: 1)
        let r = array.gemm(a: a, b: b)
        #expect(r.acc == want)
        #expect(r.c == want)  // D = 0: no rounding
        #expect(GEMMModel.realProduct(a: a, formatA: Self.s(8), b: b, formatB: Self.s(8)).elements == [19, 22, 43, 50])
        #expect(GEMMModel.int8Product(a.map { Int8($0) }, b.map { Int8($0) }).elements == [19, 22, 43, 50])
    }

    @Test("3x3 by hand, s<8,1> x s<8,1> -> acc FL 2 -> s<8,0>, on a 2x2 array (4 tiles, padded)")
    func handThreeByThree() {
        let a = Matrix<Int128>([[1, -2, 3], [0, 4, -1], [2, 2, 2]])
        let b = Matrix<Int128>([[1, 0, -1], [2, 1, 0], [-3, 1, 1]])
        // Row 0: 1-4-9, 0-2+3, -1+0+3; row 1: 0+8+3, 0+4-1, 0+0-1; row 2: 2+4-6, 0+2+2, -2+0+2.
        let acc = Matrix<Int128>([[-12, 1, 2], [11, 3, -1], [0, 4, 0]])
        #expect(GEMMModel.multiply(a: a, b: b, accBits: 20, signed: true) == acc)
        // Real values are acc / 4.
        #expect(GEMMModel.realProduct(a: a, formatA: Self.s(8, 1), b: b, formatB: Self.s(8, 1)).elements
                == [-3, 0.25, 0.5, 2.75, 0.75, -0.25, 0, 1, 0])
        let expected: [(RoundingMode, [[Int128]])] = [
            (.truncate, [[-3, 0, 0], [2, 0, -1], [0, 1, 0]]),  // floor
            (.nearest, [[-3, 0, 0], [3, 1, 0], [0, 1, 0]]),    // 0.5 ties to 0 (even), -0.25 -> 0
        ]
        for (mode, want) in expected {
            var array = SystolicModel(rows: 2, cols: 2, a: Self.s(8, 1), b: Self.s(8, 1), output: Self.s(8, 0),
                                      mode: mode, lfsrWidth: 8, seed: 1)
            #expect(array.accFormat == Self.s(28, 2))
            let r = array.gemm(a: a, b: b)
            #expect(r.acc == acc, "\(mode)")
            #expect(r.c == Matrix(want), "\(mode)")
        }
    }

    // MARK: - Fast path against the naive loop

    static let formatPairs: [(FixedFormat, FixedFormat)] = [
        (s(8), s(8)),     // Int8 kernel
        (u(8), s(8)),     // mixed sign: Int16 kernel
        (u(8), u(8)),
        (s(16), s(16)),   // Int16 kernel, Int64 accumulation
        (s(12), u(16)),   // Int32 kernel
        (s(32), s(32)),
        (s(40), s(24)),   // Int128 fallback
    ]

    @Test("multiply equals the naive triple loop on random operands", arguments: 0..<formatPairs.count)
    func fastPathMatchesNaive(pair: Int) {
        let (fa, fb) = Self.formatPairs[pair]
        var g = SplitMix64(seed: UInt64(pair) &* 0x9E37 &+ 11)
        for (m, k, n) in [(7, 33, 9), (1, 1, 1), (16, 64, 17), (3, 300, 5)] {
            let a = Self.randomMatrix(m, k, fa, &g), b = Self.randomMatrix(k, n, fb, &g)
            let signed = fa.isSigned || fb.isSigned
            for accBits in [SystolicModel.defaultAccBits(a: fa, b: fb), 13, 33, 70] {
                let got = GEMMModel.multiply(a: Matrix(a), b: Matrix(b), accBits: accBits, signed: signed)
                let want = Self.naive(a, b).map { $0.map { Self.wrap($0, bits: accBits, signed: signed) } }
                #expect(got == Matrix(want), "\(fa) x \(fb), \(m)x\(k)x\(n), accBits \(accBits)")
            }
        }
    }

    @Test("int8Product equals the naive loop (a 64x96x80 random product)")
    func int8ProductMatchesNaive() {
        var g = SplitMix64(seed: 77)
        let a = Self.randomMatrix(64, 96, Self.s(8), &g), b = Self.randomMatrix(96, 80, Self.s(8), &g)
        let got = GEMMModel.int8Product(Matrix(a).map { Int8($0) }, Matrix(b).map { Int8($0) })
        #expect(got.map { Int128($0) } == Matrix(Self.naive(a, b)))
    }

    @Test("most-negative x most-negative with large K, int8 and int16, by hand")
    func extremeProducts() {
        // int8, K = 4096: 4096 · 2^14 = 2^26 fits the default 28-bit accumulator.
        let k1 = 4096
        let a1 = Matrix<Int128>(rows: 2, cols: k1, repeating: -128)
        let b1 = Matrix<Int128>(rows: k1, cols: 2) { _, j in j == 0 ? -128 : 127 }
        let got1 = GEMMModel.multiply(a: a1, b: b1, accBits: 28, signed: true).elements
        let want1: [Int128] = [1 << 26, -(4096 * 16256), 1 << 26, -(4096 * 16256)]
        #expect(got1 == want1)

        // int8, K = 140000: 140000 · 16384 = 2_293_760_000 > 2^31, so an Int32 sum would wrap.
        let k2 = 140_000
        let a2 = Matrix<Int128>(rows: 1, cols: k2, repeating: -128)
        let b2 = Matrix<Int128>(rows: k2, cols: 1, repeating: -128)
        #expect(GEMMModel.multiply(a: a2, b: b2, accBits: 34, signed: true).elements == [2_293_760_000])
        // In 32 bits it does wrap: 2_293_760_000 - 2^32.
        #expect(GEMMModel.multiply(a: a2, b: b2, accBits: 32, signed: true).elements == [-2_001_207_296])

        // int16, K = 4096: 4096 · 2^30 = 2^42 fits the default 44-bit accumulator.
        let a3 = Matrix<Int128>(rows: 1, cols: k1, repeating: -32768)
        let b3 = Matrix<Int128>(rows: k1, cols: 1, repeating: -32768)
        #expect(SystolicModel.defaultAccBits(a: Self.s(16), b: Self.s(16)) == 44)
        #expect(GEMMModel.multiply(a: a3, b: b3, accBits: 44, signed: true).elements == [1 << 42])
        #expect(GEMMModel.multiply(a: a3, b: b3, accBits: 42, signed: true).elements == [0])
        #expect(GEMMModel.multiply(a: a3, b: b3, accBits: 43, signed: true).elements == [-(1 << 42)])
    }

    @Test("accumulators wrap to a small accBits, signed and unsigned, by hand")
    func smallAccBitsWrap() {
        // 100 + 100 = 200 -> 200 - 256 = -56 in 8 signed bits.
        let a = Matrix<Int128>([[100, 100]]), ones = Matrix<Int128>([[1], [1]])
        #expect(GEMMModel.multiply(a: a, b: ones, accBits: 8, signed: true).elements == [-56])
        // 200 + 100 = 300 -> 44 in 8 unsigned bits.
        #expect(GEMMModel.multiply(a: Matrix([[200, 100]]), b: ones, accBits: 8, signed: false).elements == [44])
        // 3·5 + 2·4 = 23 -> 23 - 32 = -9 in 5 signed bits.
        #expect(GEMMModel.multiply(a: Matrix([[3, 2]]), b: Matrix([[5], [4]]), accBits: 5, signed: true).elements == [-9])

        // The array's accumulators wrap the same way (u8 x u8: unsigned accumulator).
        var array = SystolicModel(rows: 2, cols: 2, a: Self.u(8), b: Self.u(8), accBits: 8, output: Self.u(8),
                                  mode: .truncate, lfsrWidth: 8, seed: 1)
        #expect(!array.accFormat.isSigned)
        #expect(array.gemm(a: Matrix([[200, 100], [255, 255]]), b: ones).acc.elements == [44, 254])  // 510 - 256
    }

    // MARK: - Tiling and draw order

    @Test("tiled accumulators equal the untiled product (M, N, K not multiples of R, C)",
          arguments: [(2, 3, 5, 7, 4), (1, 1, 3, 2, 5), (8, 8, 5, 7, 4), (3, 2, 9, 4, 1), (4, 4, 8, 8, 6)])
    func tiling(shape: (r: Int, c: Int, m: Int, n: Int, k: Int)) {
        var g = SplitMix64(seed: UInt64(shape.m * 100 + shape.n * 10 + shape.k))
        let a = Self.randomMatrix(shape.m, shape.k, Self.s(8), &g), b = Self.randomMatrix(shape.k, shape.n, Self.s(8), &g)
        var array = SystolicModel(rows: shape.r, cols: shape.c, a: Self.s(8), b: Self.s(8), output: Self.s(8, -4),
                                  mode: .nearest, lfsrWidth: 8, seed: 1)
        let r = array.gemm(a: Matrix(a), b: Matrix(b))
        #expect(r.acc == Matrix(Self.naive(a, b)))  // default accBits 28 never wraps here
        #expect(r.c.rows == shape.m && r.c.cols == shape.n)
    }

    @Test("stochastic: each column's LFSR leaps R times per tile, padded rows and columns included")
    func drawCount() {
        // D = 4 (s<8,2> x s<8,2> -> acc FL 4 -> s<8,0>): a leap is 4 single steps.
        // Hand seeds for seed 5, width 8: column 0 -> 5; column 1 -> 1 + (4 + 7919) mod 255 = 19.
        let seeds: [UInt64] = [5, 19]
        func stepped(_ s: UInt64, _ times: Int) -> UInt64 {
            var l = LFSRModel(width: 8, seed: s)
            for _ in 0..<times { l.step() }
            return l.state
        }
        var array = SystolicModel(rows: 2, cols: 2, a: Self.s(8, 2), b: Self.s(8, 2), output: Self.s(8, 0),
                                  mode: .stochastic, lfsrWidth: 8, seed: 5)
        #expect(array.lfsrStates == seeds)
        var g = SplitMix64(seed: 3)
        let a = Self.randomMatrix(3, 3, Self.s(8, 2), &g), b = Self.randomMatrix(3, 3, Self.s(8, 2), &g)
        _ = array.gemm(a: Matrix(a), b: Matrix(b))
        // 3x3 on 2x2: 4 tiles, 2 draws each.
        #expect(array.lfsrStates == seeds.map { stepped($0, 8 * 4) })
        // Back to back: a 1x1 result is one tile; column 1 is all padding and still draws R = 2.
        _ = array.gemm(a: Matrix([[1, 2]]), b: Matrix([[3], [4]]))
        #expect(array.lfsrStates == seeds.map { stepped($0, 10 * 4) })
        array.reset()
        #expect(array.lfsrStates == seeds)
        #expect(SystolicModel(rows: 2, cols: 2, a: Self.s(8), b: Self.s(8), output: Self.s(8), mode: .nearest,
                              lfsrWidth: 8, seed: 1).lfsrStates == nil)
    }

    @Test("stochastic outputs follow the contract's draw order (tile order, rows 0..R-1, r = state mod 2^D)",
          arguments: [LFSRDraw.leap, .one])
    func stochasticDrawOrder(draw: LFSRDraw) {
        // s<8,2> x s<8,2> -> acc FL 4 -> s<12,0>: D = 4. R = 2, C = 3 over a 5x4 by 4x7 GEMM.
        // The output is wide enough that almost nothing saturates, so every draw shows.
        let rows = 2, cols = 3, m = 5, k = 4, n = 7, d = 4
        var g = SplitMix64(seed: 99)
        let a = Self.randomMatrix(m, k, Self.s(8, 2), &g), b = Self.randomMatrix(k, n, Self.s(8, 2), &g)
        let exact = Self.naive(a, b)
        // Column seeds for seed 1, width 8: 1, 1 + 7919 mod 255 = 15, 1 + 15838 mod 255 = 29.
        var lfsrs = ([1, 15, 29] as [UInt64]).map { LFSRModel(width: 8, seed: $0) }
        var want = [[Int128]](repeating: [Int128](repeating: 0, count: n), count: m)
        for tm in 0..<3 { for tn in 0..<3 { for i in 0..<rows { for j in 0..<cols {
            let row = tm * rows + i, col = tn * cols + j
            let x = row < m && col < n ? exact[row][col] : 0
            let r = Int128(lfsrs[j].state % 16)
            for _ in 0..<(draw == .leap ? d : 1) { lfsrs[j].step() }
            // floor((x + r) / 16), then clamp to s<12,0>.
            var q = x + r
            q = q >= 0 ? q / 16 : -((-q + 15) / 16)
            if row < m && col < n { want[row][col] = min(max(q, -2048), 2047) }
        } } } }
        var array = SystolicModel(rows: rows, cols: cols, a: Self.s(8, 2), b: Self.s(8, 2), output: Self.s(12, 0),
                                  mode: .stochastic, lfsrWidth: 8, seed: 1, draw: draw)
        #expect(d == array.accFormat.fracLength - array.output.fracLength)
        #expect(array.gemm(a: Matrix(a), b: Matrix(b)).c == Matrix(want))
        #expect(array.lfsrStates == lfsrs.map(\.state))
        // A reset array repeats itself exactly.
        array.reset()
        #expect(array.gemm(a: Matrix(a), b: Matrix(b)).c == Matrix(want))
    }

    @Test("truncate and nearest equal Rounding.shiftRight + saturate of the exact product", arguments: [RoundingMode.truncate, .nearest])
    func deterministicModes(mode: RoundingMode) {
        // s<8,3> x s<8,3> -> acc FL 6 -> s<8,-2>: D = 8; a 16x20 by 20x12 product saturates now and then.
        var g = SplitMix64(seed: 1234)
        let a = Self.randomMatrix(16, 20, Self.s(8, 3), &g), b = Self.randomMatrix(20, 12, Self.s(8, 3), &g)
        var array = SystolicModel(rows: 4, cols: 5, a: Self.s(8, 3), b: Self.s(8, 3), output: Self.s(8, -2),
                                  mode: mode, lfsrWidth: 3, seed: 1)
        let got = array.gemm(a: Matrix(a), b: Matrix(b)).c
        var saturated = 0
        let want = Self.naive(a, b).map { row in
            row.map { x in
                let shifted = Rounding.shiftRight(x, by: 8, mode: mode)
                if shifted > 127 || shifted < -128 { saturated += 1 }
                return Self.s(8, -2).saturate(shifted)
            }
        }
        #expect(saturated > 0 && saturated < 16 * 12)  // both paths exercised
        #expect(got == Matrix(want))
    }

    // MARK: - Statistics

    @Test("bias over a 64x64x64 GEMM: truncation about -1/2 LSB, stochastic and nearest about 0")
    func bias() throws {
        // s<8,4> x s<8,4> -> acc FL 8 -> s<16,0>: D = 8, |result| < 2^12, no saturation.
        var g = SplitMix64(seed: 2024)
        let a = Self.randomMatrix(64, 64, Self.s(8, 4), &g), b = Self.randomMatrix(64, 64, Self.s(8, 4), &g)
        let exact = Self.naive(a, b).flatMap { $0 }
        var bias: [RoundingMode: Double] = [:]
        for mode in RoundingMode.allCases {
            var array = SystolicModel(rows: 8, cols: 8, a: Self.s(8, 4), b: Self.s(8, 4), output: Self.s(16, 0),
                                      mode: mode, lfsrWidth: 16, seed: 0xACE1)
            let c = array.gemm(a: Matrix(a), b: Matrix(b)).c.elements
            // Error in output LSBs: c - exact / 2^8.
            bias[mode] = zip(c, exact).map { Double($0) - Double($1) / 256 }.reduce(0, +) / Double(c.count)
        }
        let t = try #require(bias[.truncate]), s = try #require(bias[.stochastic]), nr = try #require(bias[.nearest])
        #expect(abs(t + 0.5) < 0.03, "truncate bias \(t)")
        #expect(abs(s) < 0.03, "stochastic bias \(s)")
        #expect(abs(nr) < 0.03, "nearest bias \(nr)")

        // The report says the same, in LSBs and in real units (1 LSB = 1 here).
        let model = SystolicModel(rows: 8, cols: 8, a: Self.s(8, 4), b: Self.s(8, 4), output: Self.s(16, 0),
                                  mode: .truncate, lfsrWidth: 16, seed: 0xACE1)
        let report = model.roundingErrors(a: Matrix(a), b: Matrix(b))
        #expect(report.map(\.mode) == RoundingMode.allCases)
        for r in report {
            let want = try #require(bias[r.mode])
            #expect(abs(r.meanErrorLSB - want) < 1e-9 && abs(r.meanError - want) < 1e-9, "\(r.mode)")
            #expect(r.count == 64 * 64 && r.maxAbsError < 1 && r.sqnrDB != nil)
        }
        let rmse = Dictionary(uniqueKeysWithValues: report.map { ($0.mode, $0.rmse) })
        #expect(rmse[.nearest]! < rmse[.stochastic]!)  // stochastic trades variance for zero bias
        #expect(rmse[.nearest]! < rmse[.truncate]!)
    }

    @Test("an exact GEMM has SQNR +infinity, reported as null so the report encodes to JSON")
    func exactReportEncodes() throws {
        let a = Matrix<Int128>([[1, -2], [3, 4]]), b = Matrix<Int128>([[5, 6], [7, -8]])
        // s<8,1> x s<8,1> -> FL 2, output s<16,2>: D = 0, nothing lost.
        let model = SystolicModel(rows: 2, cols: 2, a: Self.s(8, 1), b: Self.s(8, 1), output: Self.s(16, 2),
                                  mode: .nearest, lfsrWidth: 4, seed: 3)
        let report = model.roundingErrors(a: a, b: b)
        for r in report {
            #expect(r.maxAbsError == 0 && r.sqnrDB == nil, "\(r.mode)")
        }
        let json = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode([GEMMRoundingError].self, from: json) == report)
        let stats = ErrorStats(reference: [1, 2], actual: [1, 2])
        #expect(stats.sqnrDB == .infinity && stats.finiteSQNRDB == nil)
        #expect(ErrorStats(reference: [10, 0], actual: [9, 0]).finiteSQNRDB == 20)  // 10 log10(100 / 1)
    }

    // MARK: - Configuration

    @Test("column seeds: the contract formula by hand, and distinct for C = 128 at width 16")
    func columnSeeds() {
        #expect(SystolicModel.columnSeed(j: 0, seed: 1, lfsrWidth: 16) == 1)
        #expect(SystolicModel.columnSeed(j: 1, seed: 1, lfsrWidth: 16) == 7920)
        #expect(SystolicModel.columnSeed(j: 1, seed: 1, lfsrWidth: 8) == 15)     // 7919 mod 255 = 14
        #expect(SystolicModel.columnSeed(j: 2, seed: 250, lfsrWidth: 8) == 23)   // (249 + 15838) mod 255 = 22
        #expect(SystolicModel.columnSeed(j: 0, seed: 255, lfsrWidth: 8) == 255)
        // Width 3 (period 7): 7919 mod 7 = 2, so seeds 1, 3, 5, 7, 2, 4, 6 for j = 0..6, then repeat.
        #expect((0..<8).map { SystolicModel.columnSeed(j: $0, seed: 1, lfsrWidth: 3) } == [1, 3, 5, 7, 2, 4, 6, 1])
        // Huge j does not overflow: 7919·j is reduced first.
        #expect((1...65535).contains(SystolicModel.columnSeed(j: Int.max, seed: 65535, lfsrWidth: 16)))

        let seeds = (0..<128).map { SystolicModel.columnSeed(j: $0, seed: 0xACE1, lfsrWidth: 16) }
        #expect(Set(seeds).count == 128)
        #expect(seeds.allSatisfy { (1...65535).contains($0) })
        let array = SystolicModel(rows: 4, cols: 128, a: Self.s(8, 4), b: Self.s(8, 4), output: Self.s(8, 0),
                                  mode: .stochastic, lfsrWidth: 16, seed: 0xACE1)
        #expect(array.lfsrStates.map { Set($0).count } == 128)
    }

    @Test("default accBits uses maxK = 4096: WLa + WLb + 12")
    func defaultAccBits() {
        #expect(SystolicModel.defaultAccBits(a: Self.s(8), b: Self.s(8)) == 28)
        #expect(SystolicModel.defaultAccBits(a: Self.s(8), b: Self.s(8), maxK: 4097) == 29)
        #expect(SystolicModel.defaultAccBits(a: Self.u(4), b: Self.s(12), maxK: 16) == 20)
        let array = SystolicModel(rows: 2, cols: 2, a: Self.s(8, 3), b: Self.u(8, 5), output: Self.s(8, 0),
                                  mode: .truncate, lfsrWidth: 8, seed: 1)
        #expect(array.accBits == 28 && array.accFormat == Self.s(28, 8))
        #expect(array.tileCount(m: 5, n: 3) == 6)
    }

    @Test("Matrix: nested rows, subscript, JSON round trip, bad shapes rejected")
    func matrix() throws {
        var m = Matrix<Int128>([[1, 2, 3], [4, 5, 6]])
        #expect(m.rows == 2 && m.cols == 3 && m[1, 0] == 4 && m.elements == [1, 2, 3, 4, 5, 6])
        m[0, 2] = -7
        #expect(m.nestedRows == [[1, 2, -7], [4, 5, 6]])
        #expect(Matrix<Int>(rows: 2, cols: 2) { i, j in 10 * i + j }.elements == [0, 1, 10, 11])
        let data = try JSONEncoder().encode(m.map { Int64($0) })
        #expect(try JSONDecoder().decode(Matrix<Int64>.self, from: data).map { Int128($0) } == m)
        let bad = Data(#"{"rows": 2, "cols": 2, "elements": [1, 2, 3]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Matrix<Int64>.self, from: bad) }
    }
}
