// Width rules (every result width is known when the node is built):
//
// | operation                       | result                                                    |
// |---------------------------------|-----------------------------------------------------------|
// | a + b, a - b                    | max(wa, wb) + 1 bits (never overflows); unsigned - unsigned is signed |
// | a &+ b, a &- b                  | max(wa, wb) bits, wraps                                   |
// | a * b                           | wa + wb bits; signed if either operand is signed          |
// | a & b, a | b, a ^ b             | max(wa, wb) bits; each operand extended by its own kind   |
// | ~a                              | wa bits                                                   |
// | a << n, a >> n (n: Int or Signal) | wa bits; >> is arithmetic for signed a, logical for unsigned |
// | a .== b, .!=, .<, .<=, .>, .>=  | 1 bit, unsigned; compares the values exactly              |
// | a.bits(hi, lo), a.bit(i)        | hi - lo + 1 bits, unsigned                                |
// | cat(a, b, ...)                  | sum of widths, unsigned, a most significant               |
// | mux(s, a, b)                    | as for a & b                                              |
// | a.andReduce() etc.              | 1 bit                                                     |
//
// Mixed signedness: the unsigned operand first gains a zero bit and becomes signed, so every
// operation compares and computes the true values. An integer operand becomes the narrowest
// constant of the other operand's signedness that holds it (wrapping operators reduce it modulo
// 2^width instead).

extension Signal {
    var m: ModuleBuilder { module }

    /// Sign- or zero-extends (by this signal's kind) to `width`, which may not be smaller.
    public func extended(to width: Int, file: String = #fileID, line: Int = #line) -> Signal {
        if width < self.width {
            m.error("cannot extend \(self) to \(width) bits: that would narrow it; use truncated(to:) or saturated(to:)", at: SourceLocation(file: file, line: line))
            return self
        }
        if width == self.width { return self }
        let shape = Shape(width: width, signed: isSigned)
        if case .constant = op, let v = constantValue { return m.constant(v, shape) }
        return Signal(shape, .extend(self), in: m)
    }

    public func zeroExtended(to width: Int, file: String = #fileID, line: Int = #line) -> Signal {
        asUnsigned.extended(to: width, file: file, line: line)
    }

    public func signExtended(to width: Int, file: String = #fileID, line: Int = #line) -> Signal {
        asSigned.extended(to: width, file: file, line: line)
    }

    /// The same bits read as two's complement (no new hardware).
    public var asSigned: Signal { isSigned ? self : reinterpret(signed: true) }
    /// The same bits read as unsigned (no new hardware).
    public var asUnsigned: Signal { isSigned ? reinterpret(signed: false) : self }

    private func reinterpret(signed: Bool) -> Signal {
        let shape = Shape(width: width, signed: signed)
        if width <= 126, case .constant(let bits) = op {
            let v = signed && bits > shape.maxValue ? bits - (Int128(1) << width) : bits
            return m.constant(v, shape)
        }
        return Signal(Shape(width: width, signed: signed), .slice(self, hi: width - 1, lo: 0), in: m)
    }

    /// `width - 1 ... 0`, unsigned.
    public func bits(_ hi: Int, _ lo: Int, file: String = #fileID, line: Int = #line) -> Signal {
        guard lo >= 0, hi >= lo, hi < width else {
            m.error("bit range [\(hi):\(lo)] is outside \(self)", at: SourceLocation(file: file, line: line))
            return m.constant(0, .unsigned(max(1, hi - lo + 1)), file: file, line: line)
        }
        if lo == 0 && hi == width - 1 && !isSigned { return self }
        return Signal(.unsigned(hi - lo + 1), .slice(self, hi: hi, lo: lo), in: m)
    }

    public func bit(_ i: Int, file: String = #fileID, line: Int = #line) -> Signal { bits(i, i, file: file, line: line) }
    public var msb: Signal { bits(width - 1, width - 1) }

    public func andReduce() -> Signal { Signal(.bit, .reduce(.and, self), in: m) }
    public func orReduce() -> Signal { Signal(.bit, .reduce(.or, self), in: m) }
    public func xorReduce() -> Signal { Signal(.bit, .reduce(.xor, self), in: m) }

    /// Brings two operands to a common shape that holds both values exactly.
    /// The integer value of a constant node (nil for other nodes or over 126 bits).
    public var constantValue: Int128? {
        guard case .constant(let bits) = op, width <= 126 else { return nil }
        return isSigned && bits > shape.maxValue ? bits - (Int128(1) << width) : bits
    }

    static func unify(_ a: Signal, _ b: Signal, extra: Int = 0) -> (Signal, Signal, Shape) {
        let signed = a.isSigned || b.isSigned
        func need(_ s: Signal) -> Int { signed && !s.isSigned ? s.width + 1 : s.width }
        let shape = Shape(width: max(need(a), need(b)) + extra, signed: signed)
        func fit(_ s: Signal) -> Signal {
            let widened = s.extended(to: signed && !s.isSigned ? s.width + 1 : s.width)
            return (signed ? widened.asSigned : widened).extended(to: shape.width)
        }
        return (fit(a), fit(b), shape)
    }

    /// Brings an integer to a constant beside `s` (narrowest shape of s's kind holding it).
    func literal(_ value: Int) -> Signal {
        let v = Int128(value)
        if v < 0 && !isSigned { return m.constant(v, .fitting(v, signed: true)) }
        return m.constant(v, .fitting(v, signed: isSigned))
    }

    func wrapped(_ value: Int) -> Signal {
        // From 128 bits on, a constant holds its value sign-extended rather than as a pattern,
        // so a negative operand (all ones above) is made signed and then read like self.
        if width >= 128 && value < 0 { return m.constant(Int128(value), .signed(width)).reinterpretedLike(self) }
        return m.constant(ModuleBuilder.pattern(Int128(value), .unsigned(width)), .unsigned(width)).reinterpretedLike(self)
    }

    func reinterpretedLike(_ s: Signal) -> Signal { s.isSigned ? asSigned : asUnsigned }

    static func binary(_ op: BinaryOp, _ a: Signal, _ b: Signal, extra: Int = 0) -> Signal {
        a.m.checkOwnership(b, at: nil)
        let (x, y, shape) = unify(a, b, extra: extra)
        return Signal(shape, .binary(op, x, y), in: a.m)
    }

    static func compare(_ op: BinaryOp, _ a: Signal, _ b: Signal) -> Signal {
        a.m.checkOwnership(b, at: nil)
        let (x, y, _) = unify(a, b)
        return Signal(.bit, .binary(op, x, y), in: a.m)
    }
}

// MARK: Arithmetic

public func + (a: Signal, b: Signal) -> Signal { Signal.binary(.add, a, b, extra: 1) }
public func + (a: Signal, b: Int) -> Signal { a + a.literal(b) }

public func - (a: Signal, b: Signal) -> Signal {
    // Unsigned - unsigned can go negative: compute it signed, one bit wider than both.
    if !a.isSigned && !b.isSigned {
        let w = max(a.width, b.width) + 1
        return Signal.binary(.sub, a.extended(to: w).asSigned, b.extended(to: w).asSigned)
    }
    return Signal.binary(.sub, a, b, extra: 1)
}
public func - (a: Signal, b: Int) -> Signal { a - a.literal(b) }

public func &+ (a: Signal, b: Signal) -> Signal { Signal.binary(.add, a, b) }
public func &+ (a: Signal, b: Int) -> Signal { a &+ a.wrapped(b) }
public func &- (a: Signal, b: Signal) -> Signal { Signal.binary(.sub, a, b) }
public func &- (a: Signal, b: Int) -> Signal { a &- a.wrapped(b) }

public func * (a: Signal, b: Signal) -> Signal {
    a.m.checkOwnership(b, at: nil)
    let signed = a.isSigned || b.isSigned
    let w = a.width + b.width
    // Extending both operands to the full product width makes the low w bits of the product
    // exact for every signedness mix, with no context-determined Verilog widths.
    func fit(_ s: Signal) -> Signal {
        let e = s.extended(to: w)
        return signed ? e.asSigned : e
    }
    return Signal(Shape(width: w, signed: signed), .binary(.mul, fit(a), fit(b)), in: a.m)
}

public prefix func - (a: Signal) -> Signal { a.literal(0) - a }

// MARK: Bitwise

public func & (a: Signal, b: Signal) -> Signal { Signal.binary(.and, a, b) }
public func | (a: Signal, b: Signal) -> Signal { Signal.binary(.or, a, b) }
public func ^ (a: Signal, b: Signal) -> Signal { Signal.binary(.xor, a, b) }
public func & (a: Signal, b: Int) -> Signal { a & a.wrapped(b) }
public func | (a: Signal, b: Int) -> Signal { a | a.wrapped(b) }
public func ^ (a: Signal, b: Int) -> Signal { a ^ a.wrapped(b) }
public prefix func ~ (a: Signal) -> Signal { Signal(a.shape, .not(a), in: a.m) }

// MARK: Shifts (width-preserving)

public func << (a: Signal, n: Int) -> Signal {
    if n <= 0 { return a }
    if n >= a.width { return a.m.constant(0, a.shape) }
    let zeros = a.m.constant(0, .unsigned(n))
    return cat(a.bits(a.width - 1 - n, 0), zeros).reinterpretedLike(a)
}

public func >> (a: Signal, n: Int) -> Signal {
    if n <= 0 { return a }
    if n >= a.width { return a.isSigned ? a.msb.asSigned.extended(to: a.width) : a.m.constant(0, a.shape) }
    let high = a.bits(a.width - 1, n).reinterpretedLike(a)
    return high.extended(to: a.width)
}

public func << (a: Signal, amount: Signal) -> Signal {
    a.m.checkOwnership(amount, at: nil)
    return Signal.dynamicShift(.shl, a, amount.asUnsigned)
}

public func >> (a: Signal, amount: Signal) -> Signal {
    a.m.checkOwnership(amount, at: nil)
    return Signal.dynamicShift(.shr, a, amount.asUnsigned)
}

extension Signal {
    /// Verilator refuses a shift whose amount folds to a constant of more than 32 bits, so an
    /// amount wider than that is split: its low bits shift, and any high bit set shifts every
    /// bit out (which the low bits already do once they reach the width).
    static func dynamicShift(_ op: BinaryOp, _ a: Signal, _ amount: Signal) -> Signal {
        let keep = max(1, Int.bitWidth - a.width.leadingZeroBitCount)  // bits of a.width
        guard amount.width > 32, amount.width > keep else { return Signal(a.shape, .binary(op, a, amount), in: a.m) }
        let shifted = Signal(a.shape, .binary(op, a, amount.bits(keep - 1, 0)), in: a.m)
        let outOfRange = amount.bits(amount.width - 1, keep).orReduce()
        let allOut = op == .shr && a.isSigned ? a.msb.asSigned.extended(to: a.width) : a.m.constant(0, a.shape)
        return mux(outOfRange, allOut, shifted)
    }
}

// MARK: Comparisons (hardware; Swift's == stays node identity)

infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence

public func .== (a: Signal, b: Signal) -> Signal { Signal.compare(.eq, a, b) }
public func .!= (a: Signal, b: Signal) -> Signal { Signal.compare(.ne, a, b) }
public func .< (a: Signal, b: Signal) -> Signal { Signal.compare(.lt, a, b) }
public func .<= (a: Signal, b: Signal) -> Signal { Signal.compare(.le, a, b) }
public func .> (a: Signal, b: Signal) -> Signal { Signal.compare(.lt, b, a) }
public func .>= (a: Signal, b: Signal) -> Signal { Signal.compare(.le, b, a) }
public func .== (a: Signal, b: Int) -> Signal { a .== a.literal(b) }
public func .!= (a: Signal, b: Int) -> Signal { a .!= a.literal(b) }
public func .< (a: Signal, b: Int) -> Signal { a .< a.literal(b) }
public func .<= (a: Signal, b: Int) -> Signal { a .<= a.literal(b) }
public func .> (a: Signal, b: Int) -> Signal { a .> a.literal(b) }
public func .>= (a: Signal, b: Int) -> Signal { a .>= a.literal(b) }

// MARK: Structure

/// Concatenation, first argument most significant. The result is unsigned.
public func cat(_ parts: Signal...) -> Signal { cat(parts) }

public func cat(_ parts: [Signal]) -> Signal {
    precondition(!parts.isEmpty, "cat needs at least one signal")
    if parts.count == 1 { return parts[0].asUnsigned }
    let m = parts[0].m
    for p in parts.dropFirst() { m.checkOwnership(p, at: nil) }
    return Signal(.unsigned(parts.reduce(0) { $0 + $1.width }), .concat(parts), in: m)
}

/// `select ? whenTrue : whenFalse`; the branches are brought to a common shape.
public func mux(_ select: Signal, _ whenTrue: Signal, _ whenFalse: Signal, file: String = #fileID, line: Int = #line) -> Signal {
    let m = select.m
    if select.width != 1 { m.error("mux select must be 1 bit, got \(select)", at: SourceLocation(file: file, line: line)) }
    m.checkOwnership(whenTrue, at: nil)
    m.checkOwnership(whenFalse, at: nil)
    let (t, f, shape) = Signal.unify(whenTrue, whenFalse)
    return Signal(shape, .mux(select: select, whenTrue: t, whenFalse: f), in: m)
}

public func mux(_ select: Signal, _ whenTrue: Signal, _ whenFalse: Int, file: String = #fileID, line: Int = #line) -> Signal {
    mux(select, whenTrue, whenTrue.literal(whenFalse), file: file, line: line)
}

public func mux(_ select: Signal, _ whenTrue: Int, _ whenFalse: Signal, file: String = #fileID, line: Int = #line) -> Signal {
    mux(select, whenFalse.literal(whenTrue), whenFalse, file: file, line: line)
}

/// N-way selection by an unsigned index; indices past the end give `default`.
public func select(_ index: Signal, _ cases: [Signal], default fallback: Signal) -> Signal {
    var level = cases
    let capacity = 1 << index.width
    while level.count < capacity { level.append(fallback) }
    level = Array(level.prefix(capacity))
    for bit in 0..<index.width {
        let s = index.bit(bit)
        level = stride(from: 0, to: level.count, by: 2).map { mux(s, level[$0 + 1], level[$0]) }
    }
    return level[0]
}
