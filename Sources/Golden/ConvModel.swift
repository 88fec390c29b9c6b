import Foundation
import Model

/// Direct convolution in plain integers: the reference every PE array is checked against.
public enum ConvModel {
    /// The 7-deep loop nest: out[n][m][e][f] = Σ_c Σ_r Σ_s in[n][c][eU+r-P][fU+s-P] · w[m][c][r][s],
    /// summed exactly (operands up to 16 bits and sums up to 2^31 terms fit in Int).
    public static func accumulate(_ s: ConvShape, input: [Int], weights: [Int]) -> [Int] {
        precondition(input.count == s.inputCount && weights.count == s.weightCount, "tensor sizes do not match the shape")
        var out = [Int](repeating: 0, count: s.outputCount)
        for n in 0..<s.batch {
            for m in 0..<s.filters {
                for e in 0..<s.outHeight {
                    for f in 0..<s.outWidth {
                        var sum = 0
                        for c in 0..<s.channels {
                            for r in 0..<s.filterHeight {
                                for q in 0..<s.filterWidth {
                                    let x = s.input(input, n: n, c: c, y: e * s.stride + r - s.padding, x: f * s.stride + q - s.padding)
                                    sum += x * weights[s.weightIndex(m: m, c: c, r: r, s: q)]
                                }
                            }
                        }
                        out[s.outputIndex(n: n, m: m, e: e, f: f)] = sum
                    }
                }
            }
        }
        return out
    }

    /// The Toeplitz (im2col) form: rows are output positions (n, e, f), columns are (c, r, s).
    /// Multiplied by `filterMatrix` it gives the convolution as a GEMM (N·E·F × M).
    public static func im2col(_ s: ConvShape, input: [Int]) -> Matrix<Int128> {
        let k = s.channels * s.filterHeight * s.filterWidth
        return Matrix(rows: s.batch * s.outHeight * s.outWidth, cols: k) { row, col in
            let n = row / (s.outHeight * s.outWidth), e = row / s.outWidth % s.outHeight, f = row % s.outWidth
            let c = col / (s.filterHeight * s.filterWidth), r = col / s.filterWidth % s.filterHeight, q = col % s.filterWidth
            return Int128(s.input(input, n: n, c: c, y: e * s.stride + r - s.padding, x: f * s.stride + q - s.padding))
        }
    }

    /// Weights as the K×M right-hand matrix of the im2col GEMM.
    public static func filterMatrix(_ s: ConvShape, weights: [Int]) -> Matrix<Int128> {
        Matrix(rows: s.channels * s.filterHeight * s.filterWidth, cols: s.filters) { row, m in
            Int128(weights[m * s.channels * s.filterHeight * s.filterWidth + row])
        }
    }

    /// The same convolution computed in Double on the real values (q / 2^frac): the reference
    /// for error statistics, and an independent check of `accumulate`.
    public static func real(_ s: ConvShape, input: [Int], inputFormat: FixedFormat,
                            weights: [Int], weightFormat: FixedFormat) -> [Double] {
        let x = input.map { inputFormat.realValue(Int128($0)) }
        let w = weights.map { weightFormat.realValue(Int128($0)) }
        var out = [Double](repeating: 0, count: s.outputCount)
        for n in 0..<s.batch {
            for m in 0..<s.filters {
                for e in 0..<s.outHeight {
                    for f in 0..<s.outWidth {
                        var sum = 0.0
                        for c in 0..<s.channels {
                            for r in 0..<s.filterHeight {
                                for q in 0..<s.filterWidth {
                                    let y = e * s.stride + r - s.padding, xx = f * s.stride + q - s.padding
                                    guard y >= 0, y < s.height, xx >= 0, xx < s.width else { continue }
                                    sum += x[s.inputIndex(n: n, c: c, y: y, x: xx)] * w[s.weightIndex(m: m, c: c, r: r, s: q)]
                                }
                            }
                        }
                        out[s.outputIndex(n: n, m: m, e: e, f: f)] = sum
                    }
                }
            }
        }
        return out
    }
}
