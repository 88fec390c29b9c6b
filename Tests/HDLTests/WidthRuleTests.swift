import Testing
import HDL

// The width table at the top of Operators.swift, one operator at a time. Every expected shape is
// worked out by hand from the rule (and from the true value range it must hold), never read back
// from the library.

/// Builds the signals with `body` inside a throwaway module and returns their shapes.
private func shapes(_ body: (ModuleBuilder) -> [Signal]) throws -> [Shape] {
    var result: [Shape] = []
    _ = try ModuleDefinition.define("widths") { m in
        result = body(m).map(\.shape)
    }
    return result
}

private let u = Shape.unsigned
private let s = Shape.signed

@Suite("Width rules")
struct WidthRuleTests {
    @Test func addition() throws {
        let got = try shapes { m in
            let u8 = m.input("u8", u(8)), u4 = m.input("u4", u(4)), s8 = m.input("s8", s(8))
            let s4 = m.input("s4", s(4)), u5 = m.input("u5", u(5)), u3 = m.input("u3", u(3))
            return [u8 + u8, u8 + u4, s8 + s4, s8 + u5, s8 + u8, u4 + s8, u3 + s8]
        }
        // u8+u8: 0...510 -> u9. s8+s4: -136...134 -> s9. s8+u5: u5 becomes s6, max(8, 6)+1 -> s9.
        // s8+u8: u8 becomes s9 -> s10 (-128...382 does not fit s9). u3+s8: u3 becomes s4 -> s9.
        #expect(got == [u(9), u(9), s(9), s(9), s(10), s(9), s(9)])
    }

    @Test func subtraction() throws {
        let got = try shapes { m in
            let u8 = m.input("u8", u(8)), u3 = m.input("u3", u(3)), s8 = m.input("s8", s(8))
            let s4 = m.input("s4", s(4)), s6 = m.input("s6", s(6))
            return [u8 - u8, u8 - u3, u3 - u8, s8 - u8, s4 - s6, s8 - s4]
        }
        // Unsigned minus unsigned is signed, one bit wider than the wider operand: -255...255 -> s9.
        // s8 - u8: -383...127 -> s10. s4 - s6: max(4, 6)+1 -> s7.
        #expect(got == [s(9), s(9), s(9), s(10), s(7), s(9)])
    }

    @Test func wrappingArithmetic() throws {
        let got = try shapes { m in
            let u8 = m.input("u8", u(8)), u4 = m.input("u4", u(4)), s8 = m.input("s8", s(8))
            let s4 = m.input("s4", s(4)), s6 = m.input("s6", s(6))
            return [u8 &+ u4, u8 &- u8, s4 &- s6, s8 &+ u8, u4 &- s4]
        }
        // max(wa, wb), with an unsigned operand beside a signed one counting one bit more.
        #expect(got == [u(8), u(8), s(6), s(9), s(5)])
    }

    @Test func multiplication() throws {
        let got = try shapes { m in
            let s8 = m.input("s8", s(8)), u5 = m.input("u5", u(5)), u8 = m.input("u8", u(8))
            let u4 = m.input("u4", u(4)), s3 = m.input("s3", s(3)), u1 = m.input("u1", u(1))
            return [s8 * s8, s8 * u5, u5 * s8, u8 * u4, s3 * u1, u1 * u1]
        }
        // Always wa + wb; signed when either operand is.
        #expect(got == [s(16), s(13), s(13), u(12), s(4), u(2)])
    }

    @Test func bitwise() throws {
        let got = try shapes { m in
            let u8 = m.input("u8", u(8)), u4 = m.input("u4", u(4)), s8 = m.input("s8", s(8))
            let u5 = m.input("u5", u(5)), s4 = m.input("s4", s(4)), s3 = m.input("s3", s(3))
            let s7 = m.input("s7", s(7)), u2 = m.input("u2", u(2)), s2 = m.input("s2", s(2))
            return [u8 & u4, s8 & u5, u8 & s4, s3 | s7, u2 ^ s2, u4 | u8, ~u5, ~s7]
        }
        // Same-kind: max width. Mixed: the unsigned one needs one more bit (u8 beside s4 -> s9).
        #expect(got == [u(8), s(8), s(9), s(7), s(3), u(8), u(5), s(7)])
    }

    @Test func shifts() throws {
        let got = try shapes { m in
            let u8 = m.input("u8", u(8)), s8 = m.input("s8", s(8))
            let n = m.input("n", u(3)), sn = m.input("sn", s(4))
            return [u8 << 3, u8 >> 3, s8 << 2, s8 >> 5, u8 << 9, u8 >> 8, s8 >> 12, s8 << 8,
                    u8 << n, u8 >> n, s8 << n, s8 >> n, s8 >> sn, u8 << sn]
        }
        // Shifts never change the shape, whatever the amount.
        #expect(got == [u(8), u(8), s(8), s(8), u(8), u(8), s(8), s(8),
                        u(8), u(8), s(8), s(8), s(8), u(8)])
    }

    @Test func comparisonsAreOneUnsignedBit() throws {
        let got = try shapes { m in
            let u8 = m.input("u8", u(8)), s3 = m.input("s3", s(3)), s9 = m.input("s9", s(9))
            return [u8 .== s3, u8 .!= s3, u8 .< s9, u8 .<= s3, s9 .> u8, s3 .>= s9,
                    u8 .== 300, s3 .< -100, u8 .>= 0, s9 .<= 7]
        }
        #expect(got == Array(repeating: Shape.bit, count: 10))
    }

    @Test func bitSelection() throws {
        let got = try shapes { m in
            let s8 = m.input("s8", s(8)), u6 = m.input("u6", u(6))
            return [s8.bits(5, 2), s8.bit(3), s8.msb, u6.bits(5, 0), s8.bits(7, 0), u6.bit(0)]
        }
        // hi - lo + 1 bits, always unsigned (even the full width of a signed value).
        #expect(got == [u(4), u(1), u(1), u(6), u(8), u(1)])
    }

    @Test func concatenation() throws {
        let got = try shapes { m in
            let s4 = m.input("s4", s(4)), u3 = m.input("u3", u(3)), s2 = m.input("s2", s(2))
            return [cat(s4, u3, s2), cat(u3, u3), cat(s4), cat([s2, s2, s2])]
        }
        #expect(got == [u(9), u(6), u(4), u(6)])
    }

    @Test func extensionsAndReinterpretation() throws {
        let got = try shapes { m in
            let s8 = m.input("s8", s(8)), u8 = m.input("u8", u(8))
            return [s8.extended(to: 12), u8.extended(to: 12), s8.zeroExtended(to: 12), u8.signExtended(to: 12),
                    s8.extended(to: 8), u8.asSigned, s8.asUnsigned, s8.asSigned, u8.asUnsigned]
        }
        #expect(got == [s(12), u(12), u(12), s(12), s(8), s(8), u(8), s(8), u(8)])
    }

    @Test func muxAndSelect() throws {
        let got = try shapes { m in
            let sel = m.input("sel", .bit), u8 = m.input("u8", u(8)), s4 = m.input("s4", s(4))
            let u4 = m.input("u4", u(4)), s3 = m.input("s3", s(3)), u2 = m.input("u2", u(2))
            let u1 = m.input("u1", u(1)), idx = m.input("idx", u(2))
            return [mux(sel, u8, s4), mux(sel, u4, u8), mux(sel, s3, s4), mux(sel, u4, 100), mux(sel, -3, u2),
                    select(idx, [u4, s3, u2], default: u1), select(idx, [u4, u4, u4, u4], default: u4)]
        }
        // mux: as for &. mux(sel, u4, 100): 100 is u7 -> u7. mux(sel, -3, u2): -3 is s3, u2 -> s3 -> s3.
        // select: pairs (u4, s3) -> s5 and (u2, u1) -> u2, then (s5, u2) -> s5.
        #expect(got == [s(9), u(8), s(4), u(7), s(3), s(5), u(4)])
    }

    @Test func reductions() throws {
        let got = try shapes { m in
            let a = m.input("a", s(7))
            return [a.andReduce(), a.orReduce(), a.xorReduce()]
        }
        #expect(got == [.bit, .bit, .bit])
    }

    @Test func narrowing() throws {
        let got = try shapes { m in
            let s8 = m.input("s8", s(8)), u8 = m.input("u8", u(8)), u10 = m.input("u10", u(10))
            let r = m.input("r", u(4))
            return [s8.truncated(to: 5), u8.truncated(to: 3), s8.truncated(to: 8),
                    s8.saturated(to: s(4)), s8.saturated(to: u(3)), u8.saturated(to: s(12)), u8.saturated(to: u(8)),
                    s8.roundedShiftRight(by: 3, mode: .truncate), u10.roundedShiftRight(by: 4, mode: .nearestEven),
                    s8.roundedShiftRight(by: 0, mode: .nearestEven), s8.roundedShiftRight(by: 4, mode: .stochastic(random: r)),
                    u8.roundedShiftRight(by: 7, mode: .truncate)]
        }
        // roundedShiftRight: w - d + 1 bits of the same kind.
        #expect(got == [s(5), u(3), s(8), s(4), u(3), s(12), u(8), s(6), u(7), s(9), s(5), u(2)])
    }

    @Test func integerOperandsUseTheNarrowestConstant() throws {
        let got = try shapes { m in
            let u8 = m.input("u8", u(8)), s8 = m.input("s8", s(8)), u4 = m.input("u4", u(4))
            return [u8 + 1, u8 + 300, u8 + 1000, s8 + 1, s8 + 1000, u8 + (-1), u8 - 1, s8 - 200,
                    u4 & 0xFF, s8 | 1, -u8, -s8, u4 .== 100]
        }
        // u8+1: 1 is u1 -> u9. 300 is u9 -> u10. 1000 is u10 -> u11. s8+1: 1 is s2 -> s9.
        // s8+1000: 1000 is s11 -> s12. u8 + (-1): -1 is s1, u8 counts 9 -> s10. u8 - 1 -> s9.
        // s8 - 200: 200 is s9 -> s10.
        // Bitwise integer operands wrap to the signal's own width. -u8 = 0 - u8 -> s9; -s8 -> s9.
        #expect(got == [u(9), u(10), u(11), s(9), s(12), s(10), s(9), s(10),
                        u(4), s(8), s(9), s(9), .bit])
    }

    @Test func wrappingIntegerOperandsReduceModuloTheWidth() throws {
        var constants: [Int128?] = []
        var got: [Shape] = []
        _ = try ModuleDefinition.define("wrapconst") { m in
            let u8 = m.input("u8", u(8)), s8 = m.input("s8", s(8)), u4 = m.input("u4", u(4))
            let results = [u8 &+ 300, s8 &+ 200, u8 &- 257, s8 &- (-129), u4 & 0x1F5, s8 ^ -1]
            got = results.map(\.shape)
            for r in results {
                guard case .binary(_, _, let c) = r.op else { constants.append(nil); continue }
                constants.append(c.constantValue)
            }
        }
        // 300 mod 256 = 44. 200 as 8 bits read signed = 200 - 256 = -56. 257 mod 256 = 1.
        // -129 mod 256 = 127. 0x1F5 mod 16 = 5. -1 in 8 bits stays -1.
        #expect(got == [u(8), s(8), u(8), s(8), u(4), s(8)])
        #expect(constants == [44, -56, 1, 127, 5, -1])
    }
}
