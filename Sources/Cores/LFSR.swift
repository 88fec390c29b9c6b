import HDL

/// A maximal-length Fibonacci LFSR (docs/ARITHMETIC.md): shifts left, feedback is the XOR of the
/// tap bits, period 2^width - 1.
public struct LFSRConfig: Hashable, Sendable, Codable {
    public static let widths = 3...32

    public var width: Int
    public var seed: UInt64

    public init(width: Int = 16, seed: UInt64 = 1) {
        self.width = width
        self.seed = seed
    }

    /// The seed is the module's `SEED` parameter (default `seed`), so one module serves every seed.
    public var moduleName: String { "lfsr\(width)" }

    public func validate() throws {
        try require(Self.widths.contains(width), "width", width, "\(Self.widths.lowerBound)...\(Self.widths.upperBound)")
        let top = (UInt64(1) << width) - 1
        try require(seed >= 1 && seed <= top, "seed", seed, "1...\(top) (nonzero, fits \(width) bits)")
    }
}

public enum LFSR {
    /// Taps (1-based bit positions) of primitive polynomials, from Xilinx XAPP052.
    public static let taps: [Int: [Int]] = [
        3: [3, 2], 4: [4, 3], 5: [5, 3], 6: [6, 5], 7: [7, 6], 8: [8, 6, 5, 4],
        9: [9, 5], 10: [10, 7], 11: [11, 9], 12: [12, 6, 4, 1], 13: [13, 4, 3, 1],
        14: [14, 5, 3, 1], 15: [15, 14], 16: [16, 15, 13, 4], 17: [17, 14], 18: [18, 11],
        19: [19, 6, 2, 1], 20: [20, 17], 21: [21, 19], 22: [22, 21], 23: [23, 18],
        24: [24, 23, 22, 17], 25: [25, 22], 26: [26, 6, 2, 1], 27: [27, 5, 2, 1],
        28: [28, 25], 29: [29, 27], 30: [30, 6, 4, 1], 31: [31, 28], 32: [32, 22, 2, 1],
    ]

    /// The parameter that holds the seed: set it per instance with `seedParameter(_:_:in:)`.
    public static let seedParameterName = "SEED"

    /// The LFSR's ports, declared once for the generator and its users.
    public struct Interface: Sendable {
        /// Step when high.
        public let en: Port
        public let state: Port
        public init(_ c: LFSRConfig) {
            en = .input("en", .bit)
            state = .output("state", .unsigned(c.width))
        }
    }

    /// Ports: `en` in (step when high); `state` out. `rst` reloads the seed, the `SEED`
    /// parameter (default `c.seed`).
    public static func module(_ c: LFSRConfig) throws -> ModuleDefinition {
        try c.validate()
        let p = Interface(c)
        return try ModuleDefinition.define(c.moduleName) { m in
            let seed = m.parameter(seedParameterName, .unsigned(c.width), default: Int128(c.seed))
            let en = m.input(p.en)
            let state = m.register("state_q", .unsigned(c.width), reset: seed, enable: en)
            let tapBits = taps[c.width]!.map { state.bit($0 - 1) }
            let feedback = tapBits.dropFirst().reduce(tapBits[0]) { $0 ^ $1 }
            let shifted = cat(state.bits(c.width - 2, 0), feedback)
            // The all-zero state would repeat forever; it can only come from a fault, so leave it
            // (to 1, not the seed, as the golden model does).
            let isZero = state .== 0
            state.assign(mux(isZero, m.constant(1, state.shape), shifted))
            m.output(p.state, state)
        }
    }
}
