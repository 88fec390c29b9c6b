/// How low bits are dropped when a value is narrowed (docs/ARITHMETIC.md, "Rounding a right
/// shift"): what the ROUND unit does besides saturating, what the golden model and training do.
public enum RoundingMode: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// Floor. Free in hardware, but biased by about -1/2 LSB.
    case truncate
    /// Round to nearest, ties to even. Unbiased on ties without a random source.
    case nearest
    /// Round up with probability equal to the dropped fraction (Gupta et al., ICML 2015), so the
    /// expected error is zero; the random bits come from an LFSR.
    case stochastic

    public var description: String { rawValue }
}

/// How far a ROUND unit's LFSR advances per rounded output (docs/ARITHMETIC.md, LFSR).
public enum LFSRDraw: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// One step per output: consecutive draws of D bits share D - 1 of them (the older form).
    case one
    /// D steps per output (at least 1): every draw's D bits are new.
    case leap

    /// LFSR steps per output when each output draws `dropBits` bits.
    public func steps(dropBits: Int) -> Int { self == .leap ? max(dropBits, 1) : 1 }

    public var description: String { rawValue }
}
