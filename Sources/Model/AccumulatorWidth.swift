/// The smallest accumulator a layer needs, from its actual weights (the idea of FINN's
/// `minimize_accumulator_width`, Umuroglu et al., FPGA 2017): each output is a dot product of
/// fixed weights with inputs anywhere in their range, so its extremes are known exactly.
/// The default width `WLa + WLb + ceil(log2 K)` must hold any weights of the format; trained
/// weights are rarely all at the format's extreme, so this is often a few bits less.
public enum AccumulatorWidth {
    /// The fewest bits whose two's-complement range (unsigned range when `signed` is false)
    /// holds every integer in `values`.
    public static func bits(holding values: ClosedRange<Int>, signed: Bool) -> Int {
        precondition(signed || values.lowerBound >= 0, "an unsigned accumulator cannot hold \(values.lowerBound)")
        var n = 1
        while true {
            let (lo, hi) = signed ? (-(1 << (n - 1)), (1 << (n - 1)) - 1) : (0, (1 << n) - 1)
            if lo <= values.lowerBound && values.upperBound <= hi { return n }
            n += 1
        }
    }

    /// The range of `Σ w_k · x_k` over every input vector with each `x_k` in `inputs`: each term
    /// is extreme at an end of the input range, independently of the others.
    public static func range(weights: [Int], inputs: ClosedRange<Int>) -> ClosedRange<Int> {
        var lo = 0, hi = 0
        for w in weights {
            let (a, b) = (w * inputs.lowerBound, w * inputs.upperBound)
            lo += min(a, b)
            hi += max(a, b)
        }
        return lo...hi
    }

    /// The smallest accumulator that no output of the layer can overflow: `rows` are the weights
    /// of each output channel (one reduction each), `inputs` the input format's integer range.
    public static func minimum(rows: [[Int]], inputs: ClosedRange<Int>, signed: Bool) -> Int {
        rows.map { bits(holding: range(weights: $0, inputs: inputs), signed: signed) }.max() ?? 1
    }
}

extension ConvShape {
    /// The smallest accumulator for this layer's `weights` (MCRS): filter m's C·R·S weights
    /// against inputs in `inputs` (zero padding is inside any input range that holds zero).
    public func minimumAccumulatorBits(weights: [Int], inputs: ClosedRange<Int>, signed: Bool) -> Int {
        let k = channels * filterHeight * filterWidth
        precondition(weights.count == filters * k, "weights do not match the shape")
        return AccumulatorWidth.minimum(rows: (0..<filters).map { Array(weights[$0 * k..<($0 + 1) * k]) },
                                        inputs: min(inputs.lowerBound, 0)...max(inputs.upperBound, 0), signed: signed)
    }
}
