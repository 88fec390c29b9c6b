/// A BNN output activation (Courbariaux et al. 2016; the folding follows FINN, Umuroglu et al.
/// FPGA 2017): batch norm then sign, `γ(x − μ)/σ + β ≥ 0`, becomes one integer compare of the
/// accumulated sum x, `(x ≥ T) xor flip`, where `flip` is set when γ < 0 (the inequality turns).
public struct Threshold: Hashable, Sendable, Codable {
    /// T, an integer of the accumulator's format.
    public var value: Int128
    /// Invert the compare: the output is 1 when x < T.
    public var flip: Bool

    public init(_ value: Int128, flip: Bool = false) {
        self.value = value
        self.flip = flip
    }

    /// The output bit for the sum `x`: 1 stands for +1, 0 for -1.
    public func activation(_ x: Int128) -> Int128 { (x >= value) != flip ? 1 : 0 }

    /// Folds batch norm and sign for integer sums x (in units of the accumulator's LSB):
    /// γ > 0: x ≥ μ − βσ/γ, so T = ceil(μ − βσ/γ); γ < 0: x ≤ μ − βσ/γ, the negation of
    /// x ≥ floor(μ − βσ/γ) + 1; γ = 0: the sign of β alone, for every x in `range`.
    public init(gamma: Double, beta: Double, mean: Double, sigma: Double, range: ClosedRange<Int128>) {
        precondition(sigma > 0, "σ must be positive")
        if gamma == 0 {
            self.init(range.lowerBound, flip: beta < 0)  // x ≥ min always holds
            return
        }
        let tau = mean - beta * sigma / gamma
        func clamp(_ v: Double) -> Int128 {
            Int128(max(Double(range.lowerBound), min(Double(range.upperBound) + 1, v)))
        }
        if gamma > 0 {
            self.init(clamp(tau.rounded(.up)))
        } else {
            self.init(clamp(tau.rounded(.down) + 1), flip: true)
        }
    }
}
