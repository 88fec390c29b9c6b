import Golden
import Model
import Testing

/// The direct convolution agrees with its im2col GEMM and with the Double reference.
@Suite struct ConvModelTests {
    @Test(arguments: [
        ConvShape(batch: 2, channels: 3, filters: 4, height: 7, width: 6, filterHeight: 3, filterWidth: 3, stride: 1, padding: 1),
        ConvShape(batch: 1, channels: 5, filters: 3, height: 9, width: 9, filterHeight: 5, filterWidth: 5, stride: 2, padding: 2),
        ConvShape(batch: 1, channels: 2, filters: 7, height: 4, width: 5, filterHeight: 1, filterWidth: 1, stride: 2, padding: 0),
    ])
    func directEqualsIm2colAndDouble(shape s: ConvShape) {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: seed >> 56) // -128...127
        }
        let input = (0..<s.inputCount).map { _ in Int(Int8(truncatingIfNeeded: next())) }
        var weights = (0..<s.weightCount).map { _ in Int(Int8(truncatingIfNeeded: next())) }
        weights[0] = -128
        let direct = ConvModel.accumulate(s, input: input, weights: weights)
        let gemm = GEMMModel.multiply(a: ConvModel.im2col(s, input: input), b: ConvModel.filterMatrix(s, weights: weights),
                                      accBits: 40, signed: true)
        for n in 0..<s.batch { for m in 0..<s.filters { for e in 0..<s.outHeight { for f in 0..<s.outWidth {
            let row = (n * s.outHeight + e) * s.outWidth + f
            #expect(Int128(direct[s.outputIndex(n: n, m: m, e: e, f: f)]) == gemm[row, m])
        } } } }
        let fmt = FixedFormat(wordLength: 8, fracLength: 6, signed: true)
        let real = ConvModel.real(s, input: input, inputFormat: fmt, weights: weights, weightFormat: fmt)
        #expect(real == direct.map { Double($0) / 4096 })
    }
}
