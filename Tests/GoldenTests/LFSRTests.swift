import Testing
import Golden

/// GF(2) polynomials as bit masks (bit i = coefficient of x^i), independent of the model.
enum GF2 {
    /// a · b mod p, with deg p = n <= 32 and deg a, deg b < n.
    static func mulMod(_ a: UInt64, _ b: UInt64, _ p: UInt64, degree n: Int) -> UInt64 {
        var a = a, b = b, result: UInt64 = 0
        while b != 0 {
            if b & 1 != 0 { result ^= a }
            b >>= 1
            a <<= 1
            if a & (1 << n) != 0 { a ^= p }
        }
        return result
    }

    /// x^e mod p by square and multiply.
    static func xPowMod(_ e: UInt64, _ p: UInt64, degree n: Int) -> UInt64 {
        var result: UInt64 = 1, base: UInt64 = 0b10, e = e
        while e != 0 {
            if e & 1 != 0 { result = mulMod(result, base, p, degree: n) }
            base = mulMod(base, base, p, degree: n)
            e >>= 1
        }
        return result
    }

    static func primeFactors(_ m: UInt64) -> [UInt64] {
        var m = m, q: UInt64 = 2, factors: [UInt64] = []
        while q * q <= m {
            if m % q == 0 {
                factors.append(q)
                while m % q == 0 { m /= q }
            }
            q += 1
        }
        if m > 1 { factors.append(m) }
        return factors
    }

    /// p is primitive iff x has order exactly 2^n - 1 modulo p.
    static func isPrimitive(_ p: UInt64, degree n: Int) -> Bool {
        let order = (UInt64(1) << n) - 1
        guard xPowMod(order, p, degree: n) == 1 else { return false }
        return primeFactors(order).allSatisfy { xPowMod(order / $0, p, degree: n) != 1 }
    }

    /// The characteristic polynomial of the contract's step. With bit i of the state holding
    /// a[k-i], the new bit is a[k+1] = XOR over taps t of a[k+1-t], so
    /// c(x) = x^n + sum over taps of x^(n-t) (the tap n gives the constant 1). This is the
    /// reciprocal of XAPP052's 1 + sum x^t; one is primitive exactly when the other is.
    static func characteristic(taps: [Int], width n: Int) -> UInt64 {
        taps.reduce(UInt64(1) << n) { $0 ^ (UInt64(1) << (n - $1)) }
    }
}

struct LFSRTests {
    @Test("tap table matches the contract, typed in again here")
    func table() {
        let contract: [Int: [Int]] = [
            3: [3, 2], 4: [4, 3], 5: [5, 3], 6: [6, 5], 7: [7, 6], 8: [8, 6, 5, 4], 9: [9, 5], 10: [10, 7],
            11: [11, 9], 12: [12, 6, 4, 1], 13: [13, 4, 3, 1], 14: [14, 5, 3, 1], 15: [15, 14],
            16: [16, 15, 13, 4], 17: [17, 14], 18: [18, 11], 19: [19, 6, 2, 1], 20: [20, 17],
            21: [21, 19], 22: [22, 21], 23: [23, 18], 24: [24, 23, 22, 17], 25: [25, 22],
            26: [26, 6, 2, 1], 27: [27, 5, 2, 1], 28: [28, 25], 29: [29, 27], 30: [30, 6, 4, 1],
            31: [31, 28], 32: [32, 22, 2, 1],
        ]
        #expect(LFSRModel.widths == 3...32)
        for n in 3...32 {
            #expect(LFSRModel.taps(width: n).sorted() == contract[n]!.sorted(), "width \(n)")
        }
    }

    @Test("width 4, seed 1, hand-worked: 1, 2, 4, 9, 3, 6, 13, 10, 5")
    func handWidth4() {
        var lfsr = LFSRModel(width: 4, seed: 1)
        var seen: [UInt64] = [lfsr.state]
        for _ in 0..<8 {
            lfsr.step()
            seen.append(lfsr.state)
        }
        #expect(seen == [1, 2, 4, 9, 3, 6, 13, 10, 5])
    }

    @Test("width 3, seed 1, hand-worked full cycle: 1, 2, 5, 3, 7, 6, 4, 1")
    func handWidth3() {
        var lfsr = LFSRModel(width: 3, seed: 1)
        var seen: [UInt64] = [lfsr.state]
        for _ in 0..<7 {
            lfsr.step()
            seen.append(lfsr.state)
        }
        #expect(seen == [1, 2, 5, 3, 7, 6, 4, 1])
    }

    @Test("width 32, hand-worked: taps 32, 22, 2, 1 feed back into bit 0 and the top bit drops out")
    func handWidth32() {
        #expect(LFSRModel.next(0x8000_0000, width: 32) == 0x0000_0001)  // f = bit 31
        #expect(LFSRModel.next(0x0020_0000, width: 32) == 0x0040_0001)  // f = bit 21
        #expect(LFSRModel.next(0x0000_0003, width: 32) == 0x0000_0006)  // bits 1 and 0 cancel
        #expect(LFSRModel.next(0x0000_0001, width: 32) == 0x0000_0003)
        #expect(LFSRModel.next(0x4000_0000, width: 32) == 0x8000_0000)  // untapped bit 30: f = 0
    }

    @Test("width 16, seed 1, hand-worked: 10 steps give 0x444, 20 give 0x11A1; from zero, 10 steps give 0x222")
    func handWidth16Leaps() {
        // Taps 16, 15, 13, 4 (bits 15, 14, 12, 3). From 1 the bit walks up, feeding back a 1 each
        // time it passes bit 3: 1, 2, 4, 8, 0x11, 0x22, 0x44, 0x88, 0x111, 0x222, 0x444, then
        // 0x888, 0x1111, 0x2223, 0x4446, 0x888D, 0x111A (bits 15 and 3 cancel), 0x2234, 0x4468,
        // 0x88D0, 0x11A1. These are the ROUND unit's draws with D = 10 (RounderTests).
        var lfsr = LFSRModel(width: 16, seed: 1)
        var seen: [UInt64] = []
        for _ in 0..<20 {
            lfsr.step()
            seen.append(lfsr.state)
        }
        #expect(seen[9] == 0x444 && seen[19] == 0x11A1)
        #expect(Array(seen[10..<19]) == [0x888, 0x1111, 0x2223, 0x4446, 0x888D, 0x111A, 0x2234, 0x4468, 0x88D0])
        // A leap from the zero state is ten single steps too: 0 -> 1, then nine more.
        var s: UInt64 = 0
        for _ in 0..<10 { s = LFSRModel.next(s, width: 16) }
        #expect(s == 0x222)
    }

    @Test("a zero state steps to 1, for every width", arguments: 3...32)
    func zeroStepsToOne(width: Int) {
        #expect(LFSRModel.next(0, width: width) == 1)
    }

    @Test("period from seed 1 is exactly 2^n - 1", arguments: 3...20)
    func period(width: Int) {
        #expect(LFSRModel.period(width: width, seed: 1) == (1 << width) - 1)
    }

    @Test("step() visits every nonzero 10-bit state exactly once, from seed 0x2A5")
    func visitsAllStates() {
        var lfsr = LFSRModel(width: 10, seed: 0x2A5)
        var seen = Set<UInt64>()
        for _ in 0..<1023 {
            #expect(lfsr.state != 0 && lfsr.state < 1024)
            seen.insert(lfsr.state)
            lfsr.step()
        }
        #expect(seen.count == 1023)
        #expect(lfsr.state == 0x2A5)
    }

    @Test("the step's characteristic polynomial is primitive (x^(2^n-1) = 1, x^((2^n-1)/q) != 1)",
          arguments: 3...32)
    func primitive(width: Int) {
        let p = GF2.characteristic(taps: LFSRModel.taps(width: width), width: width)
        #expect(GF2.isPrimitive(p, degree: width), "width \(width): p = 0x\(String(p, radix: 16))")
    }

    @Test("the primitivity check itself rejects non-primitive polynomials")
    func primitivityOracle() {
        #expect(GF2.isPrimitive(0b10011, degree: 4))    // x^4 + x + 1
        #expect(!GF2.isPrimitive(0b10101, degree: 4))   // (x^2 + x + 1)^2
        #expect(!GF2.isPrimitive(0b11111, degree: 4))   // irreducible, but x has order 5
        #expect(!GF2.isPrimitive((1 << 32) | 0b1011, degree: 32))  // x^32 + x^3 + x + 1 has root 1
        #expect(GF2.primeFactors((1 << 32) - 1) == [3, 5, 17, 257, 65537])
    }
}
