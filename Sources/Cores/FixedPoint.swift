import HDL

extension FixedPoint {
    /// The hardware shape of the format's integers.
    public var shape: Shape { Shape(width: bits, signed: signed) }
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
