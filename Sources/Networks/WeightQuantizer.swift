import Foundation

/// 2^e as a Float (exact).
@inline(__always) func pow2f(_ e: Int) -> Float { Float(sign: .plus, exponent: e, significand: 1) }

/// Round half up (ties toward +∞) to a `bits`-bit signed integer, saturating: the rounding of
/// the training-side evaluator, used by fake quantization so training sees the same values.
@inline(__always) func roundSaturate(_ x: Float, bits: Int) -> Float {
    let hi = pow2f(bits - 1) - 1
    return min(max((x + 0.5).rounded(.down), -hi - 1), hi)
}

/// Fake quantization of an activation: the nearest value of the fixed-point format
/// `bits`.`frac` (round half up, saturating), as a Float.
@inline(__always) func fakeQuantize(_ x: Float, bits: Int, frac: Int) -> Float {
    roundSaturate(x * pow2f(frac), bits: bits) * pow2f(-frac)
}

/// Ristretto's fractional length for `bits`-bit values whose largest magnitude is `maxAbs`
/// (Gysel et al. 2016): an integer part of ceil(log2 max) bits plus the sign, the rest fraction.
public func ristrettoFrac(maxAbs: Float, bits: Int) -> Int {
    guard maxAbs > 0, maxAbs.isFinite else { return bits - 1 }
    let integerBits = Int(log2(Double(maxAbs)).rounded(.up)) + 1
    return bits - integerBits
}

/// How a layer's float weights become the values the array multiplies: integers of a
/// fixed-point weight format (value = integer · 2^-frac), with the format's codes.
public enum WeightQuantizer: Hashable, Sendable {
    /// Not quantized (float training).
    case float
    /// Two's complement, `bits` wide.
    case fixed(bits: Int, frac: Int)
    /// ±1 (sign, 0 counts as +1): BinaryConnect / BWN (Courbariaux et al. NIPS 2015) with the
    /// layer's scale a power of two, 2^-frac, so the array can multiply codes.
    case binary(frac: Int)
    /// {-1, 0, +1}: TWN (Li and Liu 2016), zero when |w| ≤ 0.7·mean|w| of the layer.
    case ternary(frac: Int)
    /// 0 or ±2^(e-1), e = 1...2^E - 1 (LogNet, Lee et al. ICASSP 2017): the nearest such value.
    case powerOfTwo(exponentBits: Int, frac: Int)
    /// The nearest of 2^n integer entries (Deep Compression's shared weights, Han et al. ICLR 2016).
    case codebook(frac: Int, entries: [Int])

    public var frac: Int {
        switch self {
        case .float: 0
        case .fixed(_, let f), .binary(let f), .ternary(let f), .powerOfTwo(_, let f), .codebook(let f, _): f
        }
    }

    /// TWN's threshold: 0.7 times the mean magnitude.
    static func ternaryThreshold(_ w: [Float]) -> Float {
        var sum = 0.0
        for x in w { sum += Double(abs(x)) }
        return Float(0.7 * sum / Double(max(1, w.count)))
    }

    /// The quantized weights as integers of the weight format (codebook: entry indices, see `indices`).
    public func integers(_ w: [Float]) -> [Int] {
        let scale = pow2f(frac)
        switch self {
        case .float:
            preconditionFailure("float weights have no integers")
        case .fixed(let bits, _):
            return w.map { Int(roundSaturate($0 * scale, bits: bits)) }
        case .binary:
            return w.map { $0 >= 0 ? 1 : -1 }
        case .ternary:
            let delta = Self.ternaryThreshold(w)
            return w.map { abs($0) > delta ? ($0 > 0 ? 1 : -1) : 0 }
        case .powerOfTwo(let e, _):
            let top = (1 << e) - 2  // the largest magnitude is 2^top
            return w.map { x in
                let m = abs(x) * scale
                // The nearest of 0, 1, 2, 4, ..., 2^top: midpoints 0.5 and 1.5·2^j.
                var v = 0
                if m >= 0.5 {
                    v = 1
                    var j = 0
                    while j < top && m >= 1.5 * pow2f(j) { j += 1; v = 1 << j }
                }
                return x < 0 ? -v : v
            }
        case .codebook(_, let entries):
            return indices(w).map { entries[$0] }
        }
    }

    /// For a codebook, each weight's nearest entry (the lower index on a tie).
    public func indices(_ w: [Float]) -> [Int] {
        guard case .codebook(let f, let entries) = self else { preconditionFailure("indices are for codebooks") }
        let scale = pow2f(f)
        let e = entries.map(Float.init)
        return w.map { x in
            let v = x * scale
            var best = 0
            var bestDistance = abs(v - e[0])
            for i in 1..<e.count where abs(v - e[i]) < bestDistance {
                best = i
                bestDistance = abs(v - e[i])
            }
            return best
        }
    }

    /// The quantized weights as Floats (integer · 2^-frac): what the fake-quantized forward pass uses.
    public func values(_ w: [Float]) -> [Float] {
        if case .float = self { return w }
        let step = pow2f(-frac)
        return integers(w).map { Float($0) * step }
    }

    /// The codes of the weights in the format `format` (docs/FORMATS.md; Golden/OperandCode):
    /// fixed: the integer; binary/bwn: 1 = +1, 0 = -1; ternary: [nonzero, negative];
    /// pow2e<E>: [sign, e] with e = 0 for zero; codebook: the entry index.
    public func codes(_ w: [Float]) -> [Int] {
        switch self {
        case .float: preconditionFailure("float weights have no codes")
        case .fixed: return integers(w)
        case .binary: return integers(w).map { $0 > 0 ? 1 : 0 }
        case .ternary: return integers(w).map { $0 == 0 ? 0 : ($0 > 0 ? 0b10 : 0b11) }
        case .powerOfTwo(let e, _):
            return integers(w).map { v in
                if v == 0 { return 0 }
                let exponent = abs(v).trailingZeroBitCount + 1
                return (v < 0 ? 1 << e : 0) | exponent
            }
        case .codebook: return indices(w)
        }
    }

    // MARK: - Choosing the scale

    /// BWN: the power of two nearest the mean magnitude (XNOR-Net's α = mean|w|, rounded in log2).
    static func binaryFrac(_ w: [Float]) -> Int {
        var sum = 0.0
        for x in w { sum += Double(abs(x)) }
        return -Int(log2(max(sum / Double(max(1, w.count)), 1e-12)).rounded())
    }

    /// TWN: α is the mean magnitude of the weights above the threshold, rounded to a power of two.
    static func ternaryFrac(_ w: [Float]) -> Int {
        let delta = ternaryThreshold(w)
        var sum = 0.0, n = 0
        for x in w where abs(x) > delta {
            sum += Double(abs(x))
            n += 1
        }
        return -Int(log2(max(sum / Double(max(1, n)), 1e-12)).rounded())
    }

    /// Powers of two: the largest magnitude 2^(2^E - 2) sits at the layer's largest |w|.
    static func powerOfTwoFrac(_ w: [Float], exponentBits e: Int) -> Int {
        let m = w.reduce(Float(0)) { max($0, abs($1)) }
        return ((1 << e) - 2) - Int(log2(Double(max(m, 1e-12))).rounded())
    }

    /// k-means (Lloyd) over the weights in units of 2^-frac, started from `initial` or from
    /// entries spread linearly over [min, max] (Deep Compression's linear initialization), then
    /// rounded to distinct-or-not integers of the `bits`-bit weight format, sorted ascending.
    static func kMeansEntries(_ w: [Float], frac: Int, bits: Int, count: Int, iterations: Int, initial: [Int]? = nil) -> [Int] {
        let scale = pow2f(frac)
        let v = w.map { Double($0 * scale) }
        var centers: [Double]
        if let initial {
            centers = initial.map(Double.init)
        } else {
            let lo = v.min() ?? 0, hi = v.max() ?? 0
            centers = (0..<count).map { lo + (hi - lo) * Double($0) / Double(max(1, count - 1)) }
        }
        var assignment = [Int](repeating: 0, count: v.count)
        for _ in 0..<iterations {
            // Centers stay sorted, so the nearest is found by a scan of the midpoints.
            centers.sort()
            for (i, x) in v.enumerated() {
                var c = 0
                while c + 1 < centers.count && x > (centers[c] + centers[c + 1]) / 2 { c += 1 }
                assignment[i] = c
            }
            var sums = [Double](repeating: 0, count: count), counts = [Int](repeating: 0, count: count)
            for (i, x) in v.enumerated() {
                sums[assignment[i]] += x
                counts[assignment[i]] += 1
            }
            for c in 0..<count where counts[c] > 0 { centers[c] = sums[c] / Double(counts[c]) }
        }
        let hi = Double((1 << (bits - 1)) - 1)
        return centers.map { Int(min(max(($0 + 0.5).rounded(.down), -hi - 1), hi)) }.sorted()
    }
}
