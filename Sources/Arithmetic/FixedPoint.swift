/// A fixed-point format `<bits, frac>`: an integer q of `bits` bits standing for q / 2^frac.
public struct FixedPoint: Hashable, Sendable, Codable, CustomStringConvertible {
    public var bits: Int
    public var frac: Int
    public var signed: Bool

    public init(bits: Int, frac: Int = 0, signed: Bool = true) {
        self.bits = bits
        self.frac = frac
        self.signed = signed
    }

    /// `s8.4` = signed, 8 bits, 4 fractional; `u16.0` = unsigned integer.
    public var description: String { "\(signed ? "s" : "u")\(bits).\(frac)" }

    /// The same in a form that fits a module name: `s8f4`, `u16f0`, `s8fm2` for frac -2.
    public var tag: String { "\(signed ? "s" : "u")\(bits)f\(frac < 0 ? "m\(-frac)" : "\(frac)")" }
}

