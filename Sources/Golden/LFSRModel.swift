/// Fibonacci LFSR shifting left, as docs/ARITHMETIC.md defines it: the feedback bit is the
/// XOR of the tapped state bits and enters at bit 0; the state is the output.
public struct LFSRModel: Sendable {
    public static let widths: ClosedRange<Int> = 3...32

    /// XAPP052 taps, typed in from the contract's table (index = width - 3).
    private static let tapTable: [[Int]] = [
        [3, 2],            // 3
        [4, 3],            // 4
        [5, 3],            // 5
        [6, 5],            // 6
        [7, 6],            // 7
        [8, 6, 5, 4],      // 8
        [9, 5],            // 9
        [10, 7],           // 10
        [11, 9],           // 11
        [12, 6, 4, 1],     // 12
        [13, 4, 3, 1],     // 13
        [14, 5, 3, 1],     // 14
        [15, 14],          // 15
        [16, 15, 13, 4],   // 16
        [17, 14],          // 17
        [18, 11],          // 18
        [19, 6, 2, 1],     // 19
        [20, 17],          // 20
        [21, 19],          // 21
        [22, 21],          // 22
        [23, 18],          // 23
        [24, 23, 22, 17],  // 24
        [25, 22],          // 25
        [26, 6, 2, 1],     // 26
        [27, 5, 2, 1],     // 27
        [28, 25],          // 28
        [29, 27],          // 29
        [30, 6, 4, 1],     // 30
        [31, 28],          // 31
        [32, 22, 2, 1],    // 32
    ]

    /// 1-based tap positions for `width`.
    public static func taps(width: Int) -> [Int] {
        precondition(widths.contains(width), "LFSR width \(width) is outside \(widths)")
        return tapTable[width - widths.lowerBound]
    }

    public let width: Int
    /// The state loaded at construction (and, in the rounding unit, on reset).
    public let seed: UInt64
    public private(set) var state: UInt64
    private let tapMask: UInt64

    public init(width: Int, seed: UInt64) {
        precondition(Self.widths.contains(width), "LFSR width \(width) is outside \(Self.widths)")
        precondition(seed >= 1 && seed < UInt64(1) << width, "seed \(seed) is outside 1..<2^\(width)")
        self.width = width
        self.seed = seed
        self.state = seed
        self.tapMask = Self.tapMask(width: width)
    }

    /// One clock: `next = ((state << 1) | f) mod 2^n`, and a zero state goes to 1.
    public mutating func step() {
        state = Self.advance(state, tapMask: tapMask, stateMask: Self.stateMask(width: width))
    }

    /// The successor of any `width`-bit state, including 0 (which the hardware maps to 1 so a
    /// fault cannot lock it up). Exposed so that the zero case can be checked.
    public static func next(_ state: UInt64, width: Int) -> UInt64 {
        precondition(widths.contains(width), "LFSR width \(width) is outside \(widths)")
        precondition(state < UInt64(1) << width, "state \(state) is wider than \(width) bits")
        return advance(state, tapMask: tapMask(width: width), stateMask: stateMask(width: width))
    }

    /// Number of steps until the state returns to `seed` (a tight loop: 2^n - 1 steps).
    public static func period(width: Int, seed: UInt64) -> Int {
        let start = LFSRModel(width: width, seed: seed)  // validates width and seed
        let taps = start.tapMask, mask = stateMask(width: width)
        var s = seed, count = 0
        repeat {
            s = advance(s, tapMask: taps, stateMask: mask)
            count += 1
        } while s != seed
        return count
    }

    private static func tapMask(width: Int) -> UInt64 {
        taps(width: width).reduce(UInt64(0)) { $0 | UInt64(1) << ($1 - 1) }
    }

    private static func stateMask(width: Int) -> UInt64 { (UInt64(1) << width) - 1 }

    @inline(__always)
    private static func advance(_ s: UInt64, tapMask: UInt64, stateMask: UInt64) -> UInt64 {
        if s == 0 { return 1 }
        let feedback = UInt64((s & tapMask).nonzeroBitCount & 1)
        return ((s << 1) | feedback) & stateMask
    }
}
