/// Multiply-accumulate unit: `acc <- acc + a·b` in a wrapping `accBits`-bit register.
public struct MACModel: Sendable {
    public let formatA: FixedFormat
    public let formatB: FixedFormat
    public let accBits: Int
    /// `<accBits, FLa + FLb>`, signed when either operand is signed.
    public let accFormat: FixedFormat
    /// The register, read as a value of `accFormat` (already wrapped).
    public private(set) var acc: Int128 = 0

    /// `WLa + WLb + ceil(log2 K)`: the product needs `WLa + WLb` bits and a sum of K of them
    /// `ceil(log2 K)` more, so K products never overflow.
    public static func defaultAccBits(a: FixedFormat, b: FixedFormat, maxK: Int = 1024) -> Int {
        precondition(maxK >= 1, "maxK must be >= 1")
        var ceilLog2 = 0
        while (1 << ceilLog2) < maxK { ceilLog2 += 1 }
        return a.wordLength + b.wordLength + ceilLog2
    }

    public init(a: FixedFormat, b: FixedFormat, accBits: Int) {
        precondition((1...127).contains(accBits), "accBits \(accBits) is outside 1...127")
        formatA = a
        formatB = b
        self.accBits = accBits
        accFormat = FixedFormat(wordLength: accBits, fracLength: a.fracLength + b.fracLength,
                                signed: a.isSigned || b.isSigned)
    }

    /// One rising edge. Priority: reset, then enable (`clear` makes it start a new sum with this
    /// product, so back-to-back reductions need no idle cycle), then clear, else hold.
    /// Operands are checked against their formats only when they are used.
    public mutating func clock(a: Int128, b: Int128, enable: Bool, clear: Bool, reset: Bool) {
        if reset {
            acc = 0
        } else if enable {
            precondition(formatA.contains(a), "a = \(a) is outside \(formatA)")
            precondition(formatB.contains(b), "b = \(b) is outside \(formatB)")
            // Wrapping operators keep the low 128 bits exact even when a·b needs more than
            // 127 bits, and only the low accBits bits survive the wrap.
            acc = wrapToWidth((clear ? 0 : acc) &+ a &* b, bits: accBits, signed: accFormat.isSigned)
        } else if clear {
            acc = 0
        }
    }
}
