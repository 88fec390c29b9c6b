import Cores
import Model
import Testing

/// The arrays' default accumulator, `WLa + WLb + ceil(log2 maxK)`, is never narrower than what
/// any layer of up to maxK terms needs (`AccumulatorWidth`): checked at the weights that need
/// the most (every weight at a format extreme) and at random weights, for every format pair.
@Suite("default accumulator width against the bound from the weights")
struct AccumulatorBoundTests {
    static func range(_ f: FixedPoint) -> ClosedRange<Int> {
        f.signed ? -(1 << (f.bits - 1))...((1 << (f.bits - 1)) - 1) : 0...((1 << f.bits) - 1)
    }

    @Test("default width >= bound", arguments: [1, 2, 3, 64, 100, 1024, 4096])
    func defaultIsEnough(_ maxK: Int) {
        var seed: UInt64 = UInt64(maxK)
        func next(_ r: ClosedRange<Int>) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return r.lowerBound + Int((seed >> 33) % UInt64(r.count))
        }
        for aBits in [2, 3, 8, 16] {
            for bBits in [2, 5, 8, 16] {
                for (aSigned, bSigned) in [(true, true), (false, true), (true, false), (false, false)] {
                    let a = FixedPoint(bits: aBits, frac: 0, signed: aSigned), b = FixedPoint(bits: bBits, frac: 0, signed: bSigned)
                    let config = ArrayConfig(a: a, b: b, maxK: maxK)
                    let w = Self.range(b)
                    let rows = [Array(repeating: w.lowerBound, count: maxK), Array(repeating: w.upperBound, count: maxK),
                                (0..<maxK).map { _ in next(w) }]
                    let bound = AccumulatorWidth.minimum(rows: rows, inputs: Self.range(a), signed: config.accumulator.signed)
                    #expect(bound <= config.accBits, "\(a) x \(b), K = \(maxK): needs \(bound), default \(config.accBits)")
                }
            }
        }
    }

    /// The default is tight where the format allows it: s8 × s8 with K = 4096 all at -128 needs
    /// every one of its 28 bits.
    @Test func tightAtTheExtreme() {
        let config = ArrayConfig(maxK: 4096)
        let bound = AccumulatorWidth.minimum(rows: [Array(repeating: -128, count: 4096)], inputs: -128...127, signed: true)
        #expect(config.accBits == 28 && bound == 28)
    }
}
