/// Width and signedness of a signal. Every signal has one, fixed when it is built.
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    public let width: Int
    public let isSigned: Bool

    public init(width: Int, signed: Bool) {
        self.width = width
        self.isSigned = signed
    }

    public static func unsigned(_ width: Int) -> Shape { Shape(width: width, signed: false) }
    public static func signed(_ width: Int) -> Shape { Shape(width: width, signed: true) }
    public static let bit = Shape.unsigned(1)

    /// Smallest and largest integer this shape holds (widths up to 127 bits).
    public var minValue: Int128 { isSigned ? -(Int128(1) << (width - 1)) : 0 }
    public var maxValue: Int128 {
        isSigned ? (Int128(1) << (width - 1)) - 1 : (width >= 127 ? Int128.max : (Int128(1) << width) - 1)
    }

    public func contains(_ value: Int128) -> Bool {
        if width >= 128 { return isSigned || value >= 0 }
        return value >= minValue && value <= maxValue
    }

    /// Narrowest shape of the given signedness that holds `value`.
    public static func fitting(_ value: Int128, signed: Bool) -> Shape {
        precondition(signed || value >= 0, "no unsigned shape holds \(value)")
        var w = 1
        while !Shape(width: w, signed: signed).contains(value) { w += 1 }
        return Shape(width: w, signed: signed)
    }

    public var description: String { (isSigned ? "s" : "u") + String(width) }
}

/// Where in the generator's Swift source a signal or connection was made.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }
    public var description: String { "\(file):\(line)" }
}

/// One problem found while elaborating a module.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public let message: String
    public let location: SourceLocation?
    public var description: String {
        (location.map { "\($0): " } ?? "") + "error: " + message
    }
}

/// Thrown when a module fails its elaboration checks. Lists every problem found.
public struct ElaborationError: Error, CustomStringConvertible {
    public let module: String
    public let diagnostics: [Diagnostic]
    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
