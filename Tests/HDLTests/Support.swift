import Foundation
import Testing
import HDL

// Helpers shared by the HDL tests. Nothing here calls the code under test to compute an expected
// value: expected values are plain Int arithmetic in the tests; the evaluator below gives every
// primitive node its textbook bit-pattern meaning (what the emitted Verilog `assign` computes).

/// The file every diagnostic of these tests must name (the `#fileID` of the test file).
func fileID(_ name: String) -> String { "HDLTests/\(name).swift" }

/// True when `text` mentions `file:line` with nothing but a non-digit after the line number.
func mentions(_ text: String, _ file: String, line: Int) -> Bool {
    let needle = "\(file):\(line)"
    var rest = text[...]
    while let r = rest.range(of: needle) {
        let after = rest[r.upperBound...]
        if after.first.map({ !$0.isNumber }) ?? true { return true }
        rest = after
    }
    return false
}

/// Defines a module and returns the elaboration error it throws (nil when it elaborates).
func elaborationError(_ name: String = "dut", file: String = #fileID, line: Int = #line,
                      _ body: (ModuleBuilder) throws -> Void) -> ElaborationError? {
    do {
        _ = try ModuleDefinition.define(name, file: file, line: line, body)
        return nil
    } catch let e as ElaborationError {
        return e
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

// MARK: Plain integer reference arithmetic

/// Wraps `v` into the range of a `width`-bit value of the given signedness (two's complement).
func wrap(_ v: Int, width: Int, signed: Bool) -> Int {
    let m = 1 << width
    var r = ((v % m) + m) % m
    if signed && r >= m / 2 { r -= m }
    return r
}

/// Every value a `width`-bit integer of the given signedness can hold.
func allValues(width: Int, signed: Bool) -> ClosedRange<Int> {
    signed ? -(1 << (width - 1))...((1 << (width - 1)) - 1) : 0...((1 << width) - 1)
}

func clamp(_ v: Int, width: Int, signed: Bool) -> Int {
    let r = allValues(width: width, signed: signed)
    return min(max(v, r.lowerBound), r.upperBound)
}

/// floor(x / 2^d) rounded by the rules of docs/ARITHMETIC.md.
func roundShift(_ x: Int, _ d: Int, nearest: Bool) -> Int {
    let q = x >> d  // Swift's >> on Int is an arithmetic shift: floor division by 2^d
    guard nearest, d > 0 else { return q }
    let rem = x - (q << d)
    let half = 1 << (d - 1)
    return rem > half || (rem == half && q & 1 == 1) ? q + 1 : q
}

// MARK: Reference evaluator of the primitive graph

/// Computes node values from input values by the primitive operations' bit-pattern meaning,
/// and checks the emitter's contract on the way: operands of arithmetic, bitwise, comparison
/// and mux nodes have equal widths (equal to the result's, except for comparisons), so no
/// result can depend on Verilog's context-determined widths. Widths up to 62 bits.
struct Evaluator {
    var inputs: [String: Int]
    private var memo: [Int: UInt64] = [:]
    private(set) var violations: [String] = []

    init(_ inputs: [String: Int]) { self.inputs = inputs }

    static func mask(_ w: Int) -> UInt64 { w >= 64 ? ~0 : (UInt64(1) << UInt64(w)) - 1 }
    static func pattern(_ v: Int, _ w: Int) -> UInt64 { UInt64(bitPattern: Int64(v)) & mask(w) }
    static func interpret(_ p: UInt64, _ shape: Shape) -> Int {
        let v = Int(p)
        return shape.isSigned && p >> UInt64(shape.width - 1) & 1 == 1 ? v - (1 << shape.width) : v
    }

    /// The integer value of `s` (read by its own shape).
    mutating func value(_ s: Signal) -> Int { Self.interpret(bits(s), s.shape) }

    private mutating func require(_ ok: Bool, _ what: @autoclosure () -> String) {
        if !ok { violations.append(what()) }
    }

    mutating func bits(_ s: Signal) -> UInt64 {
        if let known = memo[s.id] { return known }
        precondition(s.width <= 62, "evaluator handles up to 62 bits")
        let w = s.width
        let m = Self.mask(w)
        let result: UInt64
        switch s.op {
        case .input(let name):
            guard let v = inputs[name] else {
                violations.append("no value for input \(name)")
                return 0
            }
            require(allValues(width: w, signed: s.isSigned).contains(v), "input \(name)=\(v) does not fit \(s.shape)")
            result = Self.pattern(v, w)
        case .constant(let c):
            require(c >= 0 && c <= Int128(m), "constant pattern \(c) outside \(w) bits")
            result = UInt64(c)
        case .wire(let c):
            guard let d = c.driver else { violations.append("undriven \(s)"); return 0 }
            result = bits(d)
        case .not(let a):
            require(a.width == w, "not: operand width \(a.width) != \(w)")
            result = ~bits(a) & m
        case .reduce(let op, let a):
            require(w == 1, "reduction result is not 1 bit")
            let p = bits(a)
            switch op {
            case .and: result = p == Self.mask(a.width) ? 1 : 0
            case .or: result = p != 0 ? 1 : 0
            case .xor: result = UInt64(p.nonzeroBitCount & 1)
            }
        case .binary(let op, let a, let b):
            let pa = bits(a), pb = bits(b)
            switch op {
            case .add, .sub, .mul, .and, .or, .xor:
                require(a.width == w && b.width == w, "\(op): operand widths \(a.width), \(b.width) for a \(w)-bit result")
                require(a.isSigned == b.isSigned && a.isSigned == s.isSigned, "\(op): mixed signedness")
                switch op {
                case .add: result = (pa &+ pb) & m
                case .sub: result = (pa &- pb) & m
                case .mul: result = (pa &* pb) & m
                case .and: result = pa & pb
                case .or: result = pa | pb
                default: result = pa ^ pb
                }
            case .eq, .ne, .lt, .le:
                require(w == 1, "comparison result is not 1 bit")
                require(a.width == b.width, "\(op): operand widths \(a.width) != \(b.width)")
                require(a.isSigned == b.isSigned, "\(op): mixed signedness")
                // Verilog compares signed when both operands are ($signed on both), else unsigned.
                let x = a.isSigned ? Self.interpret(pa, a.shape) : Int(pa)
                let y = b.isSigned ? Self.interpret(pb, b.shape) : Int(pb)
                let r: Bool
                switch op {
                case .eq: r = x == y
                case .ne: r = x != y
                case .lt: r = x < y
                default: r = x <= y
                }
                result = r ? 1 : 0
            case .shl, .shr:
                require(a.width == w && a.isSigned == s.isSigned, "\(op): value operand \(a.shape) for a \(s.shape) result")
                let amount = pb  // the amount is always read unsigned
                if op == .shl {
                    result = amount >= UInt64(w) ? 0 : (pa << amount) & m
                } else if a.isSigned {
                    let v = Self.interpret(pa, a.shape)
                    result = Self.pattern(v >> Int(min(amount, 63)), w)
                } else {
                    result = amount >= UInt64(w) ? 0 : pa >> amount
                }
            }
        case .mux(let c, let t, let f):
            require(c.width == 1, "mux select is \(c.width) bits")
            require(t.width == w && f.width == w, "mux: branch widths \(t.width), \(f.width) for a \(w)-bit result")
            result = bits(c) == 1 ? bits(t) : bits(f)
        case .concat(let parts):
            require(parts.reduce(0) { $0 + $1.width } == w, "concat width")
            var acc: UInt64 = 0
            for p in parts { acc = (acc << UInt64(p.width)) | bits(p) }
            result = acc
        case .slice(let a, let hi, let lo):
            require(hi - lo + 1 == w && lo >= 0 && hi < a.width, "slice [\(hi):\(lo)] of \(a.width) bits into \(w)")
            result = (bits(a) >> UInt64(lo)) & m
        case .extend(let a):
            require(a.width <= w, "extend narrows")
            let v = a.isSigned ? Self.interpret(bits(a), a.shape) : Int(bits(a))
            result = Self.pattern(v, w)
        case .register, .memoryRead, .memoryReadSync, .instanceOutput, .parameter:
            violations.append("evaluator does not model \(s.kind)")
            result = 0
        }
        memo[s.id] = result
        return result
    }
}
