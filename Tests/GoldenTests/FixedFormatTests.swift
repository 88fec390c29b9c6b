import Foundation
import Testing
import Golden

struct FixedFormatTests {
    static let s8_4 = FixedFormat(wordLength: 8, fracLength: 4, signed: true)
    static let u8_0 = FixedFormat(wordLength: 8, fracLength: 0, signed: false)

    @Test("integer ranges, including 1-bit and 127-bit formats")
    func ranges() {
        let cases: [(FixedFormat, Int128, Int128)] = [
            (Self.s8_4, -128, 127),
            (Self.u8_0, 0, 255),
            (FixedFormat(wordLength: 1, fracLength: 0, signed: true), -1, 0),
            (FixedFormat(wordLength: 1, fracLength: 0, signed: false), 0, 1),
            (FixedFormat(wordLength: 127, fracLength: 0, signed: true),
             -85_070_591_730_234_615_865_843_651_857_942_052_864, 85_070_591_730_234_615_865_843_651_857_942_052_863),
            (FixedFormat(wordLength: 127, fracLength: 0, signed: false),
             0, 170_141_183_460_469_231_731_687_303_715_884_105_727),
        ]
        for (f, lo, hi) in cases {
            #expect(f.minInt == lo, "\(f)")
            #expect(f.maxInt == hi, "\(f)")
            #expect(f.contains(lo) && f.contains(hi), "\(f)")
            #expect(lo == Int128.min || !f.contains(lo - 1), "\(f)")
            #expect(hi == Int128.max || !f.contains(hi + 1), "\(f)")
        }
    }

    @Test("saturation at both ends, signed and unsigned")
    func saturation() {
        let signed: [(Int128, Int128)] = [(200, 127), (128, 127), (127, 127), (0, 0), (-128, -128), (-129, -128), (-200, -128)]
        for (x, want) in signed { #expect(Self.s8_4.saturate(x) == want, "x=\(x)") }
        let unsigned: [(Int128, Int128)] = [(300, 255), (256, 255), (255, 255), (0, 0), (-1, 0), (-5, 0)]
        for (x, want) in unsigned { #expect(Self.u8_0.saturate(x) == want, "x=\(x)") }
        let s127 = FixedFormat(wordLength: 127, fracLength: 0, signed: true)
        #expect(s127.saturate(Int128.max) == (Int128(1) << 126) - 1)
        #expect(s127.saturate(Int128.min) == -(Int128(1) << 126))
        let u127 = FixedFormat(wordLength: 127, fracLength: 0, signed: false)
        #expect(u127.saturate(Int128.max) == Int128.max)
        #expect(u127.saturate(Int128.min) == 0)
    }

    @Test("signed into unsigned: negatives clamp to 0, large values to max")
    func signedIntoUnsigned() {
        let input = FixedFormat(wordLength: 16, fracLength: 4, signed: true)
        let cases: [(x: Int128, mode: RoundingMode, r: Int128, want: Int128)] = [
            (-16, .truncate, 0, 0),       // -1.0
            (-1, .truncate, 0, 0),        // -1/16 floors to -1, clamps to 0
            (-1, .nearest, 0, 0),
            (-32768, .nearest, 0, 0),
            (4800, .truncate, 0, 255),    // 300.0
            (3208, .nearest, 0, 200),     // 200.5, tie to even
            (3208, .stochastic, 8, 201),
            (3208, .stochastic, 7, 200),
        ]
        for c in cases {
            #expect(RounderModel.round(c.x, input: input, output: Self.u8_0, mode: c.mode, random: c.r) == c.want,
                    "x=\(c.x) \(c.mode) r=\(c.r)")
        }
    }

    @Test("realValue is q / 2^FL, with negative FL and FL > WL")
    func realValue() {
        #expect(Self.s8_4.realValue(-20) == -1.25)
        #expect(FixedFormat(wordLength: 8, fracLength: -2, signed: true).realValue(3) == 12)
        #expect(FixedFormat(wordLength: 4, fracLength: 8, signed: false).realValue(1) == 0.00390625)
        #expect(Self.u8_0.realValue(255) == 255)
    }

    @Test("description is s<WL,FL> / u<WL,FL>")
    func description() {
        #expect(Self.s8_4.description == "s<8,4>")
        #expect(Self.u8_0.description == "u<8,0>")
        #expect(FixedFormat(wordLength: 16, fracLength: -3, signed: true).description == "s<16,-3>")
    }

    @Test("quantize in each mode, in range")
    func quantizeInRange() {
        let f = Self.s8_4
        // 1.3 · 16 = 20.8
        #expect(f.quantize(1.3, mode: .truncate) == 20)
        #expect(f.quantize(1.3, mode: .nearest) == 21)
        #expect(f.quantize(1.3, mode: .stochastic, randomFraction: 0) == 20)
        #expect(f.quantize(1.3, mode: .stochastic, randomFraction: 0.15) == 20)
        #expect(f.quantize(1.3, mode: .stochastic, randomFraction: 0.25) == 21)
        // -1.3 · 16 = -20.8 = -21 + 0.2
        #expect(f.quantize(-1.3, mode: .truncate) == -21)
        #expect(f.quantize(-1.3, mode: .nearest) == -21)
        #expect(f.quantize(-1.3, mode: .stochastic, randomFraction: 0.25) == -21)
        #expect(f.quantize(-1.3, mode: .stochastic, randomFraction: 0.85) == -20)
        // Ties: ±2.5 and ±3.5 LSB.
        #expect(f.quantize(0.15625, mode: .nearest) == 2)
        #expect(f.quantize(0.21875, mode: .nearest) == 4)
        #expect(f.quantize(-0.15625, mode: .nearest) == -2)
        #expect(f.quantize(-0.21875, mode: .nearest) == -4)
        #expect(f.quantize(0.15625, mode: .truncate) == 2)
        #expect(f.quantize(-0.15625, mode: .truncate) == -3)
        // Dropped fraction + random fraction reaching exactly 1 rounds up.
        #expect(f.quantize(0.28125, mode: .stochastic, randomFraction: 0.5) == 5)     //  4.5 + 0.5
        #expect(f.quantize(0.28125, mode: .stochastic, randomFraction: 0.4375) == 4)
        #expect(f.quantize(-0.265625, mode: .stochastic, randomFraction: 0.25) == -4) // -4.25 = -5 + 0.75
        #expect(f.quantize(-0.265625, mode: .stochastic, randomFraction: 0.125) == -5)
        // An integral value where Double's spacing is 1: v + 0.75 would round up to v + 2.
        let u60 = FixedFormat(wordLength: 60, fracLength: 0, signed: false)
        #expect(u60.quantize(0x1p52 + 1, mode: .stochastic, randomFraction: 0.75) == (Int128(1) << 52) + 1)
        // Exact values never move, whatever the random fraction.
        #expect(f.quantize(0.25, mode: .stochastic, randomFraction: 0.999) == 4)
        #expect(f.quantize(-0.25, mode: .stochastic, randomFraction: 0.999) == -4)
        // Negative FL: 14 / 4 = 3.5.
        let coarse = FixedFormat(wordLength: 8, fracLength: -2, signed: true)
        #expect(coarse.quantize(13, mode: .nearest) == 3)
        #expect(coarse.quantize(14, mode: .nearest) == 4)
        #expect(coarse.quantize(14, mode: .truncate) == 3)
    }

    @Test("quantize saturates out-of-range values in each mode")
    func quantizeSaturates() {
        let f = Self.s8_4
        for mode in RoundingMode.allCases {
            #expect(f.quantize(100, mode: mode, randomFraction: 0.5) == 127, "\(mode)")
            #expect(f.quantize(-100, mode: mode, randomFraction: 0.5) == -128, "\(mode)")
            #expect(f.quantize(.infinity, mode: mode) == 127, "\(mode)")
            #expect(f.quantize(-.infinity, mode: mode) == -128, "\(mode)")
            #expect(Self.u8_0.quantize(-3.7, mode: mode, randomFraction: 0.5) == 0, "\(mode)")
            #expect(Self.u8_0.quantize(1e300, mode: mode) == 255, "\(mode)")
        }
        #expect(f.quantize(7.99, mode: .nearest) == 127)       // 127.84 rounds to 128, clamps
        #expect(f.quantize(7.99, mode: .truncate) == 127)
        #expect(f.quantize(-8.01, mode: .truncate) == -128)    // -128.16 floors to -129, clamps
        #expect(Self.u8_0.quantize(255.5, mode: .nearest) == 255)  // tie to 256, clamps
        #expect(Self.u8_0.quantize(254.5, mode: .nearest) == 254)
        #expect(Self.u8_0.quantize(-0.2, mode: .nearest) == 0)
        // 127-bit formats, where 2^127 itself does not fit in Int128.
        let u127 = FixedFormat(wordLength: 127, fracLength: 0, signed: false)
        #expect(u127.quantize(1e40, mode: .nearest) == Int128.max)
        #expect(u127.quantize(0x1p127, mode: .truncate) == Int128.max)
        #expect(u127.quantize(0x1p126, mode: .truncate) == Int128(1) << 126)
        let s127 = FixedFormat(wordLength: 127, fracLength: 0, signed: true)
        #expect(s127.quantize(-0x1p126, mode: .truncate) == -(Int128(1) << 126))
        #expect(s127.quantize(-0x1p127, mode: .truncate) == -(Int128(1) << 126))
        #expect(s127.quantize(0x1p126, mode: .truncate) == (Int128(1) << 126) - 1)
    }

    @Test("Codable round trip, and decoding rejects a word length outside 1...127")
    func codable() throws {
        let data = try JSONEncoder().encode(Self.s8_4)
        #expect(try JSONDecoder().decode(FixedFormat.self, from: data) == Self.s8_4)
        let bad = Data(#"{"wordLength":0,"fracLength":0,"isSigned":true}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(FixedFormat.self, from: bad) }
    }
}
