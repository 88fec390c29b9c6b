import HDL

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

    public var shape: Shape { Shape(width: bits, signed: signed) }

    /// `s8.4` = signed, 8 bits, 4 fractional; `u16.0` = unsigned integer.
    public var description: String { "\(signed ? "s" : "u")\(bits).\(frac)" }

    /// The same in a form that fits a module name: `s8f4`, `u16f0`, `s8fm2` for frac -2.
    public var tag: String { "\(signed ? "s" : "u")\(bits)f\(frac < 0 ? "m\(-frac)" : "\(frac)")" }
}

/// How the output path narrows an accumulator (docs/ARITHMETIC.md).
public enum OutputRounding: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case truncate, nearest, stochastic
    public var description: String { rawValue }
}

/// A refused generator parameter. `parameter` is the command-line flag's name.
public struct ParameterError: Error, CustomStringConvertible, Equatable {
    public let parameter: String
    public let value: String
    public let allowed: String

    public init(_ parameter: String, _ value: CustomStringConvertible, allowed: String) {
        self.parameter = parameter
        self.value = value.description
        self.allowed = allowed
    }

    public var description: String { "invalid value \(value) for --\(parameter): allowed \(allowed)" }
}

public func require(_ ok: Bool, _ parameter: String, _ value: CustomStringConvertible, _ allowed: String) throws {
    if !ok { throw ParameterError(parameter, value, allowed: allowed) }
}

/// ceil(log2(n)) for n >= 1.
public func ceilLog2(_ n: Int) -> Int { n <= 1 ? 0 : Int.bitWidth - (n - 1).leadingZeroBitCount }
