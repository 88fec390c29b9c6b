import Testing
import Golden

/// Hand-worked right shifts. `x` is in input LSBs; the comment gives x / 2^d.
struct RoundingTests {
    struct Case { let x: Int128; let d: Int; let truncate: Int128; let nearest: Int128 }

    static let handCases: [Case] = [
        // Exact ties for nearest-even, d = 1 and d = 2.
        Case(x: 5, d: 1, truncate: 2, nearest: 2),       //  2.5
        Case(x: 7, d: 1, truncate: 3, nearest: 4),       //  3.5
        Case(x: -5, d: 1, truncate: -3, nearest: -2),    // -2.5
        Case(x: -7, d: 1, truncate: -4, nearest: -4),    // -3.5
        Case(x: 10, d: 2, truncate: 2, nearest: 2),      //  2.5
        Case(x: 14, d: 2, truncate: 3, nearest: 4),      //  3.5
        Case(x: -10, d: 2, truncate: -3, nearest: -2),   // -2.5
        Case(x: -14, d: 2, truncate: -4, nearest: -4),   // -3.5
        Case(x: 2, d: 2, truncate: 0, nearest: 0),       //  0.5
        Case(x: 6, d: 2, truncate: 1, nearest: 2),       //  1.5
        Case(x: -2, d: 2, truncate: -1, nearest: 0),     // -0.5
        Case(x: -6, d: 2, truncate: -2, nearest: -2),    // -1.5
        Case(x: 20, d: 3, truncate: 2, nearest: 2),      //  2.5
        Case(x: 12, d: 3, truncate: 1, nearest: 2),      //  1.5
        // Not ties.
        Case(x: 9, d: 2, truncate: 2, nearest: 2),       //  2.25
        Case(x: 11, d: 2, truncate: 2, nearest: 3),      //  2.75
        Case(x: -9, d: 2, truncate: -3, nearest: -2),    // -2.25
        Case(x: -11, d: 2, truncate: -3, nearest: -3),   // -2.75
        Case(x: 8, d: 2, truncate: 2, nearest: 2),       //  2
        Case(x: -8, d: 2, truncate: -2, nearest: -2),    // -2
        Case(x: 1, d: 2, truncate: 0, nearest: 0),       //  0.25
        Case(x: -1, d: 2, truncate: -1, nearest: 0),     // -0.25
        Case(x: -13, d: 3, truncate: -2, nearest: -2),   // -1.625
        // Large d.
        Case(x: Int128(1) << 99, d: 100, truncate: 0, nearest: 0),          //  0.5
        Case(x: Int128(3) << 99, d: 100, truncate: 1, nearest: 2),          //  1.5
        Case(x: (Int128(1) << 99) + 1, d: 100, truncate: 0, nearest: 1),    //  0.5 + 2^-100
        Case(x: -(Int128(1) << 99), d: 100, truncate: -1, nearest: 0),      // -0.5
        Case(x: -(Int128(3) << 99), d: 100, truncate: -2, nearest: -2),     // -1.5
        Case(x: -1, d: 100, truncate: -1, nearest: 0),              // -2^-100
        Case(x: Int128(5) << 100, d: 100, truncate: 5, nearest: 5),         //  5
        Case(x: Int128.min, d: 126, truncate: -2, nearest: -2),     // -2
        Case(x: Int128.max, d: 126, truncate: 1, nearest: 2),       //  2 - 2^-126
        Case(x: Int128.min, d: 127, truncate: -1, nearest: -1),     // -1
        Case(x: Int128.max, d: 127, truncate: 0, nearest: 1),       //  1 - 2^-127
        Case(x: Int128(1) << 126, d: 127, truncate: 0, nearest: 0),         //  0.5
        Case(x: Int128(3) << 125, d: 127, truncate: 0, nearest: 1),         //  0.75
        Case(x: -(Int128(1) << 126), d: 127, truncate: -1, nearest: 0),     // -0.5
        Case(x: Int128.min, d: 128, truncate: -1, nearest: 0),      // -0.5, tie to even 0
        Case(x: Int128.max, d: 128, truncate: 0, nearest: 0),       //  0.5 - 2^-128
        Case(x: -1, d: 128, truncate: -1, nearest: 0),
        Case(x: -5, d: 200, truncate: -1, nearest: 0),
        Case(x: 5, d: 200, truncate: 0, nearest: 0),
    ]

    @Test("truncate and nearest-even on hand-worked cases (ties ±2.5, ±3.5, negatives, d up to 200)")
    func handWorked() {
        for c in Self.handCases {
            #expect(Rounding.shiftRight(c.x, by: c.d, mode: .truncate) == c.truncate, "truncate x=\(c.x) d=\(c.d)")
            #expect(Rounding.shiftRight(c.x, by: c.d, mode: .nearest) == c.nearest, "nearest x=\(c.x) d=\(c.d)")
        }
    }

    @Test("d = 0 returns x unchanged in every mode")
    func zeroShift() {
        for x: Int128 in [-7, 0, 5, Int128.max, Int128.min] {
            for mode in RoundingMode.allCases {
                #expect(Rounding.shiftRight(x, by: 0, mode: mode, random: 0) == x, "x=\(x) \(mode)")
            }
        }
    }

    @Test("stochastic on hand-worked cases: floor((x + r) / 2^d)")
    func stochasticHand() {
        let cases: [(x: Int128, d: Int, r: Int128, want: Int128)] = [
            (9, 2, 0, 2), (9, 2, 1, 2), (9, 2, 2, 2), (9, 2, 3, 3),         //  2.25: up only for r = 3
            (-9, 2, 0, -3), (-9, 2, 1, -2), (-9, 2, 2, -2), (-9, 2, 3, -2), // -2.25: up for r >= 1
            (8, 2, 3, 2),                                                   //  exact: never up
            (Int128.max, 127, 0, 0), (Int128.max, 127, 1, 1),
            (Int128.min, 127, Int128.max, -1),
            (-(Int128(1) << 126), 127, Int128(1) << 126, 0), (-(Int128(1) << 126), 127, (Int128(1) << 126) - 1, -1),
            (-5, 200, 5, 0), (-5, 200, 4, -1), (5, 200, Int128.max, 0),
        ]
        for c in cases {
            #expect(Rounding.shiftRight(c.x, by: c.d, mode: .stochastic, random: c.r) == c.want,
                    "x=\(c.x) d=\(c.d) r=\(c.r)")
        }
    }

    @Test("stochastic with r = 0 is floor and with r = 2^d - 1 is ceiling (x in -64...64, d in 0...6)")
    func stochasticExtremes() {
        for d in 0...6 {
            let scale = Double(1 << d)
            for x: Int128 in -64...64 {
                let exact = Double(x) / scale
                #expect(Rounding.shiftRight(x, by: d, mode: .stochastic, random: 0) == Int128(exact.rounded(.down)),
                        "x=\(x) d=\(d)")
                #expect(Rounding.shiftRight(x, by: d, mode: .stochastic, random: (Int128(1) << d) - 1)
                        == Int128(exact.rounded(.up)), "x=\(x) d=\(d)")
            }
        }
    }

    @Test("stochastic is unbiased: summed over all 2^d values of r the results add up to x")
    func stochasticUnbiased() {
        // Hermite's identity: sum_{r < m} floor((x + r) / m) = x for integer x.
        for d in 0...5 {
            for x: Int128 in -50...50 {
                var sum: Int128 = 0
                for r in 0..<(Int128(1) << d) {
                    sum += Rounding.shiftRight(x, by: d, mode: .stochastic, random: r)
                }
                #expect(sum == x, "x=\(x) d=\(d)")
            }
        }
    }

    @Test("truncate and nearest agree with Double floor and ties-to-even (x in -300...300, d in 0...8)")
    func againstDouble() {
        for d in 0...8 {
            let scale = Double(1 << d)
            for x: Int128 in -300...300 {
                let exact = Double(x) / scale
                #expect(Rounding.shiftRight(x, by: d, mode: .truncate) == Int128(exact.rounded(.down)))
                #expect(Rounding.shiftRight(x, by: d, mode: .nearest) == Int128(exact.rounded(.toNearestOrEven)),
                        "x=\(x) d=\(d)")
            }
        }
    }

    @Test("non-stochastic modes ignore random")
    func randomIgnored() {
        #expect(Rounding.shiftRight(9, by: 2, mode: .truncate, random: 3) == 2)
        #expect(Rounding.shiftRight(9, by: 2, mode: .nearest, random: 3) == 2)
    }
}
