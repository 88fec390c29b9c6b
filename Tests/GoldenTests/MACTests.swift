import Testing
import Golden

struct MACTests {
    static func s(_ wl: Int, _ fl: Int = 0) -> FixedFormat { FixedFormat(wordLength: wl, fracLength: fl, signed: true) }
    static func u(_ wl: Int, _ fl: Int = 0) -> FixedFormat { FixedFormat(wordLength: wl, fracLength: fl, signed: false) }

    @Test("default accBits is WLa + WLb + ceil(log2 K)")
    func defaultAccBits() {
        #expect(MACModel.defaultAccBits(a: Self.s(8), b: Self.s(8)) == 26)
        #expect(MACModel.defaultAccBits(a: Self.s(8), b: Self.s(8), maxK: 1024) == 26)
        #expect(MACModel.defaultAccBits(a: Self.s(8), b: Self.s(8), maxK: 1000) == 26)
        #expect(MACModel.defaultAccBits(a: Self.s(8), b: Self.s(8), maxK: 1025) == 27)
        #expect(MACModel.defaultAccBits(a: Self.s(8), b: Self.s(8), maxK: 1) == 16)
        #expect(MACModel.defaultAccBits(a: Self.s(8), b: Self.s(8), maxK: 2) == 17)
        #expect(MACModel.defaultAccBits(a: Self.u(4), b: Self.s(12), maxK: 16) == 20)
    }

    @Test("accumulator format is <accBits, FLa + FLb>, signed if either operand is")
    func accFormat() {
        #expect(MACModel(a: Self.s(8, 3), b: Self.u(8, 5), accBits: 26).accFormat.description == "s<26,8>")
        #expect(MACModel(a: Self.u(8, 3), b: Self.s(8, -1), accBits: 20).accFormat.description == "s<20,2>")
        #expect(MACModel(a: Self.u(8, 3), b: Self.u(8, 5), accBits: 26).accFormat.description == "u<26,8>")
    }

    @Test("K = 1024 extreme products never wrap with the default accBits", arguments: 2...32)
    func noOverflow(wl: Int) {
        let k = 1024
        let sf = Self.s(wl), uf = Self.u(wl)
        let mostNeg = -(Int128(1) << (wl - 1)), mostPos = (Int128(1) << (wl - 1)) - 1
        let uMax = (Int128(1) << wl) - 1

        var negNeg = MACModel(a: sf, b: sf, accBits: MACModel.defaultAccBits(a: sf, b: sf, maxK: k))
        var negPos = negNeg
        var unsigned = MACModel(a: uf, b: uf, accBits: MACModel.defaultAccBits(a: uf, b: uf, maxK: k))
        for _ in 0..<k {
            negNeg.clock(a: mostNeg, b: mostNeg, enable: true, clear: false, reset: false)
            negPos.clock(a: mostNeg, b: mostPos, enable: true, clear: false, reset: false)
            unsigned.clock(a: uMax, b: uMax, enable: true, clear: false, reset: false)
        }
        #expect(negNeg.acc == Int128(1) << (2 * wl - 2 + 10), "WL \(wl)")  // 2^10 · 2^(2WL-2)
        #expect(negPos.acc == Int128(k) * mostNeg * mostPos, "WL \(wl)")
        #expect(unsigned.acc == Int128(k) * uMax * uMax, "WL \(wl)")
    }

    @Test("explicit wrap: s<4,0> products into a 6-bit accumulator")
    func wrapSigned() {
        var mac = MACModel(a: Self.s(4), b: Self.s(4), accBits: 6)  // range -32...31
        let steps: [(a: Int128, b: Int128, want: Int128)] = [
            (7, 7, -15),    // 49 - 64
            (7, 7, -30),    // -15 + 49 = 34 - 64
            (7, 7, 19),     // -30 + 49
            (-8, -8, 19),   // + 64 wraps to + 0
            (-8, 7, 27),    // 19 - 56 = -37 + 64
        ]
        for step in steps {
            mac.clock(a: step.a, b: step.b, enable: true, clear: false, reset: false)
            #expect(mac.acc == step.want, "after \(step.a)·\(step.b)")
        }
    }

    @Test("explicit wrap: u<4,0> products into a 5-bit accumulator")
    func wrapUnsigned() {
        var mac = MACModel(a: Self.u(4), b: Self.u(4), accBits: 5)
        mac.clock(a: 15, b: 15, enable: true, clear: false, reset: false)
        #expect(mac.acc == 1)   // 225 mod 32
        mac.clock(a: 15, b: 15, enable: true, clear: false, reset: false)
        #expect(mac.acc == 2)   // 226 mod 32
        mac.clock(a: 3, b: 3, enable: true, clear: false, reset: false)
        #expect(mac.acc == 11)
    }

    @Test("wrap at 127 bits: products wider than Int128 still wrap exactly")
    func wrap127() {
        var signed = MACModel(a: Self.s(64), b: Self.s(64), accBits: 127)
        let mostNeg = -(Int128(1) << 63)
        signed.clock(a: mostNeg, b: mostNeg, enable: true, clear: false, reset: false)
        #expect(signed.acc == -(Int128(1) << 126))  // 2^126 wraps to -2^126
        signed.clock(a: mostNeg, b: mostNeg, enable: true, clear: false, reset: false)
        #expect(signed.acc == 0)

        var unsigned = MACModel(a: Self.u(64), b: Self.u(64), accBits: 127)
        let max64 = (Int128(1) << 64) - 1
        unsigned.clock(a: max64, b: max64, enable: true, clear: false, reset: false)
        // (2^64 - 1)^2 = 2^128 - 2^65 + 1 = 2^127 - 2^65 + 1 (mod 2^127)
        #expect(unsigned.acc == Int128.max - (Int128(1) << 65) + 2)
    }

    @Test("priority: reset, then enable (clear starts a new sum), then clear, else hold")
    func priority() {
        var mac = MACModel(a: Self.s(8), b: Self.s(8), accBits: 20)
        #expect(mac.acc == 0)
        mac.clock(a: 3, b: 4, enable: true, clear: false, reset: false)
        #expect(mac.acc == 12)
        mac.clock(a: 2, b: 5, enable: true, clear: false, reset: false)
        #expect(mac.acc == 22)
        mac.clock(a: 9, b: 9, enable: false, clear: false, reset: false)
        #expect(mac.acc == 22)                      // hold, operands ignored
        mac.clock(a: 1, b: -1, enable: true, clear: true, reset: false)
        #expect(mac.acc == -1)                      // clear + enable: new sum starts with this product
        mac.clock(a: 2, b: 3, enable: true, clear: false, reset: false)
        #expect(mac.acc == 5)
        mac.clock(a: 9, b: 9, enable: false, clear: true, reset: false)
        #expect(mac.acc == 0)                       // clear alone
        mac.clock(a: 2, b: 3, enable: true, clear: false, reset: false)
        #expect(mac.acc == 6)
        mac.clock(a: 5, b: 5, enable: true, clear: false, reset: true)
        #expect(mac.acc == 0)                       // reset beats enable
        mac.clock(a: 5, b: 5, enable: true, clear: false, reset: false)
        #expect(mac.acc == 25)
        mac.clock(a: 5, b: 5, enable: true, clear: true, reset: true)
        #expect(mac.acc == 0)                       // reset beats enable + clear
    }

    @Test("mixed signed × unsigned: the unsigned operand is never read as negative")
    func mixed() {
        var mac = MACModel(a: Self.s(8), b: Self.u(8), accBits: 26)
        mac.clock(a: -128, b: 255, enable: true, clear: false, reset: false)
        #expect(mac.acc == -32640)
        mac.clock(a: -1, b: 200, enable: true, clear: true, reset: false)
        #expect(mac.acc == -200)
        mac.clock(a: 127, b: 255, enable: true, clear: false, reset: false)
        #expect(mac.acc == 32185)                   // -200 + 32385

        var swapped = MACModel(a: Self.u(8), b: Self.s(8), accBits: 17)
        swapped.clock(a: 200, b: -1, enable: true, clear: false, reset: false)
        #expect(swapped.acc == -200)
        swapped.clock(a: 255, b: -128, enable: true, clear: false, reset: false)
        #expect(swapped.acc == -32840)               // -200 - 32640, fits in s<17>
    }
}
