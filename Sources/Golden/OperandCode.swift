/// What the bits of an operand stand for (docs/FORMATS.md): a code, as it travels on the
/// array's wires, and the integer of a fixed-point value format it means. Written from the
/// format definitions, not from the generators, so a decoding slip in either shows up as a
/// mismatch.
public enum OperandCode: Sendable, Hashable {
    /// Two's-complement (or unsigned) fixed point: the code is the value.
    case fixed(FixedFormat)
    /// One bit: 1 is +1, 0 is -1 (BNN activations and weights, BWN weights).
    case binary
    /// Two bits `[nonzero, negative]`: 0b10 is +1, 0b11 is -1, 0b00 and 0b01 are 0.
    case ternary
    /// `[sign, e]` with an `exponentBits`-bit exponent field: e = 0 is zero, otherwise the
    /// magnitude is 2^(e-1), negative when the sign bit is set.
    case powerOfTwo(exponentBits: Int)
    /// An index into `entries` (2^n of them, integers of the weight format).
    case codebook([Int128])

    /// Bits of a code.
    public var bits: Int {
        switch self {
        case .fixed(let f): f.wordLength
        case .binary: 1
        case .ternary: 2
        case .powerOfTwo(let e): e + 1
        case .codebook(let entries): entries.count.trailingZeroBitCount
        }
    }

    /// Every code, as the integer the driver packs (fixed: the value's range; others: 0...2^bits - 1).
    public var codes: ClosedRange<Int128> {
        if case .fixed(let f) = self { return f.minInt...f.maxInt }
        return 0...((Int128(1) << bits) - 1)
    }

    /// The integer value `code` stands for. A fixed-point code is passed through unchecked, as
    /// the golden models always took integers (a test may feed one that does not fit, to see
    /// the hardware disagree).
    public func value(_ code: Int128) -> Int128 {
        if case .fixed = self { return code }
        precondition(codes.contains(code), "code \(code) is outside \(codes)")
        switch self {
        case .fixed:
            return code
        case .binary:
            return code == 1 ? 1 : -1
        case .ternary:
            let nonzero = code >> 1 == 1, negative = code & 1 == 1
            return nonzero ? (negative ? -1 : 1) : 0
        case .powerOfTwo(let e):
            let exponent = code & ((Int128(1) << e) - 1)
            let negative = code >> e == 1
            if exponent == 0 { return 0 }
            let magnitude = Int128(1) << (exponent - 1)
            return negative ? -magnitude : magnitude
        case .codebook(let entries):
            return entries[Int(code)]
        }
    }

    /// A matrix of codes as the matrix of values the PEs multiply.
    public func values(_ codes: Matrix<Int128>) -> Matrix<Int128> { codes.map(value) }
}
