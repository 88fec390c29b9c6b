import HDL

/// A multiply-accumulate unit: `acc <- (clear ? 0 : acc) + a·b` when enabled.
public struct MACConfig: Hashable, Sendable, Codable {
    public static let operandBits = 2...32
    public static let accBits = 2...100
    public static let maxKRange = 1...(1 << 24)

    public var a: FixedPoint
    public var b: FixedPoint
    /// Declared maximum reduction length K; sets the default accumulator width.
    public var maxK: Int
    /// nil: `a.bits + b.bits + ceil(log2 maxK)`, which never overflows for K products.
    public var accBitsOverride: Int?

    public init(a: FixedPoint = FixedPoint(bits: 8), b: FixedPoint? = nil, maxK: Int = 1024, accBits: Int? = nil) {
        self.a = a
        self.b = b ?? a
        self.maxK = maxK
        self.accBitsOverride = accBits
    }

    public var accBits: Int { accBitsOverride ?? a.bits + b.bits + ceilLog2(maxK) }
    public var product: FixedPoint { FixedPoint(bits: a.bits + b.bits, frac: a.frac + b.frac, signed: a.signed || b.signed) }
    public var accumulator: FixedPoint { FixedPoint(bits: accBits, frac: product.frac, signed: product.signed) }
    public var moduleName: String { "mac_\(a.tag)_\(b.tag)_acc\(accBits)" }

    enum CodingKeys: String, CodingKey { case a, b, maxK, accBits }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(a: try c.decode(FixedPoint.self, forKey: .a), b: try c.decode(FixedPoint.self, forKey: .b),
                  maxK: try c.decode(Int.self, forKey: .maxK), accBits: try c.decodeIfPresent(Int.self, forKey: .accBits))
    }

    /// Records the resolved accumulator width, default or not.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(a, forKey: .a)
        try c.encode(b, forKey: .b)
        try c.encode(maxK, forKey: .maxK)
        try c.encode(accBits, forKey: .accBits)
    }

    public func validate() throws {
        let range = "\(Self.operandBits.lowerBound)...\(Self.operandBits.upperBound)"
        try require(Self.operandBits.contains(a.bits), "input-bits", a.bits, range)
        try require(Self.operandBits.contains(b.bits), "weight-bits", b.bits, range)
        try require(Self.maxKRange.contains(maxK), "max-k", maxK, "1...\(Self.maxKRange.upperBound)")
        try require(Self.accBits.contains(accBits), "acc-bits", accBits, "\(Self.accBits.lowerBound)...\(Self.accBits.upperBound)")
    }
}

public enum MAC {
    /// The MAC's ports, declared once for the generator and its drivers.
    public struct Interface: Sendable {
        public let a, b, en, clear: Port
        /// The accumulator register.
        public let acc: Port
        public init(_ c: MACConfig) {
            (a, b, en, clear) = (.input("a", c.a.shape), .input("b", c.b.shape), .input("en", .bit), .input("clear", .bit))
            acc = .output("acc", c.accumulator.shape)
        }
        public var inputs: [Port] { [a, b, en, clear] }
    }

    /// Ports: `a`, `b`, `en`, `clear` in; `acc` out (the accumulator register).
    public static func module(_ c: MACConfig) throws -> ModuleDefinition {
        try c.validate()
        let p = Interface(c)
        return try ModuleDefinition.define(c.moduleName) { m in
            let a = m.input(p.a)
            let b = m.input(p.b)
            let en = m.input(p.en)
            let clear = m.input(p.clear)
            let acc = m.register("acc_q", c.accumulator.shape)
            // Gating `a` with `en` zeroes the product when idle, so the register loads on
            // `en | clear` and the multiply, add and register all fit one DSP48 (ENERGY.md).
            let gated = mux(en, a, m.constant(0, a.shape))
            let product = (gated * b).named("product")
            let addend = product.width > c.accBits ? product.truncated(to: c.accBits) : product.extended(to: c.accBits)
            let base = mux(clear, m.constant(0, acc.shape), acc)
            let sum = (base &+ addend).named("sum")
            acc.assign(mux(en | clear, sum, acc))
            m.output(p.acc, acc)
        }
    }
}
