/// One output channel's requantization (TFLite, gemmlowp): its bias at the accumulator's scale,
/// an unsigned integer multiplier and a right shift; the real factor is `multiplier · 2^-shift`.
public struct Requantization: Hashable, Sendable {
    public var bias: Int128
    public var multiplier: Int128
    public var shift: Int

    public init(bias: Int128, multiplier: Int128, shift: Int) {
        self.bias = bias
        self.multiplier = multiplier
        self.shift = shift
    }

    /// `saturate(roundHalfEven((sum + bias) · multiplier / 2^shift))` to `output`, a shift
    /// above `maxShift` acting as `maxShift`. Written as a division with its remainder (not
    /// the hardware's addend), so the two are checked against each other.
    public func apply(_ sum: Int128, maxShift: Int, output: FixedFormat) -> Int128 {
        let p = (sum + bias) * multiplier
        let s = min(shift, maxShift)
        var q = p, r: Int128 = 0
        if s > 0 {
            let d = Int128(1) << s
            q = p >= 0 ? p / d : -((-p + d - 1) / d)  // floor
            r = p - q * d                              // 0 ..< d
            let half = d / 2
            if r > half || (r == half && q & 1 == 1) { q += 1 }
        }
        return output.saturate(q)
    }
}
