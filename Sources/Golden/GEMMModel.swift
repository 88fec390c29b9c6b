import Foundation

/// A dense row-major matrix.
///
/// Row-major contiguous storage is what the i-k-j product kernel streams through (rows of B and
/// C are contiguous, so the inner loop vectorizes), and it is the order in which the host driver
/// walks A and B. Golden values are fixed-point integers `q` of their format, normally
/// `Matrix<Int128>` like the rest of this library; narrow element types exist for the fast path.
public struct Matrix<Element> {
    public let rows: Int
    public let cols: Int
    /// Row-major: entry (i, j) is `elements[i * cols + j]`.
    public private(set) var elements: [Element]

    public init(rows: Int, cols: Int, elements: [Element]) {
        precondition(rows >= 0 && cols >= 0, "dimensions \(rows)x\(cols) must be >= 0")
        precondition(elements.count == rows * cols, "\(elements.count) elements for a \(rows)x\(cols) matrix")
        self.rows = rows
        self.cols = cols
        self.elements = elements
    }

    public init(rows: Int, cols: Int, repeating value: Element) {
        self.init(rows: rows, cols: cols, elements: Array(repeating: value, count: rows * cols))
    }

    /// Builds entry (i, j) from `entry(i, j)`, row by row.
    public init(rows: Int, cols: Int, _ entry: (Int, Int) throws -> Element) rethrows {
        precondition(rows >= 0 && cols >= 0, "dimensions \(rows)x\(cols) must be >= 0")
        var e: [Element] = []
        e.reserveCapacity(rows * cols)
        for i in 0..<rows { for j in 0..<cols { e.append(try entry(i, j)) } }
        self.init(rows: rows, cols: cols, elements: e)
    }

    /// From nested rows, for matrices written out by hand. All rows must have the same length;
    /// `[]` is the 0x0 matrix.
    public init(_ nested: [[Element]]) {
        let cols = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == cols }, "rows differ in length")
        self.init(rows: nested.count, cols: cols, elements: nested.flatMap { $0 })
    }

    public subscript(i: Int, j: Int) -> Element {
        get {
            precondition(i >= 0 && i < rows && j >= 0 && j < cols, "(\(i), \(j)) is outside \(rows)x\(cols)")
            return elements[i * cols + j]
        }
        set {
            precondition(i >= 0 && i < rows && j >= 0 && j < cols, "(\(i), \(j)) is outside \(rows)x\(cols)")
            elements[i * cols + j] = newValue
        }
    }

    /// The rows as nested arrays (for printing and hand comparison).
    public var nestedRows: [[Element]] { (0..<rows).map { Array(elements[$0 * cols..<($0 + 1) * cols]) } }

    public func map<U>(_ transform: (Element) throws -> U) rethrows -> Matrix<U> {
        Matrix<U>(rows: rows, cols: cols, elements: try elements.map(transform))
    }
}

extension Matrix: Sendable where Element: Sendable {}
extension Matrix: Equatable where Element: Equatable {}
extension Matrix: Hashable where Element: Hashable {}

extension Matrix: Codable where Element: Codable {
    private enum CodingKeys: String, CodingKey { case rows, cols, elements }

    /// Decoding checks the shape, so a bad file throws instead of trapping later.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let rows = try c.decode(Int.self, forKey: .rows), cols = try c.decode(Int.self, forKey: .cols)
        let elements = try c.decode([Element].self, forKey: .elements)
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard rows >= 0, cols >= 0, !overflow, elements.count == count else {
            throw DecodingError.dataCorruptedError(forKey: .elements, in: c,
                                                   debugDescription: "\(elements.count) elements for \(rows)x\(cols)")
        }
        self.init(rows: rows, cols: cols, elements: elements)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rows, forKey: .rows)
        try c.encode(cols, forKey: .cols)
        try c.encode(elements, forKey: .elements)
    }
}

/// Plain matrix products: the exact wrapped accumulators the array must produce, and the
/// real-valued product the rounding error is measured against.
public enum GEMMModel {
    /// Exact `A·B` with every entry reduced modulo `2^accBits` and read as a signed or unsigned
    /// `accBits`-bit word: the value every PE's MAC holds after the K beats of its tile.
    ///
    /// Wrapping commutes with the sum, so the kernel may accumulate in a machine word of W bits
    /// with wrapping adds and wrap to `accBits` once at the end, as long as `accBits <= W` or the
    /// sum provably cannot leave W bits. The narrowest operand type that holds every entry is
    /// chosen (Int8, Int16, Int32, else Int128), so s8 operands run at full SIMD speed while any
    /// format up to 127 bits stays exact.
    public static func multiply(a: Matrix<Int128>, b: Matrix<Int128>, accBits: Int, signed: Bool) -> Matrix<Int128> {
        precondition(a.cols == b.rows, "inner dimensions differ: \(a.rows)x\(a.cols) times \(b.rows)x\(b.cols)")
        precondition((1...127).contains(accBits), "accBits \(accBits) is outside 1...127")
        let m = a.rows, k = a.cols, n = b.cols
        let rangeA = range(a.elements), rangeB = range(b.elements)
        let lo = min(rangeA.lo, rangeB.lo), hi = max(rangeA.hi, rangeB.hi)
        // Largest |sum| of K products, or nil if it does not even fit Int128.
        let bound: Int128? = {
            let (p, o1) = rangeA.maxAbs.multipliedReportingOverflow(by: rangeB.maxAbs)
            let (s, o2) = p.multipliedReportingOverflow(by: Int128(k))
            return o1 || o2 ? nil : s
        }()
        func fits(_ width: Int) -> Bool {
            accBits <= width || (bound.map { $0 < Int128(1) << (width - 1) } ?? false)
        }
        func wrap<Acc: FixedWidthInteger>(_ c: [Acc]) -> Matrix<Int128> {
            Matrix<Int128>(rows: m, cols: n, elements: c.map { wrapToWidth(Int128($0), bits: accBits, signed: signed) })
        }

        if lo >= Int128(Int8.min) && hi <= Int128(Int8.max) && fits(32) {
            let c = int8Kernel(narrow(a.elements, to: Int8.self), narrow(b.elements, to: Int8.self), m: m, k: k, n: n)
            return wrap(c)
        }
        if lo >= Int128(Int16.min) && hi <= Int128(Int16.max) && fits(64) {
            let c: [Int64] = kernel(narrow(a.elements, to: Int16.self), narrow(b.elements, to: Int16.self), m: m, k: k, n: n)
            return wrap(c)
        }
        if lo >= Int128(Int32.min) && hi <= Int128(Int32.max) && fits(64) {
            let c: [Int64] = kernel(narrow(a.elements, to: Int32.self), narrow(b.elements, to: Int32.self), m: m, k: k, n: n)
            return wrap(c)
        }
        // Wrapping Int128 arithmetic is exact modulo 2^128, and accBits <= 127.
        let c: [Int128] = kernel(a.elements, b.elements, m: m, k: k, n: n)
        return wrap(c)
    }

    /// The fast path on its own: `A·B` of int8 matrices accumulated in Int32 with wrapping adds,
    /// i.e. exact modulo 2^32 (exact outright for K <= 131071, since |a·b| <= 2^14).
    /// This is what the benchmark times.
    public static func int8Product(_ a: Matrix<Int8>, _ b: Matrix<Int8>) -> Matrix<Int32> {
        precondition(a.cols == b.rows, "inner dimensions differ: \(a.rows)x\(a.cols) times \(b.rows)x\(b.cols)")
        return Matrix(rows: a.rows, cols: b.cols, elements: int8Kernel(a.elements, b.elements, m: a.rows, k: a.cols, n: b.cols))
    }

    /// `A·B` in real values, `sum_k (qa / 2^FLa)·(qb / 2^FLb)` in Double, computed straight from
    /// the formats with no integer path, so it is an independent reference for the rounding
    /// error. Exact while the integer sum stays below 2^53; it never wraps.
    public static func realProduct(a: Matrix<Int128>, formatA: FixedFormat,
                                   b: Matrix<Int128>, formatB: FixedFormat) -> Matrix<Double> {
        precondition(a.cols == b.rows, "inner dimensions differ: \(a.rows)x\(a.cols) times \(b.rows)x\(b.cols)")
        let ra = a.map(formatA.realValue), rb = b.map(formatB.realValue)
        let m = a.rows, k = a.cols, n = b.cols
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for p in 0..<k {
                let x = ra.elements[i * k + p]
                for j in 0..<n { c[i * n + j] += x * rb.elements[p * n + j] }
            }
        }
        return Matrix(rows: m, cols: n, elements: c)
    }

    /// Times `int8Product` on random m×k by k×n int8 matrices on the calling thread and returns
    /// the best of `repetitions` runs in multiply-accumulates per second (best, because the
    /// machine is shared and the slowest runs measure the neighbours).
    public static func measureInt8Throughput(m: Int = 256, k: Int = 256, n: Int = 256, repetitions: Int = 5) -> Double {
        precondition(repetitions >= 1)
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> Int8 {  // xorshift64: cheap, deterministic operands
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int8(truncatingIfNeeded: state >> 32)
        }
        let a = Matrix(rows: m, cols: k) { _, _ in next() }
        let b = Matrix(rows: k, cols: n) { _, _ in next() }
        var best = Double.infinity
        var checksum: Int32 = 0
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            let c = int8Product(a, b)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            checksum = checksum &+ c.elements.reduce(0, &+)  // keeps the product alive
            best = min(best, seconds)
        }
        withExtendedLifetime(checksum) {}
        return Double(m) * Double(k) * Double(n) / best
    }

    // MARK: - Kernels

    private static func range(_ v: [Int128]) -> (lo: Int128, hi: Int128, maxAbs: Int128) {
        guard var lo = v.first else { return (0, 0, 0) }
        var hi = lo
        for x in v { lo = min(lo, x); hi = max(hi, x) }
        // |Int128.min| does not fit; the saturated bound only disables the narrow kernels.
        let absLo = lo == Int128.min ? Int128.max : -lo
        return (lo, hi, max(absLo, hi < 0 ? -hi : hi, 0))
    }

    private static func narrow<T: FixedWidthInteger>(_ v: [Int128], to: T.Type) -> [T] {
        v.map { T(truncatingIfNeeded: $0) }  // the caller checked the range
    }

    /// i-k-j order: for each row of A and each k, add `a[i][k] · (row k of B)` to row i of C.
    /// Both inner arrays are contiguous, so the loop vectorizes.
    private static func kernel<T: FixedWidthInteger, Acc: FixedWidthInteger>(_ a: [T], _ b: [T], m: Int, k: Int, n: Int) -> [Acc] {
        var c = [Acc](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    for i in 0..<m {
                        let cRow = pc.baseAddress! + i * n
                        for p in 0..<k {
                            let x = Acc(truncatingIfNeeded: pa[i * k + p])
                            if x == 0 { continue }  // padded rows of a tile cost nothing
                            let bRow = pb.baseAddress! + p * n
                            for j in 0..<n { cRow[j] = cRow[j] &+ x &* Acc(truncatingIfNeeded: bRow[j]) }
                        }
                    }
                }
            }
        }
        return c
    }

    /// The int8 kernel, with four k steps per pass over a C row so that each C element is loaded
    /// and stored once per four multiply-adds (the sum of four int8 products fits easily).
    private static func int8Kernel(_ a: [Int8], _ b: [Int8], m: Int, k: Int, n: Int) -> [Int32] {
        var c = [Int32](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    for i in 0..<m {
                        let cRow = pc.baseAddress! + i * n
                        let aRow = pa.baseAddress! + i * k
                        var p = 0
                        while p + 4 <= k {
                            let x0 = Int32(aRow[p]), x1 = Int32(aRow[p + 1]), x2 = Int32(aRow[p + 2]), x3 = Int32(aRow[p + 3])
                            let b0 = pb.baseAddress! + p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n
                            for j in 0..<n {
                                let s = x0 &* Int32(b0[j]) &+ x1 &* Int32(b1[j]) &+ x2 &* Int32(b2[j]) &+ x3 &* Int32(b3[j])
                                cRow[j] = cRow[j] &+ s
                            }
                            p += 4
                        }
                        while p < k {
                            let x = Int32(aRow[p])
                            let bRow = pb.baseAddress! + p * n
                            for j in 0..<n { cRow[j] = cRow[j] &+ x &* Int32(bRow[j]) }
                            p += 1
                        }
                    }
                }
            }
        }
        return c
    }
}
