import Cores
import Golden
import Model

/// Inputs for co-simulated layers: uniform over each format's whole range, with a chosen
/// fraction of zero activations (the sparsity ReLU leaves behind, which zero gating skips).
public enum ConvStimulus {
    /// NCHW activations and MCRS weights for `shape`. Each activation is zero with
    /// probability `sparsity` (0...1), otherwise uniform over the activation format.
    public static func random(_ shape: ConvShape, activation: FixedPoint, weight: FixedPoint,
                              sparsity: Double, seed: UInt64) -> (input: [Int], weights: [Int]) {
        random(shape, codes: (.fixed(activation.golden), .fixed(weight.golden)), sparsity: sparsity, seed: seed)
    }

    /// The same in any number format: codes uniform over each operand's codes (for fixed point,
    /// its integers), an activation code 0 with probability `sparsity`.
    public static func random(_ shape: ConvShape, codes: (a: OperandCode, b: OperandCode),
                              sparsity: Double, seed: UInt64) -> (input: [Int], weights: [Int]) {
        precondition((0...1).contains(sparsity), "sparsity \(sparsity) is outside 0...1")
        var g = SplitMix64(seed: seed)
        let (ca, cb) = (codes.a.codes, codes.b.codes)
        let input = (0..<shape.inputCount).map { _ in
            Double.random(in: 0..<1, using: &g) < sparsity ? 0 : Int(Int128.random(in: ca, using: &g))
        }
        let weights = (0..<shape.weightCount).map { _ in Int(Int128.random(in: cb, using: &g)) }
        return (input, weights)
    }

    /// Saturation at both ends: every activation at the format's minimum; filter 0 at the weight
    /// minimum (products of most-negative × most-negative, a large positive sum), filter 1 at
    /// the maximum (a large negative sum), the others random.
    public static func extremes(_ shape: ConvShape, activation: FixedPoint, weight: FixedPoint, seed: UInt64) -> (input: [Int], weights: [Int]) {
        var (input, weights) = random(shape, activation: activation, weight: weight, sparsity: 0, seed: seed)
        let fa = activation.golden, fw = weight.golden
        input = input.map { _ in Int(fa.minInt) }
        let perFilter = shape.channels * shape.filterHeight * shape.filterWidth
        for i in 0..<min(2, shape.filters) * perFilter {
            weights[i] = Int(i < perFilter ? fw.minInt : fw.maxInt)
        }
        return (input, weights)
    }
}
