/// Arithmetic on bit vectors of any width, stored as 64-bit words, least significant first.
///
/// A vector of width `w` takes `(w + 63) / 64` words and keeps the bits above `w` in its top
/// word zero; every operation here leaves its result that way. Signedness is not stored: the
/// operations that care (comparisons, arithmetic right shift, sign extension) are told.
/// The simulator keeps all its values in one array and calls these on pointers into it, so
/// evaluating a node allocates nothing.
enum Words {
    typealias Ptr = UnsafeMutablePointer<UInt64>

    static func count(_ width: Int) -> Int { (width + 63) >> 6 }

    /// The valid bits of the top word of a `width`-bit vector.
    static func topMask(_ width: Int) -> UInt64 {
        width & 63 == 0 ? ~0 : (1 << UInt64(width & 63)) - 1
    }

    static func bit(_ a: Ptr, _ i: Int) -> Bool { (a[i >> 6] >> UInt64(i & 63)) & 1 == 1 }

    static func signBit(_ a: Ptr, _ width: Int) -> Bool { bit(a, width - 1) }

    static func clear(_ d: Ptr, _ width: Int) { d.update(repeating: 0, count: count(width)) }

    static func copy(_ d: Ptr, _ a: Ptr, _ width: Int) { d.update(from: a, count: count(width)) }

    /// 64 bits of `a` (a `width`-bit vector) starting at bit `position`; zeros past the end.
    static func word(_ a: Ptr, _ width: Int, at position: Int) -> UInt64 {
        let n = count(width)
        let q = position >> 6, r = UInt64(position & 63)
        var v: UInt64 = q < n ? a[q] >> r : 0
        if r > 0 && q + 1 < n { v |= a[q + 1] << (64 - r) }
        return v
    }

    /// Sets bits `from..<to` of `d` to one.
    static func setBits(_ d: Ptr, from: Int, to: Int) {
        var i = from
        while i < to {
            let r = i & 63
            let k = min(64 - r, to - i)
            d[i >> 6] |= (k == 64 ? ~0 : (UInt64(1) << UInt64(k)) - 1) << UInt64(r)
            i += k
        }
    }

    /// The vector's value when it is below `limit`, else nil.
    static func smallValue(_ a: Ptr, _ width: Int, below limit: Int) -> Int? {
        let n = count(width)
        for i in 1..<max(n, 1) where a[i] != 0 { return nil }
        return a[0] < UInt64(limit) ? Int(a[0]) : nil
    }

    /// `value` (two's complement, sign-extended past 128 bits) as a `width`-bit vector.
    static func store(_ value: Int128, into d: Ptr, _ width: Int) {
        let fill: UInt64 = value < 0 ? ~0 : 0
        for i in 0..<count(width) {
            d[i] = i == 0 ? UInt64(truncatingIfNeeded: value) : i == 1 ? UInt64(truncatingIfNeeded: value >> 64) : fill
        }
        d[count(width) - 1] &= topMask(width)
    }

    // MARK: Operations (d never aliases an operand)

    static func not(_ d: Ptr, _ a: Ptr, _ width: Int) {
        let n = count(width)
        for i in 0..<n { d[i] = ~a[i] }
        d[n - 1] &= topMask(width)
    }

    static func reduce(_ op: ReduceOp, _ a: Ptr, _ width: Int) -> Bool {
        let n = count(width)
        switch op {
        case .and:
            for i in 0..<(n - 1) where a[i] != ~0 { return false }
            return a[n - 1] == topMask(width)
        case .or:
            for i in 0..<n where a[i] != 0 { return true }
            return false
        case .xor:
            var ones = 0
            for i in 0..<n { ones += a[i].nonzeroBitCount }
            return ones & 1 == 1
        }
    }

    static func add(_ d: Ptr, _ a: Ptr, _ b: Ptr, _ width: Int) {
        addWithCarry(d, a, b, width, invertB: false, carryIn: 0)
    }

    /// a - b as a + ~b + 1.
    static func sub(_ d: Ptr, _ a: Ptr, _ b: Ptr, _ width: Int) {
        addWithCarry(d, a, b, width, invertB: true, carryIn: 1)
    }

    /// a + (invertB ? ~b : b) + carryIn, word by word, in `width` bits.
    @inline(__always)
    static func addWithCarry(_ d: Ptr, _ a: Ptr, _ b: Ptr, _ width: Int, invertB: Bool, carryIn: UInt64) {
        let n = count(width)
        var carry = carryIn
        for i in 0..<n {
            let (s1, o1) = a[i].addingReportingOverflow(invertB ? ~b[i] : b[i])
            let (s2, o2) = s1.addingReportingOverflow(carry)
            d[i] = s2
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        d[n - 1] &= topMask(width)
    }

    /// The low `width` bits of a * b: the same for signed and unsigned operands of that width.
    static func mul(_ d: Ptr, _ a: Ptr, _ b: Ptr, _ width: Int) {
        let n = count(width)
        d.update(repeating: 0, count: n)
        for i in 0..<n where a[i] != 0 {
            var carry: UInt64 = 0
            for j in 0..<(n - i) {
                let (hi, lo) = a[i].multipliedFullWidth(by: b[j])
                let (s1, o1) = d[i + j].addingReportingOverflow(lo)
                let (s2, o2) = s1.addingReportingOverflow(carry)
                d[i + j] = s2
                carry = hi &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0)  // hi <= 2^64 - 2: no overflow
            }
        }
        d[n - 1] &= topMask(width)
    }

    static func and(_ d: Ptr, _ a: Ptr, _ b: Ptr, _ width: Int) {
        for i in 0..<count(width) { d[i] = a[i] & b[i] }
    }

    static func or(_ d: Ptr, _ a: Ptr, _ b: Ptr, _ width: Int) {
        for i in 0..<count(width) { d[i] = a[i] | b[i] }
    }

    static func xor(_ d: Ptr, _ a: Ptr, _ b: Ptr, _ width: Int) {
        for i in 0..<count(width) { d[i] = a[i] ^ b[i] }
    }

    static func equal(_ a: Ptr, _ b: Ptr, _ width: Int) -> Bool {
        for i in 0..<count(width) where a[i] != b[i] { return false }
        return true
    }

    /// -1, 0 or 1 as a is below, equal to or above b.
    static func compare(_ a: Ptr, _ b: Ptr, _ width: Int, signed: Bool) -> Int {
        if signed {
            let sa = signBit(a, width), sb = signBit(b, width)
            if sa != sb { return sa ? -1 : 1 }
        }
        // Same sign: two's-complement order is the unsigned order of the bit patterns.
        var i = count(width) - 1
        while i >= 0 {
            if a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
            i -= 1
        }
        return 0
    }

    /// a << amount, where the amount is the unsigned vector `b` of `bWidth` bits.
    static func shiftLeft(_ d: Ptr, _ a: Ptr, _ width: Int, by b: Ptr, _ bWidth: Int) {
        let n = count(width)
        d.update(repeating: 0, count: n)
        guard let amount = smallValue(b, bWidth, below: width) else { return }
        let ws = amount >> 6, bs = UInt64(amount & 63)
        for i in ws..<n {
            var v = a[i - ws] << bs
            if bs > 0 && i - ws - 1 >= 0 { v |= a[i - ws - 1] >> (64 - bs) }
            d[i] = v
        }
        d[n - 1] &= topMask(width)
    }

    /// a >> amount: arithmetic (sign-filling) when `signed`, else logical.
    static func shiftRight(_ d: Ptr, _ a: Ptr, _ width: Int, by b: Ptr, _ bWidth: Int, signed: Bool) {
        let n = count(width)
        let negative = signed && signBit(a, width)
        let amount = smallValue(b, bWidth, below: width) ?? width
        for i in 0..<n { d[i] = word(a, width, at: min(i * 64 + amount, width)) }
        if negative { setBits(d, from: width - amount, to: width) }
        d[n - 1] &= topMask(width)
    }

    /// Bits `lo ..< lo + width` of `a` (a vector of `aWidth` bits).
    static func slice(_ d: Ptr, _ width: Int, _ a: Ptr, _ aWidth: Int, lo: Int) {
        let n = count(width)
        for i in 0..<n { d[i] = word(a, aWidth, at: lo + i * 64) }
        d[n - 1] &= topMask(width)
    }

    /// ORs the `width`-bit vector `a` into `d` at bit `position` (d's bits there must be zero).
    static func insert(_ d: Ptr, at position: Int, _ a: Ptr, _ width: Int) {
        let q = position >> 6, r = UInt64(position & 63)
        for i in 0..<count(width) {
            d[q + i] |= a[i] << r
            // The high part of the word spills into the next word only when bits remain there.
            if r > 0 && (i * 64 + 64 - Int(r)) < width { d[q + i + 1] |= a[i] >> (64 - r) }
        }
    }

    /// Zero- or sign-extends the `aWidth`-bit vector `a` to `width` bits.
    static func extend(_ d: Ptr, _ width: Int, _ a: Ptr, _ aWidth: Int, signed: Bool) {
        let n = count(width), na = count(aWidth)
        for i in 0..<n { d[i] = i < na ? a[i] : 0 }
        if signed && signBit(a, aWidth) { setBits(d, from: aWidth, to: width) }
        d[n - 1] &= topMask(width)
    }
}
