import HDL

/// A number format's codes as hardware shapes (the format itself is Arithmetic's).
extension NumberFormat {
    /// The code of A on the wires and in the PE's registers.
    public func activationCode(_ a: FixedPoint) -> Shape { self == .binary ? .unsigned(1) : a.shape }

    /// The code of B on the wires (for a codebook: at the array's edge, before decoding).
    public func weightCode(_ b: FixedPoint) -> Shape {
        switch self {
        case .fixed: b.shape
        case .binary, .binaryWeights: .unsigned(1)
        case .ternary: .unsigned(2)
        case .powerOfTwo(let e): .unsigned(1 + e)
        case .codebook(let n): .unsigned(n)
        }
    }
}
