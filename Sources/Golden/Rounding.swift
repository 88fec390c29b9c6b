/// Rounding a right shift by `d` bits, exactly as docs/ARITHMETIC.md defines it.
public enum Rounding {
    /// Narrows `x` by `d >= 0` bits: floor (`.truncate`), nearest with ties to even
    /// (`.nearest`) or `floor((x + random) / 2^d)` (`.stochastic`).
    ///
    /// `random` is the contract's d-bit `r`, in `[0, 2^d)`; it is ignored unless stochastic.
    /// Any `d` is accepted: from 128 bits on, every 127-bit `x` is a fraction of one LSB,
    /// which is handled separately because `2^d` no longer fits in 128 bits.
    public static func shiftRight(_ x: Int128, by d: Int, mode: RoundingMode, random: Int128 = 0) -> Int128 {
        precondition(d >= 0, "shift \(d) must be >= 0")
        if mode == .stochastic {
            precondition(random >= 0 && (d >= 127 || random < Int128(1) << d),
                         "random \(random) is not a \(d)-bit value")
        }
        if d == 0 { return x }
        if d >= 128 { return shiftBeyondWidth(x, mode: mode, random: random) }

        let q = x >> d  // arithmetic shift = floor(x / 2^d)
        let rem = UInt128(truncatingIfNeeded: x) & ((UInt128(1) << d) - 1)  // x - q·2^d
        switch mode {
        case .truncate:
            return q
        case .nearest:
            let half = UInt128(1) << (d - 1)
            let roundUp = rem > half || (rem == half && q & 1 != 0)
            return roundUp ? q + 1 : q  // q <= 2^126, no overflow
        case .stochastic:
            // rem + r < 2^128, so the carry test is exact in UInt128.
            return rem + UInt128(random) >= UInt128(1) << d ? q + 1 : q
        }
    }

    /// `d >= 128`: `q` is 0 (x >= 0) or -1 (x < 0) and `rem = x - q·2^d`.
    /// - nearest: `rem < 2^(d-1)` for x >= 0; for x < 0 `rem >= 2^(d-1)` with a tie only at
    ///   x = -2^127, d = 128, where q = -1 is odd. Either way the answer is 0.
    /// - stochastic: x >= 0 never carries (rem + r < 2^128 <= 2^d); x < 0 carries iff
    ///   `2^d + x + r >= 2^d`, i.e. `r + x >= 0`.
    private static func shiftBeyondWidth(_ x: Int128, mode: RoundingMode, random: Int128) -> Int128 {
        let q: Int128 = x < 0 ? -1 : 0
        switch mode {
        case .truncate: return q
        case .nearest: return 0
        case .stochastic: return x < 0 && random + x >= 0 ? 0 : q
        }
    }
}
