/// How a PE's operands travel and multiply (docs/FORMATS.md). The array's `a` and `b` stay the
/// fixed-point *values* the PE accumulates (they set the accumulator and the rounding); the
/// format says how those values are coded on the wires, in the PE's registers and in its
/// multiplier. Every format but `fixed` codes the weights (B) in fewer bits; `binary` codes the
/// activations (A) too.
public enum NumberFormat: Hashable, Sendable, CustomStringConvertible {
    /// Two's-complement fixed point: the code is the value.
    case fixed
    /// BNN / XNOR-Net (Courbariaux et al. 2016, Rastegari et al. ECCV 2016): A and B in {-1, +1},
    /// one bit each (1: +1, 0: -1); a product is +1 when the bits agree (XNOR), so K products sum
    /// to `2·popcount(XNOR) - K`.
    case binary
    /// BinaryConnect / BWN (Courbariaux et al. NIPS 2015): B in {-1, +1} (1: +1), A fixed point;
    /// the multiply is a conditional negate.
    case binaryWeights
    /// TWN (Li et al. 2016): B in {-1, 0, +1}, two bits `[nonzero, negative]`; the multiply is
    /// a conditional negate and a zero gate.
    case ternary
    /// LogNet (Lee et al. ICASSP 2017): B is zero or ±2^(e-1), coded `[sign, e]` with an
    /// `exponentBits`-bit exponent field, e = 0 meaning zero; the multiply is a shift of A.
    case powerOfTwo(exponentBits: Int)
    /// Deep Compression weight sharing (Han et al. ICLR 2016): B is an `indexBits`-bit index
    /// into a table of 2^indexBits fixed-point weights (format `b`), loaded with the layer on
    /// the `codebook` port and decoded where weights enter the array, so the PE stays a plain MAC.
    case codebook(indexBits: Int)

    public static let exponentBitsRange = 2...4
    public static let indexBitsRange = 1...6
    /// Widths a `fixed<N>` spelling takes where a format also fixes the operand bits (sweeps,
    /// network quantization schemes): A and B N bits.
    public static let fixedBitsRange = 2...16

    /// The one table every command-line list, help text and refusal derives from: each family's
    /// spelling, its short spellings, and what it means.
    public static let families: [(spelling: String, shorthand: String?, meaning: String)] = [
        ("fixed", nil, "two's-complement fixed point"),
        ("binary", nil, "A and B ±1, XNOR-popcount"),
        ("bwn", nil, "B ±1"),
        ("ternary", nil, "B in {-1, 0, +1}"),
        ("pow2e<\(exponentBitsRange.lowerBound)..\(exponentBitsRange.upperBound)>", "pow2 (pow2e3)", "B zero or ±2^k, with that many exponent bits"),
        ("codebook<\(indexBitsRange.lowerBound)..\(indexBitsRange.upperBound)>", "codebook (codebook4)", "B an index into a table of 2^n weights"),
    ]

    /// The command-line spellings, one per family (`pow2e3`, `codebook4` set their parameter).
    public static var names: [String] { families.map(\.spelling) }

    /// Every spelling, shorthands included: `fixed, binary, bwn, ternary, pow2 (pow2e3),
    /// pow2e<2..4>, codebook (codebook4), codebook<1..6>`; `except` leaves families out.
    public static func allowed(except: Set<String> = []) -> String {
        families.filter { !except.contains($0.spelling) }
            .flatMap { [$0.shorthand, $0.spelling].compactMap { $0 } }.joined(separator: ", ")
    }

    /// The spelling of this format's family in `families`: `pow2e<2..4>` for pow2e3.
    public var family: String {
        switch self {
        case .powerOfTwo: Self.families.first { $0.spelling.hasPrefix("pow2e") }!.spelling
        case .codebook: Self.families.first { $0.spelling.hasPrefix("codebook") }!.spelling
        case .fixed, .binary, .binaryWeights, .ternary: description
        }
    }

    /// Each family with its meaning, for help texts: `fixed (two's-complement fixed point), ...`.
    public static var help: String {
        families.map { "\($0.spelling) (\($0.meaning)\($0.shorthand.map { "; " + $0 } ?? ""))" }.joined(separator: ", ")
    }

    public var description: String {
        switch self {
        case .fixed: "fixed"
        case .binary: "binary"
        case .binaryWeights: "bwn"
        case .ternary: "ternary"
        case .powerOfTwo(let e): "pow2e\(e)"
        case .codebook(let n): "codebook\(n)"
        }
    }

    /// Parses `description`; `pow2` alone means 3 exponent bits and `codebook` alone 4 index bits.
    public init?(_ text: String) {
        func suffix(_ prefix: String, default d: Int) -> Int? {
            let rest = text.dropFirst(prefix.count)
            return rest.isEmpty ? d : Int(rest)
        }
        switch text {
        case "fixed": self = .fixed
        case "binary": self = .binary
        case "bwn": self = .binaryWeights
        case "ternary": self = .ternary
        default:
            if text.hasPrefix("pow2e") || text == "pow2", let e = suffix(text == "pow2" ? "pow2" : "pow2e", default: 3),
               Self.exponentBitsRange.contains(e) {
                self = .powerOfTwo(exponentBits: e)
            } else if text.hasPrefix("codebook"), let n = suffix("codebook", default: 4), Self.indexBitsRange.contains(n) {
                self = .codebook(indexBits: n)
            } else {
                return nil
            }
        }
    }

    /// The fixed-point value format of A the PE accumulates, given the one asked for: binary
    /// values are ±1, so two signed bits with the requested scale.
    public func activationValue(_ a: FixedPoint) -> FixedPoint {
        self == .binary ? FixedPoint(bits: 2, frac: a.frac, signed: true) : a
    }

    /// The value format of B: ±1 and {-1, 0, +1} need two signed bits, powers of two up to
    /// 2^(2^E - 2) need 2^E; a codebook's entries and fixed-point weights are `b` itself.
    public func weightValue(_ b: FixedPoint) -> FixedPoint {
        switch self {
        case .fixed, .codebook: b
        case .binary, .binaryWeights, .ternary: FixedPoint(bits: 2, frac: b.frac, signed: true)
        case .powerOfTwo(let e): FixedPoint(bits: 1 << e, frac: b.frac, signed: true)
        }
    }

    /// Bits of one exact product of A and B values, which with `ceil(log2 K)` more bits hold any
    /// sum of K of them (binary: see `ArrayConfig.accBits`).
    public func productBits(a: FixedPoint, b: FixedPoint) -> Int {
        switch self {
        case .fixed, .codebook: a.bits + b.bits
        // -a of an a-bit value needs a.bits + 1 bits (unsigned a gains a sign).
        case .binaryWeights, .ternary, .binary: a.bits + 1
        // a shifted by up to 2^E - 2, plus a sign.
        case .powerOfTwo(let e): a.bits + (1 << e) - 1
        }
    }

    /// Whether the code is the weight's value itself in a few bits (±1, ternary, powers of two),
    /// rather than fixed point or a table index.
    public var codesWeightValues: Bool {
        switch self {
        case .fixed, .codebook: false
        case .binary, .binaryWeights, .ternary, .powerOfTwo: true
        }
    }

    /// Whether a weight code can stand for zero by a flag in the code (ternary, powers of two),
    /// so that a PE with zero gating can skip it as it skips a zero activation.
    public var codesZeroWeight: Bool {
        switch self {
        case .ternary, .powerOfTwo: true
        case .fixed, .binary, .binaryWeights, .codebook: false
        }
    }

    /// Whether weight `code` is such a zero.
    public func isZeroWeight(code: Int) -> Bool {
        switch self {
        case .ternary: code >> 1 == 0
        case .powerOfTwo(let e): code & ((1 << e) - 1) == 0
        case .fixed, .binary, .binaryWeights, .codebook: false
        }
    }

    /// Short tag for module names: empty for fixed, so today's names stay.
    public var tag: String { self == .fixed ? "" : "_\(description)" }
}

extension NumberFormat: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let f = NumberFormat(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown number format '\(text)': allowed \(Self.names.joined(separator: ", "))"))
        }
        self = f
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
