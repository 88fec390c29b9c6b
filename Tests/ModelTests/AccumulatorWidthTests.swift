import Model
import Testing

@Suite("accumulator width from the weights")
struct AccumulatorWidthTests {
    @Test func bitsOfARange() {
        #expect(AccumulatorWidth.bits(holding: 0...0, signed: true) == 1)
        #expect(AccumulatorWidth.bits(holding: -1...0, signed: true) == 1)
        #expect(AccumulatorWidth.bits(holding: -128...127, signed: true) == 8)
        #expect(AccumulatorWidth.bits(holding: -128...128, signed: true) == 9)
        #expect(AccumulatorWidth.bits(holding: -129...0, signed: true) == 9)
        #expect(AccumulatorWidth.bits(holding: 0...255, signed: false) == 8)
        #expect(AccumulatorWidth.bits(holding: 0...256, signed: false) == 9)
    }

    /// Hand-computed: weights (3, -2, 0) with s4 inputs [-8, 7]: the sum spans
    /// 3·-8 + -2·7 = -38 up to 3·7 + -2·-8 = 37, so 7 bits.
    @Test func handExample() {
        #expect(AccumulatorWidth.range(weights: [3, -2, 0], inputs: -8...7) == -38...37)
        #expect(AccumulatorWidth.minimum(rows: [[3, -2, 0], [1]], inputs: -8...7, signed: true) == 7)
    }

    /// Every input vector of small layers, enumerated: the range is exact, not just a bound.
    @Test func exactAgainstEnumeration() {
        var seed: UInt64 = 7
        func next(_ r: ClosedRange<Int>) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return r.lowerBound + Int((seed >> 33) % UInt64(r.count))
        }
        for _ in 0..<200 {
            let k = next(1...4)
            let weights = (0..<k).map { _ in next(-8...7) }
            let inputs = next(-4...0)...next(0...5)
            var lo = Int.max, hi = Int.min
            var x = [Int](repeating: inputs.lowerBound, count: k)
            while true {
                let s = zip(weights, x).reduce(0) { $0 + $1.0 * $1.1 }
                lo = min(lo, s)
                hi = max(hi, s)
                var i = 0
                while i < k && x[i] == inputs.upperBound { x[i] = inputs.lowerBound; i += 1 }
                if i == k { break }
                x[i] += 1
            }
            #expect(AccumulatorWidth.range(weights: weights, inputs: inputs) == lo...hi, "\(weights) over \(inputs)")
        }
    }

    /// A layer's filters are its rows; padding zeros are inside the range either way.
    @Test func convLayer() {
        let shape = ConvShape(channels: 1, filters: 2, height: 3, width: 3, filterHeight: 1, filterWidth: 2)
        // Filter 0: (127, 127) against u8 inputs [0, 255]: 0...64770, 17 bits signed.
        // Filter 1: (-1, 1): -255...255, 9 bits.
        #expect(shape.minimumAccumulatorBits(weights: [127, 127, -1, 1], inputs: 0...255, signed: true) == 17)
    }
}
