import Golden

/// One generated output-stationary systolic array's arithmetic (docs/SYSTOLIC.md,
/// docs/ARITHMETIC.md) at training speed: operands are integers of their `<WL, FL>` formats
/// held in `Double`, products are exact, sums are exact (wide accumulation), and each result
/// goes through the ROUND unit of its array column, with that column's LFSR, in the order the
/// array rounds them, then saturates to the output format.
///
/// It is bit-identical to `Golden.SystolicModel` with the same configuration (the tests check
/// it), and like it carries each column's LFSR state from GEMM to GEMM. What makes it fast:
/// - the products of two 16-bit integers are below 2^30 in magnitude and a reduction of at
///   most `maxK` (4096 by default, 2^22 at most: the weight gradients of a convolution reduce
///   over every output position of the batch) of them below 2^52, so the sum is exact in a
///   `Double` in any order (all partial sums are integers below 2^53), and the accumulator
///   (`2·WL + ceil(log2 maxK)` bits) never wraps;
/// - an LFSR leap of `D` steps is linear over GF(2) on the nonzero states, so it is four table
///   lookups XORed instead of `D` single steps (a nonzero seed never reaches the zero state).
public struct ArrayArithmetic: Sendable {
    public let rows: Int
    public let cols: Int
    public let formatA: FixedFormat
    public let formatB: FixedFormat
    public let output: FixedFormat
    public let mode: RoundingMode
    public let lfsrWidth: Int
    /// The array-level seed (column j starts from `SystolicModel.columnSeed`).
    public let seed: UInt64
    public let draw: LFSRDraw
    public let accBits: Int
    /// D = FLa + FLb - FLout: the bits each ROUND unit drops.
    public let dropBits: Int
    /// Longest reduction the accumulator holds without wrapping (the array's `maxK`).
    public let maxK: Int
    /// The generated array's default maxK.
    public static let defaultMaxK = 4096
    /// The longest reduction whose sums stay exact in a Double (products below 2^30).
    public static let largestMaxK = 1 << 22

    /// The LFSR state each column's ROUND unit draws from next.
    public private(set) var states: [UInt64]
    private let leapTable: [UInt64]

    public init(rows: Int, cols: Int, a: FixedFormat, b: FixedFormat, output: FixedFormat, mode: RoundingMode,
                lfsrWidth: Int, seed: UInt64, draw: LFSRDraw = .leap, maxK: Int = ArrayArithmetic.defaultMaxK) {
        precondition(rows >= 1 && cols >= 1, "array \(rows)x\(cols) must be at least 1x1")
        precondition((1...Self.largestMaxK).contains(maxK), "maxK \(maxK) is outside 1...\(Self.largestMaxK)")
        precondition(a.wordLength <= 16 && b.wordLength <= 16 && a.isSigned && b.isSigned,
                     "operands must be signed and at most 16 bits (exact in Double)")
        precondition(output.wordLength <= 32, "output \(output) is wider than 32 bits")
        self.rows = rows
        self.cols = cols
        formatA = a
        formatB = b
        self.output = output
        self.mode = mode
        self.lfsrWidth = lfsrWidth
        self.seed = seed
        self.draw = draw
        self.maxK = maxK
        accBits = SystolicModel.defaultAccBits(a: a, b: b, maxK: maxK)
        dropBits = a.fracLength + b.fracLength - output.fracLength
        precondition(dropBits >= 0 && dropBits < accBits, "D = \(dropBits) bits cannot be dropped from \(accBits)")
        if mode == .stochastic {
            precondition(LFSRModel.widths.contains(lfsrWidth) && lfsrWidth >= dropBits,
                         "LFSR width \(lfsrWidth) must be in \(LFSRModel.widths) and at least D = \(dropBits)")
        }
        let width = mode == .stochastic ? lfsrWidth : 16
        states = (0..<cols).map { mode == .stochastic ? SystolicModel.columnSeed(j: $0, seed: seed, lfsrWidth: width) : 1 }
        leapTable = Self.leapTable(width: width, steps: draw == .leap ? max(dropBits, 1) : 1)
    }

    /// The golden model of the same array, from reset.
    public var goldenModel: SystolicModel {
        SystolicModel(rows: rows, cols: cols, a: formatA, b: formatB, accBits: accBits, output: output, mode: mode,
                      lfsrWidth: lfsrWidth, seed: seed, draw: draw)
    }

    /// `rst`: every column's LFSR reloads its seed.
    public mutating func reset() {
        if mode == .stochastic {
            states = (0..<cols).map { SystolicModel.columnSeed(j: $0, seed: seed, lfsrWidth: lfsrWidth) }
        }
    }

    /// Restores LFSR states saved from `states` (a resumed run).
    public mutating func restore(states saved: [UInt64]) {
        precondition(saved.count == cols, "\(saved.count) LFSR states for \(cols) columns")
        states = saved
    }

    /// C = A·B (A m×k, B k×n, row-major integers of their formats) rounded as the array rounds
    /// it; returns C (integers of `output`) and how many results saturated.
    public mutating func gemm(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> (c: [Double], saturated: Int) {
        precondition(a.count == m * k && b.count == k * n, "operand sizes do not match \(m)x\(k) by \(k)x\(n)")
        precondition(k >= 1 && k <= maxK, "K = \(k) is outside 1...\(maxK)")
        var c = ExactGEMM.multiply(a, b, m: m, k: k, n: n)
        let saturated = round(&c, m: m, n: n)
        return (c, saturated)
    }

    /// C = Aᵀ·B for A given as its transpose `at` (k×m row-major): the weight gradient
    /// `[X | 1]ᵀ·δ` without transposing the patches (12 MB a batch for LeNet-5's first layer).
    public mutating func gemm(transposed at: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> (c: [Double], saturated: Int) {
        precondition(at.count == m * k && b.count == k * n, "operand sizes do not match \(m)x\(k) by \(k)x\(n)")
        precondition(k >= 1 && k <= maxK, "K = \(k) is outside 1...\(maxK)")
        var c = ExactGEMM.multiply(transposed: at, b, m: m, k: k, n: n)
        let saturated = round(&c, m: m, n: n)
        return (c, saturated)
    }

    /// Rounds an m×n matrix of exact accumulators in place, in the array's order: tiles
    /// `for tm { for tn { rows 0..<R } }`, ROUND unit j taking column j of every row, padded
    /// rows and columns drawing too. Returns the number of saturated results.
    public mutating func round(_ acc: inout [Double], m: Int, n: Int) -> Int {
        precondition(acc.count == m * n)
        let d = dropBits
        let lo = Int64(output.minInt), hi = Int64(output.maxInt)
        let mask = d >= 64 ? Int64(-1) : (Int64(1) << d) - 1
        let half: Int64 = d == 0 ? 0 : Int64(1) << (d - 1)
        var saturated = 0
        @inline(__always) func finish(_ q: Int64) -> Double {
            if q < lo { saturated += 1; return Double(lo) }
            if q > hi { saturated += 1; return Double(hi) }
            return Double(q)
        }
        switch mode {
        case .truncate:
            for i in 0..<acc.count { acc[i] = finish(Int64(acc[i]) >> d) }
        case .nearest:
            for i in 0..<acc.count {
                let x = Int64(acc[i])
                if d == 0 { acc[i] = finish(x); continue }
                let q = x >> d, rem = x & mask
                acc[i] = finish(rem > half || (rem == half && q & 1 != 0) ? q + 1 : q)
            }
        case .stochastic:
            let tilesM = (m + rows - 1) / rows, tilesN = (n + cols - 1) / cols
            let r = rows, cc = cols
            leapTable.withUnsafeBufferPointer { t in
                states.withUnsafeMutableBufferPointer { s in
                    acc.withUnsafeMutableBufferPointer { a in
                        for tm in 0..<tilesM {
                            for tn in 0..<tilesN {
                                for i in 0..<r {
                                    let row = tm * r + i
                                    for j in 0..<cc {
                                        let state = s[j]
                                        s[j] = t[Int(state & 0xff)] ^ t[256 + Int((state >> 8) & 0xff)]
                                            ^ t[512 + Int((state >> 16) & 0xff)] ^ t[768 + Int((state >> 24) & 0xff)]
                                        let col = tn * cc + j
                                        guard row < m && col < n else { continue }
                                        let x = Int64(a[row * n + col])
                                        // floor((x + r) / 2^D), r the D low bits of the state before the leap.
                                        a[row * n + col] = finish((x + (Int64(state) & mask)) >> d)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return saturated
    }

    /// `step^steps` of the LFSR as four byte tables: the step is linear over GF(2), so the leap
    /// of a state is the XOR of the leaps of its bytes (the zero state, which the hardware maps
    /// to 1, never arises from a nonzero seed).
    static func leapTable(width: Int, steps: Int) -> [UInt64] {
        let taps = LFSRModel.taps(width: width).reduce(UInt64(0)) { $0 | UInt64(1) << ($1 - 1) }
        let stateMask = (UInt64(1) << width) - 1
        func linearStep(_ s: UInt64) -> UInt64 { ((s << 1) | UInt64((s & taps).nonzeroBitCount & 1)) & stateMask }
        var table = [UInt64](repeating: 0, count: 1024)
        for byte in 0..<4 {
            for v in 0..<256 {
                var s = UInt64(v) << (8 * byte)
                guard s & ~stateMask == 0 else { continue }
                for _ in 0..<steps { s = linearStep(s) }
                table[byte * 256 + v] = s
            }
        }
        return table
    }
}

/// Exact products of integer-valued `Double` matrices whose sums stay below 2^53.
public enum ExactGEMM {
    /// C = A·B, row-major, by training's kernel (`gemm` in Kernels.swift): a k where four rows
    /// of A are all zero (ReLU outputs, masked errors, blank pixels) costs nothing. Every
    /// partial sum is an integer below 2^53, so the result does not depend on the order.
    public static func multiply(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    gemm(m, n, k, pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, accumulate: true)
                }
            }
        }
        return c
    }

    /// C = Aᵀ·B with `at` = A (k×m) row-major. Row p of A and of B give the rank-one update
    /// `Cᵀ[j] += B[p][j]·A[p]`, skipped where B[p][j] is zero: errors behind ReLU and max
    /// pooling mostly are.
    public static func multiply(transposed at: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
        var ct = [Double](repeating: 0, count: n * m)
        at.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                ct.withUnsafeMutableBufferPointer { pc in
                    for p in 0..<k {
                        let row = pa.baseAddress! + p * m
                        for j in 0..<n {
                            let y = pb[p * n + j]
                            if y == 0 { continue }
                            let c = pc.baseAddress! + j * m
                            for i in 0..<m { c[i] += row[i] * y }
                        }
                    }
                }
            }
        }
        return transpose(ct, rows: n, cols: m)
    }

    /// `t[cols×rows] = x[rows×cols]ᵀ`.
    public static func transpose(_ x: [Double], rows: Int, cols: Int) -> [Double] {
        var t = [Double](repeating: 0, count: rows * cols)
        x.withUnsafeBufferPointer { src in
            t.withUnsafeMutableBufferPointer { dst in
                Networks.transpose(rows, cols, src.baseAddress!, dst.baseAddress!)
            }
        }
        return t
    }
}
