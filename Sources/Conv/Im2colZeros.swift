import Model

extension ConvShape {
    /// Zero entries of the im2col matrix, counted without building it: entry ((n, e, f),
    /// (c, r, s)) is input (n, c, eU + r - P, fU + s - P), zero in the padding. Input row y
    /// appears for `rowUses[y]` pairs (e, r), column x for `colUses[x]` pairs (f, s); an entry
    /// is padding unless both coordinates fall inside the image. Without `input` the layer is
    /// dense (only the padding is zero). These are the MACs zero gating skips, per filter.
    public func im2colZeros(input: [Int]?) -> Int {
        func uses(out: Int, filter: Int, size: Int) -> [Int] {
            var u = [Int](repeating: 0, count: size)
            for o in 0..<out {
                for r in 0..<filter {
                    let y = o * stride + r - padding
                    if y >= 0 && y < size { u[y] += 1 }
                }
            }
            return u
        }
        let rowUses = uses(out: outHeight, filter: filterHeight, size: height)
        let colUses = uses(out: outWidth, filter: filterWidth, size: width)
        let inside = rowUses.reduce(0, +) * colUses.reduce(0, +)
        var zeros = batch * channels * (outHeight * outWidth * filterHeight * filterWidth - inside)
        if let input {
            precondition(input.count == inputCount, "input has \(input.count) elements, the shape \(inputCount)")
            for (i, v) in input.enumerated() where v == 0 {
                zeros += rowUses[i / width % height] * colUses[i % width]
            }
        }
        return zeros
    }
}

extension ConvShape {
    /// Zero entries of each im2col column: term k = (c, r, s) (C·R·S of them), over every output
    /// position, padding included; with `input`, zero activations too. What zero-weight gating
    /// needs: a MAC is skipped when its activation or its weight is zero, once.
    public func im2colZerosPerTerm(input: [Int]?) -> [Int] {
        let window = filterHeight * filterWidth
        return (0..<channels * window).map { k in
            let (c, r, s) = (k / window, k / filterWidth % filterHeight, k % filterWidth)
            var zeros = 0
            for n in 0..<batch {
                for e in 0..<outHeight {
                    let y = e * stride + r - padding
                    for f in 0..<outWidth {
                        let x = f * stride + s - padding
                        if y < 0 || y >= height || x < 0 || x >= width || input.map({ $0[inputIndex(n: n, c: c, y: y, x: x)] == 0 }) == true {
                            zeros += 1
                        }
                    }
                }
            }
            return zeros
        }
    }

    /// Zero weights of each term k = (c, r, s) over the M filters (MCRS weights), where
    /// `isZero` says which weight codes stand for zero.
    public func zeroWeightsPerTerm(_ weights: [Int], isZero: (Int) -> Bool) -> [Int] {
        let k = channels * filterHeight * filterWidth
        precondition(weights.count == filters * k, "weights have \(weights.count) elements, the shape \(filters * k)")
        return (0..<k).map { term in (0..<filters).filter { isZero(weights[$0 * k + term]) }.count }
    }
}
