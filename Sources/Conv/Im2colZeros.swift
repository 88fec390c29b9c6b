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
