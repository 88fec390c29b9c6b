import Foundation

/// A fixed-point format `<WL, FL>`: a WL-bit integer `q` standing for `q / 2^FL`.
///
/// Values are carried as `Int128` so that every format of up to 127 bits, signed or
/// unsigned, fits without overflow.
public struct FixedFormat: Hashable, Sendable, Codable, CustomStringConvertible {
    public let wordLength: Int
    /// May be negative or larger than `wordLength`: it only scales.
    public let fracLength: Int
    public let isSigned: Bool

    public init(wordLength: Int, fracLength: Int, signed: Bool) {
        precondition((1...127).contains(wordLength), "word length \(wordLength) is outside 1...127")
        self.wordLength = wordLength
        self.fracLength = fracLength
        self.isSigned = signed
    }

    private enum CodingKeys: String, CodingKey { case wordLength, fracLength, isSigned }

    /// Decoding validates the word length, so a bad file throws instead of trapping later.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let wl = try c.decode(Int.self, forKey: .wordLength)
        guard (1...127).contains(wl) else {
            throw DecodingError.dataCorruptedError(
                forKey: .wordLength, in: c, debugDescription: "word length \(wl) is outside 1...127")
        }
        self.init(wordLength: wl, fracLength: try c.decode(Int.self, forKey: .fracLength),
                  signed: try c.decode(Bool.self, forKey: .isSigned))
    }

    /// `-2^(WL-1)` when signed, else 0.
    public var minInt: Int128 { isSigned ? -maxInt - 1 : 0 }

    /// `2^(WL-1) - 1` when signed, else `2^WL - 1`. Derived from `Int128.max` by shifting
    /// right, so that 127-bit unsigned (`2^127 - 1`) never passes through an overflow.
    public var maxInt: Int128 { Int128.max >> (isSigned ? 128 - wordLength : 127 - wordLength) }

    public func contains(_ q: Int128) -> Bool { q >= minInt && q <= maxInt }

    /// `q / 2^FL` (rounded to the nearest Double once `|q| > 2^53`).
    public func realValue(_ q: Int128) -> Double { scalbn(Double(q), -fracLength) }

    /// Clamps to `[minInt, maxInt]`; a negative value into an unsigned format becomes 0.
    public func saturate(_ x: Int128) -> Int128 { min(max(x, minInt), maxInt) }

    /// Scales `v` by `2^FL`, rounds by `mode`, then saturates.
    ///
    /// For `.stochastic` the result is `floor(v·2^FL + randomFraction)`: it rounds up exactly
    /// when the dropped fraction plus `randomFraction` reaches 1. The fraction is taken apart
    /// from the integer part first, so a huge integral value is never pushed up by the addition.
    public func quantize(_ v: Double, mode: RoundingMode, randomFraction: Double = 0) -> Int128 {
        precondition(!v.isNaN, "cannot quantize NaN")
        precondition(randomFraction >= 0 && randomFraction < 1, "randomFraction must be in [0, 1)")
        let scaled = scalbn(v, fracLength)
        if scaled.isInfinite { return scaled > 0 ? maxInt : minInt }
        let rounded: Double
        switch mode {
        case .truncate:
            rounded = scaled.rounded(.down)
        case .nearest:
            rounded = scaled.rounded(.toNearestOrEven)
        case .stochastic:
            let floorPart = scaled.rounded(.down)
            let fraction = scaled - floorPart  // exact in binary floating point
            rounded = fraction + randomFraction >= 1 ? floorPart + 1 : floorPart
        }
        // Compare with exact powers of two before converting: Int128(Double) traps out of range.
        let lower = isSigned ? -scalbn(1.0, wordLength - 1) : 0
        let upperExclusive = scalbn(1.0, isSigned ? wordLength - 1 : wordLength)
        if rounded < lower { return minInt }
        if rounded >= upperExclusive { return maxInt }
        return Int128(rounded)
    }

    /// `s<WL,FL>` or `u<WL,FL>`.
    public var description: String { "\(isSigned ? "s" : "u")<\(wordLength),\(fracLength)>" }
}

/// Reduces `v` modulo `2^bits` and reads the result as a `bits`-wide signed or unsigned word.
/// Masks and sign-extends explicitly, so it is exact for any `bits` in 1...127.
public func wrapToWidth(_ v: Int128, bits: Int, signed: Bool) -> Int128 {
    precondition((1...127).contains(bits))
    let mask = (UInt128(1) << bits) - 1
    let low = UInt128(truncatingIfNeeded: v) & mask
    let signBit = UInt128(1) << (bits - 1)
    if signed && low & signBit != 0 {
        return Int128(truncatingIfNeeded: low | ~mask)  // sign-extend
    }
    return Int128(low)  // < 2^127, fits
}
